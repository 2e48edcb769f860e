"""A receiver for trying webhooks on this machine: prints each event and whether its signature
verifies with the secret of the endpoint registered for this address. Not for production."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.core.management.base import BaseCommand

from webhooks.models import WebhookEndpoint
from webhooks.signing import signature

DEFAULT_PORT = 8765


class Command(BaseCommand):
    help = "Listen on 127.0.0.1 for webhooks and print each event with its signature check (Ctrl+C stops)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=DEFAULT_PORT)

    def handle(self, *args, port: int, **options):
        command = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802  (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                command.show(self.path, self.headers, body, port)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.stdout.write(f"Listening on http://127.0.0.1:{port}/ (Ctrl+C stops)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()

    def show(self, path: str, headers, body: bytes, port: int) -> None:
        secrets = [
            secret
            for endpoint in WebhookEndpoint.objects.filter(url__startswith=f"http://127.0.0.1:{port}{path.split('?')[0]}")
            for secret in (endpoint.secret, endpoint.previous_secret)
            if secret
        ]
        message_id, timestamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "0")
        given = set(headers.get("webhook-signature", "").split())
        verified = any(
            signature(secret=secret, message_id=message_id, timestamp=int(timestamp), body=body) in given for secret in secrets
        )
        try:
            event = json.loads(body)
            summary = f"{event.get('type')} {event.get('subject', {}).get('id')} #{event.get('sequence')}"
        except ValueError:
            summary = f"{len(body)} bytes (not JSON)"
        self.stdout.write(f"{message_id} {summary} signature {'verified' if verified else 'NOT verified'}")
