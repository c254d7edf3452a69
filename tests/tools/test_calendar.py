"""The calendar tool on the real Redis: free slots, no double booking, per-conversation bookings."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from chatwootai.config.data import Calendar
from chatwootai.config.schema import CalendarSettings, DomainConfig
from chatwootai.store import keys
from chatwootai.store.base import Store
from chatwootai.store.redis import RedisStore
from chatwootai.tools.base import ToolArgumentsError, ToolContext
from chatwootai.tools.calendar import CalendarArgs, CalendarTool
from chatwootai.tools.proxy import DataProxy

# Monday 4 March 2030, 09:10 in São Paulo (UTC-3).
NOW = datetime(2030, 3, 4, 12, 10, tzinfo=UTC)


def make_tool(config: DomainConfig, store: Store, capacity: int | None = None) -> CalendarTool:
    calendar = config.data.calendars["agenda"]
    if capacity is not None:
        calendar = Calendar.model_validate({**calendar.model_dump(), "capacity": capacity})
    settings = CalendarSettings.model_validate(config.tools["agenda"].settings)
    return CalendarTool("agenda", "Agenda", store, settings, calendar, clock=lambda: NOW)


@pytest.fixture
def agenda(config: DomainConfig, store: Store) -> CalendarTool:
    return make_tool(config, store)


async def act(tool: CalendarTool, ctx: ToolContext, **args: Any) -> Any:
    return await tool.run(ctx, CalendarArgs.model_validate(args))


async def test_lists_services_without_a_service(agenda: CalendarTool, ctx: ToolContext) -> None:
    result = await act(agenda, ctx, action="availability")
    assert "Corte de cabelo" in result.text
    assert "R$ 50,00" in result.text
    assert result.data["services"] == ["corte", "coloracao"]


async def test_free_slots_follow_windows_and_clock(agenda: CalendarTool, ctx: ToolContext) -> None:
    result = await act(agenda, ctx, action="availability", service="corte", days=1)
    free = result.data["free"]
    # Not in the past (09:00 is gone at 09:10), inside 09-12 and 14-18, 30-minute slots.
    assert free[0] == "2030-03-04T09:30"
    assert "2030-03-04T11:30" in free
    assert "2030-03-04T12:00" not in free
    assert "2030-03-04T14:00" in free
    assert free[-1] == "2030-03-04T17:30"
    assert "seg 04/03" in result.text


async def test_long_services_fit_inside_windows(agenda: CalendarTool, ctx: ToolContext) -> None:
    result = await act(agenda, ctx, action="availability", service="Coloração", days=1)
    free = result.data["free"]
    assert "2030-03-04T10:30" in free  # ends 12:00
    assert "2030-03-04T11:00" not in free  # would end 12:30, after the window
    assert free[-1] == "2030-03-04T16:30"


async def test_closed_dates_and_weekends_have_no_slots(
    agenda: CalendarTool, ctx: ToolContext
) -> None:
    result = await act(agenda, ctx, action="availability", service="corte", from_date="2030-03-06")
    days = {s[:10] for s in result.data["free"]}
    assert "2030-03-06" not in days  # closed date
    assert days == {"2030-03-07", "2030-03-08"}
    weekend = await act(
        agenda, ctx, action="availability", service="corte", from_date="2030-03-09", days=2
    )
    assert not weekend.found


async def test_book_then_slot_fills_at_capacity(agenda: CalendarTool, make_ctx: Any) -> None:
    first = await act(
        agenda,
        make_ctx(conversation_key="1:1"),
        action="book",
        service="corte",
        start="2030-03-05T10:00",
    )
    assert first.found and first.data["booked"]
    assert "Código" in first.text
    second = await act(
        agenda,
        make_ctx(conversation_key="1:2"),
        action="book",
        service="corte",
        start="2030-03-05T10:00",
    )
    assert second.data["booked"]
    third = await act(
        agenda,
        make_ctx(conversation_key="1:3"),
        action="book",
        service="corte",
        start="2030-03-05T10:00",
    )
    assert not third.found
    assert {k: third.data[k] for k in ("booked", "reason")} == {
        "booked": False,
        "reason": "unavailable",
    }
    assert "2030-03-05T10:30" in third.data["free"]
    assert "10:30" in third.text  # other free times are offered
    free = await act(
        agenda, make_ctx(), action="availability", service="corte", from_date="2030-03-05", days=1
    )
    assert "2030-03-05T10:00" not in free.data["free"]
    assert "2030-03-05T10:30" in free.data["free"]


async def test_long_service_occupies_every_covered_slot(
    config: DomainConfig, store: Store, ctx: ToolContext
) -> None:
    tool = make_tool(config, store, capacity=1)
    booked = await act(tool, ctx, action="book", service="coloracao", start="2030-03-05T14:00")
    assert booked.data["booked"]
    free = (
        await act(tool, ctx, action="availability", service="corte", from_date="2030-03-05", days=1)
    ).data["free"]
    for taken in ("2030-03-05T14:00", "2030-03-05T14:30", "2030-03-05T15:00"):
        assert taken not in free
    assert "2030-03-05T15:30" in free
    # A booking overlapping the last covered slot is refused and leaves no seat behind.
    overlap = await act(tool, ctx, action="book", service="coloracao", start="2030-03-05T13:00")
    assert not overlap.found  # 13:00 is outside the windows anyway
    overlap = await act(tool, ctx, action="book", service="coloracao", start="2030-03-05T15:00")
    assert not overlap.found
    assert await store.get(keys.booking_slot("loja", "agenda", "2030-03-05T15:30", 0)) is None


@pytest.mark.parametrize(
    ("start", "reason"),
    [
        ("2030-03-04T09:00", "já passou"),
        ("2030-03-06T10:00", "fechada"),
        ("2030-03-05T10:10", "horário de início válido"),
        ("2030-03-05T12:30", "horário de início válido"),
        ("2030-03-09T10:00", "horário de início válido"),  # Saturday
        ("2030-04-30T10:00", "14 dias"),
    ],
)
async def test_invalid_starts_are_refused(
    agenda: CalendarTool, ctx: ToolContext, start: str, reason: str
) -> None:
    result = await act(agenda, ctx, action="book", service="corte", start=start)
    assert not result.found
    assert reason in result.data["reason"]


async def test_twenty_concurrent_bookings_get_exactly_capacity(
    config: DomainConfig, redis_url: str, key_prefix: str
) -> None:
    # Separate connections, as separate workers would have.
    stores = [RedisStore.from_url(redis_url, prefix=key_prefix) for _ in range(20)]
    try:
        tools = [make_tool(config, s, capacity=3) for s in stores]
        results = await asyncio.gather(
            *(
                act(
                    tool,
                    ToolContext("loja", f"1:{i}", "vendedor"),
                    action="book",
                    service="coloracao",
                    start="2030-03-05T09:00",
                )
                for i, tool in enumerate(tools)
            )
        )
        booked = [r for r in results if r.data.get("booked")]
        assert len(booked) == 3
        # Every covered slot holds exactly the three winners' ids, no loser's seat remains.
        winners = {r.data["booking_id"] for r in booked}
        for slot in ("2030-03-05T09:00", "2030-03-05T09:30", "2030-03-05T10:00"):
            seats = await stores[0].mget(
                [keys.booking_slot("loja", "agenda", slot, seat) for seat in range(3)]
            )
            assert set(seats) == winners
    finally:
        for s in stores:
            await s.close()


async def test_bookings_survive_a_restart_and_have_a_ttl(
    config: DomainConfig, redis_url: str, key_prefix: str, ctx: ToolContext
) -> None:
    store = RedisStore.from_url(redis_url, prefix=key_prefix)
    booked = await act(
        make_tool(config, store), ctx, action="book", service="corte", start="2030-03-05T09:00"
    )
    await store.close()
    booking_id = booked.data["booking_id"]

    restarted = RedisStore.from_url(redis_url, prefix=key_prefix)
    try:
        listed = await act(make_tool(config, restarted), ctx, action="list")
        assert [b["booking_id"] for b in listed.data] == [booking_id]
        ttl = await restarted.ttl(keys.booking("loja", "agenda", booking_id))
        # Kept until a week after the appointment, which is a day ahead of the test clock...
        # but the store's clock is real: only check that a TTL is set and bounded.
        assert ttl is not None and ttl > 0
        seat_ttl = await restarted.ttl(keys.booking_slot("loja", "agenda", "2030-03-05T09:00", 0))
        assert seat_ttl is not None and seat_ttl > 0
    finally:
        await restarted.close()


async def test_cancel_frees_the_slot(config: DomainConfig, store: Store, ctx: ToolContext) -> None:
    tool = make_tool(config, store, capacity=1)
    booked = await act(tool, ctx, action="book", service="corte", start="2030-03-05T09:00")
    booking_id = booked.data["booking_id"]
    cancelled = await act(tool, ctx, action="cancel", booking_id=booking_id)
    assert cancelled.data["cancelled"]
    assert await store.get(keys.booking("loja", "agenda", booking_id)) is None
    assert not (await act(tool, ctx, action="list")).found
    again = await act(tool, ctx, action="book", service="corte", start="2030-03-05T09:00")
    assert again.data["booked"]


async def test_reschedule_moves_the_booking(
    config: DomainConfig, store: Store, ctx: ToolContext
) -> None:
    tool = make_tool(config, store, capacity=1)
    booked = await act(tool, ctx, action="book", service="corte", start="2030-03-05T09:00")
    old_id = booked.data["booking_id"]
    moved = await act(tool, ctx, action="reschedule", booking_id=old_id, start="2030-03-05T15:00")
    assert moved.data["rescheduled"]
    assert moved.data["previous_booking_id"] == old_id
    listed = await act(tool, ctx, action="list")
    assert [b["start"] for b in listed.data] == ["2030-03-05T15:00"]
    free = (
        await act(tool, ctx, action="availability", service="corte", from_date="2030-03-05", days=1)
    ).data["free"]
    assert "2030-03-05T09:00" in free
    assert "2030-03-05T15:00" not in free


async def test_reschedule_to_a_full_slot_keeps_the_booking(
    config: DomainConfig, store: Store, make_ctx: Any
) -> None:
    tool = make_tool(config, store, capacity=1)
    mine = make_ctx(conversation_key="1:1")
    booked = await act(tool, mine, action="book", service="corte", start="2030-03-05T09:00")
    await act(
        tool,
        make_ctx(conversation_key="1:2"),
        action="book",
        service="corte",
        start="2030-03-05T11:00",
    )
    moved = await act(
        tool,
        mine,
        action="reschedule",
        booking_id=booked.data["booking_id"],
        start="2030-03-05T11:00",
    )
    assert not moved.found
    listed = await act(tool, mine, action="list")
    assert [b["start"] for b in listed.data] == ["2030-03-05T09:00"]


async def test_another_conversation_cannot_cancel_or_reschedule(
    config: DomainConfig, store: Store, make_ctx: Any
) -> None:
    tool = make_tool(config, store, capacity=1)
    owner = make_ctx(conversation_key="1:1")
    intruder = make_ctx(conversation_key="1:2", contact_name="Outro")
    booking_id = (
        await act(tool, owner, action="book", service="corte", start="2030-03-05T09:00")
    ).data["booking_id"]

    cancelled = await act(tool, intruder, action="cancel", booking_id=booking_id)
    assert not cancelled.found
    assert "não encontrado nesta conversa" in cancelled.text
    moved = await act(
        tool, intruder, action="reschedule", booking_id=booking_id, start="2030-03-05T10:00"
    )
    assert not moved.found
    assert not (await act(tool, intruder, action="list")).found
    # The owner's booking is intact.
    assert await store.get(keys.booking("loja", "agenda", booking_id)) is not None
    assert [b["booking_id"] for b in (await act(tool, owner, action="list")).data] == [booking_id]


async def test_another_domain_never_sees_the_bookings(
    make_domain: Any, store: Store, make_ctx: Any
) -> None:
    loja = DomainConfig.model_validate(make_domain("loja"))
    outra = DomainConfig.model_validate(make_domain("outra"))
    tool_a, tool_b = make_tool(loja, store, capacity=1), make_tool(outra, store, capacity=1)
    booked = await act(
        tool_a, make_ctx(domain="loja"), action="book", service="corte", start="2030-03-05T09:00"
    )
    # Same conversation key and booking id in another domain: different keys, nothing found.
    other = make_ctx(domain="outra")
    assert not (
        await act(tool_b, other, action="cancel", booking_id=booked.data["booking_id"])
    ).found
    assert (
        await act(tool_b, other, action="book", service="corte", start="2030-03-05T09:00")
    ).data["booked"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"action": "book", "service": "corte"}, "needs: start"),
        ({"action": "cancel"}, "needs: booking_id"),
        ({"action": "cancel", "booking_id": "../../x"}, "booking_id"),
        ({"action": "delete_all"}, "action"),
        ({"action": "list", "conversation_key": "1:2"}, "Extra inputs"),
    ],
)
async def test_bad_arguments_through_the_proxy(
    agenda: CalendarTool, ctx: ToolContext, args: dict[str, Any], fragment: str
) -> None:
    proxy = DataProxy("loja", {"agenda": agenda}, {"vendedor": frozenset({"agenda"})})
    with pytest.raises(ToolArgumentsError, match=fragment):
        await proxy.call(ctx, "agenda", args)


async def test_unknown_service_lists_the_services(agenda: CalendarTool, ctx: ToolContext) -> None:
    result = await act(agenda, ctx, action="book", service="manicure", start="2030-03-05T09:00")
    assert not result.found
    assert "Corte de cabelo" in result.text
