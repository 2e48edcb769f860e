"""The receivables ageing at 100,000 open invoices: the aggregate, its totals, and the page.

Recreates `sales_ageing_bench` (or --database-url, name containing "bench"), migrates, seeds with
`INSERT … SELECT` N issued invoices (default 100,000 open, plus as many settled ones a real ledger
also holds) over 2,000 customers and 50 salespeople, due dates spread over the last 200 days and
the next 60, runs VACUUM ANALYZE, then times in-process: the grouped ageing query, the totals query, and
the receivables page (first page, a salesperson filter, a customer search) through Django's test
client as a finance user. Prints p50/p95 per step. Not part of the test suite. Usage:

    .venv/bin/python bench/ageing.py [--invoices 100000] [--settled 100000] [--repeat 15]
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

from run import app_env, manage, percentile, recreate_database, setup_django  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/sales_ageing_bench"
TARGET_MS = 2000


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_AGEING_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--invoices", type=int, default=100_000, help="open invoices")
    parser.add_argument("--settled", type=int, default=100_000, help="paid invoices beside them")
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=15)
    return parser.parse_args()


def seed(*, invoices: int, settled: int, customers: int) -> dict:
    """Users and customers through the ORM; invoices with one INSERT … SELECT (generate_series)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection, transaction

    from customers.models import Customer

    User = get_user_model()
    with transaction.atomic():
        finance = User.objects.create_user("ageing-finance", password="x")
        finance.groups.set(Group.objects.filter(name="finance"))
        people = User.objects.bulk_create([User(username=f"ageing-sales-{i:02d}", first_name=f"销售{i}") for i in range(50)])
        Customer.objects.bulk_create(
            Customer(
                code=f"A{i:06d}",
                name=f"账龄客户 {i} 贸易有限公司",
                alt_name=f"Ageing Customer {i} Trading",
                salesperson=people[i % len(people)],
            )
            for i in range(customers)
        )
        first_customer = Customer.objects.order_by("pk").values_list("pk", flat=True).first()
        with connection.cursor() as cursor:
            # Open: gross 100–10,099.99, a third part-paid; settled: paid in full. All issued.
            cursor.execute(
                """
                INSERT INTO billing_invoice (customer_id, kind, medium, is_prepayment, status, number, buyer_name,
                    buyer_tax_id, buyer_address_phone, buyer_bank_account, currency, total_net, total_tax, total_gross,
                    amount_credited, amount_paid, issued_at, due_date, fapiao_number, remarks, pdf, pdf_sha256, created_at)
                SELECT %(first)s + (n %% %(customers)s), 'ordinary', 'electronic', false, 'issued',
                    'INV-B-' || lpad(n::text, 7, '0'), 'bench', '', '', '', 'CNY',
                    g.gross, 0, g.gross,
                    0, CASE WHEN n > %(open)s THEN g.gross WHEN n %% 3 = 0 THEN round(g.gross / 3, 2) ELSE 0 END,
                    now() - ((n %% 260) || ' days')::interval,
                    (current_date - 200 + (n * 7919 %% 260))::date,
                    '', '', '', '', now()
                FROM generate_series(1, %(total)s) AS n,
                    LATERAL (SELECT round((100 + (n * 7877 %% 1000000) / 100.0)::numeric, 2) AS gross) AS g
                """,
                {"first": first_customer, "customers": customers, "open": invoices, "total": invoices + settled},
            )
    with connection.cursor() as cursor:
        # A fresh table has no visibility map or statistics until (auto)vacuum passes: give it that state.
        cursor.execute("VACUUM ANALYZE billing_invoice")
        cursor.execute("ANALYZE")
    return {"finance": finance, "salesperson": people[7]}


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    args = parse_args()
    recreate_database(args.database_url)
    env = app_env(args.database_url)
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    setup_django(env)

    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse
    from django.utils import timezone

    from billing.ageing import ageing_by_customer, ageing_totals
    from billing.models import Invoice

    started = time.perf_counter()
    data = seed(invoices=args.invoices, settled=args.settled, customers=args.customers)
    seeded_s = time.perf_counter() - started
    open_count = Invoice.objects.open().count()
    today = timezone.localdate()

    setup_test_environment()  # the test client's host is allowed
    client = Client()
    client.force_login(data["finance"])
    url = reverse("billing:receivables")

    def page(params: dict):
        def get():
            response = client.get(url, params)
            assert response.status_code == 200, response.status_code

        return get

    steps = [
        ("ageing by customer (all rows)", lambda: list(ageing_by_customer(as_of=today))),
        ("ageing totals", lambda: ageing_totals(as_of=today)),
        ("receivables page", page({})),
        ("receivables page, one salesperson", page({"salesperson": data["salesperson"].pk})),
        ("receivables page, customer search", page({"q": "客户 17"})),
        ("receivables page, sorted by overdue", page({"sort": "overdue"})),
    ]
    print(f"seeded {args.invoices + args.settled:,} invoices ({open_count:,} open) in {seeded_s:.1f} s")
    print("| step | p50 ms | p95 ms |\n| --- | ---: | ---: |")
    worst = 0.0
    for name, fn in steps:
        times = timed(fn, args.repeat)
        worst = max(worst, percentile(times, 95))
        print(f"| {name} | {percentile(times, 50):.1f} | {percentile(times, 95):.1f} |")
    print(f"worst p95 {worst:.0f} ms: {'within' if worst <= TARGET_MS else 'OVER'} the {TARGET_MS} ms target")


if __name__ == "__main__":
    main()
