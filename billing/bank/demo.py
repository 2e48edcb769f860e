"""Demo bank statement: the company's ICBC account and one imported camt.053 statement whose lines
pay open demo invoices (one matched automatically by its invoice number, one suggested by the
payer's name), a bank fee and a payment from an unknown payer left to match. Running it again adds nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from xml.sax.saxutils import escape

from django.utils import timezone

from billing.models import Invoice
from config.actors import Actor
from config.errors import DomainError

from .models import BankAccount, BankStatement
from .services import bank_file_import

ACCOUNT = {"code": "ICBC-SH", "name": "工商银行上海分行 基本户", "number": "1001 2345 6789 0123 456", "currency": "CNY"}


def _say(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def _entry(*, amount: Decimal, credit: bool, day, ref: str, name: str = "", account: str = "", memo: str = "") -> str:
    party = "Dbtr" if credit else "Cdtr"
    parties = (
        f"<RltdPties><{party}><Pty><Nm>{escape(name)}</Nm></Pty></{party}>"
        f"<{party}Acct><Id><Othr><Id>{escape(account)}</Id></Othr></Id></{party}Acct></RltdPties>"
        if name
        else ""
    )
    return (
        f'<Ntry><Amt Ccy="CNY">{amount:.2f}</Amt><CdtDbtInd>{"CRDT" if credit else "DBIT"}</CdtDbtInd>'
        f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{day:%Y-%m-%d}</Dt></BookgDt><ValDt><Dt>{day:%Y-%m-%d}</Dt></ValDt>"
        f"<AcctSvcrRef>{ref}</AcctSvcrRef><NtryDtls><TxDtls>{parties}"
        f"<RmtInf><Ustrd>{escape(memo)}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
    )


def demo_statement(invoices: list[Invoice], day) -> bytes:
    """A camt.053.001.08 statement of the demo account for `day`."""
    lines: list[dict] = []
    if invoices:
        first = invoices[0]
        lines.append(
            {"amount": first.open_amount, "credit": True, "name": first.buyer_name, "account": "6222 0000 1111 2222",
             "memo": f"货款 {first.number}"}
        )  # fmt: skip
    if len(invoices) > 1:
        second = invoices[1]
        lines.append(
            {"amount": (second.open_amount / 2).quantize(Decimal("0.01")), "credit": True, "name": second.customer.name,
             "account": "6222 0000 3333 4444", "memo": "部分货款"}
        )  # fmt: skip
    lines.append({"amount": Decimal("35.00"), "credit": False, "memo": "手续费"})
    lines.append(
        {"amount": Decimal("8888.00"), "credit": True, "name": "某某科技有限公司", "account": "3100 9999 8888 7777",
         "memo": "往来款"}
    )  # fmt: skip
    opening = Decimal("500000.00")
    closing = opening + sum((line["amount"] if line["credit"] else -line["amount"] for line in lines), Decimal(0))
    entries = "".join(_entry(day=day, ref=f"DEMO{day:%Y%m%d}{i:02d}", **line) for i, line in enumerate(lines, start=1))
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>DEMO-{day:%Y%m%d}</MsgId><CreDtTm>{day:%Y-%m-%d}T18:00:00+08:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>DEMO-{day:%Y%m%d}</Id><Acct><Id><Othr><Id>{ACCOUNT['number']}</Id></Othr></Id><Ccy>CNY</Ccy></Acct>"
        f'<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">{opening:.2f}</Amt>'
        f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day:%Y-%m-%d}</Dt></Dt></Bal>"
        f'<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">{closing:.2f}</Amt>'
        f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day:%Y-%m-%d}</Dt></Dt></Bal>"
        f"{entries}</Stmt></BkToCstmrStmt></Document>"
    )
    return document.encode("utf-8")


def seed(*, users, stdout=None) -> None:
    clerk = users.get("finance")
    account, _created = BankAccount.objects.get_or_create(code=ACCOUNT["code"], defaults=ACCOUNT)
    if clerk is None or BankStatement.objects.filter(account=account).exists():
        return
    invoices = list(Invoice.objects.open().filter(currency="CNY").select_related("customer").order_by("issued_at", "pk")[:2])
    day = timezone.localdate() - timedelta(days=1)
    try:
        summary = bank_file_import(
            raw=demo_statement(invoices, day), filename=f"demo-{day:%Y%m%d}.xml", actor=Actor.of(clerk), account=account
        )
    except DomainError as error:
        _say(stdout, f"Demo bank statement not imported: {error}")
        return
    _say(stdout, f"Demo bank statement: {summary.imported} lines, {summary.matched} matched automatically.")
