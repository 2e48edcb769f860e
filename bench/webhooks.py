"""Webhook dispatch throughput: how many deliveries per second the sender gets to a local receiver.

Seeds a bench database with one endpoint and N pending deliveries (S subjects of E events each,
real order-sized bodies), starts a receiver process on 127.0.0.1 (answers 204, checks every
signature, records each id and sequence) and W sender processes running the app's own sender
(webhooks.delivery.webhooks_deliver_due: claim with a lease, sign, POST, record the attempt), and
reports deliveries/s from the first claim to the last delivery, with the receiver's checks:
every id received, none out of order per subject, every signature valid.

Not part of the test suite. Usage (from the repository root):

    .venv/bin/python bench/webhooks.py [--deliveries 3000] [--senders 2] [--database-url postgres://...bench]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/webhooks_bench"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--events-per-subject", type=int, default=5)
    parser.add_argument("--senders", type=int, default=2, help="sender processes (Celery worker slots)")
    parser.add_argument("--port", type=int, default=18808)
    parser.add_argument("--role", choices=["main", "receive", "send"], default="main", help=argparse.SUPPRESS)
    parser.add_argument("--secret", default="", help=argparse.SUPPRESS)
    return parser.parse_args()


# --- the receiver (its own process) -------------------------------------------------------------


def receive(port: int, secret: str) -> None:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    seen: list[tuple[str, str, int]] = []
    bad_signatures = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            msg_id, timestamp = self.headers["webhook-id"], self.headers["webhook-timestamp"]
            expected = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()).decode()
            if f"v1,{expected}" not in self.headers["webhook-signature"].split():
                bad_signatures[0] += 1
            event = json.loads(body)
            seen.append((msg_id, event["subject"]["id"], event["sequence"]))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):  # noqa: N802  (the bench asks for what was received)
            answer = json.dumps({"seen": seen, "bad_signatures": bad_signatures[0]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


# --- the senders (each its own process, like a Celery worker slot) ----------------------------------


def send() -> None:
    import django

    django.setup()
    from webhooks.delivery import webhooks_deliver_due

    while webhooks_deliver_due(seconds=120):
        pass


# --- the run --------------------------------------------------------------------------------------


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    if "bench" not in name:
        raise SystemExit("the bench database's name must contain 'bench' (it is dropped and recreated)")
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def seed(deliveries: int, per_subject: int, url: str):
    """One endpoint for the local receiver and `deliveries` pending deliveries with order-sized bodies."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from webhooks.models import WebhookDelivery, WebhookMessage
    from webhooks.payloads import Subject
    from webhooks.services import endpoint_create, message_body
    from webhooks.topics import TOPICS

    manager = get_user_model().objects.create_superuser("bench-manager", "bench@example.com", "bench-password-1")
    endpoint = endpoint_create(url=url, topics=TOPICS, by=manager)
    now = timezone.now()
    lines = [
        {
            "position": i,
            "sku": f"TEA-{i:03d}",
            "quantity": 2,
            "unit_price": "268.00",
            "discount_percent": "5.00",
            "line_total": "509.20",
        }
        for i in range(1, 6)
    ]
    messages, rows = [], []
    types = ["order.created", "order.approved", "order.shipped", "order.delivered", "invoice.issued"]
    for n in range(deliveries):
        subject_no, sequence = divmod(n, per_subject)
        number = f"SO-2026-{subject_no + 1:06d}"
        data = {
            "number": number,
            "status": "approved",
            "channel": "web_shop",
            "customer": {"code": "C000123", "name": "上海示例商贸有限公司"},
        }
        data.update({"currency": "CNY", "subtotal": "2253.10", "tax_total": "292.90", "total": "2546.00", "lines": lines})
        message_id = uuid.uuid4()
        topic = types[sequence % len(types)]
        subject = Subject(type="order", key=number, data=data)
        body = message_body(message_id=message_id, topic=topic, occurred_at=now, sequence=sequence + 1, subject=subject)
        messages.append(
            WebhookMessage(
                id=message_id,
                type=topic,
                occurred_at=now,
                aggregate_type="order",
                aggregate_id=number,
                sequence=sequence + 1,
                body=body,
            )
        )
        rows.append(
            WebhookDelivery(
                endpoint=endpoint,
                message_id=message_id,
                aggregate_type="order",
                aggregate_id=number,
                sequence=sequence + 1,
                type=topic,
                next_attempt_at=now,
                retry_until=now + timedelta(hours=24),
            )
        )
    WebhookMessage.objects.bulk_create(messages, batch_size=1000)
    WebhookDelivery.objects.bulk_create(rows, batch_size=1000)
    return endpoint


def main() -> None:
    args = parse_args()
    if args.role == "receive":
        receive(args.port, args.secret)
        return
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["WEBHOOKS_ALLOW_PRIVATE_NETWORKS"] = "1"
    os.environ["WEBHOOKS_HTTP_HOSTS"] = "127.0.0.1"
    os.environ.pop("REDIS_URL", None)
    if args.role == "send":
        send()
        return

    recreate_database(args.database_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)
    import django

    django.setup()
    from django.db import connection

    from webhooks.models import WebhookDelivery

    endpoint = seed(args.deliveries, args.events_per_subject, f"http://127.0.0.1:{args.port}/bench")
    connection.close()
    me = [sys.executable, str(Path(__file__).resolve())]
    receiver = subprocess.Popen([*me, "--role", "receive", "--port", str(args.port), "--secret", endpoint.secret])
    time.sleep(0.5)
    try:
        started = time.monotonic()
        senders = [subprocess.Popen([*me, "--role", "send", "--database-url", args.database_url]) for _ in range(args.senders)]
        for sender in senders:
            sender.wait(timeout=600)
        elapsed = time.monotonic() - started
        with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/stats", timeout=30) as answer:
            stats = json.load(answer)
    finally:
        receiver.terminate()
        receiver.wait()

    from django.db.models import Max, Min

    from webhooks.models import WebhookAttempt

    delivered = WebhookDelivery.objects.filter(delivered_at__isnull=False).count()
    first = WebhookAttempt.objects.aggregate(Min("started_at"))["started_at__min"]
    last_delivery = WebhookDelivery.objects.aggregate(Max("delivered_at"))["delivered_at__max"]
    sending = (last_delivery - first).total_seconds()
    seen = stats["seen"]
    last: dict[str, int] = {}
    out_of_order = 0
    for _msg_id, subject, sequence in seen:
        if sequence < last.get(subject, 0):
            out_of_order += 1
        last[subject] = max(sequence, last.get(subject, 0))
    unique = len({msg_id for msg_id, _s, _q in seen})
    print("| measure | value |")
    print("| --- | --- |")
    subjects = args.deliveries // args.events_per_subject
    print(f"| deliveries (subjects × events) | {args.deliveries} ({subjects} × {args.events_per_subject}) |")
    print(f"| sender processes | {args.senders} |")
    print(f"| delivered (rows) / received (requests, distinct ids) | {delivered} / {len(seen)}, {unique} |")
    print(f"| first attempt → last delivery | {sending:.2f} s |")
    print(f"| **deliveries/s** (first attempt → last delivery) | **{delivered / sending:.0f}** |")
    print(f"| wall time with the senders' start-up (Django setup) | {elapsed:.2f} s ({delivered / elapsed:.0f}/s) |")
    print(f"| out of sequence per subject / bad signatures | {out_of_order} / {stats['bad_signatures']} |")


if __name__ == "__main__":
    main()
