"""The on-demand benchmark: seed a realistic data set into PostgreSQL, then measure in one run

  P_order  pgbench running order_txn.sql (the order transaction in raw SQL, number from a
           counter row) at N clients;
  P_limit  pgbench running order_txn.sql with the number from a sequence (the leanest correct
           order transaction) at N clients;
  A        the app creating + submitting + allocating 5-line orders over HTTP (gunicorn) at N clients,
           after a warm-up, with the web workers' CPU time per order;
  API      the same 5-line orders pushed through the channel API (POST /api/v1/orders/ with a bearer
           token and an Idempotency-Key) at N clients, next to the browser path;
  queries  SQL statements for create + submit + allocate at 1, 5, 10, 100 and 500 lines, and the time
           to submit and allocate a 500-line order,

and print one table. Not part of the test suite. Usage (from the repository root):

    .venv/bin/python bench/run.py [--clients 8] [--seconds 20] [--database-url postgres://...]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/sales_bench"
BENCH_PASSWORD = "bench-password-1"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=20, help="duration of each load phase")
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 2 + 1, help="gunicorn workers")
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument(
        "--scale-database-url",
        default="",
        help="also print, after the order path, the pages at scale from this seeded database (bench/scale.py --reuse:"
        " every order-list filter and sort, the order detail and each role's home at a million orders)",
    )
    return parser.parse_args()


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def spread(values: list[float]) -> str:
    return " / ".join(f"{percentile(values, pct):.1f}" for pct in (50, 95, 99))


def recreate_database(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name) or "bench" not in name:
        raise SystemExit(f"refusing to recreate database {name!r}: the bench database name must contain 'bench'")
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def app_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(
        DATABASE_URL=url,
        DEBUG="0",
        SECRET_KEY="bench-only-secret-key-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        TESTING="0",
        LOG_LEVEL="WARNING",
        DB_CONN_MAX_AGE="600",
    )
    return env


def manage(env, *args) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


# --- in-process part: seeding and query counts ----------------------------------------------------


def setup_django(env) -> None:
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    # As a web worker does (config/wsgi.py): what is loaded, frozen out of the collector's full collections.
    from config.startup import freeze_loaded_objects

    freeze_loaded_objects()


def seed(*, products: int, customers: int) -> dict:
    """200+ products with stock in 3 warehouses, 1,000 customers with address and contact, one user."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import transaction

    from customers.models import Address, Contact, Customer
    from inventory.models import MovementKind, Product, StockLevel, StockMovement, Warehouse
    from orders.models import ReviewSettings

    user = get_user_model().objects.create_user("bench", password=BENCH_PASSWORD)
    user.groups.set(Group.objects.filter(name__in=["sales", "reviewer", "warehouse"]))
    with transaction.atomic():
        settings_row = ReviewSettings.current()
        settings_row.amount_threshold = Decimal("999999999.00")
        settings_row.save()
        warehouses = [
            Warehouse.objects.create(code=code, name=name, priority=prio)
            for code, name, prio in [("SH", "上海主仓", 1), ("BJ", "北京仓", 2), ("GZ", "广州仓", 3)]
        ]
        Product.objects.bulk_create(
            Product(
                sku=f"B-{i:05d}",
                name=f"基准商品 {i} Bench product",
                list_price=Decimal(10 + i % 490) + Decimal("0.90"),
                cost=Decimal(5 + i % 200),
                tax_rate=Decimal("0.13"),
            )
            for i in range(products)
        )
        product_ids = list(Product.objects.order_by("pk").values_list("pk", flat=True))
        on_hand = 10_000_000
        StockLevel.objects.bulk_create(
            StockLevel(product_id=pid, warehouse=w, on_hand=on_hand) for pid in product_ids for w in warehouses
        )
        StockMovement.objects.bulk_create(
            StockMovement(product_id=pid, warehouse=w, kind=MovementKind.RECEIPT, quantity=on_hand, reason="bench seed")
            for pid in product_ids
            for w in warehouses
        )
        Customer.objects.bulk_create(
            Customer(
                code=f"BC{i:06d}",
                name=f"基准客户 {i} 贸易有限公司",
                alt_name=f"Bench Customer {i} Trading Co.",
                credit_limit=Decimal("1000000000.00"),
            )  # no email: confirmations would flood the console
            for i in range(customers)
        )
        customer_ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
        Address.objects.bulk_create(
            Address(
                customer_id=cid,
                kind=Address.Kind.SHIPPING,
                recipient="王先生",
                phone="13800000000",
                line1="浦东新区世纪大道 100 号",
                city="上海",
                is_default=True,
            )
            for cid in customer_ids
        )
        Contact.objects.bulk_create(
            Contact(customer_id=cid, name="王先生", phone="13800000000", is_primary=True) for cid in customer_ids
        )
    return {"user": user, "products": product_ids, "customers": customer_ids, "warehouses": warehouses}


def order_inputs(*, customer_id: int, product_ids: list[int], lines: int):
    from decimal import Decimal

    from customers.models import Customer
    from inventory.models import Product
    from orders.entry.services import LineInput, OrderHeader

    customer = Customer.objects.get(pk=customer_id)
    header = OrderHeader(customer=customer, shipping_address=customer.addresses.first(), contact=customer.contacts.first())
    products = Product.objects.in_bulk(product_ids[:lines] if lines <= len(product_ids) else product_ids)
    chosen = [products[product_ids[i % len(product_ids)]] for i in range(lines)]
    return header, [
        LineInput(product=p, quantity=1 + i % 3, unit_price=p.list_price, discount_percent=Decimal("0"))
        for i, p in enumerate(chosen)
    ]


def measure_queries(data: dict) -> list[tuple[int, int, float, str]]:
    """Statements for create + submit (+ the checks and allocation it sets off) per order size."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from orders.entry import services

    results = []
    # One order first, so per-process caches (the user's permissions, content types) are warm.
    header, lines = order_inputs(customer_id=data["customers"][0], product_ids=data["products"], lines=1)
    services.order_submit(order=services.order_create(header=header, lines=lines, by=data["user"]), by=data["user"])
    for size in (1, 5, 10, 100, 500):
        header, lines = order_inputs(
            customer_id=data["customers"][size % len(data["customers"])], product_ids=data["products"], lines=size
        )
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            order = services.order_create(header=header, lines=lines, by=data["user"])
            created = time.perf_counter()
            services.order_submit(order=order, by=data["user"])
            finished = time.perf_counter()
        order.refresh_from_db()
        results.append((size, len(captured.captured_queries), finished - created, order.status, created - started))
    return results


# --- pgbench ----------------------------------------------------------------------------------------


# P_limit is P_order with the number from a sequence: the same script with its counter line swapped.
COUNTER_LINE = (
    "UPDATE config_numbersequence SET last_value = last_value + 1 WHERE key = 'bench_pgbench' AND year = 0 "
    "RETURNING last_value AS seq \\gset"
)
SEQUENCE_LINE = "SELECT nextval('bench_pgbench_seq') AS seq \\gset"


def limit_script(directory: str) -> str:
    """Write order_txn.sql with the order number from a sequence into `directory`; returns its path."""
    text = (ROOT / "bench" / "order_txn.sql").read_text()
    if COUNTER_LINE not in text:
        raise SystemExit("bench/order_txn.sql no longer takes its number from the counter line P_limit replaces")
    path = Path(directory) / "order_txn_limit.sql"
    path.write_text(text.replace(COUNTER_LINE, SEQUENCE_LINE).replace("'PB-' || lpad", "'PL-' || lpad"))
    return str(path)


def run_pgbench(*, url: str, data: dict, clients: int, seconds: int, limit: bool = False) -> dict:
    from django.db import connection

    from config.numbering import NumberSequence

    NumberSequence.objects.get_or_create(key="bench_pgbench", year=0)
    with connection.cursor() as cursor:
        cursor.execute("CREATE SEQUENCE IF NOT EXISTS bench_pgbench_seq")
    parts = urllib.parse.urlsplit(url)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            shutil.which("pgbench") or "pgbench",
            "-n",
            "-c",
            str(clients),
            "-j",
            str(min(clients, os.cpu_count() or 2)),
            "-T",
            str(seconds),
            "-f",
            limit_script(tmp) if limit else str(ROOT / "bench" / "order_txn.sql"),
            "-l",
            "--log-prefix",
            f"{tmp}/pgbench",
            "-D",
            f"cmin={data['customers'][0]}",
            "-D",
            f"cmax={data['customers'][-1]}",
            "-D",
            f"pmin={data['products'][0]}",
            "-D",
            f"pmax={data['products'][-1]}",
            "-D",
            f"w={data['warehouses'][0].pk}",
            "-D",
            f"u={data['user'].pk}",
            "-h",
            parts.hostname or "127.0.0.1",
            "-p",
            str(parts.port or 5432),
            "-U",
            parts.username or "postgres",
            parts.path.lstrip("/"),
        ]
        env = {**os.environ}
        if parts.password:
            env["PGPASSWORD"] = urllib.parse.unquote(parts.password)
        output = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
        latencies = []
        for log in Path(tmp).glob("pgbench*"):
            for line in log.read_text().splitlines():
                fields = line.split()
                if len(fields) >= 3 and fields[2].isdigit():
                    latencies.append(int(fields[2]) / 1000.0)
    tps = float(re.search(r"tps = ([\d.]+)", output).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", output)
    return {"tps": tps, "latencies": latencies, "failed": int(failed.group(1)) if failed else 0}


# --- the app over HTTP ----------------------------------------------------------------------------


class Client:
    """One browser-like client: its own cookies and CSRF token."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def csrf(self) -> str:
        return next((c.value for c in self.jar if c.name == "csrftoken"), "")

    def request(self, path: str, data: dict | list | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body)
        if body is not None:
            req.add_header("X-CSRFToken", self.csrf())
            req.add_header("Referer", self.base + path)
        try:
            with self.opener.open(req, timeout=60) as resp:
                return resp.status, resp.headers.get("Location", ""), resp.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", ""), error.read().decode(errors="replace")

    def login(self, username: str, password: str) -> None:
        self.request("/accounts/login/")
        status, location, _ = self.request(
            "/accounts/login/", {"username": username, "password": password, "csrfmiddlewaretoken": self.csrf()}
        )
        if status != 302:
            raise RuntimeError(f"login failed: {status}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def order_form(*, customer_id: int, address_id: int, contact_id: int, product_ids: list[int], csrf: str) -> list[tuple[str, str]]:
    fields = [
        ("csrfmiddlewaretoken", csrf),
        ("customer", str(customer_id)),
        ("shipping_address", str(address_id)),
        ("contact", str(contact_id)),
        ("channel", "api"),
        ("customer_po", ""),
        ("requested_date", ""),
        ("notes", ""),
        ("lines-TOTAL_FORMS", str(len(product_ids))),
        ("lines-INITIAL_FORMS", "0"),
        ("lines-MIN_NUM_FORMS", "0"),
        ("lines-MAX_NUM_FORMS", "1000"),
        ("action", "submit"),
        # A fresh one-time token per order, as the rendered form carries it (config.submissions).
        ("submission_token", secrets.token_urlsafe(32)),
    ]
    for i, pid in enumerate(product_ids):
        fields += [(f"lines-{i}-product", str(pid)), (f"lines-{i}-quantity", "2"), (f"lines-{i}-discount_percent", "0")]
    return fields


def process_tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (gunicorn's workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def run_http(*, base: str, data: dict, clients: int, seconds: int) -> dict:
    from customers.models import Address, Contact
    from inventory.models import Product

    prices = dict(Product.objects.values_list("pk", "list_price"))
    addresses = dict(Address.objects.values_list("customer_id", "pk"))
    contacts = dict(Contact.objects.values_list("customer_id", "pk"))
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    window = {}
    # The clock starts when every client has logged in.
    barrier = threading.Barrier(clients, action=lambda: window.update(start=time.monotonic(), end=time.monotonic() + seconds))

    def worker(n: int) -> None:
        import random

        rng = random.Random(n)
        client = Client(base)
        client.login("bench", BENCH_PASSWORD)
        client.request("/orders/new/")
        barrier.wait()
        while time.monotonic() < window["end"]:
            customer = rng.choice(data["customers"])
            products = rng.sample(data["products"], 5)
            form = order_form(
                customer_id=customer,
                address_id=addresses[customer],
                contact_id=contacts[customer],
                product_ids=products,
                csrf=client.csrf(),
            )
            form += [(f"lines-{i}-unit_price", str(prices[pid])) for i, pid in enumerate(products)]
            started = time.perf_counter()
            status, location, body = client.request("/orders/new/", form)
            elapsed = time.perf_counter() - started
            with lock:
                if status == 302 and "/orders/" in location:
                    latencies.append(elapsed * 1000)
                else:
                    errors.append(f"{status} {location} {body[:200]!r}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - window["start"]
    return {"latencies": latencies, "errors": errors, "throughput": len(latencies) / wall}


def bench_api_token() -> str:
    """A channel client for the API phase, with a rate limit the run cannot reach."""
    from api.services import api_client_create
    from config.actors import Actor

    _client, token = api_client_create(
        name="Bench web shop",
        channel="web_shop",
        scopes=["orders:write", "orders:read"],
        rate_limit_per_minute=100_000,
        by=Actor.system("system"),
    )
    return token


def run_api(*, base: str, data: dict, token: str, clients: int, seconds: int) -> dict:
    """N shops pushing 5-line orders for existing customers (by code) as fast as they are answered."""
    import json
    import uuid

    from customers.models import Customer
    from inventory.models import Product

    codes = dict(Customer.objects.values_list("pk", "code"))
    skus = dict(Product.objects.values_list("pk", "sku"))
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    window = {}
    barrier = threading.Barrier(clients, action=lambda: window.update(start=time.monotonic(), end=time.monotonic() + seconds))

    def worker(n: int) -> None:
        import random

        rng = random.Random(1000 + n)
        opener = urllib.request.build_opener(NoRedirect())
        barrier.wait()
        sequence = 0
        while time.monotonic() < window["end"]:
            sequence += 1
            body = {
                "external_ref": f"BENCH-{n}-{sequence}-{uuid.uuid4().hex[:8]}",
                "customer": {"code": codes[rng.choice(data["customers"])]},
                "lines": [{"sku": skus[pid], "quantity": 2} for pid in rng.sample(data["products"], 5)],
            }
            req = urllib.request.Request(base + "/api/v1/orders/", data=json.dumps(body).encode(), method="POST")
            req.add_header("Authorization", f"Bearer {token}")
            req.add_header("Content-Type", "application/json")
            req.add_header("Idempotency-Key", str(uuid.uuid4()))
            started = time.perf_counter()
            try:
                with opener.open(req, timeout=60) as resp:
                    status, text = resp.status, ""
            except urllib.error.HTTPError as error:
                status, text = error.code, error.read().decode(errors="replace")
            elapsed = time.perf_counter() - started
            with lock:
                if status == 201:
                    latencies.append(elapsed * 1000)
                else:
                    errors.append(f"{status} {text[:200]!r}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - window["start"]
    return {"latencies": latencies, "errors": errors, "throughput": len(latencies) / wall}


def start_gunicorn(env, port: int, workers: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("gunicorn did not start")


def main() -> None:
    args = parse_args()
    env = app_env(args.database_url)
    print(f"Recreating {args.database_url} and migrating …", flush=True)
    recreate_database(args.database_url)
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    setup_django(env)
    print("Seeding …", flush=True)
    data = seed(products=args.products, customers=args.customers)
    from django.db import connection as db

    with db.cursor() as cursor:  # this machine's PostgreSQL may run without autovacuum: give the planner statistics
        cursor.execute("ANALYZE")

    print("Counting queries …", flush=True)
    sizes = measure_queries(data)

    print(f"pgbench: {args.clients} clients, {args.seconds}s …", flush=True)
    pg = run_pgbench(url=args.database_url, data=data, clients=args.clients, seconds=args.seconds)

    print(f"pgbench (limit, numbers from a sequence): {args.clients} clients, {args.seconds}s …", flush=True)
    limit = run_pgbench(url=args.database_url, data=data, clients=args.clients, seconds=args.seconds, limit=True)

    # pgbench filled the order, line and reservation tables since the ANALYZE above; a server's autovacuum would
    # have analyzed them by now (after 50 rows and 10 %), this machine's may be off: the app is planned on them.
    with db.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"HTTP: gunicorn with {args.workers} workers, {args.clients} clients, warm-up 5s, then {args.seconds}s …", flush=True)
    token = bench_api_token()
    server = start_gunicorn(env, args.port, args.workers)
    try:
        base = f"http://127.0.0.1:{args.port}"
        run_http(base=base, data=data, clients=args.clients, seconds=5)  # every worker has served and cached
        cpu_before = process_tree_cpu_seconds(server.pid)
        app = run_http(base=base, data=data, clients=args.clients, seconds=args.seconds)
        app_cpu = process_tree_cpu_seconds(server.pid) - cpu_before
        print(f"API: {args.clients} clients, {args.seconds}s …", flush=True)
        api = run_api(base=base, data=data, token=token, clients=args.clients, seconds=args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)

    from django.db import connection
    from django.db.models import Count

    from orders.models import SalesOrder

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        pg_version = cursor.fetchone()[0].split(",")[0]
    bench_orders = SalesOrder.objects.filter(channel="api").exclude(number__startswith="PB-").exclude(number__startswith="PL-")
    statuses = dict(bench_orders.values_list("status").annotate(n=Count("pk")))

    print()
    print(f"machine: {os.cpu_count()} cores, {pg_version}, Python {sys.version.split()[0]}")
    print(f"{'measure':44} {'value':>14}")
    print("-" * 60)
    print(f"{'P_order (pgbench, tx/s)':44} {pg['tps']:14.1f}  (failed: {pg['failed']})")
    print(f"{'P_order latency p50 / p95 / p99 (ms)':44} {spread(pg['latencies'])}")
    print(f"{'A (app over HTTP, orders/s)':44} {app['throughput']:14.1f}")
    print(f"{'A latency p50 / p95 / p99 (ms)':44} {spread(app['latencies'])}")
    print(f"{'P_limit (pgbench, sequence numbers, tx/s)':44} {limit['tps']:14.1f}")
    print(f"{'P_limit latency p50 / p95 / p99 (ms)':44} {spread(limit['latencies'])}")
    print(f"{'A / P_order':44} {app['throughput'] / pg['tps']:14.3f}")
    print(f"{'A / P_limit':44} {app['throughput'] / limit['tps']:14.3f}")
    ok = len(app["latencies"])
    print(f"{'web workers CPU per order (ms)':44} {app_cpu / ok * 1000 if ok else float('nan'):14.1f}")
    five = next(queries for size, queries, *_rest in sizes if size == 5)
    print(f"{'SQL statements per 5-line order':44} {five:14d}")
    print(f"{'A orders ok / failed requests':44} {len(app['latencies']):>7} / {len(app['errors'])}")
    print(f"{'A order states after the run':44} {statuses}")
    print(f"{'API (channel API, orders/s)':44} {api['throughput']:14.1f}")
    print(f"{'API latency p50 / p95 / p99 (ms)':44} {spread(api['latencies'])}")
    print(f"{'API / P_order':44} {api['throughput'] / pg['tps']:14.3f}")
    print(f"{'API / A':44} {api['throughput'] / app['throughput']:14.3f}")
    print(f"{'API orders ok / failed requests':44} {len(api['latencies']):>7} / {len(api['errors'])}")
    for size, queries, _seconds, status, _create_seconds in sizes:
        print(f"{f'SQL queries create+submit+allocate, {size} lines':44} {queries:14d}  ({status})")
    big = sizes[-1]
    print(f"{'create a 500-line order (s)':44} {big[4]:14.3f}")
    print(f"{'submit + check + allocate a 500-line order (s)':44} {big[2]:14.3f}")
    if app["errors"]:
        print("\nfirst HTTP errors:", *app["errors"][:3], sep="\n  ")
    if api["errors"]:
        print("\nfirst API errors:", *api["errors"][:3], sep="\n  ")
    if args.scale_database_url:
        # In its own process: this one's Django is bound to the order-path database.
        print(f"\nPages at scale ({args.scale_database_url}) …", flush=True)
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "scale.py"), "--reuse", "--database-url", args.scale_database_url],
            cwd=ROOT,
            check=True,
        )


if __name__ == "__main__":
    main()
