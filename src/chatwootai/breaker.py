"""A circuit breaker per model endpoint: stop calling a provider that keeps failing.

Closed, a model is called normally. After `failures` consecutive outages (5xx and 429 answers,
connection errors, the model's own request timeouts; never a refused request, a usage limit or
time spent in tools) within the last `window_s` seconds, the breaker *opens*:
for `cooldown_s` every turn fails fast, with no call to the provider, so customers get the
fallback text and a human at once instead of waiting for timeouts. After the cooldown it is
*half-open*: one trial call goes through; success closes it, failure opens it for another cooldown.
A late failure of a call admitted before the breaker opened changes nothing.
State is per process (each worker learns on its own; a few calls per worker is the cost).

The key is the model, its endpoint *and* the identity of its API key (a short hash, never the key),
so a tenant whose own key is refused or rate-limited cannot stop the model for the others.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from pydantic_ai.exceptions import (
    ModelConnectionError,
    ModelHTTPError,
    ModelRateLimitError,
    ModelRequestTimeout,
    ModelServerError,
    ModelUnavailableError,
)
from pydantic_ai.models import Model

from chatwootai.settings import Settings

logger = logging.getLogger(__name__)


class BreakerState(StrEnum):
    """Where a breaker stands."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class BreakerOpenError(Exception):
    """The breaker of a model is open: it failed repeatedly and waits out its cooldown."""

    def __init__(self, key: str, retry_in_s: float) -> None:
        self.key = key
        self.retry_in_s = retry_in_s
        super().__init__(
            f"model {key} failed repeatedly; not called for another {retry_in_s:.1f} s "
            "(check the provider, or tune CHATWOOTAI_LLM_BREAKER_*)"
        )


@dataclass
class _Circuit:
    failures: list[float] = field(default_factory=list)
    opened_at: float | None = None
    trial: bool = False


def credential_id(secret: str) -> str:
    """A short identity of an API key (a hash prefix): tells keys apart, reveals nothing."""
    return "key-" + hashlib.sha256(secret.encode()).hexdigest()[:12]


def model_key(model: object, credential: str | None = None) -> str | None:
    """The breaker key of a pydantic-ai model: provider, model name, endpoint and key identity.

    `credential` is the key's identity (see :func:`credential_id`); when omitted, it is read from
    the model's SDK client where the client exposes its key (OpenAI, Anthropic, Groq and kin).
    """
    if not isinstance(model, Model):
        return None
    key = f"{model.system}:{model.model_name}@{model.base_url or 'default'}"
    credential = credential or _client_credential(model)
    return f"{key}#{credential}" if credential else key


def _client_credential(model: Model) -> str | None:
    try:
        secret = getattr(getattr(model, "client", None), "api_key", None)
    except Exception:  # a provider SDK client that cannot be built here has no key to tell
        return None
    return credential_id(secret) if isinstance(secret, str) and secret else None


_OUTAGES = (
    ModelServerError,
    ModelUnavailableError,
    ModelRateLimitError,
    ModelConnectionError,
    ModelRequestTimeout,
)


def is_outage(exc: BaseException) -> bool:
    """True for a model failure that says the provider is down: 5xx, 429, connection, timeout.

    A refused request (400, 401, 403, 404, context window, quota) says nothing of the provider's
    health, only of one tenant's key or request, and never counts against the breaker.
    """
    if isinstance(exc, ModelHTTPError):
        return exc.status_code >= 500 or exc.status_code == 429
    return isinstance(exc, _OUTAGES)


class CircuitBreaker:
    """Consecutive-failure breakers, one per key (a model and its endpoint)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> CircuitBreaker:
        """A breaker tuned by CHATWOOTAI_LLM_BREAKER_FAILURES, _WINDOW and _COOLDOWN."""
        return cls(
            settings.llm_breaker_failures,
            settings.llm_breaker_window_s,
            settings.llm_breaker_cooldown_s,
        )

    def __init__(
        self,
        failures: int,
        window_s: float,
        cooldown_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = failures
        self.window_s = window_s
        self.cooldown_s = cooldown_s
        self.clock = clock
        self._circuits: dict[str, _Circuit] = {}

    @property
    def enabled(self) -> bool:
        """False when configured with 0 failures (never opens)."""
        return self.threshold > 0

    def state(self, key: str) -> BreakerState:
        """The breaker's state for `key` (an open one past its cooldown is half-open)."""
        circuit = self._circuits.get(key)
        if circuit is None or circuit.opened_at is None:
            return BreakerState.CLOSED
        if self.clock() - circuit.opened_at < self.cooldown_s:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    def check(self, key: str) -> bool:
        """Allow a call, or raise BreakerOpenError (open, or half-open with its trial running).

        Returns True when the allowed call is the half-open trial: pass it back as `trial` to
        :meth:`failure` and :meth:`release`.
        """
        if not self.enabled:
            return False
        circuit = self._circuits.get(key)
        if circuit is None or circuit.opened_at is None:
            return False
        left = circuit.opened_at + self.cooldown_s - self.clock()
        if left > 0:
            raise BreakerOpenError(key, left)
        if circuit.trial:
            raise BreakerOpenError(key, 0.0)
        circuit.trial = True
        logger.info("model %s: breaker half-open, one trial call", key)
        return True

    def success(self, key: str) -> None:
        """A call succeeded: the breaker closes and forgets past failures."""
        circuit = self._circuits.pop(key, None)
        if circuit is not None and circuit.opened_at is not None:
            logger.warning("model %s: breaker closed, the model answers again", key)

    def failure(self, key: str, *, trial: bool | None = None) -> None:
        """A call failed (an outage): count it; open after too many in a row.

        While the breaker is open, only the failure of the half-open trial opens it again; a
        late failure of a call admitted before it opened changes nothing. `trial` is what
        :meth:`check` returned for the call (None: the trial when one runs past the cooldown).
        """
        if not self.enabled:
            return
        now = self.clock()
        circuit = self._circuits.setdefault(key, _Circuit())
        if circuit.opened_at is not None:
            if trial is None:
                trial = circuit.trial and now - circuit.opened_at >= self.cooldown_s
            if trial:
                circuit.opened_at, circuit.trial = now, False
                logger.warning("model %s: trial call failed; breaker open again", key)
            return
        circuit.failures = [t for t in circuit.failures if now - t <= self.window_s]
        circuit.failures.append(now)
        if len(circuit.failures) >= self.threshold:
            circuit.opened_at, circuit.failures = now, []
            logger.warning(
                "model %s: %d failures in a row; breaker open for %.0f s",
                key,
                self.threshold,
                self.cooldown_s,
            )

    def release(self, key: str, *, trial: bool | None = None) -> None:
        """A call ended neither way (usage limit, tool error): a half-open trial may run again.

        `trial` is what :meth:`check` returned for the call; False leaves a running trial alone.
        """
        circuit = self._circuits.get(key)
        if circuit is not None and trial is not False:
            circuit.trial = False
