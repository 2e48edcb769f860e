"""Logistics on demand: ship a 500-line order (create the shipment, pick by scanning, pack, ship),
invoice that delivery (draft, issue, the stored PDF) and receive a carrier push of 50 tracking events,
on PostgreSQL, and print one table.

    .venv/bin/python bench/logistics.py [--lines 500] [--events 50] [--database-url postgres://...]

Not part of the test suite. The statement counts are per step: a step whose count grows with the
line count would show it here (the suite checks 10 against 100 lines).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import run as base  # noqa: E402  (the shared seeding and setup of bench/run.py)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/sales_bench_logistics"
SALT = "bench-salt"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--lines", type=int, default=500)
    parser.add_argument("--events", type=int, default=50)
    return parser.parse_args()


def timed(step):
    """(result, seconds, statements) of one call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        result = step()
        seconds = time.perf_counter() - started
    return result, seconds, len(captured.captured_queries)


def allocated_order(data: dict, lines: int):
    from decimal import Decimal

    from inventory.models import Product
    from orders.entry.services import LineInput, order_create, order_submit
    from orders.models import SalesOrder

    header, _inputs = base.order_inputs(customer_id=data["customers"][0], product_ids=data["products"], lines=1)
    products = list(Product.objects.filter(pk__in=data["products"][:lines]).order_by("pk"))
    inputs = [LineInput(product=p, quantity=2, unit_price=p.list_price, discount_percent=Decimal("0")) for p in products]
    order = order_submit(order=order_create(header=header, lines=inputs, by=data["user"]), by=data["user"])
    return SalesOrder.objects.get(pk=order.pk)


def main() -> None:
    args = parse_args()
    env = base.app_env(args.database_url)
    env["KUAIDI100_SALT"] = SALT
    print(f"Recreating {args.database_url} and migrating …", flush=True)
    base.recreate_database(args.database_url)
    base.manage(env, "migrate", "--noinput")
    base.setup_django(env)
    print("Seeding …", flush=True)
    data = base.seed(products=max(args.lines, 200), customers=10)

    from django.db import connection
    from django.test import Client

    from inventory.models import Warehouse
    from logistics.models import Carrier, Shipment, TrackingEvent
    from logistics.shipments.services import ParcelInput, shipment_create, shipment_pack, shipment_scan, shipment_ship
    from logistics.tracking.hooks import kuaidi100_sign

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    user = data["user"]
    warehouse = Warehouse.objects.get(code="SH")
    order = allocated_order(data, args.lines)
    print(f"order {order.number}: {order.status}, {order.line_count} lines", flush=True)
    quantities = {line.pk: line.quantity for line in order.lines.all()}

    shipment, create_s, create_q = timed(
        lambda: shipment_create(order=order, warehouse=warehouse, quantities=quantities, by=user)
    )
    lines = list(shipment.lines.select_related("product").order_by("pk"))
    started = time.perf_counter()
    scans = 0
    for line in lines:  # the picker scans each product once, typing the count
        shipment_scan(shipment=shipment, code=line.product.barcode or line.product.sku, quantity=line.quantity, by=user)
        scans += 1
    scan_s = time.perf_counter() - started
    _packed, pack_s, pack_q = timed(
        lambda: shipment_pack(shipment=shipment, parcels=[ParcelInput(index=1, weight_kg=2)], by=user)
    )
    carrier = Carrier.objects.get(code="shunfeng")
    waybill = "SF9000000001"
    _shipped, ship_s, ship_q = timed(
        lambda: shipment_ship(shipment=Shipment.objects.get(pk=shipment.pk), carrier=carrier, waybills=[waybill], by=user)
    )

    # Invoicing the delivery, as finance does it: the draft from the shipped quantities, then the issue
    # (gapless number, totals, the order lines' invoiced quantities); the PDF stored once, timed apart.
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from billing.documents import invoice_pdf_store
    from billing.invoices.services import invoice_draft_from_orders, invoice_issue
    from orders.models import SalesOrder

    finance, _created = get_user_model().objects.get_or_create(username="bench-finance")
    finance.groups.add(Group.objects.get(name="finance"))
    finance = get_user_model().objects.get(pk=finance.pk)
    shipped = SalesOrder.objects.get(pk=order.pk)
    draft, draft_s, draft_q = timed(lambda: invoice_draft_from_orders(orders=[shipped], by=finance, kind="ordinary").invoice)
    # The issue's own transaction, then (what a worker does with a broker; in this process without one) its
    # outbox handlers on commit: the PDF rendered and stored, the e-mail to the customer.
    from django.db import transaction
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as after_commit:
        with transaction.atomic():
            issued, issue_s, issue_q = timed(lambda: invoice_issue(invoice=draft, by=finance))
            committing = time.perf_counter()
        handlers_s = time.perf_counter() - committing
    handlers_q = len(after_commit.captured_queries) - issue_q
    issued.refresh_from_db()
    assert issued.pdf_sha256, "the PDF was stored on commit"
    _stored, pdf_s, pdf_q = timed(lambda: invoice_pdf_store(invoice=issued))
    invoiced_lines = issued.lines.count()

    # A Kuaidi100 push of N events, newest first, the way the carrier sends its full history.
    now = time.time()
    rows = [
        {
            "ftime": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now - 3600 * (i + 1))),
            "context": f"快件已到达【第 {args.events - i} 站】转运中心",
            "areaName": "上海",
        }
        for i in range(args.events)
    ]
    param = json.dumps({"status": "polling", "lastResult": {"nu": waybill, "com": "shunfeng", "state": "0", "data": rows}})
    body = {"param": param, "sign": kuaidi100_sign(param, SALT)}
    client = Client(HTTP_HOST="127.0.0.1")
    # A first request loads the URL map, middleware and views: warm up with a push for an unknown waybill.
    warm = json.dumps({"status": "polling", "lastResult": {"nu": "WARMUP1", "com": "shunfeng", "state": "0", "data": rows[:1]}})
    client.post("/hooks/tracking/kuaidi100/", {"param": warm, "sign": kuaidi100_sign(warm, SALT)})
    (first, first_s, first_q) = timed(lambda: client.post("/hooks/tracking/kuaidi100/", body))
    (again, again_s, again_q) = timed(lambda: client.post("/hooks/tracking/kuaidi100/", body))
    stored = TrackingEvent.objects.count()
    assert first.status_code == 200 and again.status_code == 200, (first.status_code, again.status_code)

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        pg_version = cursor.fetchone()[0].split(",")[0]
    print()
    print(f"machine: {os.cpu_count()} cores, {pg_version}, Python {sys.version.split()[0]}")
    print(f"{'measure':52} {'seconds':>9} {'statements':>11}")
    print("-" * 74)
    print(f"{f'create the shipment of {args.lines} lines':52} {create_s:9.3f} {create_q:11d}")
    print(f"{f'pack ({args.lines} lines, one parcel)':52} {pack_s:9.3f} {pack_q:11d}")
    print(f"{'ship (ledger, order lines, order state)':52} {ship_s:9.3f} {ship_q:11d}")
    print(f"{'create + pack + ship':52} {create_s + pack_s + ship_s:9.3f} {create_q + pack_q + ship_q:11d}")
    print(f"{f'pick by scanning: {scans} scans, per scan':52} {scan_s / scans:9.4f}")
    print(f"{f'invoice the delivery: draft ({invoiced_lines} lines)':52} {draft_s:9.3f} {draft_q:11d}")
    print(f"{'invoice the delivery: issue (number, totals, events)':52} {issue_s:9.3f} {issue_q:11d}")
    print(f"{'invoice the delivery: draft + issue':52} {draft_s + issue_s:9.3f} {draft_q + issue_q:11d}")
    print(f"{'… then on commit: PDF stored, e-mail (its handlers)':52} {handlers_s:9.3f} {handlers_q:11d}")
    print(f"{'storing the PDF again (already stored: no work)':52} {pdf_s:9.3f} {pdf_q:11d}")
    print(f"{f'tracking push of {args.events} events (new)':52} {first_s:9.3f} {first_q:11d}")
    print(f"{'the same push again (nothing new)':52} {again_s:9.3f} {again_q:11d}")
    print(f"{'tracking events stored':52} {stored:9d}")
    order.refresh_from_db()
    print(f"{'order status after shipping':52} {order.status:>9}")


if __name__ == "__main__":
    main()
