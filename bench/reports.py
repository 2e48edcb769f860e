"""The reports benchmark: snapshot rebuilds, incremental refresh and every report page at a million orders.

Seeds a fresh PostgreSQL database with bench/scale.py's orders and lines (default 1,000,000 orders
× 5 lines over two years, 10,000 customers, 2,000 products, 50 salespeople), then, with SQL, what
the reports read besides: each order's timeline (submitted, approved, allocated, shipped, delivered,
completed, as far as its status goes), a shipment with its lines for every shipped order, the
ledger's shipment movements with the cost at shipment, and a reservation per line of every order
allocated or later (consumed once shipped). Then it times, in one run:

- the full rebuild of every snapshot (each reports task in the beat schedule, one after the other);
  with --full, then the full recompute (full=True: every row computed afresh and compared) of those that have one;
- the incremental refresh after one order (the reports handlers of that order's outbox events);
- every report page and the manager dashboard (p50 / p95 over --repeat requests, in-process, as a
  manager), each also with a year by month and a comparison, and as a salesperson;
- the order list with filters, the order detail and the home pages;
- an XLSX export of 100,000 orders (peak RSS growth of the process and Python's peak allocation).

Not part of the test suite. Usage (from the repository root):

    .venv/bin/python bench/reports.py [--orders 1000000] [--repeat 15] [--database-url postgres://.../sales_reports_bench]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import app_env, manage, percentile, recreate_database, setup_django  # noqa: E402
from scale import seed as seed_orders  # noqa: E402
from scale import seeded_data  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/sales_reports_bench"
# Order statuses by how far the order went: each reached stage gets its timeline row.
STAGES = [
    # (to_state, from_state, hours after approval, statuses that went through it)
    ("allocated", "approved", 2, ("allocated", "partially_shipped", "shipped", "delivered", "completed")),
    ("shipped", "allocated", 26, ("shipped", "delivered", "completed")),
    ("delivered", "shipped", 98, ("delivered", "completed")),
    ("completed", "delivered", 500, ("completed",)),
]
SHIPPED = ("shipped", "delivered", "completed")
ALLOCATED = ("allocated", "partially_shipped")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_REPORTS_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--lines", type=int, default=5)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--products", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=15, help="timed requests per page (after one warm-up)")
    parser.add_argument("--reuse", action="store_true", help="keep the database of an earlier run (skip what it has)")
    parser.add_argument("--full", action="store_true", help="also time the full recompute of the tasks that take full=True")
    parser.add_argument(
        "--seed-only", action="store_true", help="seed the orders and what the reports read, build nothing, time nothing"
    )
    return parser.parse_args()


def _columns(cursor, table: str) -> set[str]:
    cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s", [table])
    return {name for (name,) in cursor.fetchall()}


def seed_fulfilment(lines: int) -> None:
    """Timelines, shipments, shipment lines, the ledger's shipment movements and the reservations for the seeded orders."""
    from decimal import Decimal

    from django.db import connection, transaction

    from inventory.models import Warehouse

    with transaction.atomic():
        warehouses = [
            Warehouse.objects.get_or_create(code="SH", defaults={"name": "上海主仓", "priority": 1})[0],
            Warehouse.objects.get_or_create(code="BJ", defaults={"name": "北京仓", "priority": 2})[0],
        ]
    w1, w2 = (w.pk for w in warehouses)

    def empty(cursor, table: str) -> bool:
        cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {table})")
        return cursor.fetchone()[0]

    with connection.cursor() as cursor:
        steps = []
        # Each step writes only what an earlier run (--reuse) has not: no row is rewritten, none left dead.
        cursor.execute(
            "UPDATE inventory_product SET cost = round(list_price * %s, 2) WHERE cost IS DISTINCT FROM round(list_price * %s, 2)",
            [Decimal("0.62"), Decimal("0.62")],
        )
        started = time.monotonic()
        timelines = empty(cursor, "orders_orderevent")
        cursor.execute(
            "SELECT 1"
            if not timelines
            else """
            INSERT INTO orders_orderevent (order_id, kind, at, by_id, actor_kind, actor_name, from_state, to_state, params, note)
            SELECT o.id, 'transition', o.submitted_at, o.created_by_id, 'user', '', 'draft', 'submitted', '{}'::jsonb, ''
            FROM orders_salesorder o WHERE o.status <> 'draft'
            UNION ALL
            SELECT o.id, 'transition', o.approved_at, NULL, 'system', 'automatic checks', 'submitted', 'approved', '{}'::jsonb, ''
            FROM orders_salesorder o WHERE o.status NOT IN ('draft', 'submitted', 'in_review', 'rejected')
            """
        )
        for to_state, from_state, hours, statuses in STAGES if timelines else []:
            cursor.execute(
                f"""
                INSERT INTO orders_orderevent
                    (order_id, kind, at, by_id, actor_kind, actor_name, from_state, to_state, params, note)
                SELECT o.id, 'transition', o.approved_at + interval '{hours} hours', NULL, 'system', 'bench', %s, %s,
                       '{{}}'::jsonb, ''
                FROM orders_salesorder o WHERE o.status = ANY(%s)
                """,
                [from_state, to_state, list(statuses)],
            )
        steps.append(("order timelines", time.monotonic() - started))
        started = time.monotonic()
        cursor.execute(
            """
            UPDATE orders_salesorderline l SET quantity_shipped = l.quantity
            FROM orders_salesorder o WHERE o.id = l.order_id AND o.status = ANY(%s) AND l.quantity_shipped <> l.quantity
            """,
            [list(SHIPPED)],
        )
        cursor.execute(
            """
            UPDATE orders_salesorderline l SET quantity_invoiced = l.quantity
            FROM orders_salesorder o WHERE o.id = l.order_id AND o.status = 'completed' AND l.quantity_invoiced <> l.quantity
            """
        )
        steps.append(("line quantities", time.monotonic() - started))
        started = time.monotonic()
        shipments = empty(cursor, "logistics_shipment")
        cursor.execute(
            "SELECT %s"
            if not shipments
            else f"""
            INSERT INTO logistics_shipment (number, state, service, eta, insured_value, cod_amount, line_count, unit_count,
                created_at, picking_started_at, packed_at, shipped_at, delivered_at, order_id, warehouse_id)
            SELECT 'SH-' || o.id, CASE WHEN o.status = 'shipped' THEN 'shipped' ELSE 'delivered' END, '',
                   ((o.approved_at + interval '26 hours') AT TIME ZONE 'Asia/Shanghai')::date + (2 + o.id %% 3)::int,
                   0, 0, {lines},
                   (SELECT sum(quantity) FROM orders_salesorderline WHERE order_id = o.id),
                   o.approved_at + interval '3 hours', o.approved_at + interval '4 hours', o.approved_at + interval '5 hours',
                   o.approved_at + interval '26 hours',
                   CASE WHEN o.status = 'shipped' THEN NULL ELSE o.approved_at + interval '98 hours' END,
                   o.id, CASE WHEN o.id %% 3 = 0 THEN {w2} ELSE {w1} END
            FROM orders_salesorder o WHERE o.status = ANY(%s)
            """,
            [list(SHIPPED)],
        )
        steps.append(("shipments", time.monotonic() - started))
        started = time.monotonic()
        # Each line keeps the cost its units left at (what the shipment movements below record).
        line_costed = "unit_cost" in _columns(cursor, "logistics_shipmentline")
        cursor.execute(
            "SELECT 1"
            if not shipments
            else f"""
            INSERT INTO logistics_shipmentline (shipment_id, order_line_id, product_id, quantity, quantity_packed
                {", unit_cost" if line_costed else ""})
            SELECT s.id, l.id, l.product_id, l.quantity, l.quantity {", p.cost" if line_costed else ""}
            FROM logistics_shipment s JOIN orders_salesorderline l ON l.order_id = s.order_id
            JOIN inventory_product p ON p.id = l.product_id
            """
        )
        steps.append(("shipment lines", time.monotonic() - started))
        started = time.monotonic()
        # The allocation's reservations: every line of an order allocated or later held in its shipment's warehouse,
        # consumed once shipped (the sales facts' warehouse of a line is read from them).
        reservations = empty(cursor, "inventory_reservation")
        cursor.execute(
            "SELECT %s, %s"
            if not reservations
            else f"""
            INSERT INTO inventory_reservation (order_line_id, product_id, warehouse_id, quantity, state, created_at, updated_at)
            SELECT l.id, l.product_id, CASE WHEN o.id %% 3 = 0 THEN {w2} ELSE {w1} END, l.quantity,
                   CASE WHEN o.status = ANY(%s) THEN 'consumed' ELSE 'active' END,
                   o.approved_at + interval '2 hours', o.approved_at + interval '26 hours'
            FROM orders_salesorderline l JOIN orders_salesorder o ON o.id = l.order_id
            WHERE o.status = ANY(%s)
            """,
            [list(SHIPPED), [*ALLOCATED, *SHIPPED]],
        )
        steps.append(("reservations", time.monotonic() - started))
        started = time.monotonic()
        costed = "unit_cost" in _columns(cursor, "inventory_stockmovement")
        cursor.execute(
            "SELECT 1"
            if not shipments
            else f"""
            INSERT INTO inventory_stockmovement (product_id, warehouse_id, kind, quantity, reason, params, document, created_at
                {", unit_cost" if costed else ""})
            SELECT sl.product_id, s.warehouse_id, 'shipment', -sl.quantity, '', '{{}}'::jsonb, s.number, s.shipped_at
                {", p.cost" if costed else ""}
            FROM logistics_shipmentline sl JOIN logistics_shipment s ON s.id = sl.shipment_id
            JOIN inventory_product p ON p.id = sl.product_id
            """
        )
        steps.append(("shipment movements", time.monotonic() - started))
        started = time.monotonic()
        cursor.execute("ANALYZE")
        steps.append(("analyze", time.monotonic() - started))
    for label, seconds in steps:
        print(f"  {label}: {seconds:.0f} s", flush=True)


def snapshot_tasks() -> list[tuple[str, str]]:
    """The reports app's scheduled tasks (name, dotted path): the nightly rebuilds and the nightly report."""
    from django.conf import settings

    return sorted(
        (name, entry["task"]) for name, entry in settings.CELERY_BEAT_SCHEDULE.items() if entry["task"].startswith("reports.")
    )


def run_task(name: str, **kwargs) -> float:
    """Run one Celery task (by its registered name) in this process and return how long it took."""
    from config.celery import app

    app.loader.import_default_modules()
    task = app.tasks[name]
    started = time.perf_counter()
    task.apply(kwargs=kwargs, throw=True)
    return time.perf_counter() - started


def takes_full(name: str) -> bool:
    """Whether a task can be asked to recompute its snapshot in full (a `full` argument: the weekly or on-demand run)."""
    import inspect

    from config.celery import app

    app.loader.import_default_modules()
    return "full" in inspect.signature(app.tasks[name].run).parameters


def incremental_refresh(user) -> tuple[float, int, float]:
    """Enter and submit one order through the services, then time what refreshes the reports for it: the reports'
    outbox handlers of its events (they mark the order) and the batch that refreshes what they marked (the beat
    task reports.refresh_dirty, with nothing else marked). Returns (seconds of the marks, how many, seconds of the batch)."""
    from decimal import Decimal

    from django.conf import settings
    from django.db import transaction
    from django.utils.module_loading import import_string

    from config.models import OutboxEvent
    from customers.models import Customer
    from inventory.models import Product
    from orders.entry.services import LineInput, OrderHeader, order_create, order_submit
    from reports.dirty import dirty_refresh

    dirty_refresh()  # what earlier steps marked is not this order's
    customer = Customer.objects.order_by("pk")[100]
    products = list(Product.objects.order_by("pk")[:3])
    header = OrderHeader(customer=customer, shipping_address=customer.addresses.first(), contact=None)
    lines = [LineInput(product=p, quantity=2, unit_price=p.list_price, discount_percent=Decimal("0")) for p in products]
    first_event = OutboxEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    order = order_create(header=header, lines=lines, by=user)
    order_submit(order=order, by=user)
    events = list(OutboxEvent.objects.filter(pk__gt=first_event).order_by("pk"))
    spent, calls = 0.0, 0
    for event in events:
        for path in settings.OUTBOX_HANDLERS.get(event.topic, []):
            if not path.startswith("reports."):
                continue
            handler = import_string(path)
            started = time.perf_counter()
            with transaction.atomic():
                if getattr(handler, "outbox_event_aware", False):
                    handler(event.payload, event=event)
                else:
                    handler(event.payload)
            spent += time.perf_counter() - started
            calls += 1
    started = time.perf_counter()
    dirty_refresh()
    return spent, calls, time.perf_counter() - started


def timed(client, url: str, repeat: int) -> tuple[list[float], int]:
    response = client.get(url)  # warm-up (and the status to report)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    return times, response.status_code


def report_urls(user) -> list[tuple[str, str]]:
    """Every page of the Reports menu this user sees, plain and with a year by month compared with the year before."""
    from config.navigation import navigation_areas_for

    cases = []
    for area in navigation_areas_for(user, "/"):
        if area["key"] != "reports":
            continue
        for item in area["items"]:
            cases.append((str(item["label"]), item["url"]))
            if item["url_name"] not in ("reports:dashboard", "reports:nightly_list", "reports:at_risk"):
                year = f"{item['url']}?start=2025-12-01&end=2026-11-30&grain=month&compare=last_year"
                cases.append((f"{item['label']}, 12 months by month vs last year", year))
    return cases


def pick_queue_rows(data: dict, repeat: int) -> list[tuple]:
    """The warehouse's pick queue: its first page, one warehouse's, and a page deep in the backlog (after the
    middle order of the queue)."""
    from django.test import Client
    from django.urls import reverse

    from inventory.models import Warehouse
    from orders.models import PICKABLE, SalesOrder

    client = Client()
    client.force_login(data["users"]["warehouse"])
    queue = SalesOrder.objects.filter(status__in=PICKABLE).order_by("approved_at", "pk")
    middle = queue.values_list("pk", flat=True)[queue.count() // 2]
    warehouse = Warehouse.objects.order_by("code").values_list("pk", flat=True).last()
    url = reverse("logistics:pick_queue")
    rows = []
    pages = [("", ""), (", one warehouse", f"?warehouse={warehouse}"), (", middle of the backlog", f"?after={middle}")]
    for label, query in pages:
        times, status = timed(client, url + query, repeat)
        rows.append((f"pick queue{label}", status, times))
    return rows


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
    else:
        print(f"Seeding {args.orders:,} orders × {args.lines} lines …", flush=True)
        data = seed_orders(orders=args.orders, lines=args.lines, customers=args.customers, products=args.products)
    print("Seeding timelines, shipments and the ledger …", flush=True)
    seed_fulfilment(args.lines)
    if args.seed_only:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print("Seeded; --seed-only: nothing built or timed.")
        return

    # Each reports task twice: first on empty snapshot tables (the first build after installing), then
    # as it runs every night on tables that hold the history already.
    print("Building every snapshot, then the nightly run …", flush=True)
    tasks = snapshot_tasks()
    first = {name: run_task(path) for name, path in tasks}
    # The nightly column: the incremental run (full=False; REPORTS_NIGHTLY_FULL makes the beat pass full=True).
    rebuilds = [(name, first[name], run_task(path, **({"full": False} if takes_full(path) else {}))) for name, path in tasks]
    # --full: then the full recompute (every row computed afresh and compared) of the tasks that have one.
    full = {name: run_task(path, full=True) for name, path in tasks if args.full and takes_full(path)}
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    print("Incremental refresh after one order …", flush=True)
    mark_seconds, refresh_calls, batch_seconds = incremental_refresh(data["users"]["sales"])

    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    setup_test_environment()
    manager = Client()
    manager.force_login(data["users"]["manager"])
    seller = Client()
    seller.force_login(data["users"]["sales"])
    rows = []
    print("Timing pages …", flush=True)
    for label, url in report_urls(data["users"]["manager"]):
        times, status = timed(manager, url, args.repeat)
        rows.append((label, status, times))
    for label, url in report_urls(data["users"]["sales"])[:4]:
        times, status = timed(seller, url, args.repeat)
        rows.append((f"{label} (as sales)", status, times))
    listing = reverse("orders:list")
    for label, url in [
        ("order list, unfiltered", listing),
        ("order list, status=in_review", f"{listing}?status=in_review"),
        ("order list, customer", f"{listing}?customer={data['customer']}"),
        ("order list, one week", f"{listing}?date_from=2026-06-01&date_to=2026-06-07"),
        ("order list, payment status", f"{listing}?payment_status=unpaid"),
        ("order detail", reverse("orders:detail", args=[data["order"]])),
    ]:
        times, status = timed(manager, url, args.repeat)
        rows.append((label, status, times))
    for role, user in data["users"].items():
        client = Client()
        client.force_login(user)
        times, status = timed(client, reverse("home"), args.repeat)
        rows.append((f"home, {role}", status, times))
    rows += pick_queue_rows(data, args.repeat)

    print("XLSX export of 100,000 orders …", flush=True)
    from orders.models import SalesOrder

    cutoff = SalesOrder.objects.order_by("-created_at").values_list("created_at", flat=True)[99_999]
    export_url = f"{reverse('orders:export')}?format=xlsx&date_from={cutoff:%Y-%m-%d}"
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    started = time.perf_counter()
    response = manager.get(export_url)
    size = sum(len(chunk) for chunk in response) if response.streaming else len(response.content)
    export_seconds = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        pg_version = cursor.fetchone()[0].split(",")[0]
    print()
    print(f"machine: {os.cpu_count()} cores, {pg_version}, Python {sys.version.split()[0]}; {args.orders:,} orders")
    print(f"{'reports task (s)':44} {'first build':>12} {'nightly':>9} {'full':>6}")
    print("-" * 74)
    for name, seconds, again in rebuilds:
        print(f"{name:44} {seconds:12.1f} {again:9.1f} {f'{full[name]:.1f}' if name in full else '':>6}")
    snapshots = [(seconds, again) for name, seconds, again in rebuilds if "nightly-report" not in name]
    total_first, total_nightly = sum(s for s, _a in snapshots), sum(a for _s, a in snapshots)
    # In full: the full recompute of the tasks that have one, the others' nightly run (they rebuild in full every night).
    total_full = sum(full.get(name, again) for name, _seconds, again in rebuilds if "nightly-report" not in name)
    print(
        f"{'every snapshot (full rebuild target ≤ 60 s)':44} {total_first:12.1f} {total_nightly:9.1f}"
        f" {f'{total_full:.1f}' if full else '':>6}"
    )
    print(
        f"{'incremental refresh, one order (≤ 50 ms)':44} {(mark_seconds + batch_seconds) * 1000:9.1f} ms"
        f" (marks {mark_seconds * 1000:.1f} ms over {refresh_calls} handler calls, batch {batch_seconds * 1000:.1f} ms)"
    )
    print()
    print(f"{'page':64} {'status':>6} {'p50 ms':>9} {'p95 ms':>9}")
    print("-" * 92)
    for label, status, times in rows:
        print(f"{label[:64]:64} {status:>6} {percentile(times, 50):9.1f} {percentile(times, 95):9.1f}")
    print()
    print(
        f"XLSX export: {response.status_code}, {export_seconds:.1f} s, {size / 1e6:.1f} MB; "
        f"peak RSS grew {rss_growth / 1024:.0f} MB, Python's peak allocation {peak / 1e6:.0f} MB"
    )


if __name__ == "__main__":
    main()
