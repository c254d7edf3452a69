"""Webhook signatures: ``X-Chatwoot-Signature: sha256=HMAC(secret, "{timestamp}.{raw body}")``.

Chatwoot signs the timestamp, a dot and the exact body bytes; signing the body alone never
verifies. The secret is the webhook's (or agent bot's) secret, not the API access token.

The checks are split so a receiver can refuse cheaply: :func:`check_headers` needs only the
headers (present, well formed, timestamp within ±5 min) and runs before the body is read;
:func:`signature_matches` is one HMAC over the body, nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Sequence
from typing import Literal

SIGNATURE_HEADER = "X-Chatwoot-Signature"
TIMESTAMP_HEADER = "X-Chatwoot-Timestamp"
DELIVERY_HEADER = "X-Chatwoot-Delivery"
MAX_SKEW_SECONDS = 300
_PREFIX = "sha256="
_SIGNATURE = re.compile(r"sha256=[0-9a-fA-F]{64}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")

SignatureProblem = Literal["unsigned", "malformed", "stale", "mismatch", "no_secret"]
"""Why a signature was refused (a fixed set, fit for metric labels)."""


class SignatureError(Exception):
    """A webhook delivery whose signature does not prove it came from Chatwoot."""

    def __init__(self, message: str, problem: SignatureProblem = "mismatch") -> None:
        super().__init__(message)
        self.problem: SignatureProblem = problem


def sign(secret: str, timestamp: str, raw_body: bytes) -> str:
    """The ``sha256=…`` signature Chatwoot sends for ``raw_body`` at ``timestamp``."""
    return _PREFIX + _digest(secret, timestamp, raw_body)


def _digest(secret: str, timestamp: str, raw_body: bytes | Sequence[bytes]) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b".", hashlib.sha256)
    # No copy of the body: one pass of SHA-256 over it (or over its chunks, in order).
    for chunk in (raw_body,) if isinstance(raw_body, bytes) else raw_body:
        mac.update(chunk)
    return mac.hexdigest()


def check_headers(
    timestamp: str | None,
    signature: str | None,
    *,
    now: float | None = None,
    max_skew: int = MAX_SKEW_SECONDS,
) -> None:
    """Refuse missing, malformed or stale signature headers (no body needed)."""
    if not timestamp:
        raise SignatureError(f"missing {TIMESTAMP_HEADER} header", "unsigned")
    if not signature:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header", "unsigned")
    if _TIMESTAMP.fullmatch(timestamp) is None:
        raise SignatureError(f"{TIMESTAMP_HEADER} is not unix seconds", "malformed")
    if _SIGNATURE.fullmatch(signature) is None:
        raise SignatureError(
            f"{SIGNATURE_HEADER} is not of the form sha256=<64 hex digits>", "malformed"
        )
    current = time.time() if now is None else now
    sent_at = int(timestamp)
    if abs(current - sent_at) > max_skew:
        raise SignatureError(
            f"{TIMESTAMP_HEADER} is {int(current - sent_at)} s away from now "
            f"(more than {max_skew} s): stale or replayed delivery, or a wrong clock",
            "stale",
        )


def signature_matches(
    secret: str, timestamp: str, signature: str, raw_body: bytes | Sequence[bytes]
) -> bool:
    """Whether `signature` is the body's (bytes, or its chunks in order) signature with `secret`
    (constant-time comparison)."""
    expected = _digest(secret, timestamp, raw_body).encode()
    return hmac.compare_digest(expected, signature[len(_PREFIX) :].lower().encode())


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
        raise SignatureError(
            "no webhook secret is configured to verify signatures with", "no_secret"
        )
    check_headers(timestamp, signature, now=now, max_skew=max_skew)
    assert timestamp is not None and signature is not None  # checked above
    if not signature_matches(secret, timestamp, signature, raw_body):
        raise SignatureError(
            "signature mismatch: check the webhook secret (not the API token) and that the "
            "raw body is verified byte for byte"
        )
