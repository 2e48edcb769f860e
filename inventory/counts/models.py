"""Stock counts (盘点): a snapshot of what the system expects in one warehouse, the quantities
people counted, and the adjustments posted when the count is closed."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMModelMixin, transition

from config.fsm import StateField
from config.money import ZERO, round_money
from config.timeline import TimelineEvent

__all__ = ["MAX_COUNTED_QUANTITY", "StockCount", "StockCountEvent", "StockCountLine", "StockCountState"]

# A counted quantity above this is a typing or scanning accident, not stock (fits a 32-bit integer
# with room for the adjustment).
MAX_COUNTED_QUANTITY = 10_000_000


class StockCountState(models.TextChoices):
    OPEN = "open", _("Open")
    COUNTING = "counting", _("Counting")
    POSTED = "posted", _("Posted")
    CANCELLED = "cancelled", _("Cancelled")


C = StockCountState
# States in which people may still enter counted quantities.
COUNT_ACTIVE = [C.OPEN, C.COUNTING]


def _has_counted_lines(count: StockCount) -> bool:
    return count.lines.filter(counted_quantity__isnull=False).exists()


class StockCount(FSMModelMixin, models.Model):
    """A count of (part of) one warehouse: opened with a snapshot, counted, then posted or cancelled."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    warehouse = models.ForeignKey(
        "inventory.Warehouse", on_delete=models.PROTECT, related_name="stock_counts", verbose_name=_("warehouse")
    )
    state = StateField(_("state"), max_length=10, choices=StockCountState.choices, default=C.OPEN, protected=True, db_index=True)
    # The scope the count was opened with, kept so the sheet and the detail page can say what was counted.
    sku_prefix = models.CharField(_("SKU prefix"), max_length=40, blank=True)
    search = models.CharField(_("search text"), max_length=100, blank=True)
    only_in_stock = models.BooleanField(_("only products with stock"), default=False)
    note = models.TextField(_("note"), blank=True)
    # The ledger position at opening: movements with a higher id happened after the snapshot.
    ledger_position = models.BigIntegerField(_("ledger position at opening"), default=0)
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("opened by")
    )
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True, db_index=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("posted by")
    )
    posted_at = models.DateTimeField(_("posted at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("stock count")
        verbose_name_plural = _("stock counts")
        ordering = ["-opened_at", "-pk"]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("inventory:count_detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        """Quantities may still be entered."""
        return self.state in COUNT_ACTIVE

    @property
    def is_posted(self) -> bool:
        return self.state == C.POSTED

    @property
    def scope_text(self) -> str:
        parts = []
        if self.sku_prefix:
            parts.append(_("SKU starts with “%(prefix)s”") % {"prefix": self.sku_prefix})
        if self.search:
            parts.append(_("matching “%(search)s”") % {"search": self.search})
        if self.only_in_stock:
            parts.append(str(_("only products with stock")))
        return "; ".join(str(p) for p in parts) or str(_("all products"))

    # --- transitions: fired only through config.transitions.transition_apply (count_services) ---
    TRANSITION_LABELS = {
        "start_counting": _("start counting"),
        "post": _("post"),
        "cancel": _("cancel"),
    }

    @property
    def timeline_event_model(self) -> type[StockCountEvent]:
        return StockCountEvent

    def transition_problems(self, name: str) -> list[str]:
        """Why a transition the state allows is refused now, in the user's words."""
        if name == "post" and not _has_counted_lines(self):
            return [gettext("Count %(number)s has no counted quantity yet.") % {"number": self.number}]
        return []

    @transition(field=state, source=C.OPEN, target=C.COUNTING, permission="inventory.count_stock")
    def start_counting(self) -> None:
        """The first counted quantity was entered."""

    @transition(
        field=state, source=C.COUNTING, target=C.POSTED, permission="inventory.count_stock", conditions=[_has_counted_lines]
    )
    def post(self) -> None:
        """The differences between counted and system quantities are posted as adjustments."""
        self.posted_at = timezone.now()

    @transition(field=state, source=COUNT_ACTIVE, target=C.CANCELLED, permission="inventory.count_stock")
    def cancel(self) -> None:
        """A count not yet posted may be abandoned; nothing in stock changes."""
        self.cancelled_at = timezone.now()


def _posted_text(params: dict) -> str:
    return ngettext(
        "Posted: %(lines)s line adjusted (+%(over)s / −%(short)s).",
        "Posted: %(lines)s lines adjusted (+%(over)s / −%(short)s).",
        params["lines"],
    ) % {"lines": params["lines"], "over": params["over"], "short": params["short"]}


def _released_text(params: dict) -> str:
    return ngettext(
        "The count found less than was reserved: %(units)s reserved unit of %(sku)s released.",
        "The count found less than was reserved: %(units)s reserved units of %(sku)s released.",
        params["units"],
    ) % {"units": params["units"], "sku": params["sku"]}


class StockCountEvent(TimelineEvent):
    """The count's timeline: opened, counting started, posted or cancelled, reservations released."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Opened")
        START_COUNTING = "start_counting", _("Counting started")
        POST = "post", _("Posted")
        CANCEL = "cancel", _("Cancelled")
        RESERVATIONS_RELEASED = "reservations_released", _("Reservations released")

    SUBJECT_FIELD = "count"
    STATES = dict(StockCountState.choices)
    WORDING = {
        Kind.CREATED: lambda p: (
            ngettext("Opened with %(lines)s line.", "Opened with %(lines)s lines.", p["lines"]) % {"lines": p["lines"]}
        ),
        Kind.POST: _posted_text,
        Kind.RESERVATIONS_RELEASED: _released_text,
    }

    count = models.ForeignKey(StockCount, on_delete=models.CASCADE, related_name="events", verbose_name=_("stock count"))
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)

    class Meta:
        verbose_name = _("stock count event")
        verbose_name_plural = _("stock count events")
        ordering = ["at", "pk"]


class StockCountLine(models.Model):
    """One product of a count: the system quantity at opening, the counted quantity, the adjustment posted."""

    count = models.ForeignKey(StockCount, on_delete=models.CASCADE, related_name="lines", verbose_name=_("stock count"))
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.PROTECT, related_name="count_lines", verbose_name=_("product")
    )
    expected_quantity = models.IntegerField(_("system quantity at opening"))
    unit_cost = models.DecimalField(_("unit cost"), max_digits=14, decimal_places=2, default=ZERO)
    counted_quantity = models.IntegerField(_("counted quantity"), null=True, blank=True)
    # The system's on hand when the counted quantity was last entered: the count is the physical
    # truth at that moment, so the variance is measured against it (see count_services).
    on_hand_at_count = models.IntegerField(_("system quantity when counted"), null=True, blank=True)
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("counted by")
    )
    counted_at = models.DateTimeField(_("counted at"), null=True, blank=True)
    adjustment_quantity = models.IntegerField(_("adjustment posted"), null=True, blank=True)
    movement = models.OneToOneField(
        "inventory.StockMovement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="count_line",
        verbose_name=_("adjustment movement"),
    )

    class Meta:
        verbose_name = _("stock count line")
        verbose_name_plural = _("stock count lines")
        ordering = ["product__sku", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["count", "product"], name="stock_count_line_product_once"),
            models.CheckConstraint(
                condition=Q(counted_quantity__isnull=True)
                | (Q(counted_quantity__gte=0) & Q(counted_quantity__lte=MAX_COUNTED_QUANTITY)),
                name="stock_count_line_counted_in_range",
            ),
            models.CheckConstraint(
                condition=Q(counted_quantity__isnull=True) | Q(on_hand_at_count__isnull=False),
                name="stock_count_line_counted_has_system_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.count_id}/{self.product_id}: {self.counted_quantity}"

    @property
    def variance(self) -> int | None:
        """Counted minus the system quantity when it was counted; None while not counted."""
        if self.adjustment_quantity is not None:
            return self.adjustment_quantity
        if self.counted_quantity is None:
            return None
        return self.counted_quantity - self.on_hand_at_count

    @property
    def variance_value(self) -> Decimal | None:
        """The variance at the cost snapshot taken at opening, rounded half-up to the cent."""
        variance = self.variance
        if variance is None:
            return None
        return round_money(Decimal(variance) * self.unit_cost)
