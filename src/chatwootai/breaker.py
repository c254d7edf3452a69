"""A circuit breaker per model endpoint: stop calling a provider that keeps failing.

Closed, a model is called normally. After `failures` consecutive failures (model errors and
timeouts, never usage limits) within the last `window_s` seconds, the breaker *opens*:
for `cooldown_s` every turn fails fast, with no call to the provider, so customers get the
fallback text and a human at once instead of waiting for timeouts. After the cooldown it is
*half-open*: one trial call goes through; success closes it, failure opens it for another cooldown.
State is per process (each worker learns on its own; a few calls per worker is the cost).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

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


def model_key(model: object) -> str | None:
    """The breaker key of a pydantic-ai model: provider, model name and endpoint."""
    if not isinstance(model, Model):
        return None
    return f"{model.system}:{model.model_name}@{model.base_url or 'default'}"


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

    def check(self, key: str) -> None:
        """Allow a call, or raise BreakerOpenError (open, or half-open with its trial running)."""
        if not self.enabled:
            return
        circuit = self._circuits.get(key)
        if circuit is None or circuit.opened_at is None:
            return
        left = circuit.opened_at + self.cooldown_s - self.clock()
        if left > 0:
            raise BreakerOpenError(key, left)
        if circuit.trial:
            raise BreakerOpenError(key, 0.0)
        circuit.trial = True
        logger.info("model %s: breaker half-open, one trial call", key)

    def success(self, key: str) -> None:
        """A call succeeded: the breaker closes and forgets past failures."""
        circuit = self._circuits.pop(key, None)
        if circuit is not None and circuit.opened_at is not None:
            logger.warning("model %s: breaker closed, the model answers again", key)

    def failure(self, key: str) -> None:
        """A call failed (model error or timeout): count it; open after too many in a row."""
        if not self.enabled:
            return
        now = self.clock()
        circuit = self._circuits.setdefault(key, _Circuit())
        if circuit.opened_at is not None:
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

    def release(self, key: str) -> None:
        """A call ended neither way (usage limit, tool error): a half-open trial may run again."""
        circuit = self._circuits.get(key)
        if circuit is not None:
            circuit.trial = False
