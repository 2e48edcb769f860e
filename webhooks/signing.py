"""Signing in the Standard Webhooks style: the secret is "whsec_" + base64 key bytes; a request's
signature is base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")), sent as
"webhook-signature: v1,<signature>" (several, space-separated, while a rotated secret still signs)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def signature(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One "v1,<base64>" signature of the request under this secret."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


def signature_header(*, secrets_: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    return " ".join(signature(secret=s, message_id=message_id, timestamp=timestamp, body=body) for s in secrets_ if s)
