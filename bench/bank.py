"""The bank statement benchmark: import and auto-match a 10,000-line statement against 50,000 open invoices.

Recreates `sales_bank_bench` (or --database-url / BENCH_BANK_DATABASE_URL, name containing `bench`),
migrates, seeds 5,000 customers (2,000 with a remembered payer account) and 50,000 issued open
invoices, writes a camt.053 (or MT940) file of 10,000 lines — 30 % naming an invoice with its exact
amount, 20 % from a known payer account with the exact amount of one of its invoices, 20 % from a
customer by name with another amount, 20 % with only an invoice's amount, 10 % money out — and
times `bank_file_import` in-process: parsing, storing, suggesting and applying every exact match
as a payment (the payments services' bulk path), as the command line does. With --page the
upload's limit applies instead (BANK_AUTO_APPLY_INLINE) and the rest is timed as the background
applies it. Prints one table.

    .venv/bin/python bench/bank.py [--lines 10000] [--invoices 50000] [--format camt053|mt940] [--page]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import app_env, manage, recreate_database, setup_django  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/sales_bank_bench"
ACCOUNT_NUMBER = "1001234567890123456"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_BANK_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=50_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--format", choices=["camt053", "mt940"], default="camt053")
    parser.add_argument(
        "--page",
        action="store_true",
        help="import as the upload page does (at most BANK_AUTO_APPLY_INLINE exact matches applied) and time the background",
    )
    return parser.parse_args()


def seed(*, invoices: int, customers: int):
    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection, transaction
    from django.utils import timezone

    from billing.bank.models import BankAccount, PayerAccount
    from billing.models import Invoice
    from customers.models import Customer

    year = timezone.localdate().year
    now = timezone.now()
    with transaction.atomic():
        clerk = get_user_model().objects.create_user("bench-finance", password="x")
        clerk.groups.set(Group.objects.filter(name="finance"))
        Customer.objects.bulk_create(
            Customer(code=f"B{i:06d}", name=f"对账客户 {i} 贸易有限公司") for i in range(1, customers + 1)
        )
        customer_ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
        PayerAccount.objects.bulk_create(
            PayerAccount(customer_id=cid, account_key=f"6222{i:012d}", account_number=f"6222{i:012d}")
            for i, cid in enumerate(customer_ids[:2000])
        )
        rows = []
        for n in range(1, invoices + 1):
            gross = Decimal(1000 + (n * 7919) % 900_000) / 100 + Decimal(n % 7)  # many distinct amounts
            net = (gross / Decimal("1.13")).quantize(Decimal("0.01"))
            rows.append(
                Invoice(
                    customer_id=customer_ids[n % len(customer_ids)],
                    status="issued",
                    number=f"INV-{year}-{n:06d}",
                    buyer_name="",
                    total_net=net,
                    total_tax=gross - net,
                    total_gross=gross,
                    issued_at=now,
                    due_date=now.date() + timedelta(days=30 + n % 60),
                )
            )
        Invoice.objects.bulk_create(rows, batch_size=5000)
        BankAccount.objects.create(code="BENCH", name="Bench account", number=ACCOUNT_NUMBER, currency="CNY")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return clerk


def statement_lines(count: int):
    """(amount, credit, payer name, payer account, memo) for each line, from the seeded invoices."""
    from decimal import Decimal

    from django.db.models import F

    from billing.models import Invoice
    from customers.models import Customer

    invoices = list(Invoice.objects.order_by("pk").annotate(open=F("total_gross")).values("number", "customer_id", "open"))
    names = dict(Customer.objects.values_list("pk", "name"))
    account_of = {
        cid: f"6222{i:012d}" for i, cid in enumerate(Customer.objects.order_by("pk").values_list("pk", flat=True)[:2000])
    }
    by_customer_known = [row for row in invoices if row["customer_id"] in account_of]
    lines = []
    known = iter(by_customer_known)
    plain = iter(row for row in invoices if row["customer_id"] not in account_of)
    for i in range(count):
        kind = i % 10
        if kind in (0, 1, 2):
            row = next(plain)
            lines.append((row["open"], True, "某付款人", "", f"货款 {row['number']}"))
        elif kind in (3, 4):
            row = next(known)
            lines.append((row["open"], True, names[row["customer_id"]], account_of[row["customer_id"]], "货款"))
        elif kind in (5, 6):
            row = next(plain)
            lines.append((row["open"] / 2, True, names[row["customer_id"]], "", "部分货款"))
        elif kind in (7, 8):
            row = next(plain)
            lines.append((row["open"], True, f"未知公司 {i}", f"9999{i:08d}", "往来"))
        else:
            lines.append((Decimal("12.50"), False, "", "", "手续费"))
    return lines


def camt053(lines, day) -> bytes:
    from xml.sax.saxutils import escape

    entries = []
    for n, (amount, credit, name, account, memo) in enumerate(lines, start=1):
        side = "Dbtr" if credit else "Cdtr"
        parties = (
            f"<RltdPties><{side}><Pty><Nm>{escape(name)}</Nm></Pty></{side}>"
            + (f"<{side}Acct><Id><Othr><Id>{account}</Id></Othr></Id></{side}Acct>" if account else "")
            + "</RltdPties>"
            if name
            else ""
        )
        entries.append(
            f'<Ntry><Amt Ccy="CNY">{amount:.2f}</Amt><CdtDbtInd>{"CRDT" if credit else "DBIT"}</CdtDbtInd>'
            f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>"
            f"<AcctSvcrRef>B{n:08d}</AcctSvcrRef><NtryDtls><TxDtls>{parties}<RmtInf><Ustrd>{escape(memo)}</Ustrd></RmtInf>"
            "</TxDtls></NtryDtls></Ntry>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'
        f"<BkToCstmrStmt><GrpHdr><MsgId>BENCH</MsgId><CreDtTm>{day}T18:00:00</CreDtTm></GrpHdr><Stmt><Id>BENCH-1</Id>"
        f"<Acct><Id><Othr><Id>{ACCOUNT_NUMBER}</Id></Othr></Id><Ccy>CNY</Ccy></Acct>{''.join(entries)}</Stmt>"
        "</BkToCstmrStmt></Document>"
    ).encode()


def mt940(lines, day) -> bytes:
    out = [":20:BENCH", f":25:{ACCOUNT_NUMBER}", ":28C:1/1", f":60F:C{day:%y%m%d}CNY0,00"]
    for n, (amount, credit, name, account, memo) in enumerate(lines, start=1):
        figure = f"{amount:.2f}".replace(".", ",")  # the same cents as the camt.053 file, with a decimal comma
        out.append(f":61:{day:%y%m%d}{day:%m%d}{'C' if credit else 'D'}{figure}NTRFNONREF//B{n:08d}")
        out.append(f":86:/NAME/{name}/IBAN/{account}/REMI/{memo}" if name else f":86:{memo}")
    out.append("-")
    return "\r\n".join(out).encode("utf-8")


def backend_cpu() -> float | None:
    """CPU seconds the PostgreSQL backend serving this connection has used (from /proc when it runs on this host)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    if "(postgres" not in stat:  # a process of that number here is not the backend
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    args = parse_args()
    env = app_env(args.database_url)
    recreate_database(args.database_url)
    manage(env, "migrate", "--noinput")
    setup_django(env)

    from datetime import timedelta

    from django.utils import timezone

    import billing.bank.reconciliation as reconciliation
    import billing.bank.services as services
    from billing.bank.models import BankStatementLine
    from billing.bank.parsing import parse_statement_file
    from config.actors import Actor

    started = time.perf_counter()
    clerk = seed(invoices=args.invoices, customers=args.customers)
    seeded = time.perf_counter() - started
    day = timezone.localdate() - timedelta(days=1)
    lines = statement_lines(args.lines)
    raw = camt053(lines, day) if args.format == "camt053" else mt940(lines, day)

    timings: dict[str, float] = {}

    def timed(name, function):
        def wrapper(*a, **k):
            begin = time.perf_counter()
            try:
                return function(*a, **k)
            finally:
                timings[name] = timings.get(name, 0.0) + time.perf_counter() - begin

        return wrapper

    # After-commit side effects (the payments' outbox events) are a worker's job in production; here
    # no worker runs, so they are left queued (counted below) instead of being handled in this process.
    import config.outbox as outbox

    outbox._kick = lambda: None
    services.parse_statement_file = timed("parse", services.parse_statement_file)
    services._store = timed("store", services._store)
    reconciliation.lines_plan = timed("plan", reconciliation.lines_plan)
    reconciliation.suggestions_store = timed("suggestions", reconciliation.suggestions_store)
    services.lines_match = timed("match", services.lines_match)

    begin = time.perf_counter()
    parse_statement_file(raw, file_format=args.format)
    parse_only = time.perf_counter() - begin
    load = os.getloadavg()[0]
    backend = backend_cpu()
    begin, cpu = time.perf_counter(), time.process_time()
    summary = services.bank_file_import(raw=raw, filename=f"bench.{args.format}", actor=Actor.of(clerk), inline=args.page)
    total, cpu = time.perf_counter() - begin, time.process_time() - cpu
    backend = backend_cpu() - backend if backend is not None else None
    applied = timings.get("match", 0) - timings.get("plan", 0) - timings.get("suggestions", 0)
    background = None
    if args.page:
        begin = time.perf_counter()
        done = services.bank_import_apply_pending(bank_import_id=summary.bank_import.pk)
        background = (time.perf_counter() - begin, done)
    rows = [
        ("seeding (not timed below)", f"{seeded:.1f} s"),
        ("file", f"{args.format}, {len(raw) / 1024 / 1024:.1f} MB, {args.lines} lines"),
        ("open invoices", f"{args.invoices}"),
        ("parse only", f"{parse_only:.2f} s"),
        ("import: parse", f"{timings.get('parse', 0):.2f} s"),
        ("import: store lines", f"{timings.get('store', 0):.2f} s"),
        ("import: match plans (bulk lookups)", f"{timings.get('plan', 0):.2f} s"),
        ("import: exact matches recorded as payments", f"{applied:.2f} s ({summary.matched} lines)"),
        ("import: suggestions stored for the other lines", f"{timings.get('suggestions', 0):.2f} s"),
        ("import + auto-match, total (wall clock)", f"{total:.2f} s"),
        ("… CPU time of this process (parsing, matching; not the database's)", f"{cpu:.2f} s"),
        (
            "… CPU time of its database backend (same host)",
            f"{backend:.2f} s" if backend is not None else "not readable (database on another host)",
        ),
        ("machine load average when it started", f"{load:.1f} on {os.cpu_count()} cores"),
        (
            "lines imported / exact / with suggestions",
            f"{summary.imported} / {summary.matched + summary.pending} / {summary.suggested}",
        ),
        ("lines in the database", f"{BankStatementLine.objects.count()}"),
        ("outbox events left for the workers", f"{outbox.OutboxEvent.objects.filter(dispatched_at__isnull=True).count()}"),
    ]
    if background is not None:
        seconds, done = background
        rows.append(
            (
                "background: exact matches recorded as payments",
                f"{done} in {seconds:.1f} s ({seconds / max(done, 1) * 1000:.0f} ms each)",
            )
        )
    width = max(len(name) for name, _value in rows)
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
