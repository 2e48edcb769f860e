from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from config.money import ZERO, round_money

MAX_LINE_QUANTITY = 1_000_000


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    REJECTED = "rejected", _("Rejected")
    APPROVED = "approved", _("Approved")
    ALLOCATED = "allocated", _("Allocated")
    BACKORDERED = "backordered", _("Backordered")
    PARTIALLY_SHIPPED = "partially_shipped", _("Partially shipped")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


S = OrderStatus
# States in which no shipment has left yet: the order may still be cancelled.
BEFORE_FIRST_SHIPMENT = [S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.REJECTED, S.APPROVED, S.ALLOCATED, S.BACKORDERED]
# States in which the order's lines may still be edited.
EDITABLE = [S.DRAFT]
# States in which the order counts towards the customer's credit exposure (approved, not invoiced).
OPEN_COMMITTED = [S.APPROVED, S.ALLOCATED, S.BACKORDERED, S.PARTIALLY_SHIPPED, S.SHIPPED, S.DELIVERED]


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    STORE = "store", _("Store")
    WEB_SHOP = "web_shop", _("Web shop")
    MARKETPLACE = "marketplace", _("Marketplace")
    API = "api", _("API")


class SalesOrder(FSMModelMixin, models.Model):
    """A customer's order; its status moves only through the transitions below."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    status = FSMField(_("status"), max_length=20, choices=OrderStatus.choices, default=S.DRAFT, protected=True, db_index=True)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="orders", verbose_name=_("customer")
    )
    shipping_address = models.ForeignKey(
        "customers.Address",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("shipping address"),
    )
    contact = models.ForeignKey(
        "customers.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("contact")
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.PHONE)
    customer_po = models.CharField(_("customer PO number"), max_length=60, blank=True, db_index=True)
    requested_date = models.DateField(_("requested delivery date"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    currency = models.CharField(_("currency"), max_length=3, default=settings.CURRENCY)
    subtotal = models.DecimalField(_("net amount"), max_digits=14, decimal_places=2, default=ZERO)
    tax_total = models.DecimalField(_("tax"), max_digits=14, decimal_places=2, default=ZERO)
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=ZERO)
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders_entered", verbose_name=_("entered by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True, db_index=True)
    # Optimistic lock: every edit of a draft bumps it; a save based on an older version is refused.
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("sales order")
        verbose_name_plural = _("sales orders")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("submit_salesorder", _("Can submit sales orders")),
            ("cancel_salesorder", _("Can cancel sales orders")),
            ("review_salesorder", _("Can review sales orders")),
            ("allocate_salesorder", _("Can allocate sales orders")),
            ("export_salesorder", _("Can export sales orders")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(subtotal__gte=0) & Q(tax_total__gte=0), name="order_amounts_not_negative"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("orders:detail", args=[self.pk])

    @property
    def queue_label(self) -> str:
        """How the order reads in a home-page queue: number and customer."""
        return f"{self.number} · {self.customer.name}"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE

    # --- transitions: called only from orders.services inside a transaction -------------------
    @transition(field=status, source=S.DRAFT, target=S.SUBMITTED, permission="orders.submit_salesorder")
    def submit(self) -> None:
        """A draft with lines goes to the automatic checks."""

    @transition(field=status, source=S.SUBMITTED, target=S.APPROVED)
    def pass_checks(self) -> None:
        """No automatic check fired: the order is approved without a reviewer."""

    @transition(field=status, source=S.SUBMITTED, target=S.IN_REVIEW)
    def flag_for_review(self) -> None:
        """At least one automatic check fired: a reviewer decides."""

    @transition(field=status, source=S.IN_REVIEW, target=S.APPROVED, permission="orders.review_salesorder")
    def approve(self) -> None:
        """A reviewer (never the one who entered it) approves the order."""

    @transition(field=status, source=S.IN_REVIEW, target=S.REJECTED, permission="orders.review_salesorder")
    def reject(self) -> None:
        """A reviewer rejects the order with a reason; sales may reopen it."""

    @transition(field=status, source=S.REJECTED, target=S.DRAFT, permission="orders.change_salesorder")
    def reopen(self) -> None:
        """A rejected order goes back to draft to be fixed and submitted again."""

    @transition(field=status, source=[S.APPROVED, S.BACKORDERED], target=S.ALLOCATED, permission="orders.allocate_salesorder")
    def allocate(self) -> None:
        """Every line is reserved in stock."""

    @transition(field=status, source=[S.APPROVED, S.BACKORDERED], target=S.BACKORDERED, permission="orders.allocate_salesorder")
    def backorder(self) -> None:
        """Part of the order is reserved; the rest waits for stock."""

    @transition(field=status, source=[S.ALLOCATED, S.BACKORDERED, S.PARTIALLY_SHIPPED], target=S.PARTIALLY_SHIPPED)
    def ship_part(self) -> None:
        """A shipment left and some quantity is still to ship."""

    @transition(field=status, source=[S.ALLOCATED, S.BACKORDERED, S.PARTIALLY_SHIPPED], target=S.SHIPPED)
    def ship_rest(self) -> None:
        """The last shipment left: everything ordered is on its way."""

    @transition(field=status, source=S.SHIPPED, target=S.DELIVERED)
    def deliver(self) -> None:
        """Every shipment of the order was delivered."""

    @transition(field=status, source=S.DELIVERED, target=S.COMPLETED)
    def complete(self) -> None:
        """Delivered, invoiced and fully paid."""

    @transition(field=status, source=BEFORE_FIRST_SHIPMENT, target=S.CANCELLED, permission="orders.cancel_salesorder")
    def cancel(self) -> None:
        """Before the first shipment an order may be cancelled; its reservations are released."""

    @transition(
        field=status, source=[S.BACKORDERED, S.PARTIALLY_SHIPPED], target=S.SHIPPED, permission="orders.allocate_salesorder"
    )
    def close_short(self) -> None:
        """What has not shipped is cancelled with a reason; the order counts as shipped."""


class SalesOrderLine(models.Model):
    """One product on an order, priced and taxed; amounts are rounded here, per line."""

    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order"))
    position = models.PositiveIntegerField(_("position"))
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.PROTECT, related_name="order_lines", verbose_name=_("product")
    )
    description = models.CharField(_("description"), max_length=200)
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1), MaxValueValidator(MAX_LINE_QUANTITY)])
    unit_price = models.DecimalField(
        _("unit price"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    discount_percent = models.DecimalField(
        _("discount %"),
        max_digits=5,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    tax_rate = models.DecimalField(_("tax rate"), max_digits=5, decimal_places=4)
    line_net = models.DecimalField(_("net amount"), max_digits=14, decimal_places=2)
    line_tax = models.DecimalField(_("tax"), max_digits=14, decimal_places=2)
    line_total = models.DecimalField(_("line total"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100), name="order_line_discount_range"
            ),
            models.UniqueConstraint(fields=["order", "position"], name="order_line_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.order.number}/{self.position} {self.description}"

    def compute_amounts(self) -> None:
        """net = qty × price × (1 − discount), tax = net × rate, each rounded half-up to the cent."""
        self.line_net, self.line_tax, self.line_total = line_amounts(
            quantity=self.quantity, unit_price=self.unit_price, discount_percent=self.discount_percent, tax_rate=self.tax_rate
        )


def line_amounts(
    *, quantity: int, unit_price: Decimal, discount_percent: Decimal, tax_rate: Decimal
) -> tuple[Decimal, Decimal, Decimal]:
    """The rounded net, tax and gross of one line; the single place order amounts are computed."""
    net = round_money(Decimal(quantity) * unit_price * (Decimal(100) - discount_percent) / Decimal(100))
    tax = round_money(net * tax_rate)
    return net, tax, net + tax


class OrderEvent(models.Model):
    """The order's timeline: every transition and edit, who did it, and why."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        EDITED = "edited", _("Edited")
        TRANSITION = "transition", _("Status change")
        NOTE = "note", _("Note")
        EMAIL = "email", _("Email sent")
        ALLOCATION = "allocation", _("Allocation")

    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="events", verbose_name=_("order"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("by")
    )
    from_status = models.CharField(_("from"), max_length=20, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=OrderStatus.choices, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind} {self.from_status}->{self.to_status}"


class ReviewRule(models.TextChoices):
    COMPLETENESS = "completeness", _("Completeness")
    PRICE = "price", _("Price below list")
    AMOUNT = "amount", _("Amount over threshold")
    BLOCKED = "blocked", _("Customer blocked")
    CREDIT = "credit", _("Credit limit")
    OVERDUE = "overdue", _("Overdue invoices")
    STOCK = "stock", _("Stock shortfall")


class ReviewFinding(models.Model):
    """What one automatic check found on one submission of an order."""

    class Severity(models.TextChoices):
        FLAG = "flag", _("Needs review")
        WARNING = "warning", _("Warning only")

    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="findings", verbose_name=_("order"))
    submission = models.PositiveIntegerField(_("submission"), default=1, help_text=_("Which submission of the order found it."))
    rule = models.CharField(_("rule"), max_length=20, choices=ReviewRule.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.FLAG)
    message = models.TextField(_("message"))
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("review finding")
        verbose_name_plural = _("review findings")
        ordering = ["order", "-submission", "pk"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.rule}: {self.message}"

    @property
    def text(self) -> str:
        """The finding in the reader's language (the stored message if its figures cannot say it)."""
        from .finding_text import finding_text

        return finding_text(rule=self.rule, figures=self.figures) or self.message


class ReviewSettings(models.Model):
    """The thresholds of the automatic checks; one row, edited by managers in the app."""

    amount_threshold = models.DecimalField(
        _("amount threshold"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("100000.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Orders with a total above this go to review."),
    )
    sales_max_discount_percent = models.DecimalField(
        _("discount sales may give (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("10.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("A line priced further below list than this goes to review."),
    )
    overdue_days = models.PositiveIntegerField(
        _("overdue days"),
        default=30,
        help_text=_("Invoices overdue by more than this many days send the order to review."),
    )
    check_completeness = models.BooleanField(_("check completeness"), default=True)
    check_price = models.BooleanField(_("check prices"), default=True)
    check_amount = models.BooleanField(_("check amount"), default=True)
    check_blocked = models.BooleanField(_("check blocked customers"), default=True)
    check_credit = models.BooleanField(_("check credit limit"), default=True)
    check_overdue = models.BooleanField(_("check overdue invoices"), default=True)
    check_stock = models.BooleanField(_("warn about stock shortfall"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("updated by")
    )

    class Meta:
        verbose_name = _("review settings")
        verbose_name_plural = _("review settings")

    def __str__(self) -> str:
        return str(_("Review settings"))

    @classmethod
    def current(cls) -> ReviewSettings:
        """The one settings row, created with the defaults on first use."""
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj
