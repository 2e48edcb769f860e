"""Returns (退货单, RMA): goods of a shipped order coming back, line by line, with a reason; approved,
received with an outcome per line (restock, scrap, replace, refund), then closed, or rejected."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMModelMixin, transition

from config.fsm import StateField
from config.timeline import TimelineEvent

APPROVE_PERMISSION = "logistics.approve_returnrequest"
RECEIVE_PERMISSION = "logistics.receive_returnrequest"
OPEN_PERMISSION = "logistics.add_returnrequest"


class ReturnState(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    RECEIVED = "received", _("Received")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")


R = ReturnState
# Returns whose units are promised back but not on the order lines yet (quantity_returned).
OPEN_RETURN_STATES = [R.REQUESTED, R.APPROVED]


class ReturnReason(models.TextChoices):
    DEFECTIVE = "defective", _("Defective")
    DAMAGED = "damaged", _("Damaged in transit")
    WRONG_ITEM = "wrong_item", _("Wrong item sent")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    NOT_NEEDED = "not_needed", _("No longer needed")
    OTHER = "other", _("Other")


class ReturnOutcome(models.TextChoices):
    RESTOCK = "restock", _("Restock")
    SCRAP = "scrap", _("Scrap")
    REPLACE = "replace", _("Replace")
    REFUND = "refund", _("Refund")


class ReturnRequest(FSMModelMixin, models.Model):
    """Units of one order the customer sends back; its own number (RMA-2026-…) and timeline."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    order = models.ForeignKey("orders.SalesOrder", on_delete=models.PROTECT, related_name="returns", verbose_name=_("order"))
    state = StateField(_("state"), max_length=12, choices=ReturnState.choices, default=R.REQUESTED, protected=True, db_index=True)
    reason = models.CharField(_("reason"), max_length=20, choices=ReturnReason.choices)
    details = models.TextField(_("details"), blank=True)
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    unit_count = models.PositiveIntegerField(_("units"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("opened by")
    )
    created_at = models.DateTimeField(_("opened"), auto_now_add=True, db_index=True)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("approve_returnrequest", _("Can approve and reject returns")),
            ("receive_returnrequest", _("Can receive and close returns")),
            ("export_returnrequest", _("Can export returns")),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("logistics:return_detail", args=[self.pk])

    @property
    def queue_label(self) -> str:
        return f"{self.number} · {self.order.number}"

    # --- transitions: fired only through config.transitions.transition_apply (services) ---------
    TRANSITION_LABELS = {
        "approve": _("approve"),
        "reject": _("reject"),
        "receive": _("receive"),
        "close": _("close"),
    }

    @property
    def timeline_event_model(self) -> type[ReturnEvent]:
        return ReturnEvent

    @transition(field=state, source=R.REQUESTED, target=R.APPROVED, permission=APPROVE_PERMISSION)
    def approve(self) -> None:
        """The warehouse accepts the return: the customer may send the goods (with the return label)."""
        self.approved_at = timezone.now()

    @transition(field=state, source=[R.REQUESTED, R.APPROVED], target=R.REJECTED, permission=APPROVE_PERMISSION)
    def reject(self) -> None:
        """The return is refused before the goods arrive; its units may be returned another time."""
        self.closed_at = timezone.now()

    @transition(field=state, source=R.APPROVED, target=R.RECEIVED, permission=RECEIVE_PERMISSION)
    def receive(self) -> None:
        """The goods arrived and every line has its outcome."""
        self.received_at = timezone.now()

    @transition(field=state, source=R.RECEIVED, target=R.CLOSED, permission=RECEIVE_PERMISSION)
    def close(self) -> None:
        """Nothing more to do: restocked, scrapped, replaced or handed to finance."""
        self.closed_at = timezone.now()


class ReturnLine(models.Model):
    """Units of one order line coming back, and once received what became of them."""

    return_request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="lines", verbose_name=_("return"))
    order_line = models.ForeignKey(
        "orders.SalesOrderLine", on_delete=models.PROTECT, related_name="return_lines", verbose_name=_("order line")
    )
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.PROTECT, related_name="return_lines", verbose_name=_("product")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=ReturnOutcome.choices, blank=True)
    warehouse = models.ForeignKey(
        "inventory.Warehouse",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="return_lines",
        verbose_name=_("restocked in"),
    )

    class Meta:
        verbose_name = _("return line")
        verbose_name_plural = _("return lines")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="return_line_quantity_positive"),
            models.CheckConstraint(
                condition=~Q(outcome="restock") | Q(warehouse__isnull=False), name="return_line_restock_has_warehouse"
            ),
            models.UniqueConstraint(fields=["return_request", "order_line"], name="return_line_once_per_order_line"),
        ]

    def __str__(self) -> str:
        return f"{self.return_request_id}: {self.quantity} × {self.product_id}"


def _items(params: dict) -> str:
    return ", ".join(f"{qty} × {sku}" for sku, qty in params["items"])


def _received_text(params: dict) -> str:
    outcomes = dict(ReturnOutcome.choices)
    return gettext("Received: %(items)s.") % {
        "items": ", ".join(f"{qty} × {sku} ({outcomes.get(outcome, outcome)})" for sku, qty, outcome in params["items"])
    }


class ReturnEvent(TimelineEvent):
    """The return's timeline: opened, approved, received (with outcomes), closed or rejected, documents."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Opened")
        APPROVE = "approve", _("Approved")
        REJECT = "reject", _("Rejected")
        RECEIVE = "receive", _("Received")
        CLOSE = "close", _("Closed")
        REPLACEMENT = "replacement", _("Replacement shipment")
        REFUND = "refund", _("Refund requested")

    SUBJECT_FIELD = "return_request"
    STATES = dict(ReturnState.choices)
    WORDING = {
        Kind.CREATED: lambda p: (
            ngettext(
                "Opened for order %(order)s: %(units)s unit (%(items)s).",
                "Opened for order %(order)s: %(units)s units (%(items)s).",
                p["units"],
            )
            % {"order": p["order"], "units": p["units"], "items": _items(p)}
        ),
        Kind.RECEIVE: _received_text,
        Kind.REPLACEMENT: lambda p: gettext("Replacement shipment %(number)s created.") % {"number": p["shipment"]},
        Kind.REFUND: lambda p: gettext("Refund of %(items)s handed to finance.") % {"items": _items(p)},
    }

    return_request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="events", verbose_name=_("return"))
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)

    class Meta:
        verbose_name = _("return event")
        verbose_name_plural = _("return events")
        ordering = ["at", "pk"]
