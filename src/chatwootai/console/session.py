"""Console sessions: a cookie signed with the signed-in token, and CSRF tokens derived from it.

The cookie holds who signed in, a random nonce and an expiry, signed (HMAC-SHA256) with that
principal's *current* token: nothing is kept on the server, every ``serve`` process accepts it,
and changing a token signs its sessions out. The CSRF token of a session is an HMAC of its
nonce; every form and htmx request carries it. The sign-in form, before any session, uses a
random double-submit cookie. Cookies are HttpOnly, SameSite=Strict, Secure over HTTPS.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from chatwootai.console.principal import Principal, Tokens

COOKIE = "chatwootai_console"
SIGNIN_COOKIE = "chatwootai_signin"
SESSION_S = 12 * 3600
"""A session lasts twelve hours."""


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in console user and the CSRF token its forms must carry."""

    principal: Principal
    csrf: str


def _sign(token: str, payload: bytes) -> str:
    return hmac.new(token.encode(), payload, hashlib.sha256).hexdigest()


def _csrf(token: str, nonce: str) -> str:
    return _sign(token, f"csrf:{nonce}".encode())[:40]


def issue(name: str, token: str, *, now: float | None = None) -> str:
    """A cookie value for principal `name` signed with its `token`."""
    moment = time.time() if now is None else now
    body = {"p": name, "n": secrets.token_hex(16), "e": int(moment + SESSION_S)}
    payload = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    return f"{payload}.{_sign(token, payload.encode())}"


def verify(value: str | None, tokens: Tokens, *, now: float | None = None) -> Session | None:
    """The session of a cookie value, or None (unsigned, expired, or its token changed)."""
    if not value or "." not in value:
        return None
    payload, _, signature = value.rpartition(".")
    try:
        padded = payload + "=" * (-len(payload) % 4)
        body = json.loads(base64.urlsafe_b64decode(padded.encode()))
        name, nonce, expiry = str(body["p"]), str(body["n"]), float(body["e"])
    except (ValueError, KeyError, TypeError):
        return None
    found = tokens.named(name)
    if found is None:
        return None
    token, principal = found
    if not hmac.compare_digest(signature, _sign(token, payload.encode())):
        return None
    if expiry < (time.time() if now is None else now):
        return None
    return Session(principal, _csrf(token, nonce))


def signin_nonce() -> str:
    """A random value for the sign-in form's double-submit cookie."""
    return secrets.token_hex(16)


def same(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a submitted CSRF token with the expected one."""
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())
