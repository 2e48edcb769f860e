"""Where one order's CPU goes: the browser's "save and submit" of a 5-line order (create + submit + checks +
allocate, and every outbox handler they set off) through the whole Django stack in-process, profiled.

Seeds the data set of bench/run.py into a fresh database, logs in as its user, posts a number of warm-up
orders, then posts N orders under cProfile and prints CPU ms per order (process time, this process only:
the database's CPU is not in it), SQL statements per order (BEGIN/COMMIT/SAVEPOINT are not counted by
Django), the statements by kind, and the functions taking the most time. Not part of the test suite.

    .venv/bin/python bench/order_profile.py [--orders 50] [--lines 5] [--database-url postgres://…bench]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import run as bench_run  # noqa: E402  (the seed and the form of bench/run.py)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", bench_run.DEFAULT_URL))
    parser.add_argument("--orders", type=int, default=50)
    parser.add_argument("--warm-up", type=int, default=10)
    parser.add_argument("--lines", type=int, default=5)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    parser.add_argument("--no-seed", action="store_true", help="reuse the database of the last run")
    parser.add_argument("--statements", action="store_true", help="also print one order's statements in the order sent")
    parser.add_argument(
        "--timer", default="cpu", choices=["cpu", "wall"], help="what the profile counts (cpu: this process's CPU time)"
    )
    return parser.parse_args()


def statement_kind(sql: str) -> str:
    """`SELECT orders_salesorder`, `INSERT reports_dirtykey`, …: the verb and the first table named."""
    if sql.startswith("QUERY = "):  # how Django logs a statement psycopg sent prepared
        sql = sql[len("QUERY = ") :].lstrip("'\"")
    verb = sql.split(None, 1)[0].upper()
    table = re.search(r'(?:FROM|INTO|UPDATE)\s+"?([a-z_0-9]+)"?', sql, re.IGNORECASE)
    return f"{verb} {table.group(1) if table else ''}".strip()


def main() -> None:
    args = parse_args()
    env = bench_run.app_env(args.database_url)
    # The report batch is measured on its own below, not by a timer thread firing during one of the loops.
    env["REPORTS_BATCH_SECONDS"] = "3600"
    if not args.no_seed:
        print(f"Recreating {args.database_url} and migrating …", flush=True)
        bench_run.recreate_database(args.database_url)
        bench_run.manage(env, "migrate", "--noinput")
    bench_run.setup_django(env)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from customers.models import Address, Contact, Customer
    from inventory.models import Product, Warehouse
    from reports.dirty import dirty_refresh

    if not args.no_seed:
        print("Seeding …", flush=True)
        bench_run.seed(products=200, customers=1000)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    customers = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    products = list(Product.objects.order_by("pk").values_list("pk", flat=True))
    prices = dict(Product.objects.values_list("pk", "list_price"))
    addresses = dict(Address.objects.values_list("customer_id", "pk"))
    contacts = dict(Contact.objects.values_list("customer_id", "pk"))
    assert Warehouse.objects.exists() and get_user_model().objects.filter(username="bench").exists()

    client = Client(HTTP_HOST="127.0.0.1")
    # Through the login page, as a browser does (the lockout backend wants the request).
    response = client.post("/accounts/login/", {"username": "bench", "password": bench_run.BENCH_PASSWORD})
    assert response.status_code == 302, response.status_code
    client.get("/orders/new/")
    rng = random.Random(1)

    def post_one() -> None:
        customer = rng.choice(customers)
        chosen = rng.sample(products, args.lines)
        form = bench_run.order_form(
            customer_id=customer,
            address_id=addresses[customer],
            contact_id=contacts[customer],
            product_ids=chosen,
            csrf="",
        )
        form += [(f"lines-{i}-unit_price", str(prices[pid])) for i, pid in enumerate(chosen)]
        # As a browser posts the form (it has no file input): URL-encoded, not multipart.
        response = client.post("/orders/new/", urlencode(form), content_type="application/x-www-form-urlencoded")
        if response.status_code != 302:
            raise SystemExit(f"order not saved: {response.status_code} {response.content[:500]!r}")

    for _ in range(args.warm_up):
        post_one()
    dirty_refresh()

    # CPU first without the profiler (which slows Python down), then the statements, then the profile.
    cpu_started = time.process_time()
    wall_started = time.perf_counter()
    for _ in range(args.orders):
        post_one()
    cpu = time.process_time() - cpu_started
    wall = time.perf_counter() - wall_started
    # What the report batch (a worker's beat task, or with no broker a thread of the web worker) costs per order.
    batch_started = time.process_time()
    batch_wall_started = time.perf_counter()
    dirty_refresh()
    batch_cpu = time.process_time() - batch_started
    batch_wall = time.perf_counter() - batch_wall_started
    kinds: Counter[str] = Counter()
    statements = 0
    for _ in range(args.orders):
        with CaptureQueriesContext(connection) as captured:
            post_one()
        statements += len(captured.captured_queries)
        kinds.update(statement_kind(query["sql"]) for query in captured.captured_queries)
    if args.statements:
        with CaptureQueriesContext(connection) as captured:
            post_one()
        print("\nOne order's statements, in the order sent:")
        for number, query in enumerate(captured.captured_queries, 1):
            print(f"  {number:3} {query['sql'][:240]}")
    dirty_refresh()
    profiler = cProfile.Profile(time.process_time) if args.timer == "cpu" else cProfile.Profile()
    profiler.enable()
    for _ in range(args.orders):
        post_one()
    profiler.disable()
    if os.environ.get("PROFILE_DUMP"):
        profiler.dump_stats(os.environ["PROFILE_DUMP"])

    print(f"\n{args.orders} orders of {args.lines} lines, after {args.warm_up} to warm up")
    per_order = 1000 / args.orders
    print(f"CPU per order (this process, not profiled): {cpu * per_order:.1f} ms; wall {wall * per_order:.1f} ms")
    print(
        f"report batch per order (reports.dirty.dirty_refresh of those orders): CPU {batch_cpu * per_order:.1f} ms;"
        f" wall {batch_wall * per_order:.1f} ms"
    )
    print(f"SQL statements per order: {statements / args.orders:.1f}")
    for kind, count in kinds.most_common():
        print(f"  {count / args.orders:6.2f}  {kind}")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())
    # Cumulative time of the steps worth watching, per order (profiled, so inflated alike).
    watched = [
        ("orders/entry/views.py", "order_create"),
        ("orders/entry/services.py", "order_save_and_submit"),
        ("config/outbox.py", "outbox_dispatch"),
        ("config/outbox.py", "_run"),
        ("django/template/base.py", "render"),
        ("django/contrib/sessions/backends/base.py", "_get_session"),
        ("django/contrib/auth/backends.py", "_get_permissions"),
        ("django/core/handlers/base.py", "get_response"),
    ]
    print(f"cumulative ms per order (profiled, {args.timer} time, the report batch not included):")
    for (filename, _line, name), row in stats.stats.items():
        cumulative = row[3]
        if (
            any(filename.endswith(f) and name == n for f, n in watched)
            or "/reports/" in filename
            and name.startswith(("refresh", "mark"))
        ):
            print(f"  {cumulative / args.orders * 1000:8.2f}  {name} ({filename.split('/work/')[-1]})")


if __name__ == "__main__":
    main()
