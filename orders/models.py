from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import F, Q
from django.db.models.lookups import GreaterThan
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMModelMixin, transition

from config.fsm import StateField
from config.money import ZERO, round_money
from config.rows import rows_fetch
from config.timeline import TimelineEvent

from .finding_text import finding_text

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
# States in which the order may hold reserved stock that the warehouse picks.
PICKABLE = [S.ALLOCATED, S.BACKORDERED, S.PARTIALLY_SHIPPED]


class PaymentStatus(models.TextChoices):
    """How far the order's invoices are paid; billing works it out and stores it (orders.payment_status)."""

    NOT_INVOICED = "", _("Not invoiced")
    UNPAID = "unpaid", _("Unpaid")
    PARTLY_PAID = "partly_paid", _("Partly paid")
    PAID = "paid", _("Paid")
    OVERDUE = "overdue", _("Overdue")
    REFUNDED = "refunded", _("Refunded")


# Nothing is left to pay: what completes a delivered, fully invoiced order.
SETTLED = [PaymentStatus.PAID, PaymentStatus.REFUNDED]


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
    # Indexed by order_status_queue (status, approved_at, id), which also serves status alone.
    status = StateField(_("status"), max_length=20, choices=OrderStatus.choices, default=S.DRAFT, protected=True)
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
    # The order's number in the sales channel it came from (a web shop's order id): at most one order
    # per channel and reference, so a retried push never creates a second order. Blank for orders
    # entered by hand.
    external_ref = models.CharField(_("external reference"), max_length=100, blank=True, default="", db_default="")
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
    # Billing's verdict on the order's invoices (orders.payment_status sets it); stored so lists filter by it.
    # The database default too: rows written by SQL (imports, the bench's seeding) need no value.
    payment_status = models.CharField(
        _("payment status"),
        max_length=12,
        choices=PaymentStatus.choices,
        default=PaymentStatus.NOT_INVOICED,
        db_default=PaymentStatus.NOT_INVOICED,
        blank=True,
    )
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
            ("ship_salesorder", _("Can ship sales orders")),
            ("export_salesorder", _("Can export sales orders")),
            ("manage_all_salesorder", _("Can edit, submit and cancel other people's orders")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(subtotal__gte=0) & Q(tax_total__gte=0), name="order_amounts_not_negative"),
            models.UniqueConstraint(
                fields=["channel", "external_ref"], condition=~Q(external_ref=""), name="order_channel_external_ref_unique"
            ),
        ]
        # What the list sorts and the queues filter by, with the pk as the tie-break they order by
        # (the text search's trigram indexes are PostgreSQL-only: migration 0007).
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="order_newest_first"),
            models.Index(fields=["total", "id"], name="order_by_total"),
            models.Index(fields=["status", "approved_at", "id"], name="order_status_queue"),
            models.Index(fields=["customer", "-created_at", "-id"], name="order_customer_newest"),
            models.Index(fields=["created_by", "-created_at", "-id"], name="order_author_newest"),
            # The channel API's "changed since" list pages by last change.
            models.Index(fields=["-updated_at", "-id"], name="order_recently_changed"),
            models.Index(fields=["payment_status", "-created_at", "-id"], name="order_payment_status_newest"),
            # The review queue, oldest submission first (the reviewers' and managers' homes): only the orders in review.
            models.Index(fields=["submitted_at", "id"], condition=Q(status=OrderStatus.IN_REVIEW), name="order_review_queue"),
            # The pick queue, oldest approval first, read in that order page by page: only the pickable orders.
            models.Index(fields=["approved_at", "id"], condition=Q(status__in=PICKABLE), name="order_pick_queue"),
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

    # --- what the transitions' conditions read ----------------------------------------------------
    def submit_problems(self) -> list[str]:
        """Why this draft cannot be submitted yet (empty: it can); the Submit button and the service share it."""
        problems = []
        customer = self.customer
        if customer.is_blocked:
            problems.append(
                gettext("%(customer)s is blocked (%(reason)s): the order cannot be submitted.")
                % {"customer": customer.name, "reason": customer.blocked_reason}
            )
        if self.line_count < 1:
            problems.append(gettext("Add at least one line before submitting the order."))
        if self.shipping_address_id is None:
            problems.append(gettext("Choose a shipping address before submitting the order."))
        return problems

    def transition_problems(self, name: str) -> list[str]:
        """Why a transition allowed from this state cannot run now (for the refusal message)."""
        if name == "submit":
            return self.submit_problems()
        if name == "cancel":
            return [gettext("Goods of order %(number)s have shipped; close it short instead.") % {"number": self.number}]
        if name == "complete":
            problems = []
            if not self._fully_invoiced():
                problems.append(gettext("Order %(number)s is not fully invoiced yet.") % {"number": self.number})
            if not self._settled():
                problems.append(gettext("Order %(number)s is not paid yet.") % {"number": self.number})
            return problems
        return []

    def _line_figures(self) -> list[dict]:
        """Each line's quantities (one query), read fresh: conditions must see the current rows."""
        return list(
            self.lines.order_by().values(
                "quantity", "quantity_shipped", "quantity_cancelled", "quantity_returned", "quantity_invoiced"
            )
        )

    def _can_submit(self) -> bool:
        return not self.submit_problems()

    def _nothing_shipped(self) -> bool:
        return not any(line["quantity_shipped"] for line in self._line_figures())

    def _some_shipped_some_open(self) -> bool:
        lines = self._line_figures()
        shipped = any(line["quantity_shipped"] for line in lines)
        return shipped and any(line_open_quantity(line) for line in lines)

    def _all_shipped(self) -> bool:
        lines = self._line_figures()
        return any(line["quantity_shipped"] for line in lines) and not any(line_open_quantity(line) for line in lines)

    def _fully_invoiced(self) -> bool:
        lines = self._line_figures()
        return any(line["quantity_shipped"] for line in lines) and all(
            line["quantity_invoiced"] >= line["quantity_shipped"] - line["quantity_returned"] for line in lines
        )

    def _settled(self) -> bool:
        return self.payment_status in SETTLED

    @property
    def timeline_event_model(self) -> type[OrderEvent]:
        return OrderEvent

    TRANSITION_LABELS = {
        "submit": _("submit"),
        "pass_checks": _("pass the checks"),
        "flag_for_review": _("send to review"),
        "approve": _("approve"),
        "reject": _("reject"),
        "reopen": _("reopen"),
        "allocate": _("allocate"),
        "backorder": _("backorder"),
        "ship_part": _("ship part"),
        "ship_rest": _("ship the rest"),
        "deliver": _("deliver"),
        "complete": _("complete"),
        "cancel": _("cancel"),
        "close_short": _("close short"),
    }

    # --- transitions: fired only through config.transitions.transition_apply ---------------------
    @transition(field=status, source=S.DRAFT, target=S.SUBMITTED, conditions=[_can_submit], permission="orders.submit_salesorder")
    def submit(self) -> None:
        """A draft with lines, a shipping address and an unblocked customer goes to the automatic checks.
        The version moves on: a form opened before must not overwrite the order if it comes back as a draft."""
        self.submitted_at = timezone.now()
        self.version += 1

    @transition(field=status, source=S.SUBMITTED, target=S.APPROVED, permission="orders.review_salesorder")
    def pass_checks(self) -> None:
        """No automatic check fired: the order is approved without a reviewer."""
        self.approved_at = timezone.now()

    @transition(field=status, source=S.SUBMITTED, target=S.IN_REVIEW, permission="orders.review_salesorder")
    def flag_for_review(self) -> None:
        """At least one automatic check fired: a reviewer decides."""

    @transition(field=status, source=S.IN_REVIEW, target=S.APPROVED, permission="orders.review_salesorder")
    def approve(self) -> None:
        """A reviewer (never the one who entered it) approves the order."""
        self.approved_at = timezone.now()

    @transition(field=status, source=S.IN_REVIEW, target=S.REJECTED, permission="orders.review_salesorder")
    def reject(self) -> None:
        """A reviewer rejects the order with a reason; sales may reopen it."""

    @transition(field=status, source=S.REJECTED, target=S.DRAFT, permission="orders.change_salesorder")
    def reopen(self) -> None:
        """A rejected order goes back to draft to be fixed and submitted again."""

    @transition(field=status, source=[S.APPROVED, S.BACKORDERED], target=S.ALLOCATED, permission="orders.allocate_salesorder")
    def allocate(self) -> None:
        """Every open line is reserved in stock."""

    @transition(
        field=status,
        source=[S.APPROVED, S.ALLOCATED, S.BACKORDERED],
        target=S.BACKORDERED,
        permission="orders.allocate_salesorder",
    )
    def backorder(self) -> None:
        """Part of the order waits for stock (never reserved, or its reservation was lost to a stock count)."""

    @transition(
        field=status,
        source=[S.ALLOCATED, S.BACKORDERED, S.PARTIALLY_SHIPPED],
        target=S.PARTIALLY_SHIPPED,
        conditions=[_some_shipped_some_open],
        permission="orders.ship_salesorder",
    )
    def ship_part(self) -> None:
        """A shipment left and some quantity is still to ship."""

    @transition(
        field=status,
        source=[S.ALLOCATED, S.BACKORDERED, S.PARTIALLY_SHIPPED],
        target=S.SHIPPED,
        conditions=[_all_shipped],
        permission="orders.ship_salesorder",
    )
    def ship_rest(self) -> None:
        """The last shipment left: everything ordered and not cancelled is on its way."""

    @transition(
        field=status, source=S.SHIPPED, target=S.DELIVERED, conditions=[_all_shipped], permission="orders.ship_salesorder"
    )
    def deliver(self) -> None:
        """Every shipment of the order was delivered."""

    @transition(field=status, source=S.DELIVERED, target=S.COMPLETED, conditions=[_fully_invoiced, _settled])
    def complete(self) -> None:
        """Delivered, invoiced and fully paid (fired when the last payment lands, or on delivery of a paid order)."""

    @transition(
        field=status,
        source=BEFORE_FIRST_SHIPMENT,
        target=S.CANCELLED,
        conditions=[_nothing_shipped],
        permission="orders.cancel_salesorder",
    )
    def cancel(self) -> None:
        """Before the first shipment an order may be cancelled; its reservations are released."""

    @transition(
        field=status,
        source=[S.BACKORDERED, S.PARTIALLY_SHIPPED],
        target=S.SHIPPED,
        conditions=[_all_shipped],
        permission="orders.allocate_salesorder",
    )
    def close_short(self) -> None:
        """What has not shipped was cancelled with a reason (quantity_cancelled); the order counts as shipped."""


def line_open_quantity(line: dict | SalesOrderLine) -> int:
    """Ordered, less shipped and cancelled: what is still to ship."""
    get = line.get if isinstance(line, dict) else lambda name: getattr(line, name)
    return get("quantity") - get("quantity_shipped") - get("quantity_cancelled")


def units_to_invoice():
    """A line's units shipped and kept (not returned) and not invoiced yet. The billing queue filters on this
    expression written exactly so: the partial index order_line_to_invoice and the planner statistics of
    migration 0015 are on it."""
    return F("quantity_shipped") - F("quantity_returned") - F("quantity_invoiced")


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
    # What became of the quantity; only orders.fulfilment changes these (called by logistics and billing).
    quantity_shipped = models.PositiveIntegerField(_("shipped"), default=0)
    quantity_cancelled = models.PositiveIntegerField(_("cancelled"), default=0)
    quantity_returned = models.PositiveIntegerField(_("returned"), default=0)
    quantity_invoiced = models.PositiveIntegerField(_("invoiced"), default=0)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(quantity_shipped__gte=0)
                & Q(quantity_cancelled__gte=0)
                & Q(quantity_returned__gte=0)
                & Q(quantity_invoiced__gte=0),
                name="order_line_fulfilment_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(quantity_shipped__lte=F("quantity") - F("quantity_cancelled")),
                name="order_line_shipped_within_ordered",
            ),
            models.CheckConstraint(
                condition=Q(quantity_returned__lte=F("quantity_shipped")), name="order_line_returned_within_shipped"
            ),
            models.CheckConstraint(
                condition=Q(quantity_invoiced__lte=F("quantity_shipped") - F("quantity_returned")),
                name="order_line_invoiced_within_kept",
            ),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100), name="order_line_discount_range"
            ),
            models.UniqueConstraint(fields=["order", "position"], name="order_line_position_unique"),
        ]
        # The lines still to invoice, by order: few beside the millions invoiced, so the billing queue reads them
        # here instead of probing the lines of every delivered order waiting for its payment.
        indexes = [models.Index(fields=["order"], name="order_line_to_invoice", condition=Q(GreaterThan(units_to_invoice(), 0)))]

    def __str__(self) -> str:
        return f"{self.order.number}/{self.position} {self.description}"

    @property
    def open_quantity(self) -> int:
        """Still to ship: ordered less shipped and cancelled."""
        return line_open_quantity(self)

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


def _allocation_text(params: dict) -> str:
    parts = []
    for code, items in params.get("reserved", {}).items():
        parts.append(
            gettext("Reserved in %(warehouse)s: %(items)s.")
            % {"warehouse": code, "items": ", ".join(f"{qty} × {sku}" for sku, qty in items)}
        )
    if params.get("short"):
        parts.append(
            gettext("Short (backordered): %(items)s.") % {"items": ", ".join(f"{qty} × {sku}" for sku, qty in params["short"])}
        )
    return " ".join(parts)


def _released_text(params: dict) -> str:
    if "skus" in params:
        return gettext("Stock count %(document)s found less than was reserved: %(skus)s wait for stock again.") % {
            "document": params.get("document", ""),
            "skus": ", ".join(params["skus"]),
        }
    items = ", ".join(f"{code}: {qty} × {sku}" for code, sku, qty in params.get("released", []))
    return gettext("Reservations released: %(items)s.") % {"items": items}


def _edit_text(params: dict) -> str:
    parts = []
    if params.get("fields"):
        labels = [str(SalesOrder._meta.get_field(name).verbose_name) for name in params["fields"] if name in HEADER_FIELD_NAMES]
        parts.append(gettext("changed %(fields)s") % {"fields": ", ".join(labels)})
    if params.get("added"):
        parts.append(gettext("added %(skus)s") % {"skus": ", ".join(params["added"])})
    if params.get("removed"):
        parts.append(gettext("removed %(skus)s") % {"skus": ", ".join(params["removed"])})
    if params.get("changed"):
        parts.append(gettext("changed quantity, price or discount of %(skus)s") % {"skus": ", ".join(params["changed"])})
    if not parts:
        return gettext("Saved without changes.")
    # Translators: how the parts of an edit are listed, and the sentence they make.
    text = gettext("; ").join(parts)
    return gettext("%(changes)s.") % {"changes": text[:1].upper() + text[1:]}


PAYMENT_STATUS_LABELS = dict(PaymentStatus.choices)
HEADER_FIELD_NAMES = {"customer", "shipping_address", "contact", "channel", "customer_po", "requested_date", "notes"}


def order_lines_with_products(order: SalesOrder) -> list[SalesOrderLine]:
    """The order's lines in their order, each with its product, read in one statement built once
    (the checks, the allocation and the confirmation each read them)."""
    lines = rows_fetch(SalesOrderLine, where={"order_id": order.pk}, related=("product",), order_by=("position", "id"))
    for line in lines:
        SalesOrderLine.order.field.set_cached_value(line, order)
    return lines


class OrderEvent(TimelineEvent):
    """The order's timeline: every transition and edit, who did it, and why."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        EDITED = "edited", _("Edited")
        TRANSITION = "transition", _("Status change")
        NOTE = "note", _("Note")
        EMAIL = "email", _("Email sent")
        ALLOCATION = "allocation", _("Allocation")
        RELEASED = "released", _("Reservations released")
        SHIPPED = "shipped", _("Goods shipped")
        CLOSED_SHORT = "closed_short", _("Closed short")
        RETURNED = "returned", _("Goods returned")
        REPLACEMENT = "replacement", _("Replacement shipped")
        PAYMENT = "payment", _("Payment status")

    SUBJECT_FIELD = "order"
    STATES = dict(OrderStatus.choices)
    WORDING = {
        Kind.CREATED: lambda p: (
            ngettext("Entered with %(count)s line.", "Entered with %(count)s lines.", p["lines"]) % {"count": p["lines"]}
        ),
        Kind.EDITED: _edit_text,
        Kind.ALLOCATION: _allocation_text,
        Kind.RELEASED: _released_text,
        Kind.EMAIL: lambda p: gettext("Order confirmation sent to %(email)s.") % {"email": p["email"]},
        Kind.SHIPPED: lambda p: (
            gettext("Shipped with %(document)s: %(items)s.")
            % {"document": p["document"], "items": ", ".join(f"{qty} × {sku}" for sku, qty in p["items"])}
        ),
        Kind.CLOSED_SHORT: lambda p: (
            gettext("Cancelled what had not shipped: %(items)s.")
            % {"items": ", ".join(f"{qty} × {sku}" for sku, qty in p["items"])}
        ),
        Kind.RETURNED: lambda p: (
            gettext("Returned with %(document)s: %(items)s.")
            % {"document": p["document"], "items": ", ".join(f"{qty} × {sku}" for sku, qty in p["items"])}
        ),
        Kind.REPLACEMENT: lambda p: (
            gettext("Replacement shipped with %(document)s: %(items)s.")
            % {"document": p["document"], "items": ", ".join(f"{qty} × {sku}" for sku, qty in p["items"])}
        ),
        Kind.TRANSITION: lambda p: _transition_text(p),
        Kind.PAYMENT: lambda p: (
            gettext("Payment status: %(before)s → %(after)s.")
            % {"before": PAYMENT_STATUS_LABELS[p["from"]], "after": PAYMENT_STATUS_LABELS[p["to"]]}
        ),
    }

    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="events", verbose_name=_("order"))
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["at", "pk"]


def _transition_text(params: dict) -> str:
    if "rules" in params:
        labels = dict(ReviewRule.choices)
        return gettext("Sent to review: %(rules)s.") % {"rules": ", ".join(str(labels.get(r, r)) for r in params["rules"])}
    if params.get("checks") == "passed":
        return gettext("The automatic checks passed.")
    return ""


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
        return finding_text(rule=self.rule, figures=self.figures) or self.message


REVIEW_SETTINGS_CACHE_KEY = "orders:review-settings"
# With a shared cache (Redis) a save clears it for every process; with the per-process default
# cache other processes see a change after at most this long.
REVIEW_SETTINGS_CACHE_SECONDS = 60


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

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        cache.delete(REVIEW_SETTINGS_CACHE_KEY)
        # Again after commit: a reader between this save and the commit may have cached the old row.
        transaction.on_commit(lambda: cache.delete(REVIEW_SETTINGS_CACHE_KEY))

    @classmethod
    def current(cls) -> ReviewSettings:
        """The one settings row, created with the defaults on first use; read from the cache, which
        every save clears (every check of every order reads it)."""
        obj = cache.get(REVIEW_SETTINGS_CACHE_KEY)
        if obj is None:
            obj, _created = cls.objects.get_or_create(pk=1)
            cache.set(REVIEW_SETTINGS_CACHE_KEY, obj, REVIEW_SETTINGS_CACHE_SECONDS)
        return obj


from .fulfilment.models import BulkAllocation  # noqa: E402,F401  (registered with the orders app)
