"""Finance turns delivered orders into cash in the browser: invoices two delivered orders and issues
them, imports the bank's camt.053 statement through the page; the line that names its invoice is
matched automatically, the other is accepted by hand in the matching queue; both invoices show paid,
both orders are paid and completed, and importing the same file again adds nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from billing.bank.models import BankAccount, BankStatementLine, LineStatus
from billing.models import Invoice, InvoiceStatus
from billing.tests.factories import company_customer
from inventory.tests.factories import WarehouseFactory
from logistics.tests.factories import allocated_order, packed_shipment, ship, stocked_product
from logistics.tracking.services import shipment_confirm_delivery
from orders.models import OrderStatus, PaymentStatus, SalesOrder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ACCOUNT = "3100 2026 0000 8888"


def camt053(*, statement_id: str, entries: list[dict], opening: Decimal) -> bytes:
    """A camt.053.001.08 end-of-day statement of ACCOUNT (ISO 20022 BankToCustomerStatement):
    group header, one <Stmt> with its OPBD/CLBD balances and one booked <Ntry> per entry, each
    with one <TxDtls> carrying the end-to-end id, the debtor (payer) and the remittance text."""
    day = timezone.localdate().isoformat()
    closing = opening + sum((e["amount"] if e["credit"] else -e["amount"] for e in entries), Decimal("0.00"))

    def balance(code: str, amount: Decimal) -> str:
        return (
            f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
            f'<Amt Ccy="CNY">{abs(amount):.2f}</Amt><CdtDbtInd>{"CRDT" if amount >= 0 else "DBIT"}</CdtDbtInd>'
            f"<Dt><Dt>{day}</Dt></Dt></Bal>"
        )

    def entry(e: dict) -> str:
        side = "CRDT" if e["credit"] else "DBIT"
        party = "Dbtr" if e["credit"] else "Cdtr"
        return (
            f'<Ntry><Amt Ccy="CNY">{e["amount"]:.2f}</Amt><CdtDbtInd>{side}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
            f"<BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt><AcctSvcrRef>{e['ref']}</AcctSvcrRef>"
            f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
            f"<NtryDtls><TxDtls><Refs><EndToEndId>{e['ref']}-E2E</EndToEndId></Refs>"
            f'<Amt Ccy="CNY">{e["amount"]:.2f}</Amt><CdtDbtInd>{side}</CdtDbtInd>'
            f"<RltdPties><{party}><Pty><Nm>{e['name']}</Nm></Pty></{party}>"
            f"<{party}Acct><Id><Othr><Id>{e['account']}</Id></Othr></Id></{party}Acct></RltdPties>"
            f"<RmtInf><Ustrd>{e['memo']}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
        )

    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>{statement_id}-MSG</MsgId><CreDtTm>{day}T18:00:00+08:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{statement_id}</Id><ElctrncSeqNb>1</ElctrncSeqNb><CreDtTm>{day}T18:00:00+08:00</CreDtTm>"
        f"<Acct><Id><Othr><Id>{ACCOUNT.replace(' ', '')}</Id></Othr></Id><Ccy>CNY</Ccy></Acct>"
        f"{balance('OPBD', opening)}{balance('CLBD', closing)}{''.join(entry(e) for e in entries)}"
        "</Stmt></BkToCstmrStmt></Document>"
    )
    return xml.encode()


def delivered_order(*, customer, lines, warehouse, clerk) -> SalesOrder:
    """An order allocated, picked, packed, shipped and confirmed delivered through the logistics services."""
    order = allocated_order(lines=lines, customer=customer)
    shipment = ship(packed_shipment(order=order, warehouse=warehouse, by=clerk), by=clerk)
    shipment_confirm_delivery(shipment=shipment, by=clerk)
    order = SalesOrder.objects.get(pk=order.pk)
    assert order.status == OrderStatus.DELIVERED
    return order


def test_finance_invoices_delivered_orders_imports_a_camt053_file_and_the_orders_complete(page, login, make_user):
    warehouse = WarehouseFactory(code="SH", name="上海主仓", priority=1)
    tea = stocked_product(stock={warehouse: 10}, sku="TEA-001", name="龙井茶 250克", list_price=Decimal("128.00"))
    cup = stocked_product(stock={warehouse: 10}, sku="CUP-002", name="青花瓷茶杯", list_price=Decimal("45.50"))
    customer = company_customer(name="杭州西湖茶业有限公司")
    clerk = make_user("warehouse", username="clerk")
    first = delivered_order(customer=customer, lines=[(tea, 2), (cup, 3)], warehouse=warehouse, clerk=clerk)
    second = delivered_order(customer=customer, lines=[(tea, 1)], warehouse=warehouse, clerk=clerk)
    BankAccount.objects.create(code="ICBC-SH", name="工商银行上海分行", number=ACCOUNT, currency="CNY")
    make_user("finance", username="cashier")
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmation before issuing

    login("cashier", "pw")
    invoices = []
    for order in (first, second):
        page.goto(reverse("billing:to_invoice") + "?delivered=1")
        page.locator("tr", has_text=order.number).get_by_role("link", name="Invoice").click()
        page.select_option("select[name=kind]", "ordinary")
        page.get_by_role("button", name="Create draft invoice").click()
        expect(page.locator("body")).to_contain_text("Draft invoice created")
        page.get_by_role("button", name="Issue invoice").click()
        expect(page.locator("body")).to_contain_text("issued; the customer receives it by e-mail")
        invoice = Invoice.objects.filter(lines__order=order, status=InvoiceStatus.ISSUED).distinct().get()
        assert invoice.number and invoice.total_gross == order.total
        invoices.append(invoice)
    first_invoice, second_invoice = invoices
    assert first_invoice.total_gross == Decimal("443.53")  # 2 × 128.00 + 3 × 45.50, each line with 13 % VAT rounded
    assert second_invoice.total_gross == Decimal("144.64")

    statement = camt053(
        statement_id="STMT-ICBC-0001",
        opening=Decimal("10000.00"),
        entries=[
            # The customer pays the first invoice and names it: matched automatically.
            {"credit": True, "amount": first_invoice.total_gross, "ref": "ICBC-TX-1", "name": customer.name,
             "account": "6222 0210 0100 1234", "memo": f"货款 {first_invoice.number}"},
            # Someone pays the second one's amount without naming it: only suggested.
            {"credit": True, "amount": second_invoice.total_gross, "ref": "ICBC-TX-2", "name": "王小明",
             "account": "6217 0000 9999 0001", "memo": "茶叶货款"},
            # The bank's fee: money out, not a customer payment.
            {"credit": False, "amount": Decimal("5.00"), "ref": "ICBC-TX-3", "name": "中国工商银行",
             "account": "0000", "memo": "手续费"},
        ],
    )  # fmt: skip
    page.goto(reverse("billing:bankstatement_import"))
    page.set_input_files(
        "input[name=file]", files=[{"name": "icbc-camt053.xml", "mimeType": "application/xml", "buffer": statement}]
    )
    page.get_by_role("button", name="Import").click()
    expect(page.locator("body")).to_contain_text("3 lines imported, 0 already there, 1 matched automatically.")
    assert Invoice.objects.get(pk=first_invoice.pk).open_amount == 0
    assert SalesOrder.objects.get(pk=first.pk).status == OrderStatus.COMPLETED

    # The matching queue: the second payment waits with its suggestion; finance accepts it.
    page.get_by_role("link", name="Lines to match").click()
    row = page.locator("tr", has_text="王小明")
    expect(row).to_contain_text(second_invoice.number)
    row.get_by_role("button", name="Accept").click()
    expect(page.locator("body")).to_contain_text("Every bank line is reconciled.")
    assert set(BankStatementLine.objects.filter(amount__gt=0).values_list("status", flat=True)) == {LineStatus.MATCHED}

    for invoice, order in ((first_invoice, first), (second_invoice, second)):
        page.goto(reverse("billing:invoice_detail", args=[invoice.pk]))
        expect(page.locator("h1 .status-paid")).to_have_text("Paid")
        payment = Invoice.objects.get(pk=invoice.pk).payment_allocations.get().payment
        expect(page.locator("body")).to_contain_text(f"{invoice.total_gross} paid by payment {payment.number}.")
        page.goto(order.get_absolute_url())
        expect(page.locator("#order-payment-status")).to_have_attribute("data-payment-status", PaymentStatus.PAID)
        expect(page.locator("#order-status")).to_have_attribute("data-status", OrderStatus.COMPLETED)
        expect(page.locator("#order-status")).to_have_text("Completed")

    # The same file again: nothing new, and the page says so.
    page.goto(reverse("billing:bankstatement_import"))
    page.set_input_files(
        "input[name=file]", files=[{"name": "icbc-camt053.xml", "mimeType": "application/xml", "buffer": statement}]
    )
    page.get_by_role("button", name="Import").click()
    expect(page.locator("body")).to_contain_text("This file was imported before")
    assert BankStatementLine.objects.count() == 3
