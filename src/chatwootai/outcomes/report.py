"""Reading a domain's outcomes over days: two store calls for any span up to a year."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

from chatwootai.outcomes.model import (
    CONVERSATION_OUTCOMES,
    TURN_MS_BUCKETS,
    ConversationCounts,
    DayOutcomes,
    OutcomeReport,
    OutcomeTotals,
)
from chatwootai.outcomes.record import DEFAULT_ABANDONED_AFTER_S, NANO_USD, abandoned_sweep
from chatwootai.store import keys
from chatwootai.store.base import CountBatch, Store

MAX_REPORT_DAYS = 366
"""The longest span one report reads."""

_PLAIN = (
    "messages",
    "turns",
    "handoffs",
    "fallbacks",
    "tool_calls",
    "llm_requests",
    "input_tokens",
    "output_tokens",
)


class OutcomeRangeError(ValueError):
    """A report's dates are reversed or span more than :data:`MAX_REPORT_DAYS`."""


def check_range(start: date, end: date) -> None:
    """Refuse a reversed range or one longer than :data:`MAX_REPORT_DAYS` days."""
    if end < start:
        raise OutcomeRangeError(f"'to' ({end}) is before 'from' ({start})")
    span = (end - start).days + 1
    if span > MAX_REPORT_DAYS:
        raise OutcomeRangeError(
            f"the range spans {span} days; at most {MAX_REPORT_DAYS} per request"
        )


def percentile(histogram: Sequence[int], q: float) -> float | None:
    """The `q` quantile of a turn-time histogram (linear within a bucket); None when empty.

    Past the largest bound the estimate is that bound (the histogram says no more).
    """
    total = sum(histogram)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for index, count in enumerate(histogram):
        if count and seen + count >= rank:
            lower = 0.0 if index == 0 else float(TURN_MS_BUCKETS[index - 1])
            if index >= len(TURN_MS_BUCKETS):
                return lower
            upper = float(TURN_MS_BUCKETS[index])
            return round(lower + (upper - lower) * (rank - seen) / count, 1)
        seen += count
    return float(TURN_MS_BUCKETS[-1])


def _histogram(fields: Mapping[str, int]) -> list[int]:
    return [fields.get(f"ms:{i}", 0) for i in range(len(TURN_MS_BUCKETS) + 1)]


def _totals(fields: Mapping[str, int]) -> dict[str, object]:
    """The report's fields of one hash (or a sum of hashes)."""
    histogram = _histogram(fields)
    return {
        **{name: fields.get(name, 0) for name in _PLAIN},
        "handoffs_by_reason": {
            name[2:]: n for name, n in sorted(fields.items()) if name.startswith("h:") and n
        },
        "cost_usd": round(fields.get("cost_nusd", 0) / NANO_USD, 6),
        "turns_cost_unknown": fields.get("cost_unknown", 0),
        "turn_ms_p50": percentile(histogram, 0.5),
        "turn_ms_p95": percentile(histogram, 0.95),
        "conversations": ConversationCounts(
            **{kind: fields.get(f"c:{kind}", 0) for kind in CONVERSATION_OUTCOMES}
        ),
    }


async def read_report(
    store: Store,
    domain: str,
    start: date,
    end: date,
    *,
    abandoned_after_s: float = DEFAULT_ABANDONED_AFTER_S,
    now: datetime | None = None,
) -> OutcomeReport:
    """The outcomes of `domain` for each day from `start` to `end` (inclusive), and totals.

    Days without data appear with zeros. Idle conversations due are counted as abandoned
    first (one call), then every day is read in one call.
    """
    check_range(start, end)
    await store.count(
        CountBatch(sweep=abandoned_sweep(now or datetime.now(UTC), abandoned_after_s))
    )
    dates = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    rows = await store.read_counts([keys.outcomes_day(domain, d.isoformat()) for d in dates])
    summed: dict[str, int] = {}
    days: list[DayOutcomes] = []
    for day, fields in zip(dates, rows, strict=True):
        for name, value in fields.items():
            summed[name] = summed.get(name, 0) + value
        days.append(DayOutcomes.model_validate({"date": day, **_totals(fields)}))
    return OutcomeReport(
        domain=domain,
        from_=start,
        to=end,
        days=days,
        totals=OutcomeTotals.model_validate(_totals(summed)),
    )
