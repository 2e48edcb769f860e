"""The automatic review of a submitted order: the rules, the findings they leave, and the queue.

Each rule reads the order and the thresholds in `ReviewSettings` and returns what it found; a rule
that finds nothing returns nothing. orders.review.services.order_run_checks runs them all on one
submission, stores the findings and moves the order on: flags send it to a reviewer, warnings
alone do not.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists, Max, OuterRef, Prefetch, QuerySet, Subquery
from django.utils.module_loading import import_string

from config.money import ZERO, round_money
from inventory.stock.selectors import available_quantities
from orders.credit import customer_credit_exposure
from orders.finding_text import finding_text
from orders.models import (
    OrderEvent,
    OrderStatus,
    ReviewFinding,
    ReviewRule,
    ReviewSettings,
    SalesOrder,
    order_lines_with_products,
)

FLAG = ReviewFinding.Severity.FLAG
WARNING = ReviewFinding.Severity.WARNING
PERCENT = Decimal("0.01")


@dataclass
class Finding:
    """What one rule found, before it is stored as a ReviewFinding; its sentence comes from its figures."""

    rule: str
    severity: str = FLAG
    figures: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        return finding_text(rule=self.rule, figures=self.figures) or ""


def _money(value: Decimal | None) -> str | None:
    """Figures are JSON: amounts are kept as strings so no float ever touches them."""
    return None if value is None else str(round_money(value))


def _percent(value: Decimal) -> Decimal:
    return value.quantize(PERCENT)


# --- the rules ------------------------------------------------------------------------------------


def check_completeness(*, order: SalesOrder, lines: list, rules: ReviewSettings) -> list[Finding]:
    """An order needs a shipping address of its customer, someone to reach, and at least one line."""
    missing = []
    address = order.shipping_address
    if address is None or address.customer_id != order.customer_id:
        missing.append("shipping_address")
    contact = order.contact
    customer = order.customer
    reachable = (contact is not None and (contact.phone or contact.email)) or customer.phone or customer.email
    if not reachable:
        missing.append("contact")
    if not lines:
        missing.append("lines")
    if not missing:
        return []
    return [Finding(rule=ReviewRule.COMPLETENESS, figures={"missing": missing})]


def check_price(*, order: SalesOrder, lines: list, rules: ReviewSettings) -> list[Finding]:
    """A line whose net unit price is further below list than sales may give, or below the product's floor, is flagged."""
    findings = []
    allowed = rules.sales_max_discount_percent
    for line in lines:
        product = line.product
        list_price = product.list_price
        net_unit_price = line.unit_price * (Decimal(100) - line.discount_percent) / Decimal(100)
        sales_floor = list_price * (Decimal(100) - allowed) / Decimal(100)
        product_floor = product.lowest_allowed_price()
        below_sales = net_unit_price < sales_floor
        below_product = product_floor is not None and net_unit_price < product_floor
        if not (below_sales or below_product):
            continue
        discount = _percent((list_price - net_unit_price) * Decimal(100) / list_price) if list_price else ZERO
        findings.append(
            Finding(
                rule=ReviewRule.PRICE,
                figures={
                    "line": line.position,
                    "sku": product.sku,
                    "product": f"{product.sku} {product.name}",
                    "below_sales": below_sales,
                    "below_floor": below_product,
                    "list_price": _money(list_price),
                    "unit_price": _money(line.unit_price),
                    "discount_percent": str(line.discount_percent),
                    "net_unit_price": _money(net_unit_price),
                    "below_list_percent": str(discount),
                    "allowed_discount_percent": str(allowed),
                    "lowest_allowed_price": _money(product_floor),
                },
            )
        )
    return findings


def check_amount(*, order: SalesOrder, lines: list, rules: ReviewSettings) -> list[Finding]:
    """An order whose total is above the amount threshold is flagged (exactly at it is not)."""
    if order.total <= rules.amount_threshold:
        return []
    return [
        Finding(
            rule=ReviewRule.AMOUNT,
            figures={"total": _money(order.total), "threshold": _money(rules.amount_threshold), "currency": order.currency},
        )
    ]


def check_blocked(*, order: SalesOrder, lines: list, rules: ReviewSettings) -> list[Finding]:
    """Orders of a blocked customer are flagged, with the reason for the block."""
    customer = order.customer
    if not customer.is_blocked:
        return []
    return [
        Finding(
            rule=ReviewRule.BLOCKED,
            figures={"customer": customer.code, "customer_name": customer.name, "reason": customer.blocked_reason},
        )
    ]


def check_credit(*, order: SalesOrder, lines: list, rules: ReviewSettings) -> list[Finding]:
    """Credit exposure (receivables + approved, not invoiced orders + this one) above the credit limit is flagged."""
    customer = order.customer
    exposure = customer_credit_exposure(customer=customer, extra=order.total, exclude_order_id=order.pk)
    if exposure <= customer.credit_limit:
        return []
    over = exposure - customer.credit_limit
    return [
        Finding(
            rule=ReviewRule.CREDIT,
            figures={
                "exposure": _money(exposure),
                "order_total": _money(order.total),
                "credit_limit": _money(customer.credit_limit),
                "over_limit": _money(over),
            },
        )
    ]


def overdue_invoices(*, customer, older_than_days: int) -> list:
    """The customer's invoices overdue by more than N days, from the provider billing registers in
    settings.OVERDUE_INVOICES_PROVIDER (a function (customer=, older_than_days=) -> invoices with
    `number`, `due_date` and `balance`); nothing is overdue while no provider is configured."""
    path = getattr(settings, "OVERDUE_INVOICES_PROVIDER", "")
    if not path:
        return []
    return list(import_string(path)(customer=customer, older_than_days=older_than_days))


def check_overdue(*, order: SalesOrder, lines: list, rules: ReviewSettings) -> list[Finding]:
    """A customer with invoices overdue by more than the configured days is flagged."""
    invoices = overdue_invoices(customer=order.customer, older_than_days=rules.overdue_days)
    if not invoices:
        return []
    balance = sum((getattr(invoice, "balance", ZERO) or ZERO for invoice in invoices), ZERO)
    numbers = [str(getattr(invoice, "number", invoice)) for invoice in invoices]
    return [
        Finding(
            rule=ReviewRule.OVERDUE,
            figures={"days": rules.overdue_days, "invoices": numbers, "balance": _money(balance)},
        )
    ]


def check_stock(*, order: SalesOrder, lines: list, rules: ReviewSettings) -> list[Finding]:
    """Ordering more of a product than is available is a warning only: it will be backordered, not refused."""
    ordered: dict[int, int] = defaultdict(int)
    products = {}
    for line in lines:
        ordered[line.product_id] += line.quantity
        products[line.product_id] = line.product
    if not ordered:
        return []
    available = available_quantities(product_ids=sorted(ordered))
    findings = []
    for product_id, quantity in ordered.items():
        on_hand = available.get(product_id, 0)
        if quantity <= on_hand:
            continue
        product = products[product_id]
        figures = {
            "sku": product.sku,
            "product": f"{product.sku} {product.name}",
            "ordered": quantity,
            "available": on_hand,
            "shortfall": quantity - on_hand,
        }
        findings.append(Finding(rule=ReviewRule.STOCK, severity=WARNING, figures=figures))
    return findings


# Each rule with the ReviewSettings switch that turns it on.
RULES = [
    ("check_completeness", check_completeness),
    ("check_price", check_price),
    ("check_amount", check_amount),
    ("check_blocked", check_blocked),
    ("check_credit", check_credit),
    ("check_overdue", check_overdue),
    ("check_stock", check_stock),
]


def order_evaluate(*, order: SalesOrder, rules: ReviewSettings) -> list[Finding]:
    """Every switched-on rule's findings for the order as it stands; writes nothing."""
    lines = order_lines_with_products(order)
    findings: list[Finding] = []
    for switch, rule in RULES:
        if getattr(rules, switch):
            findings.extend(rule(order=order, lines=lines, rules=rules))
    return findings


def order_submission_count(*, order: SalesOrder) -> int:
    """How many times the order was submitted, counted from its timeline."""
    count = order.events.filter(kind=OrderEvent.Kind.TRANSITION, to_state=OrderStatus.SUBMITTED).count()
    return max(count, 1)


# --- reads for the review pages ------------------------------------------------------------------


def current_findings() -> QuerySet[ReviewFinding]:
    """Findings of each order's latest submission: what a reviewer decides on today."""
    latest = (
        ReviewFinding.objects.filter(order=OuterRef("order"))
        .values("order")
        .annotate(latest=Max("submission"))
        .values("latest")[:1]
    )
    return ReviewFinding.objects.filter(submission=Subquery(latest)).order_by("severity", "pk")  # flags before warnings


def order_review_queue() -> QuerySet[SalesOrder]:
    """Orders in review, oldest submission first, with their current findings in one extra query."""
    return (
        SalesOrder.objects.filter(status=OrderStatus.IN_REVIEW)
        .select_related("customer", "created_by")
        .prefetch_related(Prefetch("findings", queryset=current_findings(), to_attr="current_findings"))
        .order_by("submitted_at", "pk")
    )


def orders_flagged_by(*, orders: QuerySet[SalesOrder], rule: str) -> QuerySet[SalesOrder]:
    """Orders whose latest submission was flagged by this rule."""
    return orders.filter(Exists(current_findings().filter(order=OuterRef("pk"), rule=rule, severity=FLAG)))
