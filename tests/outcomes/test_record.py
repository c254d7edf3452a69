"""Recording turn outcomes and reading them back, on Redis and on the embedded store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chatwootai.outcomes import (
    OutcomeRangeError,
    OutcomeRecorder,
    TurnOutcome,
    read_report,
    record_conversation,
    record_turn,
)
from chatwootai.outcomes.report import percentile
from chatwootai.store import keys
from chatwootai.store.base import CountBatch, Store, Sweep, Watch

NOON = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)  # 12:00 in São Paulo


def turn(**changes: object) -> TurnOutcome:
    """A turn of the cosmetics domain at `NOON`, with `changes`."""
    base: dict[str, object] = {
        "domain": "cosmetics",
        "crew": "sales",
        "route_method": "classifier",
        "llm_requests": 1,
        "input_tokens": 1200,
        "output_tokens": 80,
        "model": "openai:gpt-4o-mini",
        "cost_usd": 0.000228,
        "turn_ms": 900,
        "messages": 1,
        "conversation_key": "1:1",
        "time": NOON,
        "timezone": "America/Sao_Paulo",
        "tool_calls": 2,
    }
    base.update(changes)
    return TurnOutcome.model_validate(base)


async def test_a_day_adds_up_and_empty_days_are_zeros(store: Store) -> None:
    await record_turn(store, turn())
    await record_turn(store, turn(conversation_key="1:2", messages=3, turn_ms=2500))
    await record_turn(
        store,
        turn(
            conversation_key="1:3",
            handoff=True,
            handoff_reason="asked",
            crew="handoff",
            llm_requests=0,
            input_tokens=0,
            output_tokens=0,
            cost_usd=0.0,
            tool_calls=0,
            turn_ms=3,
        ),
    )
    await record_turn(
        store,
        turn(
            conversation_key="1:4",
            fallback=True,
            handoff=True,
            handoff_reason="limit",
            cost_usd=None,
        ),
    )
    report = await read_report(
        store, "cosmetics", date(2026, 11, 9), date(2026, 11, 11), now=NOON + timedelta(hours=1)
    )
    body = report.model_dump(mode="json")
    assert body["from"] == "2026-11-09" and body["to"] == "2026-11-11"
    assert [d["date"] for d in body["days"]] == ["2026-11-09", "2026-11-10", "2026-11-11"]
    empty = body["days"][0]
    assert empty["turns"] == 0 and empty["cost_usd"] == 0
    assert empty["turn_ms_p50"] is None and empty["turn_ms_p95"] is None
    day = body["days"][1]
    assert day["messages"] == 6
    assert day["turns"] == 4
    assert day["handoffs"] == 2
    assert day["handoffs_by_reason"] == {"asked": 1, "limit": 1}
    assert day["fallbacks"] == 1
    assert day["tool_calls"] == 6
    assert day["llm_requests"] == 3
    assert day["input_tokens"] == 3600
    assert day["output_tokens"] == 240
    assert day["cost_usd"] == pytest.approx(0.000456)
    assert day["turns_cost_unknown"] == 1
    assert day["conversations"] == {"resolved_by_bot": 0, "handed_off": 2, "abandoned": 0}
    assert 750 <= day["turn_ms_p50"] <= 1000
    assert 2000 <= day["turn_ms_p95"] <= 3000
    totals = body["totals"]
    assert "date" not in totals
    assert totals["turns"] == 4 and totals["handoffs_by_reason"] == {"asked": 1, "limit": 1}


async def test_days_are_the_domains_local_days(store: Store) -> None:
    # 01:30 UTC on the 11th is 22:30 on the 10th in São Paulo
    await record_turn(store, turn(time=datetime(2026, 11, 11, 1, 30, tzinfo=UTC)))
    report = await read_report(store, "cosmetics", date(2026, 11, 10), date(2026, 11, 11))
    assert [d.turns for d in report.days] == [1, 0]


async def test_the_record_returns_the_months_spend(store: Store) -> None:
    recorder = OutcomeRecorder(store)
    assert await recorder.record(turn(cost_usd=0.25)) == pytest.approx(0.25)
    assert await recorder.record(turn(cost_usd=0.5)) == pytest.approx(0.75)
    assert recorder.spend("cosmetics", NOON, "America/Sao_Paulo") == pytest.approx(0.75)
    next_month = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert recorder.spend("cosmetics", next_month, "America/Sao_Paulo") is None  # read it then
    fresh = OutcomeRecorder(store)  # another process: reads it once
    assert fresh.spend("cosmetics", NOON, "America/Sao_Paulo") is None
    assert await fresh.load_spend("cosmetics", NOON, "America/Sao_Paulo") == pytest.approx(0.75)
    # another domain's spend is its own
    assert await recorder.record(turn(domain="dental", cost_usd=0.1)) == pytest.approx(0.1)


async def test_retention_bounds_the_days_life(store: Store) -> None:
    await record_turn(store, turn(), retention_days=30)
    ttl = await store.ttl(keys.outcomes_day("cosmetics", "2026-11-10"))
    assert ttl is not None and 30 * 86400 < ttl <= 62 * 86400


async def test_a_conversation_the_bot_answered_last_and_left_idle_is_abandoned(
    store: Store,
) -> None:
    await record_turn(store, turn(conversation_key="1:1"))
    await record_turn(store, turn(conversation_key="1:2"))
    await record_turn(store, turn(conversation_key="1:3", handoff=True, handoff_reason="asked"))
    # 1:2 writes again 3 h later: it is watched from its new answer
    await record_turn(store, turn(conversation_key="1:2", time=NOON + timedelta(hours=3)))
    # 1:4 is resolved by the bot in its turn: not abandoned
    await record_turn(store, turn(conversation_key="1:4", conversation_outcome="resolved_by_bot"))
    # 1:5 is resolved outside a turn (an inactivity job)
    await record_turn(store, turn(conversation_key="1:5"))
    await record_conversation(
        store,
        "cosmetics",
        "1:5",
        "resolved_by_bot",
        when=NOON + timedelta(hours=1),
        timezone="America/Sao_Paulo",
    )
    day = date(2026, 11, 10)
    before = await read_report(store, "cosmetics", day, day, now=NOON + timedelta(hours=23))
    assert before.totals.conversations.abandoned == 0
    one = await read_report(store, "cosmetics", day, day, now=NOON + timedelta(hours=25))
    assert one.totals.conversations.model_dump() == {
        "resolved_by_bot": 2,
        "handed_off": 1,
        "abandoned": 1,
    }
    two = await read_report(store, "cosmetics", day, day, now=NOON + timedelta(hours=28))
    assert two.totals.conversations.abandoned == 2
    again = await read_report(store, "cosmetics", day, day, now=NOON + timedelta(days=5))
    assert again.totals.conversations.abandoned == 2  # each counted once


async def test_reversed_and_too_long_ranges_are_refused(store: Store) -> None:
    with pytest.raises(OutcomeRangeError, match="before"):
        await read_report(store, "cosmetics", date(2026, 11, 10), date(2026, 11, 9))
    with pytest.raises(OutcomeRangeError, match="367 days"):
        await read_report(store, "cosmetics", date(2025, 1, 1), date(2026, 1, 2))


async def test_count_adds_watches_sweeps_and_reads_atomically(store: Store) -> None:
    got = await store.count(
        CountBatch(counts={"h1": {"a": 2, "b": 5}, "h2": {"a": 1}}, ttl=60, read=[("h1", "a")])
    )
    assert got == [2]
    got = await store.count(
        CountBatch(
            counts={"h1": {"a": 3}},
            read=[("h1", "a"), ("h1", "zz"), ("absent", "a")],
            watch=Watch("w", "m1", 10.0, "h2"),
        )
    )
    assert got == [5, 0, 0]
    await store.count(CountBatch(watch=Watch("w", "m2", 20.0, "h2")))
    await store.count(CountBatch(watch=Watch("w", "m2", None)))  # forgotten
    await store.count(CountBatch(sweep=Sweep("w", 30.0, "idle")))
    assert await store.read_counts(["h1", "h2", "nothing"]) == [
        {"a": 5, "b": 5},
        {"a": 1, "idle": 1},
        {},
    ]
    ttl = await store.ttl("h1")
    assert ttl is not None and 0 < ttl <= 60


def test_percentiles_from_the_histogram() -> None:
    assert percentile([0] * 23, 0.5) is None
    histogram = [0] * 23
    histogram[8] = 10  # ten turns between 750 and 1000 ms
    assert percentile(histogram, 0.5) == 875.0
    histogram[22] = 90  # past the largest bound: the estimate is that bound
    assert percentile(histogram, 0.95) == 120000.0


async def test_conversation_tests_count_in_their_own_namespace(store: Store) -> None:
    from chatwootai.convtest.store import IsolatedStore, namespace

    isolated = IsolatedStore(store)
    token = namespace.set("t1:")
    try:
        await record_turn(isolated, turn())
        mine = await read_report(isolated, "cosmetics", NOON.date(), NOON.date(), now=NOON)
    finally:
        namespace.reset(token)
    theirs = await read_report(store, "cosmetics", NOON.date(), NOON.date(), now=NOON)
    assert mine.totals.turns == 1 and theirs.totals.turns == 0
