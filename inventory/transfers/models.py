"""Transfers (调拨): stock leaves one warehouse, travels, and arrives (perhaps not all of it) at another."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMModelMixin, transition

from config.fsm import StateField
from config.timeline import TimelineEvent

__all__ = ["MAX_TRANSFER_QUANTITY", "StockTransfer", "StockTransferEvent", "StockTransferLine", "TransferState"]

MAX_TRANSFER_QUANTITY = 1_000_000


class TransferState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SHIPPED = "shipped", _("In transit")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")


T = TransferState


def _has_lines(transfer: StockTransfer) -> bool:
    return transfer.lines.exists()


class StockTransfer(FSMModelMixin, models.Model):
    """Goods moved from a source warehouse to a destination: draft, shipped (in transit), received."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    source = models.ForeignKey(
        "inventory.Warehouse", on_delete=models.PROTECT, related_name="transfers_out", verbose_name=_("from warehouse")
    )
    destination = models.ForeignKey(
        "inventory.Warehouse", on_delete=models.PROTECT, related_name="transfers_in", verbose_name=_("to warehouse")
    )
    state = StateField(_("state"), max_length=10, choices=TransferState.choices, default=T.DRAFT, protected=True, db_index=True)
    note = models.TextField(_("note"), blank=True)
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    shipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("shipped by")
    )
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("received by")
    )
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("stock transfer")
        verbose_name_plural = _("stock transfers")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(source=F("destination")), name="stock_transfer_source_not_destination"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("inventory:transfer_detail", args=[self.pk])

    @property
    def is_draft(self) -> bool:
        """Lines may still be added and removed."""
        return self.state == T.DRAFT

    @property
    def is_in_transit(self) -> bool:
        return self.state == T.SHIPPED

    @property
    def is_received(self) -> bool:
        return self.state == T.RECEIVED

    # --- transitions: fired only through config.transitions.transition_apply (transfer_services) ---
    TRANSITION_LABELS = {
        "ship": _("ship"),
        "receive": _("receive"),
        "cancel": _("cancel"),
    }

    @property
    def timeline_event_model(self) -> type[StockTransferEvent]:
        return StockTransferEvent

    def transition_problems(self, name: str) -> list[str]:
        """Why a transition the state allows is refused now, in the user's words."""
        if name == "ship" and not _has_lines(self):
            return [gettext("Transfer %(number)s has no lines to ship.") % {"number": self.number}]
        return []

    @transition(field=state, source=T.DRAFT, target=T.SHIPPED, permission="inventory.transfer_stock", conditions=[_has_lines])
    def ship(self) -> None:
        """The goods left the source warehouse (transfer out posted); they are in transit."""
        self.shipped_at = timezone.now()

    @transition(field=state, source=T.SHIPPED, target=T.RECEIVED, permission="inventory.transfer_stock")
    def receive(self) -> None:
        """The destination took in what arrived (transfer in posted); any shortfall is recorded as lost."""
        self.received_at = timezone.now()

    @transition(field=state, source=T.DRAFT, target=T.CANCELLED, permission="inventory.transfer_stock")
    def cancel(self) -> None:
        """A draft that never shipped may be cancelled; no stock moved."""
        self.cancelled_at = timezone.now()


def _received_text(params: dict) -> str:
    if params["lost"]:
        return (
            ngettext(
                "Received %(received)s of %(shipped)s unit; %(lost)s lost in transit.",
                "Received %(received)s of %(shipped)s units; %(lost)s lost in transit.",
                params["shipped"],
            )
            % params
        )
    return ngettext("Received all %(shipped)s unit.", "Received all %(shipped)s units.", params["shipped"]) % params


class StockTransferEvent(TimelineEvent):
    """The transfer's timeline: created, shipped, received (with what was lost) or cancelled."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        SHIP = "ship", _("Shipped")
        RECEIVE = "receive", _("Received")
        CANCEL = "cancel", _("Cancelled")

    SUBJECT_FIELD = "transfer"
    STATES = dict(TransferState.choices)
    WORDING = {
        Kind.CREATED: lambda p: gettext("From %(source)s to %(destination)s.") % p,
        Kind.SHIP: lambda p: (
            ngettext(
                "Left %(source)s with %(lines)s line, %(units)s in all.",
                "Left %(source)s with %(lines)s lines, %(units)s in all.",
                p["lines"],
            )
            % p
        ),
        Kind.RECEIVE: _received_text,
    }

    transfer = models.ForeignKey(StockTransfer, on_delete=models.CASCADE, related_name="events", verbose_name=_("stock transfer"))
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)

    class Meta:
        verbose_name = _("stock transfer event")
        verbose_name_plural = _("stock transfer events")
        ordering = ["at", "pk"]


class StockTransferLine(models.Model):
    """One product of a transfer: the quantity shipped, what arrived, and why any is missing."""

    transfer = models.ForeignKey(StockTransfer, on_delete=models.CASCADE, related_name="lines", verbose_name=_("stock transfer"))
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.PROTECT, related_name="transfer_lines", verbose_name=_("product")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    received_quantity = models.PositiveIntegerField(_("received quantity"), null=True, blank=True)
    discrepancy_reason = models.CharField(_("reason for the difference"), max_length=300, blank=True)
    out_movement = models.OneToOneField(
        "inventory.StockMovement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfer_out_line",
        verbose_name=_("transfer out movement"),
    )
    in_movement = models.OneToOneField(
        "inventory.StockMovement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfer_in_line",
        verbose_name=_("transfer in movement"),
    )

    class Meta:
        verbose_name = _("transfer line")
        verbose_name_plural = _("transfer lines")
        ordering = ["product__sku", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "product"], name="stock_transfer_line_product_once"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0) & Q(quantity__lte=MAX_TRANSFER_QUANTITY), name="stock_transfer_line_quantity_range"
            ),
            models.CheckConstraint(
                condition=Q(received_quantity__isnull=True) | Q(received_quantity__lte=F("quantity")),
                name="stock_transfer_line_received_within_shipped",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.transfer_id}/{self.product_id}: {self.quantity}"

    @property
    def lost_quantity(self) -> int | None:
        """Shipped but never arrived: recorded when the transfer is received."""
        if self.received_quantity is None:
            return None
        return self.quantity - self.received_quantity
