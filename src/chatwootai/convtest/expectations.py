"""Checking a turn's expectations against what the turn did; each miss is a readable line."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from chatwootai.convtest.schema import Expect, ToolCall
from chatwootai.text import fold
from chatwootai.tools.base import ToolCallRecord
from chatwootai.turn import TurnOutcome


@dataclass(frozen=True)
class Observed:
    """What a turn did: its outcome, and the slots and bookings kept after it."""

    outcome: TurnOutcome
    slots: dict[str, Any]
    bookings: list[dict[str, Any]]


def texts(value: str | list[str]) -> list[str]:
    """Texts as a list (one text is a list of one)."""
    return [value] if isinstance(value, str) else list(value)


def _plain(value: Any) -> Any:
    """YAML dates and times as the ISO text tools use."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, date | time):
        return value.isoformat()
    return value


def same(expected: Any, actual: Any) -> bool:
    """Whether `actual` is what `expected` asks: strings ignoring case and accents, maps as
    subsets, numbers by value."""
    expected, actual = _plain(expected), _plain(actual)
    if expected is None:
        return actual is None or actual == ""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return float(expected) == float(actual)
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            same(v, actual.get(k)) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return fold(str(expected)) == fold(str(actual))


def describe_call(record: ToolCallRecord) -> str:
    """ "agenda{action: book, ...} ok" (or "refused: ...")."""
    args = ", ".join(f"{k}: {v!r}" for k, v in record.args.items())
    status = "ok" if record.ok else f"refused: {record.error}"
    if record.ok and record.result is not None and not record.result.found:
        status = "ok, found nothing"
    return f"{record.tool_id}{{{args}}} {status}"


def _describe_expected(call: ToolCall) -> str:
    args = ", ".join(f"{k}: {_plain(v)!r}" for k, v in call.args.items())
    extra = ""
    if call.ok is not None:
        extra += f" ok={call.ok}"
    if call.found is not None:
        extra += f" found={call.found}"
    return f"{call.tool}{{{args}}}{extra}"


def _call_matches(expected: ToolCall, record: ToolCallRecord) -> bool:
    if record.tool_id != expected.tool:
        return False
    if expected.ok is not None and record.ok != expected.ok:
        return False
    found = record.ok and record.result is not None and record.result.found
    if expected.found is not None and found != expected.found:
        return False
    return all(same(v, record.args.get(k)) for k, v in expected.args.items())


def check_tools(expected: Sequence[ToolCall], records: Sequence[ToolCallRecord]) -> list[str]:
    """Misses of the expected calls (in order, others allowed between)."""
    if not expected:
        if records:
            calls = "; ".join(describe_call(r) for r in records)
            return [f"tools: expected no tool call, got: {calls}"]
        return []
    at = 0
    for call in expected:
        while at < len(records) and not _call_matches(call, records[at]):
            at += 1
        if at == len(records):
            calls = "; ".join(describe_call(r) for r in records) or "none"
            return [f"tools: expected a call {_describe_expected(call)} (in order); calls: {calls}"]
        at += 1
    return []


def check_bookings(expected: Sequence[Any], actual: Sequence[Mapping[str, Any]]) -> list[str]:
    """Misses between the expected bookings and the conversation's bookings."""

    def key(b: Mapping[str, Any]) -> str:
        return str(b.get("start"))

    have = sorted(actual, key=key)
    shown = "; ".join(f"{b['service']} {b['start']}" for b in have) or "none"
    want = sorted(expected, key=lambda b: b.start)
    if len(want) != len(have):
        wanted = "; ".join(f"{b.service} {b.start:%Y-%m-%dT%H:%M}" for b in want) or "none"
        return [f"bookings: expected {wanted}; the calendar has: {shown}"]
    for booking, record in zip(want, have, strict=True):
        service_ok = same(booking.service, record.get("service_id")) or same(
            booking.service, record.get("service")
        )
        start = booking.start.replace(tzinfo=None).isoformat(timespec="minutes")
        if not service_ok or str(record.get("start")) != start:
            return [f"bookings: expected {booking.service} {start}; the calendar has: {shown}"]
    return []


def check(expect: Expect, observed: Observed) -> list[str]:
    """Every expectation of `expect` that the turn missed, as readable lines (not `says`)."""
    outcome = observed.outcome
    misses: list[str] = []
    if expect.crew is not None and outcome.crew != expect.crew:
        misses.append(f"crew: expected {expect.crew!r}, got {outcome.crew!r}")
    if expect.route is not None and outcome.route_method != expect.route:
        misses.append(f"route: expected {expect.route!r}, got {outcome.route_method!r}")
    if expect.handoff is not None and (outcome.handoff is not None) != expect.handoff:
        if expect.handoff:
            misses.append("handoff: expected a handoff, got none")
        else:
            reason = outcome.handoff.reason if outcome.handoff else ""
            misses.append(f"handoff: expected none, got one ({reason})")
    if expect.fallback is not None and outcome.fallback != expect.fallback:
        misses.append(
            "fallback: expected the fallback answer"
            if expect.fallback
            else "fallback: expected an answer, got the fallback text"
        )
    if expect.tools is not None:
        misses += check_tools(expect.tools, outcome.tool_calls)
    for tool in expect.not_tools:
        called = [r for r in outcome.tool_calls if r.tool_id == tool]
        if called:
            misses.append(f"not_tools: {tool!r} was called: {describe_call(called[0])}")
    reply = fold(outcome.reply)
    for text in texts(expect.reply_contains):
        if fold(text) not in reply:
            misses.append(f"reply_contains: {text!r} is not in the reply")
    for text in texts(expect.reply_not_contains):
        if fold(text) in reply:
            misses.append(f"reply_not_contains: {text!r} is in the reply")
    if expect.reply_matches is not None and not re.search(
        expect.reply_matches, outcome.reply, re.I
    ):
        misses.append(f"reply_matches: the reply does not match {expect.reply_matches!r}")
    if expect.slots is not None:
        misses += _check_slots(expect.slots, observed.slots)
    if expect.bookings is not None:
        misses += check_bookings(expect.bookings, observed.bookings)
    return misses


def _check_slots(expected: Mapping[str, str | None], actual: Mapping[str, Any]) -> list[str]:
    shown = ", ".join(f"{k}={v!r}" for k, v in actual.items()) or "none"
    if not expected:
        return [] if not actual else [f"slots: expected none, the agents keep: {shown}"]
    for name, value in expected.items():
        if value is None and name in actual:
            return [f"slots: expected no {name!r}, the agents keep: {shown}"]
        if value is not None and not same(value, actual.get(name)):
            return [f"slots: expected {name}={value!r}, the agents keep: {shown}"]
    return []
