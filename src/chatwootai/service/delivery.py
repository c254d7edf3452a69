"""Delivering apart from thinking: a reply Chatwoot cannot take now waits, and is tried again.

A turn thinks once (its plan is kept under ``turn:outcome``) and then delivers. When Chatwoot is
down, slow or rate-limiting, the delivery stops at the first failing step and raises
:class:`DeliveryPending`; the turn ends with its messages still pending, and a job is scheduled
for the next attempt. Attempts follow a capped exponential backoff that honours ``Retry-After``
(:meth:`DeliverySchedule.deferred`), for as long as it takes: within the horizon
(``CHATWOOTAI_DELIVERY_HORIZON``) each deferral is a warning; past it, an error, and the attempts
slow down to the pace of the scan for stranded conversations. Nothing is dropped: the customer's
messages stay pending until a reply (or the handoff) reaches Chatwoot.

Per conversation, ``turn:delivery:{key}`` holds the waiting delivery (since when, attempts, next
attempt) and the sorted set ``turn:undelivered`` every waiting conversation (scored by since
when), for the metrics and the scan.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError

from chatwootai.store import keys
from chatwootai.store.base import Store

log = logging.getLogger(__name__)

BACKOFF_BASE_S = 2.0
"""Wait before the second attempt; it doubles at each attempt up to :data:`BACKOFF_CAP_S`."""
BACKOFF_CAP_S = 30.0
"""Longest wait between two attempts within the horizon (unless ``Retry-After`` asks more)."""
PAST_HORIZON_EVERY_S = 30.0
"""Wait between two attempts past the horizon: the pace of the scan for stranded turns."""
RECORD_TTL_S = 7 * 86400
"""A waiting delivery is forgotten with its pending list (a conversation long abandoned)."""


class DeliveryPending(Exception):
    """A delivery cannot finish now: try it again later (`retry_in_s`, or the backoff's).

    `kind` is ``unavailable`` (Chatwoot down or slow), ``rate_limited`` (429) or
    ``unconfirmed`` (a post that may still be saved: read back once it has settled).
    """

    def __init__(self, reason: str, *, kind: str, retry_in_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
        self.retry_in_s = retry_in_s


class WaitingDelivery(BaseModel):
    """A conversation's delivery that Chatwoot has not taken yet."""

    turn: str
    """The turn (delivery id) last tried."""
    since: float
    """When the first attempt failed (epoch seconds)."""
    attempts: int = 0
    retry_at: float = 0.0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Deferral:
    """When a deferred delivery is tried again, and how long it has waited."""

    retry_in_s: float
    attempts: int
    waited_s: float
    past_horizon: bool


class DeliverySchedule:
    """Waiting deliveries in the store: backoff, horizon, and the registry the metrics read."""

    def __init__(
        self,
        store: Store,
        *,
        horizon_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.horizon_s = horizon_s
        self.clock = clock

    async def waiting(self, conversation_key: str) -> WaitingDelivery | None:
        """The conversation's waiting delivery, if any."""
        raw = await self.store.get(keys.turn_delivery(conversation_key))
        if raw is None:
            return None
        try:
            return WaitingDelivery.model_validate_json(raw)
        except ValidationError:
            return None

    async def deferred(
        self,
        conversation_key: str,
        turn: str,
        pending: DeliveryPending,
        waiting: WaitingDelivery | None,
    ) -> Deferral:
        """Record a failed attempt and decide the next one (logged: warning, or error past the
        horizon)."""
        now = self.clock()
        since = waiting.since if waiting is not None else now
        attempts = (waiting.attempts if waiting is not None else 0) + 1
        waited = now - since
        past = waited >= self.horizon_s
        if past:
            delay = PAST_HORIZON_EVERY_S
        else:
            base = BACKOFF_BASE_S * 2 ** min(attempts - 1, 10)
            delay = min(BACKOFF_CAP_S, base * random.uniform(0.8, 1.2))
        if pending.retry_in_s is not None:
            delay = max(delay, pending.retry_in_s)
        record = WaitingDelivery(
            turn=turn, since=since, attempts=attempts, retry_at=now + delay, reason=pending.reason
        )
        await self.store.set(
            keys.turn_delivery(conversation_key), record.model_dump_json(), RECORD_TTL_S
        )
        await self.store.zadd(keys.turn_undelivered(), {conversation_key: since})
        level = logging.ERROR if past else logging.WARNING
        log.log(
            level,
            "reply to %s not delivered (%s); attempt %d, waiting for %.0f s%s; next in %.1f s",
            conversation_key,
            pending.reason,
            attempts,
            waited,
            f", past the {self.horizon_s:g} s horizon (CHATWOOTAI_DELIVERY_HORIZON)"
            if past
            else "",
            delay,
        )
        return Deferral(delay, attempts, waited, past)

    async def delivered(self, conversation_key: str, waiting: WaitingDelivery | None) -> None:
        """The conversation's delivery went through (or its messages left): forget the wait."""
        if waiting is None:
            return
        await self.store.delete(keys.turn_delivery(conversation_key))
        await self.store.zrem(keys.turn_undelivered(), conversation_key)
        log.warning(
            "reply to %s delivered after %.0f s and %d failed attempts",
            conversation_key,
            self.clock() - waiting.since,
            waiting.attempts,
        )

    async def counts(self) -> tuple[int, int]:
        """Conversations waiting for a delivery, and those waiting past the horizon."""
        registry = keys.turn_undelivered()
        total = await self.store.zcount(registry)
        past = await self.store.zcount(registry, self.clock() - self.horizon_s)
        return total, past
