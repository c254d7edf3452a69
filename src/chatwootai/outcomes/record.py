"""Recording outcomes: one store call per turn adds to the domain's day and month counters.

Per domain and local day (the domain's timezone) a hash of integers holds: ``messages``,
``turns``, ``handoffs``, ``h:<reason>``, ``fallbacks``, ``tool_calls``, ``llm_requests``,
``input_tokens``, ``output_tokens``, ``cost_nusd`` (cost in billionths of a dollar, so sums stay
exact), ``cost_unknown`` (turns of a model without a price), ``ms:<i>`` (turn-time histogram in
:data:`~chatwootai.outcomes.model.TURN_MS_BUCKETS`) and ``c:<conversation outcome>``. It lives
the retention period after its last write. Per domain and local month, a hash holds the month's
``cost_nusd`` and ``turns``: the budget's count, returned by the same call.

Abandoned conversations: every answered turn (no handoff) puts the conversation in a sorted set
scored by the turn's time, naming its day hash; a handoff or a resolution takes it out. Each
record (and each report) first sweeps the members older than the horizon
(``CHATWOOTAI_ABANDONED_AFTER``, 24 h): each adds 1 to ``c:abandoned`` of the day the bot last
answered it. So a conversation is abandoned when the bot answered last and the customer did not
write again within the horizon; a later message makes it count again from its new last answer.
"""

from __future__ import annotations

import bisect
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chatwootai.outcomes.model import TURN_MS_BUCKETS, ConversationOutcome, TurnOutcome
from chatwootai.store import keys
from chatwootai.store.base import CountBatch, Store, Sweep, Watch

log = logging.getLogger(__name__)

NANO_USD = 1_000_000_000
"""Costs are counted in billionths of a dollar (integers: exact sums, HINCRBY)."""
DEFAULT_RETENTION_DAYS = 90
DEFAULT_ABANDONED_AFTER_S = 86400.0
MONTH_TTL_S = 62 * 86400
"""A month's spend hash outlives its month (the budget reads only the current one)."""
SWEEP_LIMIT = 200
"""Idle conversations counted as abandoned per call at most (the rest by the next calls)."""


@lru_cache(maxsize=128)
def zone(name: str) -> ZoneInfo:
    """The timezone `name` (UTC when unknown: days are still counted, in UTC)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown timezone %r: outcomes counted in UTC days", name)
        return ZoneInfo("UTC")


def local_day(when: datetime, timezone: str) -> tuple[str, str]:
    """The local date ``YYYY-MM-DD`` and month ``YYYY-MM`` of `when` in `timezone`."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    day = aware.astimezone(zone(timezone)).date()
    return day.isoformat(), day.isoformat()[:7]


def bucket_index(turn_ms: float) -> int:
    """The histogram bucket of a turn time (the last one past the largest bound)."""
    return bisect.bisect_left(TURN_MS_BUCKETS, turn_ms)


def cost_nusd(cost_usd: float) -> int:
    """A cost in whole billionths of a dollar."""
    return round(cost_usd * NANO_USD)


def turn_counts(outcome: TurnOutcome) -> dict[str, int]:
    """The day hash's fields a turn adds to."""
    counts = {
        "messages": max(0, outcome.messages),
        "turns": 1,
        "tool_calls": outcome.tool_calls,
        "llm_requests": outcome.llm_requests,
        "input_tokens": outcome.input_tokens,
        "output_tokens": outcome.output_tokens,
        f"ms:{bucket_index(outcome.turn_ms)}": 1,
    }
    if outcome.cost_usd is None:
        counts["cost_unknown"] = 1
    else:
        counts["cost_nusd"] = cost_nusd(outcome.cost_usd)
    if outcome.handoff:
        counts["handoffs"] = 1
        counts[f"h:{outcome.handoff_reason or 'other'}"] = 1
    if outcome.fallback:
        counts["fallbacks"] = 1
    ended = conversation_outcome(outcome)
    if ended is not None:
        counts[f"c:{ended}"] = 1
    return {field: n for field, n in counts.items() if n}


def conversation_outcome(outcome: TurnOutcome) -> ConversationOutcome | None:
    """How the turn ended its conversation, if it did: its own word, or handed off."""
    if outcome.conversation_outcome is not None:
        return outcome.conversation_outcome
    return "handed_off" if outcome.handoff else None


def day_ttl(retention_days: int) -> int:
    """Life of a day hash after its last write: the retention, plus the day itself."""
    return (retention_days + 1) * 86400


def abandoned_sweep(now: datetime, abandoned_after_s: float) -> Sweep:
    """The sweep counting conversations idle since before `now` less the horizon."""
    before = now.timestamp() - abandoned_after_s
    return Sweep(keys.outcomes_open(), before, "c:abandoned", SWEEP_LIMIT)


def turn_batch(
    outcome: TurnOutcome,
    *,
    retention_days: int = DEFAULT_RETENTION_DAYS,
    abandoned_after_s: float = DEFAULT_ABANDONED_AFTER_S,
) -> CountBatch:
    """The one store call recording `outcome`; it reads back the month's spend."""
    day, month = local_day(outcome.time, outcome.timezone)
    day_key = keys.outcomes_day(outcome.domain, day)
    month_key = keys.outcomes_month(outcome.domain, month)
    month_counts = {"turns": 1}
    if outcome.cost_usd:
        month_counts["cost_nusd"] = cost_nusd(outcome.cost_usd)
    watch = None
    if outcome.conversation_key:
        ended = conversation_outcome(outcome) is not None
        watch = Watch(
            keys.outcomes_open(),
            outcome.conversation_key,
            None if ended else outcome.time.timestamp(),
            day_key,
        )
    return CountBatch(
        counts={day_key: turn_counts(outcome), month_key: month_counts},
        ttl=max(day_ttl(retention_days), MONTH_TTL_S),
        read=[(month_key, "cost_nusd")],
        watch=watch,
        sweep=abandoned_sweep(outcome.time, abandoned_after_s),
    )


async def record_turn(
    store: Store,
    outcome: TurnOutcome,
    *,
    retention_days: int = DEFAULT_RETENTION_DAYS,
    abandoned_after_s: float = DEFAULT_ABANDONED_AFTER_S,
) -> None:
    """Add one turn's outcome to its domain's day and month (one store call)."""
    await store.count(
        turn_batch(outcome, retention_days=retention_days, abandoned_after_s=abandoned_after_s)
    )


async def record_handoff(
    store: Store,
    domain: str,
    conversation_key: str,
    reason: str,
    *,
    messages: int = 1,
    timezone: str = "UTC",
    retention_days: int = DEFAULT_RETENTION_DAYS,
) -> None:
    """Count a handoff the service made without a pipeline turn (e.g. it gave up: ``failure``)."""
    outcome = TurnOutcome(
        domain=domain,
        crew=reason,
        route_method=reason,
        handoff=True,
        handoff_reason=reason,
        fallback=True,
        messages=messages,
        conversation_key=conversation_key,
        timezone=timezone,
    )
    await record_turn(store, outcome, retention_days=retention_days)


async def record_conversation(
    store: Store,
    domain: str,
    conversation_key: str,
    outcome: ConversationOutcome,
    *,
    when: datetime | None = None,
    timezone: str = "UTC",
    retention_days: int = DEFAULT_RETENTION_DAYS,
) -> None:
    """Count how a conversation ended outside a turn (e.g. resolved by an inactivity job).

    It is taken out of the abandonment watch, so it is counted once. A turn that ends its
    conversation says so in :attr:`TurnOutcome.conversation_outcome` instead.
    """
    at = when or datetime.now(UTC)
    day, _ = local_day(at, timezone)
    day_key = keys.outcomes_day(domain, day)
    await store.count(
        CountBatch(
            counts={day_key: {f"c:{outcome}": 1}},
            ttl=day_ttl(retention_days),
            watch=Watch(keys.outcomes_open(), conversation_key, None),
        )
    )


@dataclass(slots=True)
class MonthSpend:
    """A domain's spend in one local month, as last seen by this process."""

    month: str
    usd: float


class OutcomeRecorder:
    """Records turns and keeps each domain's month spend as the store last returned it.

    The spend comes back from the call that records (no extra round trip), so a process knows
    its domains' spend as of its own last turn; other processes' turns are seen at the next one.
    """

    def __init__(
        self,
        store: Store,
        *,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        abandoned_after_s: float = DEFAULT_ABANDONED_AFTER_S,
    ) -> None:
        self.store = store
        self.retention_days = retention_days
        self.abandoned_after_s = abandoned_after_s
        self._spend: dict[str, MonthSpend] = {}

    async def record(self, outcome: TurnOutcome) -> float:
        """Record `outcome`; the domain's month spend (USD) after it."""
        batch = turn_batch(
            outcome, retention_days=self.retention_days, abandoned_after_s=self.abandoned_after_s
        )
        (spent,) = await self.store.count(batch)
        _, month = local_day(outcome.time, outcome.timezone)
        usd = spent / NANO_USD
        self._spend[outcome.domain] = MonthSpend(month, usd)
        return usd

    def spend(self, domain: str, when: datetime, timezone: str) -> float | None:
        """The spend of `domain` in `when`'s month as last seen; None: not seen this month."""
        seen = self._spend.get(domain)
        if seen is None:
            return None
        _, month = local_day(when, timezone)
        return seen.usd if seen.month == month else None

    async def load_spend(self, domain: str, when: datetime, timezone: str) -> float:
        """Read the spend of `domain` in `when`'s month (once per month and process)."""
        _, month = local_day(when, timezone)
        (spent,) = await self.store.count(
            CountBatch(read=[(keys.outcomes_month(domain, month), "cost_nusd")])
        )
        usd = spent / NANO_USD
        self._spend[domain] = MonthSpend(month, usd)
        return usd
