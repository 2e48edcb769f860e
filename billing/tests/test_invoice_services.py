"""Invoices drafted from shipped orders, issued with a gapless number, discarded while drafts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from billing.documents import pdf_is_intact
from billing.handlers import email_invoice, store_invoice_pdf
from billing.invoices.services import (
    invoice_discard,
    invoice_draft_from_orders,
    invoice_draft_prepayment,
    invoice_issue,
    invoice_record_fapiao_number,
    invoice_update_draft,
)
from billing.models import Invoice, InvoiceEvent, due_date_for
from billing.selectors import open_invoices, overdue_invoices
from billing.tests.factories import VALID_TAX_ID, company_customer, finance_user, issued_invoice, shipped_order
from config.errors import DomainError, PermissionRefused
from inventory.tests.factories import ProductFactory, approved_order
from orders.models import SalesOrderLine

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance():
    return finance_user()


def test_draft_invoices_what_shipped_less_returned_and_marks_it_invoiced(finance):
    order = shipped_order(products=2, quantity=5)
    first, second = order.lines.order_by("position")
    SalesOrderLine.objects.filter(pk=first.pk).update(quantity_returned=1)
    SalesOrderLine.objects.filter(pk=second.pk).update(quantity_shipped=2)

    invoice = invoice_draft_from_orders(orders=[order], by=finance).invoice

    assert [(line.order_line_id, line.quantity) for line in invoice.lines.order_by("position")] == [(first.pk, 4), (second.pk, 2)]
    assert list(order.lines.order_by("position").values_list("quantity_invoiced", flat=True)) == [4, 2]
    assert invoice.status == "draft" and invoice.number is None
    # Totals are the sums of the rounded lines.
    lines = list(invoice.lines.all())
    assert invoice.total_net == sum(line.net for line in lines)
    assert invoice.total_tax == sum(line.tax for line in lines)
    assert invoice.total_gross == invoice.total_net + invoice.total_tax
    for line in lines:
        assert abs(line.tax - line.net * line.tax_rate) <= Decimal("0.06")


def test_invoicing_twice_finds_nothing_left(finance):
    order = shipped_order()
    invoice_draft_from_orders(orders=[order], by=finance)
    with pytest.raises(DomainError) as refused:
        invoice_draft_from_orders(orders=[order], by=finance)
    assert refused.value.code == "nothing_to_invoice"


def test_one_invoice_covers_several_orders_of_one_customer_only(finance):
    customer = company_customer()
    a, b = shipped_order(customer=customer), shipped_order(customer=customer)
    invoice = invoice_draft_from_orders(orders=[a, b], by=finance).invoice
    assert set(invoice.lines.values_list("order_id", flat=True)) == {a.pk, b.pk}
    other = shipped_order()
    with pytest.raises(DomainError) as refused:
        invoice_draft_from_orders(orders=[shipped_order(customer=customer), other], by=finance)
    assert refused.value.code == "mixed_customers"


def test_unshipped_order_is_refused(finance):
    order = approved_order(lines=[(ProductFactory(), 2)])
    with pytest.raises(DomainError) as refused:
        invoice_draft_from_orders(orders=[order], by=finance)
    assert refused.value.code == "not_shipped"


def test_more_than_invoiceable_is_refused_and_nothing_is_written(finance):
    order = shipped_order(quantity=3)
    line = order.lines.get()
    with pytest.raises(DomainError) as refused:
        invoice_draft_from_orders(orders=[order], by=finance, quantities={line.pk: 4})
    assert refused.value.code == "over_invoice"
    assert not Invoice.objects.exists()
    line.refresh_from_db()
    assert line.quantity_invoiced == 0


def test_sales_may_not_draft_invoices(make_user):
    with pytest.raises(PermissionRefused):
        invoice_draft_from_orders(orders=[shipped_order()], by=make_user("sales"))


def test_issue_numbers_dates_and_sets_the_due_date_from_the_customers_terms(finance):
    customer = company_customer(payment_terms_days=45)
    invoice = issued_invoice(order=shipped_order(customer=customer), by=finance)
    year = timezone.localdate().year
    assert invoice.number == f"INV-{year}-000001"
    assert invoice.status == "issued"
    assert invoice.due_date == timezone.localdate(invoice.issued_at) + timedelta(days=45)
    assert InvoiceEvent.objects.filter(invoice=invoice, kind="issue").exists()


def test_due_date_end_of_month_plus_days(settings):
    settings.BILLING_TERMS_END_OF_MONTH = True
    customer = company_customer(payment_terms_days=30)
    assert due_date_for(customer=customer, issued_on=date(2026, 1, 15)) == date(2026, 3, 2)
    assert due_date_for(customer=customer, issued_on=date(2026, 12, 31)) == date(2027, 1, 30)


def test_issue_stores_the_pdf_once_with_its_hash_and_emails_it_in_the_customers_language(
    finance, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    customer = company_customer()
    customer.language = "zh-hans"
    customer.save()
    order = shipped_order(customer=customer)
    mail.outbox.clear()  # the order's own e-mails
    with django_capture_on_commit_callbacks(execute=True):
        invoice = issued_invoice(order=order, by=finance)
    invoice.refresh_from_db()
    assert invoice.pdf and len(invoice.pdf_sha256) == 64
    assert pdf_is_intact(invoice)
    sent = [m for m in mail.outbox if m.attachments]  # the order's confirmation may go out in the same dispatch
    assert len(sent) == 1
    message = sent[0]
    assert message.to == [customer.email]
    assert invoice.number in message.subject and "发票" in message.subject
    assert message.attachments[0][0] == f"{invoice.number}.pdf"
    assert message.attachments[0][1][:4] == b"%PDF"
    stored = invoice.pdf.name
    # Handled again (a redelivered event): nothing is rendered or sent twice.
    email_invoice({"id": invoice.pk})
    store_invoice_pdf({"id": invoice.pk})
    invoice.refresh_from_db()
    assert invoice.pdf.name == stored and len([m for m in mail.outbox if m.attachments]) == 1


def test_special_invoice_needs_the_buyers_tax_id_address_and_bank(finance):
    order = shipped_order(customer=company_customer())
    invoice = invoice_draft_from_orders(orders=[order], by=finance, kind="special").invoice
    with pytest.raises(DomainError) as refused:
        invoice_issue(invoice=invoice, by=finance)
    assert refused.value.code == "incomplete"
    assert Invoice.objects.get(pk=invoice.pk).number is None
    invoice_update_draft(invoice=invoice, by=finance, buyer_bank_account="招商银行上海分行 1219 0000 0000 001")
    issued = invoice_issue(invoice=invoice, by=finance)
    assert issued.buyer_tax_id == VALID_TAX_ID and issued.number


def test_issued_invoice_cannot_be_edited_or_discarded(finance):
    invoice = issued_invoice(by=finance)
    with pytest.raises(DomainError):
        invoice_update_draft(invoice=invoice, by=finance, remarks="changed")
    with pytest.raises(DomainError):
        invoice_discard(invoice=invoice, by=finance)
    with pytest.raises(DomainError):
        invoice_issue(invoice=invoice, by=finance)


def test_discarding_a_draft_gives_its_units_back(finance):
    order = shipped_order(quantity=4)
    invoice = invoice_draft_from_orders(orders=[order], by=finance).invoice
    invoice_discard(invoice=invoice, by=finance)
    assert order.lines.get().quantity_invoiced == 0
    again = invoice_draft_from_orders(orders=[order], by=finance).invoice
    assert again.lines.get().quantity == 4


def test_fapiao_number_recorded_once_eight_or_twenty_digits(finance):
    invoice = issued_invoice(by=finance)
    with pytest.raises(DomainError):
        invoice_record_fapiao_number(invoice=invoice, fapiao_number="123", by=finance)
    invoice_record_fapiao_number(invoice=invoice, fapiao_number="24312000000000123456", by=finance)
    with pytest.raises(DomainError) as refused:
        invoice_record_fapiao_number(invoice=invoice, fapiao_number="12345678", by=finance)
    assert refused.value.code == "fapiao_recorded"
    assert Invoice.objects.get(pk=invoice.pk).fapiao_number == "24312000000000123456"


def test_prepayment_invoice_covers_the_order_once_it_ships(finance):
    order = approved_order(lines=[(ProductFactory(), 3)], customer=company_customer(prepayment_required=True))
    prepayment = invoice_draft_prepayment(order=order, by=finance, kind="ordinary")
    assert prepayment.is_prepayment and prepayment.total_gross == order.total
    invoice_issue(invoice=prepayment, by=finance)
    with pytest.raises(DomainError):
        invoice_draft_prepayment(order=order, by=finance)
    order.lines.update(quantity_shipped=3)
    type(order).objects.filter(pk=order.pk).update(status="delivered")
    outcome = invoice_draft_from_orders(orders=[order], by=finance)
    assert outcome.invoice is None and outcome.covered_by_prepayment == 3
    assert order.lines.get().quantity_invoiced == 3


def test_open_and_overdue_selectors_use_the_due_date_and_amounts(finance):
    invoice = issued_invoice(by=finance)
    customer = invoice.customer
    assert list(open_invoices(customer)) == [invoice]
    assert list(overdue_invoices(customer, 0)) == []
    later = invoice.due_date + timedelta(days=10)
    assert list(overdue_invoices(customer, 5, on=later)) == [invoice]
    assert list(overdue_invoices(customer, 10, on=later)) == []
    Invoice.objects.filter(pk=invoice.pk).update(amount_paid=invoice.total_gross)
    assert list(open_invoices(customer)) == []
