"""Expectation checks: case- and accent-insensitive text, subsets, order of calls, bookings."""

from __future__ import annotations

from datetime import date, datetime

from chatwootai.convtest.expectations import Observed, check, check_tools, same
from chatwootai.convtest.schema import Booking, Expect, ToolCall
from chatwootai.tools.base import HandoffRequest, ToolCallRecord, ToolResult
from chatwootai.turn import TurnOutcome


def test_same_ignores_case_accents_and_compares_maps_as_subsets() -> None:
    assert same("Sérum", "serum") and same("SAO PAULO", "são paulo")
    assert same({"action": "book"}, {"action": "BOOK", "start": "x"})
    assert not same({"action": "book"}, {"start": "x"})
    assert same(date(2026, 12, 3), "2026-12-03")
    assert same(datetime(2026, 12, 3, 15), "2026-12-03T15:00")
    assert same(150, 150.0) and not same(True, 1) and same(None, "")


def _record(tool: str, ok: bool = True, found: bool = True, **args: object) -> ToolCallRecord:
    result = ToolResult(text="", found=found) if ok else None
    return ToolCallRecord("agent", tool, dict(args), ok=ok, result=result)


def test_calls_match_in_order_with_others_between() -> None:
    records = [
        _record("faq", q="a"),
        _record("agenda", action="list"),
        _record("agenda", action="book"),
    ]
    ok = [ToolCall(tool="faq"), ToolCall(tool="agenda", args={"action": "book"})]
    assert check_tools(ok, records) == []
    reversed_order = [ToolCall(tool="agenda", args={"action": "book"}), ToolCall(tool="faq")]
    [miss] = check_tools(reversed_order, records)
    assert miss.startswith("tools: expected a call faq{} (in order)")
    assert check_tools([], records)[0].startswith("tools: expected no tool call")
    assert check_tools([ToolCall(tool="faq", found=False)], records)


def test_turn_expectations() -> None:
    outcome = TurnOutcome(
        reply="Pronto! Agendado às 15:00.",
        domain="d",
        crew="scheduling",
        route_method="sticky",
        route_score=0.6,
        handoff=HandoffRequest(reason="x"),
    )
    observed = Observed(
        outcome,
        slots={"service": "limpeza"},
        bookings=[{"service_id": "limpeza", "service": "Limpeza", "start": "2026-12-03T15:00"}],
    )
    good = Expect(
        crew="scheduling",
        route="sticky",
        handoff=True,
        reply_contains=["agendado", "15:00"],
        reply_not_contains="cancel",
        reply_matches=r"pronto!",
        slots={"service": "Limpeza", "date": None},
        bookings=[Booking(service="Limpeza", start=datetime(2026, 12, 3, 15))],
    )
    assert check(good, observed) == []
    bad = Expect(
        crew="sales",
        handoff=False,
        fallback=True,
        slots={},
        bookings=[],
        not_tools=["faq"],
    )
    misses = check(bad, observed)
    assert misses[0] == "crew: expected 'sales', got 'scheduling'"
    assert "handoff: expected none, got one (x)" in misses
    assert "fallback: expected the fallback answer" in misses
    assert "slots: expected none, the agents keep: service='limpeza'" in misses
    assert any(m.startswith("bookings: expected none; the calendar has: Limpeza") for m in misses)
