"""A webhook receiver for the tests: an HTTP server in a thread on 127.0.0.1 that records every
request and answers what the test tells it (a status per request, or hanging until released);
and the signature check written the way a receiver would write it, apart from the app's code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def event(self) -> dict:
        return json.loads(self.body)


def verify_signature(*, secret: str, headers: dict[str, str], body: bytes, tolerance: int = 300) -> bool:
    """What a receiver does: recompute HMAC-SHA256 over "id.timestamp.body" with the base64 key after
    "whsec_", compare in constant time with each "v1," signature, refuse old timestamps."""
    message_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    key = base64.b64decode(secret.split("_", 1)[1])
    expected = base64.b64encode(hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()).decode()
    given = [part.split(",", 1)[1] for part in headers["webhook-signature"].split(" ") if part.startswith("v1,")]
    return any(hmac.compare_digest(expected, signature) for signature in given)


class Receiver:
    """receiver.statuses = [500, 200] answers the next requests in turn (then `default`);
    receiver.hang.set() makes requests wait until receiver.release.set()."""

    def __init__(self, default: int = 200):
        self.default = default
        self.statuses: list[int] = []
        self.requests: list[Received] = []
        self.hang = threading.Event()
        self.release = threading.Event()
        self.arrived = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802  (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append(
                        Received(path=self.path, headers={k.lower(): v for k, v in self.headers.items()}, body=body)
                    )
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.default
                receiver.arrived.set()
                if receiver.hang.is_set():
                    receiver.release.wait(30)
                answer = json.dumps({"status": status}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def ids(self) -> list[str]:
        return [received.id for received in self.requests]


class DownReceiver:
    """An address where nothing listens (a port that was bound and closed again)."""

    def __init__(self):
        server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
        self.port = server.server_address[1]
        server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"
