"""A circuit breaker per model endpoint, shared by every process: stop calling a failing provider.

Closed, a model is called normally. After `failures` consecutive outages (5xx and 429 answers,
connection errors, the model's own request timeouts; never a refused request, a usage limit or
time spent in tools) within the last `window_s` seconds, the breaker *opens*:
for `cooldown_s` every turn fails fast, with no call to the provider, so customers get the
fallback text and a human at once instead of waiting for timeouts. After the cooldown it is
*half-open*: one trial call goes through (made with the provider SDK's own retries off, so it is
one HTTP request); success closes it, failure opens it for another cooldown. A late failure of a
call admitted before the breaker opened changes nothing.

The state lives in the store (``llm:breaker:{key}``: Redis when configured, else the embedded
store), updated with compare-and-set, so every worker of a deployment sees one breaker: one
worker's failures open it for all, and one trial call is made in the whole deployment. A trial
whose process died is given up after `trial_s`. When the store cannot be read, calls are let
through (the breaker never makes an outage of its own).

The key is the model, its endpoint *and* the identity of its API key (a short hash, never the key),
so a tenant whose own key is refused or rate-limited cannot stop the model for the others.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from enum import StrEnum

from pydantic import BaseModel, Field, ValidationError
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
from chatwootai.store import keys
from chatwootai.store.base import Store, StoreError
from chatwootai.store.embedded import EmbeddedStore

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


class _Circuit(BaseModel):
    """A breaker's shared state (JSON in the store)."""

    failures: list[float] = Field(default_factory=list)
    opened_at: float | None = None
    trial_at: float | None = None


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


CAS_ATTEMPTS = 20
"""Compare-and-set rounds before an update of a contended breaker is given up (logged)."""


class CircuitBreaker:
    """Consecutive-failure breakers, one per key (a model and its endpoint), in the store."""

    @classmethod
    def from_settings(cls, settings: Settings, store: Store | None = None) -> CircuitBreaker:
        """A breaker tuned by CHATWOOTAI_LLM_BREAKER_FAILURES, _WINDOW and _COOLDOWN."""
        return cls(
            settings.llm_breaker_failures,
            settings.llm_breaker_window_s,
            settings.llm_breaker_cooldown_s,
            store=store,
        )

    def __init__(
        self,
        failures: int,
        window_s: float,
        cooldown_s: float,
        *,
        store: Store | None = None,
        trial_s: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.threshold = failures
        self.window_s = window_s
        self.cooldown_s = cooldown_s
        self.trial_s = trial_s if trial_s is not None else max(60.0, cooldown_s)
        """A trial not ended after this long (its process died) lets another one through."""
        self.store: Store = store if store is not None else EmbeddedStore(":memory:", prefix="")
        """Where the state lives; without one, in this process only."""
        self.clock = clock
        self._ttl = int(window_s + cooldown_s + self.trial_s) + 3600
        self._seen: set[str] = set()
        """Keys this process found with a state: their next success clears it."""

    @property
    def enabled(self) -> bool:
        """False when configured with 0 failures (never opens)."""
        return self.threshold > 0

    async def _read(self, key: str) -> tuple[str | None, _Circuit]:
        raw = await self.store.get(keys.llm_breaker(key))
        if raw is None:
            return None, _Circuit()
        try:
            return raw, _Circuit.model_validate_json(raw)
        except ValidationError:
            return raw, _Circuit()

    async def _swap(self, key: str, raw: str | None, circuit: _Circuit) -> bool:
        return await self.store.compare_and_set(
            keys.llm_breaker(key), raw, circuit.model_dump_json(), self._ttl
        )

    async def state(self, key: str) -> BreakerState:
        """The breaker's state for `key` (an open one past its cooldown is half-open)."""
        _, circuit = await self._read(key)
        if circuit.opened_at is None:
            return BreakerState.CLOSED
        if self.clock() - circuit.opened_at < self.cooldown_s:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    async def check(self, key: str) -> bool:
        """Allow a call, or raise BreakerOpenError (open, or half-open with its trial running).

        Returns True when the allowed call is the half-open trial: pass it back as `trial` to
        :meth:`failure` and :meth:`release`, and make it without the SDK's own retries.
        """
        if not self.enabled:
            return False
        try:
            for _ in range(CAS_ATTEMPTS):
                raw, circuit = await self._read(key)
                if raw is None:
                    self._seen.discard(key)
                    return False
                self._seen.add(key)
                if circuit.opened_at is None:
                    return False
                now = self.clock()
                left = circuit.opened_at + self.cooldown_s - now
                if left > 0:
                    raise BreakerOpenError(key, left)
                if circuit.trial_at is not None and now - circuit.trial_at < self.trial_s:
                    raise BreakerOpenError(key, 0.0)
                if await self._swap(key, raw, circuit.model_copy(update={"trial_at": now})):
                    logger.info("model %s: breaker half-open, one trial call", key)
                    return True
        except StoreError as exc:
            logger.warning("model %s: breaker state unreadable, call let through: %s", key, exc)
        return False

    async def success(self, key: str) -> None:
        """A call succeeded: the breaker closes and forgets past failures."""
        if key not in self._seen:
            return
        self._seen.discard(key)
        try:
            raw, circuit = await self._read(key)
            deleted = raw is not None and await self.store.delete(keys.llm_breaker(key)) > 0
            if deleted and circuit.opened_at is not None:
                logger.warning("model %s: breaker closed, the model answers again", key)
        except StoreError as exc:
            logger.warning("model %s: breaker not reset: %s", key, exc)

    async def failure(self, key: str, *, trial: bool | None = None) -> None:
        """A call failed (an outage): count it; open after too many in a row.

        While the breaker is open, only the failure of the half-open trial opens it again; a
        late failure of a call admitted before it opened changes nothing. `trial` is what
        :meth:`check` returned for the call (None: the trial when one runs past the cooldown).
        """
        if not self.enabled:
            return
        try:
            await self._count_failure(key, trial)
        except StoreError as exc:
            logger.warning("model %s: failure not counted by the breaker: %s", key, exc)

    async def _count_failure(self, key: str, trial: bool | None) -> None:
        for _ in range(CAS_ATTEMPTS):
            raw, circuit = await self._read(key)
            now = self.clock()
            if circuit.opened_at is not None:
                is_trial = trial
                if is_trial is None:
                    is_trial = (
                        circuit.trial_at is not None and now - circuit.opened_at >= self.cooldown_s
                    )
                if not is_trial:
                    return
                updated = _Circuit(opened_at=now)
                if await self._swap(key, raw, updated):
                    self._seen.add(key)
                    logger.warning("model %s: trial call failed; breaker open again", key)
                    return
                continue
            failures = [t for t in circuit.failures if now - t <= self.window_s] + [now]
            opens = len(failures) >= self.threshold
            updated = _Circuit(opened_at=now) if opens else _Circuit(failures=failures)
            if await self._swap(key, raw, updated):
                self._seen.add(key)
                if opens:
                    logger.warning(
                        "model %s: %d failures in a row; breaker open for %.0f s "
                        "(for every worker)",
                        key,
                        self.threshold,
                        self.cooldown_s,
                    )
                return
        logger.warning("model %s: breaker too contended; a failure was not counted", key)

    async def release(self, key: str, *, trial: bool | None = None) -> None:
        """A call ended neither way (usage limit, tool error): a half-open trial may run again.

        `trial` is what :meth:`check` returned for the call; False leaves a running trial alone.
        """
        if trial is False:
            return
        try:
            for _ in range(CAS_ATTEMPTS):
                raw, circuit = await self._read(key)
                if raw is None or circuit.trial_at is None:
                    return
                if await self._swap(key, raw, circuit.model_copy(update={"trial_at": None})):
                    return
        except StoreError as exc:
            logger.warning("model %s: breaker trial not released (expires): %s", key, exc)
