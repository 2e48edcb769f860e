"""One signed POST to a receiver, to the address that was checked, with short timeouts and no redirects.

The request goes to the checked IP address; the Host header and, over https, the TLS server name and
certificate check use the registered host name. Proxies from the environment are ignored.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import requests
from django.conf import settings
from django.utils import timezone
from requests.adapters import HTTPAdapter

from .addresses import Target

# What is read of an answer: the log keeps 1 KB of it; a longer answer is cut off there.
EXCERPT_CHARS = 1024
READ_AT_MOST = 64 * 1024


class _CheckedAddressAdapter(HTTPAdapter):
    """Connects to the address in the URL and checks the certificate against the host in the Host header."""

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        if host_params.get("scheme") == "https":
            host = request.headers["Host"]
            name = host[1 : host.index("]")] if host.startswith("[") else host.rsplit(":", 1)[0] if ":" in host else host
            pool_kwargs["server_hostname"] = name
            pool_kwargs["assert_hostname"] = name
        return host_params, pool_kwargs


_local = threading.local()


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        session.trust_env = False  # no proxies or credentials from the environment
        adapter = _CheckedAddressAdapter(pool_connections=8, pool_maxsize=8, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        _local.session = session
    return session


@dataclass(frozen=True)
class Answer:
    """What one attempt got: an HTTP status and the start of the body, or an error code and detail."""

    started_at: object
    duration_ms: int
    status_code: int | None = None
    excerpt: str = ""
    error: str = ""
    error_detail: str = ""
    retry_after: int | None = None


def _error(exc: Exception) -> str:
    if isinstance(exc, requests.Timeout):
        return "timeout"
    if isinstance(exc, requests.exceptions.SSLError):
        return "tls"
    if isinstance(exc, requests.ConnectionError):
        # A read timeout inside the body arrives wrapped as a connection error.
        return "timeout" if "timed out" in str(exc).lower() else "connection"
    return "other"


def _retry_after(value: str | None) -> int | None:
    if value and value.strip().isdigit():
        return int(value.strip())
    return None


def post(*, target: Target, body: bytes, headers: dict[str, str]) -> Answer:
    """POST the body to the checked target; never raises for what the network or the receiver does."""
    started_at = timezone.now()
    clock = time.monotonic()
    all_headers = {
        "Host": target.netloc,
        "Content-Type": "application/json",
        "User-Agent": "sales-order-webhooks/1",
        **headers,
    }
    try:
        response = _session().post(
            target.pinned_url,
            data=body,
            headers=all_headers,
            timeout=(settings.WEBHOOKS_CONNECT_TIMEOUT, settings.WEBHOOKS_READ_TIMEOUT),
            allow_redirects=False,
            stream=True,
            verify=settings.WEBHOOKS_CA_BUNDLE or True,
        )
        try:
            read = bytearray()
            for chunk in response.iter_content(chunk_size=8192):
                read += chunk
                if len(read) > READ_AT_MOST:
                    break
        finally:
            response.close()  # a connection whose answer was read to the end goes back to the pool
    except requests.RequestException as exc:
        return Answer(
            started_at=started_at,
            duration_ms=int((time.monotonic() - clock) * 1000),
            error=_error(exc),
            error_detail=str(exc)[:500],
        )
    return Answer(
        started_at=started_at,
        duration_ms=int((time.monotonic() - clock) * 1000),
        status_code=response.status_code,
        excerpt=bytes(read[: EXCERPT_CHARS * 4]).decode("utf-8", errors="replace")[:EXCERPT_CHARS],
        retry_after=_retry_after(response.headers.get("Retry-After")),
    )
