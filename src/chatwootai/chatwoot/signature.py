"""Webhook signatures: ``X-Chatwoot-Signature: sha256=HMAC(secret, "{timestamp}.{raw body}")``.

Chatwoot signs the timestamp, a dot and the exact body bytes; signing the body alone never
verifies. The secret is the webhook's (or agent bot's) secret, not the API access token.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Chatwoot-Signature"
TIMESTAMP_HEADER = "X-Chatwoot-Timestamp"
DELIVERY_HEADER = "X-Chatwoot-Delivery"
MAX_SKEW_SECONDS = 300
_PREFIX = "sha256="


class SignatureError(Exception):
    """A webhook delivery whose signature does not prove it came from Chatwoot."""


def sign(secret: str, timestamp: str, raw_body: bytes) -> str:
    """The ``sha256=…`` signature Chatwoot sends for ``raw_body`` at ``timestamp``."""
    message = timestamp.encode() + b"." + raw_body
    return _PREFIX + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    raw_body: bytes,
    *,
    now: float | None = None,
    max_skew: int = MAX_SKEW_SECONDS,
) -> None:
    """Check a delivery's signature and timestamp; raise :class:`SignatureError` if wrong."""
    if not secret:
        raise SignatureError("no webhook secret is configured to verify signatures with")
    if not timestamp:
        raise SignatureError(f"missing {TIMESTAMP_HEADER} header")
    if not signature:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise SignatureError(f"{TIMESTAMP_HEADER} is not unix seconds") from None
    if not signature.startswith(_PREFIX) or len(signature) != len(_PREFIX) + 64:
        raise SignatureError(f"{SIGNATURE_HEADER} is not of the form sha256=<64 hex digits>")
    current = time.time() if now is None else now
    if abs(current - sent_at) > max_skew:
        raise SignatureError(
            f"{TIMESTAMP_HEADER} is {int(current - sent_at)} s away from now "
            f"(more than {max_skew} s): stale or replayed delivery, or a wrong clock"
        )
    expected = sign(secret, timestamp, raw_body)
    if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
        raise SignatureError(
            "signature mismatch: check the webhook secret (not the API token) and that the "
            "raw body is verified byte for byte"
        )
