from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMModelMixin, transition

from config.fsm import StateField
from config.timeline import TimelineEvent


def ean13_is_valid(code: str) -> bool:
    """True when a 13-digit code carries a correct EAN-13 check digit."""
    if len(code) != 13 or not code.isdigit():
        return False
    digits = [int(c) for c in code]
    checksum = sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits[:12]))
    return (10 - checksum % 10) % 10 == digits[12]


def validate_barcode(value: str) -> None:
    """An all-digit 13-character barcode must be a valid EAN-13; other text is Code 128."""
    if value.isdigit() and len(value) == 13:
        if not ean13_is_valid(value):
            raise ValidationError(_("%(value)s is not a valid EAN-13 code (wrong check digit)."), params={"value": value})
        return
    if not (value.isascii() and value.isprintable()) or value != value.strip():
        raise ValidationError(_("A barcode may contain printable ASCII characters only, without surrounding spaces."))


class Product(models.Model):
    """Something the business sells, with its list price and the lowest price it may go for."""

    class Unit(models.TextChoices):
        PIECE = "pcs", _("piece")
        BOX = "box", _("box")
        CARTON = "ctn", _("carton")
        SET = "set", _("set")
        PACK = "pack", _("pack")
        KG = "kg", _("kilogram")
        M = "m", _("metre")

    sku = models.CharField(_("SKU"), max_length=40, unique=True)
    barcode = models.CharField(
        _("barcode"),
        max_length=48,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_barcode],
        help_text=_("EAN-13 (check digit verified) or Code 128 text."),
    )
    name = models.CharField(_("name"), max_length=200, db_index=True)
    # A free-text group the reports sum products by (e.g. 茶叶); blank: "no category".
    category = models.CharField(
        _("category"), max_length=60, blank=True, help_text=_("The group the reports sum this product in, e.g. Tea.")
    )
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.PIECE)
    list_price = models.DecimalField(
        _("list price"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))]
    )
    cost = models.DecimalField(
        _("cost"), max_digits=14, decimal_places=2, default=Decimal("0.00"), validators=[MinValueValidator(Decimal("0.00"))]
    )
    tax_rate = models.DecimalField(
        _("tax rate"),
        max_digits=5,
        decimal_places=4,
        default=settings.DEFAULT_TAX_RATE,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("As a fraction: 0.13 is 13 %."),
    )
    # 税收分类编码: the goods' code in the tax authority's classification, printed on every invoice line.
    tax_classification_code = models.CharField(
        _("tax classification code"),
        max_length=19,
        blank=True,
        validators=[RegexValidator(r"^[0-9]{19}$", message=_("A tax classification code has 19 digits."))],
        help_text=_("The 19-digit code of the goods in the tax authority's classification, printed on invoices."),
    )
    min_price = models.DecimalField(
        _("minimum price"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    max_discount_percent = models.DecimalField(
        _("maximum discount %"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    is_active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku"]
        permissions = [("import_product", _("Can import products"))]
        constraints = [
            models.CheckConstraint(condition=Q(list_price__gte=0), name="product_list_price_not_negative"),
            models.CheckConstraint(condition=Q(cost__gte=0), name="product_cost_not_negative"),
            models.CheckConstraint(condition=Q(tax_rate__gte=0) & Q(tax_rate__lte=1), name="product_tax_rate_fraction"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("inventory:product_detail", args=[self.pk])

    def clean(self) -> None:
        if self.barcode == "":
            self.barcode = None
        if self.min_price is not None and self.list_price is not None and self.min_price > self.list_price:
            raise ValidationError({"min_price": _("The minimum price cannot be above the list price.")})

    def lowest_allowed_price(self) -> Decimal | None:
        """The lowest unit price a salesperson may charge without review rights, if any."""
        floors = []
        if self.min_price is not None:
            floors.append(self.min_price)
        if self.max_discount_percent is not None:
            floors.append(self.list_price * (Decimal(100) - self.max_discount_percent) / Decimal(100))
        return max(floors) if floors else None


class Warehouse(models.Model):
    """A place stock is kept; allocation tries warehouses by priority (lower number first)."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120)
    address = models.TextField(_("address"), blank=True)
    priority = models.PositiveSmallIntegerField(
        _("allocation priority"), default=10, help_text=_("Lower numbers are used first.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["priority", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class StockLevel(models.Model):
    """What one warehouse holds of one product; the database refuses negative or over-reserved stock."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_levels", verbose_name=_("product"))
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock_levels", verbose_name=_("warehouse"))
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    safety_stock = models.PositiveIntegerField(_("safety stock"), default=0)
    reorder_point = models.PositiveIntegerField(_("reorder point"), default=0)
    reorder_quantity = models.PositiveIntegerField(_("reorder quantity"), default=0)
    # The bin (库位) the product is kept in, e.g. "A-03-2"; pick lists walk the warehouse in this order.
    location = models.CharField(_("bin location"), max_length=40, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        ordering = ["product__sku", "warehouse__priority"]
        permissions = [
            ("receive_stock", _("Can receive stock")),
            ("adjust_stock", _("Can adjust stock")),
            ("count_stock", _("Can count stock")),
            ("transfer_stock", _("Can transfer stock")),
            ("manage_replenishment", _("Can manage replenishment")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse"], name="stock_level_per_product_warehouse"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_not_negative"),
            models.CheckConstraint(condition=Q(reserved__lte=models.F("on_hand")), name="stock_reserved_within_on_hand"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.warehouse_id}: {self.on_hand}/{self.reserved}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def below_safety_stock(self) -> bool:
        return self.available < self.safety_stock


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    SHIPMENT = "shipment", _("Shipment")
    ADJUSTMENT = "adjustment", _("Adjustment")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    TRANSFER_IN = "transfer_in", _("Transfer in")
    RETURN = "return", _("Return")


class StockMovement(models.Model):
    """One line of the append-only stock ledger; on hand is always the sum of these.

    The database refuses UPDATE and DELETE (triggers in the migration): a mistake is corrected by
    a reversing movement.
    """

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="movements", verbose_name=_("product"))
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="movements", verbose_name=_("warehouse"))
    kind = models.CharField(_("kind"), max_length=20, choices=MovementKind.choices)
    quantity = models.IntegerField(_("quantity"), help_text=_("Positive into the warehouse, negative out of it."))
    # What a person typed, or an English msgid (gettext_noop) whose figures are in `params`:
    # worded when shown (`reason_text`), in the reader's language. Rows from before `params`
    # existed hold finished text, and the ledger never rewrites a row.
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    params = models.JSONField(_("details"), default=dict, blank=True)
    document = models.CharField(
        _("document"),
        max_length=60,
        blank=True,
        db_index=True,
        help_text=_("The order, receipt, count or transfer that caused it."),
    )
    reverses = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals", verbose_name=_("reverses")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    # What one unit cost when it left: the product's cost at that moment, set on shipment movements,
    # so margins use the cost of the day the goods shipped, not today's. Empty on other kinds and on
    # shipments posted before the column existed (the margin report then falls back to the product's cost).
    unit_cost = models.DecimalField(_("unit cost"), max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=~Q(quantity=0), name="stock_movement_quantity_not_zero")]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity:+d} {self.product_id}@{self.warehouse_id}"

    @property
    def reason_text(self) -> str:
        """The reason in the active language: a worded msgid with its figures, typed text as typed."""
        if not self.params:
            return self.reason
        try:
            return gettext(self.reason) % self.params
        except (KeyError, TypeError, ValueError):
            return self.reason


class ReservationState(models.TextChoices):
    ACTIVE = "active", _("Active")
    CONSUMED = "consumed", _("Consumed")
    RELEASED = "released", _("Released")


class Reservation(FSMModelMixin, models.Model):
    """Stock held for an order line in one warehouse: made by allocation, consumed by shipment,
    released by cancellation."""

    order_line = models.ForeignKey(
        "orders.SalesOrderLine", on_delete=models.PROTECT, related_name="reservations", verbose_name=_("order line")
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("product"))
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("warehouse"))
    quantity = models.PositiveIntegerField(_("quantity"))
    state = StateField(
        _("state"),
        max_length=10,
        choices=ReservationState.choices,
        default=ReservationState.ACTIVE,
        protected=True,
        db_index=True,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.order_line_id}: {self.quantity} @ {self.warehouse_id} ({self.state})"

    @transition(field=state, source=ReservationState.ACTIVE, target=ReservationState.CONSUMED)
    def consume(self) -> None:
        """A shipment took the reserved goods out of the warehouse."""

    @transition(field=state, source=ReservationState.ACTIVE, target=ReservationState.RELEASED)
    def release(self) -> None:
        """The order was cancelled or closed short: the stock is free again."""


class LowStockAlert(models.Model):
    """Free stock of a product in a warehouse fell below its safety stock; at most one open alert
    per product and warehouse (a partial unique constraint), resolved when stock recovers."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="low_stock_alerts", verbose_name=_("product"))
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="low_stock_alerts", verbose_name=_("warehouse")
    )
    available = models.IntegerField(_("available when raised"))
    safety_stock = models.PositiveIntegerField(_("safety stock when raised"))
    raised_at = models.DateTimeField(_("raised"), default=timezone.now, db_index=True)
    notified_at = models.DateTimeField(_("notified"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("low-stock alert")
        verbose_name_plural = _("low-stock alerts")
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "warehouse"], condition=Q(resolved_at__isnull=True), name="low_stock_alert_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.warehouse_id}: {self.available} < {self.safety_stock}"

    def get_absolute_url(self) -> str:
        return reverse("inventory:product_stock", args=[self.product_id])

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def queue_label(self) -> str:
        return _("%(sku)s in %(warehouse)s: %(available)s available, safety stock %(safety)s") % {
            "sku": self.product.sku,
            "warehouse": self.warehouse.code,
            "available": self.available,
            "safety": self.safety_stock,
        }


class LedgerCheck(models.Model):
    """One run of the nightly ledger check: on hand = Σ movements, reserved = Σ active reservations."""

    checked_at = models.DateTimeField(_("checked"), default=timezone.now, db_index=True)
    ok = models.BooleanField(_("ledger consistent"))
    levels_checked = models.PositiveIntegerField(_("stock rows checked"), default=0)
    problems = models.JSONField(_("problems"), default=list, blank=True)

    class Meta:
        verbose_name = _("ledger check")
        verbose_name_plural = _("ledger checks")
        ordering = ["-checked_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.checked_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'FAILED'}"


class ReplenishmentState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ORDERED = "ordered", _("Ordered")
    PARTIALLY_RECEIVED = "partially_received", _("Partially received")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")


R = ReplenishmentState
# States in which goods are still expected from the supplier.
REPLENISHMENT_OPEN = [R.DRAFT, R.ORDERED, R.PARTIALLY_RECEIVED]


def _has_lines(request: ReplenishmentRequest) -> bool:
    return request.lines.exists()


class ReplenishmentRequest(FSMModelMixin, models.Model):
    """Goods to reorder for one warehouse: drafted (often from the proposal), ordered from the
    supplier, then received in one or more deliveries."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="replenishments", verbose_name=_("warehouse"))
    state = StateField(
        _("state"), max_length=20, choices=ReplenishmentState.choices, default=R.DRAFT, protected=True, db_index=True
    )
    supplier = models.CharField(_("supplier"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    ordered_at = models.DateTimeField(_("ordered"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("replenishment request")
        verbose_name_plural = _("replenishment requests")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("inventory:replenishment_detail", args=[self.pk])

    # --- transitions: fired only through config.transitions.transition_apply (replenishment) ----
    TRANSITION_LABELS = {
        "place": _("order"),
        "receive_part": _("receive"),
        "receive_rest": _("receive"),
        "cancel": _("cancel"),
    }

    @property
    def timeline_event_model(self) -> type[ReplenishmentEvent]:
        return ReplenishmentEvent

    def transition_problems(self, name: str) -> list[str]:
        """Why a transition the state allows is refused now, in the user's words."""
        if name == "place" and not _has_lines(self):
            return [gettext("A replenishment request needs at least one product.")]
        return []

    @transition(
        field=state, source=R.DRAFT, target=R.ORDERED, permission="inventory.manage_replenishment", conditions=[_has_lines]
    )
    def place(self) -> None:
        """A draft with lines is sent to the supplier."""
        self.ordered_at = timezone.now()

    @transition(
        field=state, source=[R.ORDERED, R.PARTIALLY_RECEIVED], target=R.PARTIALLY_RECEIVED, permission="inventory.receive_stock"
    )
    def receive_part(self) -> None:
        """A delivery arrived and some ordered quantity is still outstanding."""

    @transition(field=state, source=[R.ORDERED, R.PARTIALLY_RECEIVED], target=R.RECEIVED, permission="inventory.receive_stock")
    def receive_rest(self) -> None:
        """The last delivery arrived: everything ordered is in stock."""
        self.received_at = timezone.now()

    @transition(field=state, source=[R.DRAFT, R.ORDERED], target=R.CANCELLED, permission="inventory.manage_replenishment")
    def cancel(self) -> None:
        """A request nothing was received for may be cancelled."""


def _replenishment_created_text(params: dict) -> str:
    if params.get("from_proposal"):
        return ngettext(
            "Drafted from the replenishment proposal with %(lines)s line.",
            "Drafted from the replenishment proposal with %(lines)s lines.",
            params["lines"],
        ) % {"lines": params["lines"]}
    return ngettext("Drafted with %(lines)s line.", "Drafted with %(lines)s lines.", params["lines"]) % {"lines": params["lines"]}


def _delivery_text(params: dict) -> str:
    text = ngettext(
        "Delivery %(document)s: %(units)s unit received.", "Delivery %(document)s: %(units)s units received.", params["units"]
    )
    worded = text % {"document": params["document"], "units": params["units"]}
    if params.get("reference"):
        worded += " " + gettext("Delivery note %(reference)s.") % {"reference": params["reference"]}
    return worded


class ReplenishmentEvent(TimelineEvent):
    """The replenishment request's timeline: drafted, ordered, each delivery, cancelled."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Drafted")
        PLACE = "place", _("Ordered")
        RECEIVE = "receive", _("Delivery received")
        CANCEL = "cancel", _("Cancelled")

    SUBJECT_FIELD = "request"
    STATES = dict(ReplenishmentState.choices)
    WORDING = {
        Kind.CREATED: _replenishment_created_text,
        Kind.PLACE: lambda p: gettext("Ordered from %(supplier)s.") % p if p.get("supplier") else "",
        Kind.RECEIVE: _delivery_text,
    }

    request = models.ForeignKey(
        "inventory.ReplenishmentRequest", on_delete=models.CASCADE, related_name="events", verbose_name=_("request")
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)

    class Meta:
        verbose_name = _("replenishment event")
        verbose_name_plural = _("replenishment events")
        ordering = ["at", "pk"]


class ReplenishmentLine(models.Model):
    """One product on a replenishment request: how many were ordered and how many arrived so far."""

    request = models.ForeignKey(ReplenishmentRequest, on_delete=models.CASCADE, related_name="lines", verbose_name=_("request"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="replenishment_lines", verbose_name=_("product"))
    quantity_ordered = models.PositiveIntegerField(_("quantity ordered"))
    quantity_received = models.PositiveIntegerField(_("quantity received"), default=0)

    class Meta:
        verbose_name = _("replenishment line")
        verbose_name_plural = _("replenishment lines")
        ordering = ["product__sku", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["request", "product"], name="replenishment_line_product_unique"),
            models.CheckConstraint(condition=Q(quantity_ordered__gt=0), name="replenishment_line_ordered_positive"),
            models.CheckConstraint(
                condition=Q(quantity_received__lte=models.F("quantity_ordered")),
                name="replenishment_line_received_within_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.product_id} {self.quantity_received}/{self.quantity_ordered}"

    @property
    def outstanding(self) -> int:
        return self.quantity_ordered - self.quantity_received


# Stock counts and transfers live in their own modules; importing them here registers the models.
from .counts.models import *  # noqa: E402,F401,F403  (the app's models, area by area)
from .transfers.models import *  # noqa: E402,F401,F403
