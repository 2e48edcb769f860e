"""Parts of lines whose amounts do not divide evenly, at different tax rates: invoices of a line
shipped in parts add up to the order to the cent (paying the order's total settles them all, none
left open by 0.01 nor paid 0.01 over), and credit notes of a line's units or of small amounts add up
to the line, each one issuable, the last leaving the invoice fully credited."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import F
from django.utils import timezone

from billing.credit_notes.services import CreditRequest, credit_note_draft, credit_note_issue
from billing.invoices.services import invoice_draft_from_orders, invoice_issue
from billing.models import TAX_TOLERANCE, CreditNoteLine, Invoice, InvoiceLine, PaymentState
from billing.payments.models import PaymentMethod
from billing.payments.selectors import oldest_first, open_invoices
from billing.payments.services import payment_record
from billing.tests.factories import finance_user, shipped_order
from inventory.tests.factories import ProductFactory, approved_order
from orders.entry.services import order_recompute_totals
from orders.models import OrderStatus, PaymentStatus, SalesOrder, SalesOrderLine

pytestmark = pytest.mark.django_db

# (list price, discount %, tax rate, quantity): net unit prices 12.345, 33.335 and 8.74125 — thirds
# and halves of a cent that rounding each part on its own would add up to 0.01–0.02 more than the order.
AWKWARD_LINES = [
    (Decimal("24.69"), Decimal("50"), Decimal("0.13"), 3),
    (Decimal("66.67"), Decimal("50"), Decimal("0.09"), 3),
    (Decimal("9.99"), Decimal("12.5"), Decimal("0.06"), 3),
]


@pytest.fixture
def finance():
    return finance_user()


def _discounted(order: SalesOrder, discounts: list[Decimal]) -> SalesOrder:
    for line, discount in zip(order.lines.order_by("position"), discounts, strict=True):
        line.discount_percent = discount
        line.compute_amounts()
        line.save()
    order = order_recompute_totals(order=order)
    SalesOrder.objects.filter(pk=order.pk).update(subtotal=order.subtotal, tax_total=order.tax_total, total=order.total)
    return SalesOrder.objects.get(pk=order.pk)


def _awkward_order(**kwargs) -> SalesOrder:
    products = [ProductFactory(list_price=price, tax_rate=rate) for price, _d, rate, _q in AWKWARD_LINES]
    order = approved_order(lines=[(product, qty) for product, (*_x, qty) in zip(products, AWKWARD_LINES, strict=True)], **kwargs)
    return _discounted(order, [discount for _p, discount, _r, _q in AWKWARD_LINES])


def _within_tolerance(lines) -> bool:
    return all(abs(line.tax - line.net * line.tax_rate) <= TAX_TOLERANCE and line.gross == line.net + line.tax for line in lines)


def test_a_line_shipped_and_invoiced_in_three_parts_adds_up_to_the_order_and_its_total_pays_every_invoice(finance):
    order = _awkward_order()
    assert order.total == Decimal("41.86") + Decimal("109.01") + Decimal("27.79")
    invoices = []
    for _part in range(3):  # a unit of every line ships, and is invoiced, three times
        SalesOrderLine.objects.filter(order=order).update(quantity_shipped=F("quantity_shipped") + 1)
        SalesOrder.objects.filter(pk=order.pk).update(status=OrderStatus.PARTIALLY_SHIPPED)
        draft = invoice_draft_from_orders(orders=[order], by=finance, kind="ordinary").invoice
        invoices.append(invoice_issue(invoice=draft, by=finance))
    SalesOrder.objects.filter(pk=order.pk).update(status=OrderStatus.DELIVERED)

    assert sum((invoice.total_gross for invoice in invoices), Decimal(0)) == order.total
    for order_line in order.lines.all():
        parts = InvoiceLine.objects.filter(order_line=order_line)
        assert sum(p.net for p in parts) == order_line.line_net and sum(p.tax for p in parts) == order_line.line_tax
        assert _within_tolerance(parts)

    # The customer pays what the order said: every invoice is settled, nothing is left over.
    customer = order.customer
    payment = payment_record(
        customer=customer,
        amount=order.total,
        date=timezone.localdate(),
        method=PaymentMethod.BANK_TRANSFER,
        by=finance,
        allocations=oldest_first(invoices=open_invoices(customer=customer), amount=order.total),
    )
    assert payment.amount_allocated == order.total and payment.unallocated == 0
    assert all(invoice.open_amount == 0 for invoice in Invoice.objects.filter(pk__in=[i.pk for i in invoices]))
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID and order.status == OrderStatus.COMPLETED


def test_crediting_a_line_unit_by_unit_at_three_rates_adds_up_to_the_invoice(finance):
    order = _discounted(
        shipped_order(lines=[(ProductFactory(list_price=price, tax_rate=rate), qty) for price, _d, rate, qty in AWKWARD_LINES]),
        [discount for _p, discount, _r, _q in AWKWARD_LINES],
    )
    invoice = invoice_issue(invoice=invoice_draft_from_orders(orders=[order], by=finance, kind="ordinary").invoice, by=finance)
    lines = list(invoice.lines.order_by("position"))
    for _unit in range(3):  # three returns of one unit of every line
        note = credit_note_draft(
            invoice=invoice, reason="sales_return", by=finance, requests=[CreditRequest(line.pk, quantity=1) for line in lines]
        )
        credit_note_issue(credit_note=note, by=finance)
        assert _within_tolerance(note.lines.all())
    for line in lines:
        credited = CreditNoteLine.objects.filter(invoice_line=line)
        assert sum(c.net for c in credited) == line.net and sum(c.tax for c in credited) == line.tax
    invoice.refresh_from_db()
    assert invoice.amount_credited == invoice.total_gross and invoice.open_amount == 0
    assert invoice.payment_state == PaymentState.CREDITED


def test_many_single_unit_returns_never_round_the_lines_tax_away_before_the_last(finance):
    # 20 units at 0.35 and 13 %: one unit's tax, 0.0455, rounds up to 0.05; fifteen of those took
    # 0.07 more than their share, and the last five units could not carry the tax left.
    order = shipped_order(lines=[(ProductFactory(list_price=Decimal("0.35"), tax_rate=Decimal("0.13")), 20)])
    invoice = invoice_issue(invoice=invoice_draft_from_orders(orders=[order], by=finance, kind="ordinary").invoice, by=finance)
    line = invoice.lines.get()
    assert (line.net, line.tax) == (Decimal("7.00"), Decimal("0.91"))
    for _unit in range(15):
        credit_note_issue(
            credit_note=credit_note_draft(
                invoice=invoice, reason="sales_return", by=finance, requests=[CreditRequest(line.pk, quantity=1)]
            ),
            by=finance,
        )
    last = credit_note_draft(invoice=invoice, reason="sales_return", by=finance)  # everything still creditable
    credit_note_issue(credit_note=last, by=finance)
    assert _within_tolerance(CreditNoteLine.objects.filter(invoice_line=line))
    invoice.refresh_from_db()
    assert invoice.amount_credited == invoice.total_gross == Decimal("7.91")
    assert order.lines.get().quantity_invoiced == 0  # every unit came back


def test_many_small_price_concessions_then_the_rest_leave_the_invoice_fully_credited(finance):
    order = shipped_order(lines=[(ProductFactory(list_price=Decimal("1.00"), tax_rate=Decimal("0.13")), 1)])
    invoice = invoice_issue(invoice=invoice_draft_from_orders(orders=[order], by=finance, kind="ordinary").invoice, by=finance)
    line = invoice.lines.get()
    for _concession in range(13):  # 0.04 each: its own tax, 0.0052, would round up to 0.01 every time
        credit_note_issue(
            credit_note=credit_note_draft(
                invoice=invoice, reason="price_concession", by=finance, requests=[CreditRequest(line.pk, net=Decimal("0.04"))]
            ),
            by=finance,
        )
    last = credit_note_draft(invoice=invoice, reason="price_concession", by=finance)
    credit_note_issue(credit_note=last, by=finance)
    credited = CreditNoteLine.objects.filter(invoice_line=line)
    assert _within_tolerance(credited)
    assert sum(c.tax for c in credited) == line.tax == Decimal("0.13")
    invoice.refresh_from_db()
    assert invoice.amount_credited == invoice.total_gross and invoice.open_amount == 0
