"""The scale benchmark: the pages people read, at a million orders.

Seeds, with SQL in a few minutes, N orders (default 1,000,000) with 5 lines each over two years,
10,000 customers, 1,000 products and 50 salespeople into a fresh PostgreSQL database, runs VACUUM (ANALYZE)
(what autovacuum would do to freshly written tables: planner statistics, the visibility map), then times in-process
(Django's test client, no network) every filter and sort the order list offers, the order detail,
each role's home page and a 100k-row CSV export, and prints p50/p95 in one table. Not part of the
test suite. Usage (from the repository root):

    .venv/bin/python bench/scale.py [--orders 1000000] [--repeat 15] [--database-url postgres://.../sales_scale_bench]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import app_env, manage, percentile, recreate_database, setup_django  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/sales_scale_bench"
STATUSES = [
    # (status, share of orders in it): most orders of two years are done.
    ("completed", 55),
    ("delivered", 12),
    ("shipped", 8),
    ("partially_shipped", 2),
    ("allocated", 4),
    ("backordered", 2),
    ("approved", 1),
    ("in_review", 2),
    ("submitted", 1),
    ("draft", 5),
    ("rejected", 2),
    ("cancelled", 6),
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_SCALE_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--lines", type=int, default=5, help="lines per order")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--products", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=15, help="timed requests per page (after one warm-up)")
    parser.add_argument(
        "--reuse", action="store_true", help="time the database of an earlier run (of this or bench/reports.py) as it is"
    )
    return parser.parse_args()


def seed(*, orders: int, lines: int, customers: int, products: int) -> dict:
    """Users, customers and products through the ORM; orders and lines with INSERT … SELECT."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection, transaction

    from customers.models import Address, Customer
    from inventory.models import Product

    User = get_user_model()
    with transaction.atomic():
        manager = User.objects.create_user("scale-manager", password="x")
        manager.groups.set(Group.objects.filter(name="manager"))
        users = {"manager": manager}
        for role in ["sales", "reviewer", "warehouse", "finance"]:
            users[role] = User.objects.create_user(f"scale-{role}", password="x")
            users[role].groups.set(Group.objects.filter(name=role))
        sales = Group.objects.get(name="sales")
        people = User.objects.bulk_create([User(username=f"sales-{i:02d}", first_name=f"销售{i}") for i in range(50)])
        sales.user_set.add(*people)
        Customer.objects.bulk_create(
            Customer(code=f"C{i:06d}", name=f"规模客户 {i} 贸易有限公司", alt_name=f"Scale Customer {i} Trading")
            for i in range(1, customers + 1)
        )
        customer_ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
        Address.objects.bulk_create(
            Address(
                customer_id=cid,
                kind=Address.Kind.SHIPPING,
                recipient="王先生",
                line1="世纪大道 100 号",
                city="上海",
                is_default=True,
            )
            for cid in customer_ids
        )
        Product.objects.bulk_create(
            Product(sku=f"S-{i:05d}", name=f"规模商品 {i}", list_price=Decimal(10 + i % 490), tax_rate=Decimal("0.13"))
            for i in range(products)
        )
    seller_ids = [p.pk for p in people]
    status_case = " ".join(
        f"WHEN b < {sum(share for _s, share in STATUSES[: i + 1])} THEN '{status}'" for i, (status, _share) in enumerate(STATUSES)
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM customers_address")
        address_min, _address_max = cursor.fetchone()
        cursor.execute("SELECT min(id) FROM inventory_product")
        (product_min,) = cursor.fetchone()
        customer_min = customer_ids[0]
        started = time.monotonic()
        cursor.execute(
            f"""
            INSERT INTO orders_salesorder (number, status, customer_id, shipping_address_id, channel, customer_po, notes,
                currency, subtotal, tax_total, total, line_count, created_by_id, created_at, updated_at, submitted_at,
                approved_at, version)
            SELECT 'SO-' || to_char(ts, 'YYYY') || '-' || lpad(g::text, 7, '0'),
                   CASE {status_case} ELSE 'completed' END,
                   {customer_min} + c, {address_min} + c, (ARRAY['phone','email','store','web_shop','marketplace'])[1 + g % 5],
                   CASE WHEN g % 3 = 0 THEN 'PO-' || (g * 7 % 1000003)::text ELSE '' END, '', 'CNY',
                   net, round(net * 0.13, 2), net + round(net * 0.13, 2), {lines},
                   (ARRAY[{",".join(map(str, seller_ids))}])[1 + g % {len(seller_ids)}],
                   ts, ts, ts + interval '5 minutes', ts + interval '1 hour', 1
            FROM (
                SELECT g, (g * 7919 % 100) AS b, (g * 104729 % {customers}) AS c,
                       round(((g * 31 % 9000) + 100)::numeric, 2) AS net,
                       now() - ((g::float / {orders}) * interval '730 days') AS ts
                FROM generate_series(1::bigint, {orders}) AS g
            ) AS src
            """
        )
        print(f"  orders: {time.monotonic() - started:.0f} s", flush=True)
        started = time.monotonic()
        cursor.execute(
            f"""
            INSERT INTO orders_salesorderline (order_id, position, product_id, description, quantity, unit_price,
                discount_percent, tax_rate, line_net, line_tax, line_total, quantity_shipped, quantity_cancelled,
                quantity_returned, quantity_invoiced)
            SELECT o.id, p, {product_min} + ((o.id * 13 + p * 101) % {products}), '规模商品', 1 + (o.id + p) % 9,
                   o.subtotal / {lines}, 0, 0.13, o.subtotal / {lines}, round(o.subtotal / {lines} * 0.13, 2),
                   o.subtotal / {lines} + round(o.subtotal / {lines} * 0.13, 2), 0, 0, 0, 0
            FROM orders_salesorder AS o CROSS JOIN generate_series(1, {lines}) AS p
            """
        )
        print(f"  lines: {time.monotonic() - started:.0f} s", flush=True)
        started = time.monotonic()
        # What autovacuum does to freshly written tables (off on a server that has it off): statistics for the
        # planner, and the visibility map, without which every index-only scan reads the table's pages too.
        cursor.execute("VACUUM (ANALYZE)")
        print(f"  vacuum, analyze: {time.monotonic() - started:.0f} s", flush=True)
        cursor.execute("SELECT id, number FROM orders_salesorder ORDER BY id LIMIT 1 OFFSET %s", [orders // 2])
        middle_id, middle_number = cursor.fetchone()
    return {"users": users, "customer": customer_ids[len(customer_ids) // 2], "order": middle_id, "number": middle_number}


def seeded_data() -> dict:
    """What seed() returns, read back from the database of an earlier run."""
    from django.contrib.auth import get_user_model

    from customers.models import Customer
    from orders.models import SalesOrder

    User = get_user_model()
    users = {"manager": User.objects.get(username="scale-manager")}
    for role in ["sales", "reviewer", "warehouse", "finance"]:
        users[role] = User.objects.get(username=f"scale-{role}")
    customers = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    middle = SalesOrder.objects.order_by("pk").values("pk", "number")[SalesOrder.objects.count() // 2]
    return {"users": users, "customer": customers[len(customers) // 2], "order": middle["pk"], "number": middle["number"]}


def timed(client, url: str, repeat: int) -> tuple[list[float], int]:
    response = client.get(url)  # warm-up (and the status to report)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    return times, response.status_code


def _order_count() -> int:
    from orders.models import SalesOrder

    return SalesOrder.objects.count()


def main() -> None:
    args = parse_args()
    env = app_env(args.database_url)
    env["DEBUG"] = "0"
    if not args.reuse:
        print(f"Recreating {args.database_url} and migrating …", flush=True)
        recreate_database(args.database_url)
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    setup_django(env)
    if args.reuse:
        data = seeded_data()
        args.orders = _order_count()
    else:
        print(f"Seeding {args.orders:,} orders × {args.lines} lines …", flush=True)
        data = seed(orders=args.orders, lines=args.lines, customers=args.customers, products=args.products)

    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    setup_test_environment()
    manager = Client()
    manager.force_login(data["users"]["manager"])
    seller = data["users"]["sales"]
    listing = reverse("orders:list")
    cases = [
        ("list, unfiltered", listing),
        ("list, status=in_review", f"{listing}?status=in_review"),
        ("list, status=completed", f"{listing}?status=completed"),
        ("list, customer", f"{listing}?customer={data['customer']}"),
        ("list, salesperson", f"{listing}?salesperson={seller.pk}"),
        ("list, channel", f"{listing}?channel=web_shop"),
        ("list, one week", f"{listing}?date_from=2026-06-01&date_to=2026-06-07"),
        ("list, total range", f"{listing}?total_min=5000&total_max=5100"),
        ("list, search number", f"{listing}?q={data['number']}"),
        ("list, search customer name", f"{listing}?q=规模客户 4711"),
        ("list, search PO", f"{listing}?q=PO-77"),
        ("list, sort by total", f"{listing}?sort=-total"),
        ("list, sort by customer", f"{listing}?sort=customer"),
        ("list, page 300", f"{listing}?page=300"),
        ("order detail", reverse("orders:detail", args=[data["order"]])),
        ("review queue", reverse("orders:review_queue")),
    ]
    rows = []
    for label, url in cases:
        times, status = timed(manager, url, args.repeat)
        rows.append((label, status, times))
    for role, user in data["users"].items():
        client = Client()
        client.force_login(user)
        times, status = timed(client, reverse("home"), args.repeat)
        rows.append((f"home, {role}", status, times))

    export_url = f"{reverse('orders:export')}?format=csv&date_from=2025-12-01&date_to=2026-03-31"
    tracemalloc.start()
    started = time.perf_counter()
    response = manager.get(export_url)
    size = sum(len(chunk) for chunk in response) if response.streaming else len(response.content)
    export_seconds = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        pg_version = cursor.fetchone()[0].split(",")[0]
    print()
    print(f"machine: {os.cpu_count()} cores, {pg_version}, Python {sys.version.split()[0]}; {args.orders:,} orders")
    print(f"{'page':34} {'status':>6} {'p50 ms':>9} {'p95 ms':>9}")
    print("-" * 62)
    for label, status, times in rows:
        p50, p95 = percentile(times, 50), percentile(times, 95)
        print(f"{label:34} {status:>6} {p50:9.1f} {p95:9.1f}")
    export = f"{export_seconds * 1000:9.0f}   {size / 1e6:.1f} MB, peak {peak / 1e6:.0f} MB"
    print(f"{'CSV export (4 months)':34} {response.status_code:>6} {export}")


if __name__ == "__main__":
    main()
