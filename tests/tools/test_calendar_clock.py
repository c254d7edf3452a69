"""The calendar reckons from the turn's clock, lists every day asked, and tells the model its
services."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chatwootai.config.schema import DomainConfig
from chatwootai.store.base import Store
from chatwootai.tools.calendar import CalendarArgs, CalendarTool, time_ranges

from .test_calendar import make_tool


async def _act(tool: CalendarTool, ctx: Any, **args: Any) -> Any:
    return await tool.run(ctx, CalendarArgs.model_validate(args))


async def test_the_context_clock_wins_over_the_tool_clock(
    config: DomainConfig, store: Store, make_ctx: Any
) -> None:
    agenda = make_tool(config, store)  # its own clock: Monday 2030-03-04 09:10
    later = make_ctx(now=datetime(2030, 3, 5, 15, 0, tzinfo=UTC))  # Tuesday 12:00 in São Paulo
    result = await _act(agenda, later, action="availability", service="corte", days=1)
    assert result.data["free"][0] == "2030-03-05T14:00"  # nothing before the turn's "now"
    naive = make_ctx(now=datetime(2030, 3, 5, 16, 0))  # naive: already local time
    result = await _act(agenda, naive, action="availability", service="corte", days=1)
    assert result.data["free"][0] == "2030-03-05T16:30"  # a start at "now" has passed
    past = await _act(agenda, later, action="book", service="corte", start="2030-03-05T10:00")
    assert past.data == {"booked": False, "reason": "esse horário já passou"}


async def test_every_day_asked_is_listed(config: DomainConfig, store: Store, make_ctx: Any) -> None:
    agenda = make_tool(config, store)
    result = await _act(
        agenda, make_ctx(), action="availability", service="corte", from_date="2030-03-11", days=5
    )
    # five open days with 14 free starts each: 70 starts, all listed as ranges (no cap)
    assert len(result.data["free"]) > 48
    for day in ("seg 11/03", "ter 12/03", "qua 13/03", "qui 14/03", "sex 15/03"):
        assert day in result.text
    assert "das 09:00 às 11:30, das 14:00 às 17:30 (início a cada 30 min)" in result.text


def test_time_ranges() -> None:
    from datetime import timedelta

    starts = [datetime(2030, 1, 1, h, m) for h, m in ((9, 0), (9, 30), (10, 0), (11, 0), (15, 0))]
    assert time_ranges(starts, timedelta(minutes=30)) == (
        "das 09:00 às 10:00, 11:00, 15:00 (início a cada 30 min)"
    )
    assert time_ranges(starts[3:], timedelta(minutes=30)) == "11:00, 15:00"


def test_the_model_reads_the_services(config: DomainConfig, store: Store) -> None:
    agenda = make_tool(config, store)
    assert "corte (Corte de cabelo, " in agenda.model_description()
    services = agenda.model_facts()["services"]
    assert services[0]["id"] == "corte" and services[0]["duration_minutes"] > 0


async def test_bookings_of_the_conversation(
    config: DomainConfig, store: Store, make_ctx: Any
) -> None:
    agenda = make_tool(config, store)
    ctx = make_ctx(conversation_key="9:1")
    booked = await _act(agenda, ctx, action="book", service="corte", start="2030-03-05T10:00")
    assert booked.data["booked"]
    [booking] = await agenda.bookings(ctx)
    assert booking.service_id == "corte" and booking.start == "2030-03-05T10:00"
    assert await agenda.bookings(make_ctx(conversation_key="9:2")) == []
    listed = await _act(agenda, ctx, action="list")
    assert listed.data[0]["service_id"] == "corte"
