"""Over https the request goes to the checked address, and the receiver's certificate is still
checked against the registered host name (not the address): a certificate for another name is refused."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from config.outbox import OutboxEvent
from inventory.tests.factories import WarehouseFactory, approved_order, stocked_product
from webhooks.delivery import webhooks_deliver_due
from webhooks.models import WebhookAttempt, WebhookDelivery
from webhooks.services import endpoint_create, webhook_event_record
from webhooks.topics import TOPICS

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make certificates"),
]


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture
def certificates(tmp_path):
    """A CA, and a server certificate it signed for shop.example.test."""
    ca_key, ca_pem = tmp_path / "ca.key", tmp_path / "ca.pem"
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(ca_key),
        "-out",
        str(ca_pem),
        "-days",
        "2",
        "-subj",
        "/CN=Test CA",
    )
    key, csr, pem = tmp_path / "server.key", tmp_path / "server.csr", tmp_path / "server.pem"
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=shop.example.test")
    ext = tmp_path / "ext.cnf"
    ext.write_text("subjectAltName=DNS:shop.example.test\n")
    _openssl(
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(ca_pem),
        "-CAkey",
        str(ca_key),
        "-CAcreateserial",
        "-out",
        str(pem),
        "-days",
        "2",
        "-extfile",
        str(ext),
    )
    return {"ca": str(ca_pem), "cert": str(pem), "key": str(key)}


@pytest.fixture
def tls_receiver(certificates):
    received = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            received.append(self.headers["Host"])
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates["cert"], certificates["key"])
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"port": server.server_address[1], "received": received}
    server.shutdown()
    server.server_close()


def _resolve_to_this_machine(monkeypatch, port):
    answer = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda host, *a, **k: answer if host.endswith("example.test") else real(host, *a, **k)
    )


def _one_event():
    product = stocked_product(stock={WarehouseFactory(code="SH", priority=1): 5})
    approved_order(lines=[(product, 1)])
    webhook_event_record(event=OutboxEvent.objects.get(topic="orders.salesorder.submit"))


def test_the_certificate_is_checked_for_the_registered_host_name(settings, monkeypatch, manager, certificates, tls_receiver):
    settings.WEBHOOKS_CA_BUNDLE = certificates["ca"]
    port = tls_receiver["port"]
    _resolve_to_this_machine(monkeypatch, port)
    endpoint_create(url=f"https://shop.example.test:{port}/hooks", topics=TOPICS, by=manager)
    _one_event()
    webhooks_deliver_due()
    assert tls_receiver["received"] == [f"shop.example.test:{port}"]
    assert WebhookDelivery.objects.get().delivered_at is not None


def test_a_certificate_for_another_name_is_refused(settings, monkeypatch, manager, certificates, tls_receiver):
    settings.WEBHOOKS_CA_BUNDLE = certificates["ca"]
    port = tls_receiver["port"]
    _resolve_to_this_machine(monkeypatch, port)
    endpoint_create(url=f"https://other.example.test:{port}/hooks", topics=TOPICS, by=manager)
    _one_event()
    webhooks_deliver_due()
    assert tls_receiver["received"] == []
    assert WebhookAttempt.objects.get().error == WebhookAttempt.Error.TLS
    assert WebhookDelivery.objects.get().delivered_at is None


def test_a_certificate_no_trusted_ca_signed_is_refused(monkeypatch, manager, tls_receiver):
    port = tls_receiver["port"]
    _resolve_to_this_machine(monkeypatch, port)
    endpoint_create(url=f"https://shop.example.test:{port}/hooks", topics=TOPICS, by=manager)
    _one_event()
    webhooks_deliver_due()
    assert tls_receiver["received"] == []
    assert WebhookAttempt.objects.get().error == WebhookAttempt.Error.TLS
