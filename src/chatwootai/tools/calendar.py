"""The calendar tool: free slots of a service, and bookings that are never double-booked.

One tool with an ``action`` field, so the LLM sees one schema for one calendar:

- ``availability``: without ``service``, the services offered; with it, its free start
  times from ``from_date`` (default today) for ``days`` days;
- ``book``: book a service at ``start``;
- ``reschedule``: move a booking (``booking_id``) of this conversation to ``start``;
- ``cancel``: cancel a booking of this conversation;
- ``list``: the bookings made in this conversation.

The day is cut into slots of ``slot_minutes`` inside the opening windows; a service occupies the
slots its duration covers. Availability lists every day asked for: runs of consecutive free
starts are written as ranges ("das 09:00 às 12:30, a cada 30 min"), so no day is ever left
out. Each slot has ``capacity`` seats, each a store key taken with an atomic set-if-absent,
so concurrent requests cannot overbook; a booking that cannot get a seat in every slot
releases those it took. Bookings are kept in the store (a record and a per-conversation list)
until a while after the appointment. Times are local to the domain's timezone (``ctx.timezone``).
"""

from __future__ import annotations

import json
import logging
import math
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chatwootai.config.data import Calendar, Service
from chatwootai.config.schema import CalendarSettings
from chatwootai.store import keys
from chatwootai.store.base import Store
from chatwootai.text import fold
from chatwootai.tools.base import Tool, ToolContext, ToolError, ToolResult
from chatwootai.tools.money import format_money

logger = logging.getLogger("chatwootai.tools")

RETENTION = timedelta(days=7)
"""How long bookings are kept after the appointment ends."""

MAX_SLOTS_PER_DAY = 20
"""Free starts listed one by one when a booking fails (the rest of the day is given as ranges)."""
WEEKDAYS = ("seg", "ter", "qua", "qui", "sex", "sáb", "dom")

Action = Literal["availability", "book", "reschedule", "cancel", "list"]


class CalendarArgs(BaseModel):
    """Arguments of a calendar action."""

    model_config = ConfigDict(extra="forbid")

    action: Action = Field(
        description="availability: horários livres de um serviço; book: agendar; "
        "reschedule: remarcar um agendamento desta conversa; cancel: cancelar um agendamento "
        "desta conversa; list: agendamentos desta conversa."
    )
    service: str | None = Field(
        default=None,
        max_length=100,
        description="Serviço (id ou nome). Obrigatório em book; em availability, "
        "sem serviço lista os serviços oferecidos.",
    )
    from_date: date | None = Field(
        default=None,
        description="availability: primeiro dia a consultar (AAAA-MM-DD); padrão hoje.",
    )
    days: int = Field(default=3, ge=1, le=31, description="availability: quantos dias consultar.")
    start: datetime | None = Field(
        default=None,
        description="book/reschedule: início no horário local, AAAA-MM-DDTHH:MM "
        "(um dos horários livres).",
    )
    booking_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9]{4,16}$",
        description="reschedule/cancel: código do agendamento.",
    )

    @model_validator(mode="after")
    def _required_for_action(self) -> CalendarArgs:
        needed = {
            "availability": (),
            "book": ("service", "start"),
            "reschedule": ("booking_id", "start"),
            "cancel": ("booking_id",),
            "list": (),
        }[self.action]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"action '{self.action}' needs: {', '.join(missing)}")
        return self


@dataclass(frozen=True, slots=True)
class Booking:
    """A booking as persisted in the store."""

    id: str
    service_id: str
    service_name: str
    start: str
    end: str
    conversation_key: str
    seats: tuple[str, ...]
    contact_id: str | None = None
    contact_name: str | None = None

    def to_json(self) -> str:
        """The record as JSON."""
        return json.dumps(
            {
                "id": self.id,
                "service_id": self.service_id,
                "service_name": self.service_name,
                "start": self.start,
                "end": self.end,
                "conversation_key": self.conversation_key,
                "seats": list(self.seats),
                "contact_id": self.contact_id,
                "contact_name": self.contact_name,
            }
        )

    @classmethod
    def from_json(cls, raw: str) -> Booking:
        """A record read back from the store."""
        data = json.loads(raw)
        data["seats"] = tuple(data["seats"])
        return cls(**data)

    def public(self) -> dict[str, Any]:
        """What the agent may see of the booking."""
        return {
            "booking_id": self.id,
            "service_id": self.service_id,
            "service": self.service_name,
            "start": self.start,
            "end": self.end,
        }


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _when(moment: datetime) -> str:
    return f"{WEEKDAYS[moment.weekday()]} {moment:%d/%m} às {moment:%H:%M}"


def time_ranges(starts: Sequence[datetime], step: timedelta) -> str:
    """Free starts of one day as text: runs of three or more consecutive starts as ranges."""
    runs: list[list[datetime]] = []
    for start in sorted(starts):
        if runs and start - runs[-1][-1] == step:
            runs[-1].append(start)
        else:
            runs.append([start])
    parts: list[str] = []
    ranged = False
    for run in runs:
        if len(run) >= 3:
            parts.append(f"das {run[0]:%H:%M} às {run[-1]:%H:%M}")
            ranged = True
        else:
            parts.extend(f"{s:%H:%M}" for s in run)
    text = ", ".join(parts)
    if ranged:
        text += f" (início a cada {int(step.total_seconds() // 60)} min)"
    return text


class CalendarTool(Tool):
    """Free slots, booking, rescheduling and cancelling of the domain's services."""

    kind: ClassVar[str] = "calendar"
    args_model: ClassVar[type[BaseModel]] = CalendarArgs

    def __init__(
        self,
        tool_id: str,
        description: str,
        store: Store,
        settings: CalendarSettings,
        calendar: Calendar,
        *,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        super().__init__(tool_id, description, store)
        self.settings = settings
        self.calendar = calendar
        self.clock = clock
        self.slot = timedelta(minutes=settings.slot_minutes)
        self.closed = frozenset(calendar.closed_dates)

    # -- time grid ------------------------------------------------------------------------

    def _now(self, ctx: ToolContext) -> datetime:
        """The turn's moment (the context's, else the clock's), local and naive, to the minute."""
        try:
            zone = ZoneInfo(ctx.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ToolError(f"unknown timezone {ctx.timezone!r} in the domain config") from None
        moment = ctx.now or self.clock()
        if moment.tzinfo is None:  # a naive moment is already local
            moment = moment.replace(tzinfo=zone)
        return moment.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)

    def model_description(self) -> str:
        """The YAML description plus the services (id, name, duration, price) to book."""
        services = "; ".join(
            f"{s.id} ({s.name}, {s.duration_minutes} min"
            + (f", {format_money(s.price)}" if s.price is not None else "")
            + ")"
            for s in self.calendar.services
        )
        return f"{self.description} Serviços (use o id em service): {services}.".strip()

    def model_facts(self) -> dict[str, Any]:
        """The services, for models that read tool metadata (the offline model)."""
        return {
            "services": [
                {
                    "id": s.id,
                    "name": s.name,
                    "duration_minutes": s.duration_minutes,
                    "price": str(s.price) if s.price is not None else None,
                }
                for s in self.calendar.services
            ]
        }

    def service(self, name: str) -> Service | None:
        """The service named or identified by `name` (accents and case ignored)."""
        wanted = fold(name)
        for service in self.calendar.services:
            if fold(service.id) == wanted or fold(service.name) == wanted:
                return service
        partial = [s for s in self.calendar.services if wanted and wanted in fold(s.name)]
        return partial[0] if len(partial) == 1 else None

    def covered(self, service: Service, start: datetime) -> list[datetime]:
        """Starts of the slots a booking of `service` at `start` occupies."""
        count = math.ceil(service.duration_minutes / self.settings.slot_minutes)
        return [start + i * self.slot for i in range(count)]

    def starts(self, service: Service, day: date) -> list[datetime]:
        """Possible start times of `service` on `day` (ignoring bookings and the clock)."""
        if day in self.closed:
            return []
        duration = timedelta(minutes=service.duration_minutes)
        result: list[datetime] = []
        for window in self.calendar.week:
            if window.weekday != day.weekday():
                continue
            moment = datetime.combine(day, window.start)
            end = datetime.combine(day, window.end)
            while moment + duration <= end:
                result.append(moment)
                moment += self.slot
        return sorted(set(result))

    def _seat_keys(self, ctx: ToolContext, slot: datetime) -> list[str]:
        start = slot.isoformat(timespec="minutes")
        return [
            keys.booking_slot(ctx.domain, self.id, start, seat)
            for seat in range(self.calendar.capacity)
        ]

    def _valid_start(self, ctx: ToolContext, service: Service, start: datetime) -> str | None:
        """Why `start` cannot be booked for `service`, or None when it is a valid slot."""
        now = self._now(ctx)
        if start <= now:
            return "esse horário já passou"
        if start.date() > now.date() + timedelta(days=self.settings.horizon_days):
            return f"a agenda só abre {self.settings.horizon_days} dias à frente"
        if start.date() in self.closed:
            return "a agenda está fechada nesse dia"
        if start not in self.starts(service, start.date()):
            return "não é um horário de início válido para esse serviço"
        return None

    async def free_starts(
        self, ctx: ToolContext, service: Service, first: date, days: int
    ) -> list[datetime]:
        """Start times of `service` with a free seat in every covered slot, from `first`."""
        now = self._now(ctx)
        horizon = now.date() + timedelta(days=self.settings.horizon_days)
        last = min(first + timedelta(days=days - 1), horizon)
        candidates: list[datetime] = []
        day = max(first, now.date())
        while day <= last:
            candidates.extend(s for s in self.starts(service, day) if s > now)
            day += timedelta(days=1)
        slots = sorted({slot for s in candidates for slot in self.covered(service, s)})
        seat_keys = [k for slot in slots for k in self._seat_keys(ctx, slot)]
        values = await self.store.mget(seat_keys) if seat_keys else []
        taken: dict[datetime, int] = {}
        per_slot = self.calendar.capacity
        for i, slot in enumerate(slots):
            taken[slot] = sum(v is not None for v in values[i * per_slot : (i + 1) * per_slot])
        return [
            s
            for s in candidates
            if all(taken[slot] < per_slot for slot in self.covered(service, s))
        ]

    # -- seats ----------------------------------------------------------------------------

    async def _acquire(
        self, ctx: ToolContext, service: Service, start: datetime, booking_id: str
    ) -> list[str] | None:
        """Take a seat in every slot of the booking; None (nothing held) when one is full."""
        ttl = self._ttl(ctx, start + timedelta(minutes=service.duration_minutes))
        held: list[str] = []
        try:
            for slot in self.covered(service, start):
                for key in self._seat_keys(ctx, slot):
                    if await self.store.set(key, booking_id, ttl, nx=True):
                        held.append(key)
                        break
                else:
                    await self._release(held, booking_id)
                    return None
        except BaseException:
            await self._release(held, booking_id)
            raise
        return held

    async def _release(self, seat_keys: Sequence[str], booking_id: str) -> None:
        for key in seat_keys:
            await self.store.compare_and_delete(key, booking_id)

    def _ttl(self, ctx: ToolContext, end: datetime) -> int:
        return max(60, int((end - self._now(ctx) + RETENTION).total_seconds()))

    # -- records --------------------------------------------------------------------------

    async def _conversation_ids(self, ctx: ToolContext) -> list[str]:
        key = keys.conversation_bookings(ctx.domain, self.id, ctx.conversation_key)
        raw = await self.store.get(key)
        return list(json.loads(raw)) if raw else []

    async def _save_conversation_ids(self, ctx: ToolContext, ids: list[str], ttl: int) -> None:
        key = keys.conversation_bookings(ctx.domain, self.id, ctx.conversation_key)
        if not ids:
            await self.store.delete(key)
            return
        current = await self.store.ttl(key)
        await self.store.set(key, json.dumps(ids), max(ttl, current or 0))

    async def _owned(self, ctx: ToolContext, booking_id: str) -> Booking | None:
        """The booking if it was made in this conversation, else None (absent or not ours)."""
        if booking_id not in await self._conversation_ids(ctx):
            raw = None
        else:
            raw = await self.store.get(keys.booking(ctx.domain, self.id, booking_id))
        booking = Booking.from_json(raw) if raw else None
        if booking is None or booking.conversation_key != ctx.conversation_key:
            logger.warning(
                "booking not found in this conversation",
                extra={"domain": ctx.domain, "tool": self.id, "agent": ctx.agent_id},
            )
            return None
        return booking

    async def _store_booking(
        self, ctx: ToolContext, service: Service, start: datetime, booking_id: str, seats: list[str]
    ) -> Booking:
        end = start + timedelta(minutes=service.duration_minutes)
        booking = Booking(
            id=booking_id,
            service_id=service.id,
            service_name=service.name,
            start=start.isoformat(timespec="minutes"),
            end=end.isoformat(timespec="minutes"),
            conversation_key=ctx.conversation_key,
            seats=tuple(seats),
            contact_id=ctx.contact_id,
            contact_name=ctx.contact_name,
        )
        ttl = self._ttl(ctx, end)
        try:
            record = keys.booking(ctx.domain, self.id, booking_id)
            await self.store.set(record, booking.to_json(), ttl)
            ids = await self._conversation_ids(ctx)
            await self._save_conversation_ids(ctx, [*ids, booking_id], ttl)
        except BaseException:
            await self._release(seats, booking_id)
            await self.store.delete(keys.booking(ctx.domain, self.id, booking_id))
            raise
        return booking

    # -- actions --------------------------------------------------------------------------

    async def run(self, ctx: ToolContext, args: BaseModel) -> ToolResult:
        """Carry out the action in `args` for the conversation in `ctx`."""
        parsed = CalendarArgs.model_validate(args)
        if parsed.action == "list":
            return await self._list(ctx)
        if parsed.action == "cancel":
            assert parsed.booking_id is not None
            return await self._cancel(ctx, parsed.booking_id)
        if parsed.action == "reschedule":
            assert parsed.booking_id is not None and parsed.start is not None
            return await self._reschedule(ctx, parsed.booking_id, self._local(ctx, parsed.start))
        if parsed.service is None:
            return self._services()
        service = self.service(parsed.service)
        if service is None:
            names = ", ".join(f"{s.name} ({s.id})" for s in self.calendar.services)
            return ToolResult(
                text=f"Serviço '{parsed.service}' não encontrado. Serviços: {names}.",
                data={"services": [s.id for s in self.calendar.services]},
                found=False,
            )
        if parsed.action == "availability":
            first = parsed.from_date or self._now(ctx).date()
            return await self._availability(ctx, service, first, parsed.days)
        assert parsed.start is not None
        return await self._book(ctx, service, self._local(ctx, parsed.start))

    def _services(self) -> ToolResult:
        lines = []
        for s in self.calendar.services:
            price = f" — {format_money(s.price)}" if s.price is not None else ""
            lines.append(f"- {s.name} (id {s.id}): {s.duration_minutes} min{price}")
        return ToolResult(
            text="Serviços agendáveis:\n" + "\n".join(lines),
            data={"services": [s.id for s in self.calendar.services]},
        )

    def _local(self, ctx: ToolContext, moment: datetime) -> datetime:
        if moment.tzinfo is not None:
            moment = moment.astimezone(ZoneInfo(ctx.timezone)).replace(tzinfo=None)
        return moment.replace(second=0, microsecond=0)

    async def _availability(
        self, ctx: ToolContext, service: Service, first: date, days: int
    ) -> ToolResult:
        free = await self.free_starts(ctx, service, first, days)
        if not free:
            return ToolResult(
                text=f"Sem horários livres para {service.name} nesse período.",
                data={"service": service.id, "free": []},
                found=False,
            )
        by_day: dict[date, list[datetime]] = {}
        for start in free:
            by_day.setdefault(start.date(), []).append(start)
        lines = [
            f"{WEEKDAYS[day.weekday()]} {day:%d/%m}: {time_ranges(starts, self.slot)}"
            for day, starts in by_day.items()
        ]
        return ToolResult(
            text=f"Horários livres para {service.name} ({service.duration_minutes} min):\n"
            + "\n".join(lines),
            data={
                "service": service.id,
                "free": [s.isoformat(timespec="minutes") for s in free],
                "from_date": first.isoformat(),
                "days": days,
            },
        )

    async def _book(self, ctx: ToolContext, service: Service, start: datetime) -> ToolResult:
        problem = self._valid_start(ctx, service, start)
        if problem is not None:
            return ToolResult(
                text=f"Não foi possível agendar {service.name} em {_when(start)}: {problem}.",
                data={"booked": False, "reason": problem},
                found=False,
            )
        booking = await self._reserve(ctx, service, start)
        if booking is None:
            return await self._unavailable(ctx, service, start)
        return ToolResult(
            text=f"Agendado: {service.name} em {_when(start)}. Código: {booking.id}.",
            data={"booked": True, **booking.public()},
        )

    async def _unavailable(self, ctx: ToolContext, service: Service, start: datetime) -> ToolResult:
        free = await self.free_starts(ctx, service, start.date(), 1)
        other = time_ranges(free, self.slot) if free else "nenhum"
        return ToolResult(
            text=f"O horário {_when(start)} não está mais disponível para {service.name}. "
            f"Outros horários livres nesse dia: {other}.",
            data={
                "booked": False,
                "reason": "unavailable",
                "free": [s.isoformat(timespec="minutes") for s in free],
            },
            found=False,
        )

    async def bookings(self, ctx: ToolContext) -> list[Booking]:
        """The bookings made in the conversation of `ctx`, by start time."""
        ids = await self._conversation_ids(ctx)
        raws = await self.store.mget([keys.booking(ctx.domain, self.id, i) for i in ids])
        bookings = [Booking.from_json(r) for r in raws if r]
        mine = [b for b in bookings if b.conversation_key == ctx.conversation_key]
        return sorted(mine, key=lambda b: b.start)

    async def _list(self, ctx: ToolContext) -> ToolResult:
        mine = await self.bookings(ctx)
        if not mine:
            return ToolResult(text="Nenhum agendamento nesta conversa.", data=[], found=False)
        lines = [
            f"- {b.service_name} em {_when(datetime.fromisoformat(b.start))} (código {b.id})"
            for b in mine
        ]
        text = "Agendamentos:\n" + "\n".join(lines)
        return ToolResult(text=text, data=[b.public() for b in mine])

    def _not_found(self, booking_id: str) -> ToolResult:
        return ToolResult(
            text=f"Agendamento {booking_id} não encontrado nesta conversa.",
            data={"booking_id": booking_id},
            found=False,
        )

    async def _reserve(self, ctx: ToolContext, service: Service, start: datetime) -> Booking | None:
        """Take every seat of a new booking and record it; None when the slot is taken."""
        booking_id = secrets.token_hex(4).upper()
        seats = await self._acquire(ctx, service, start, booking_id)
        if seats is None:
            return None
        return await self._store_booking(ctx, service, start, booking_id, seats)

    async def _forget(self, ctx: ToolContext, booking: Booking) -> None:
        """Free a booking's seats and drop its record and its place in the conversation."""
        await self._release(booking.seats, booking.id)
        await self.store.delete(keys.booking(ctx.domain, self.id, booking.id))
        ids = [i for i in await self._conversation_ids(ctx) if i != booking.id]
        await self._save_conversation_ids(ctx, ids, 60)

    async def _cancel(self, ctx: ToolContext, booking_id: str) -> ToolResult:
        booking = await self._owned(ctx, booking_id.upper())
        if booking is None:
            return self._not_found(booking_id)
        await self._forget(ctx, booking)
        start = datetime.fromisoformat(booking.start)
        return ToolResult(
            text=f"Cancelado: {booking.service_name} em {_when(start)} (código {booking.id}).",
            data={"cancelled": True, **booking.public()},
        )

    async def _reschedule(self, ctx: ToolContext, booking_id: str, start: datetime) -> ToolResult:
        old = await self._owned(ctx, booking_id.upper())
        if old is None:
            return self._not_found(booking_id)
        service = self.service(old.service_id)
        if service is None:
            raise ToolError(f"service {old.service_id!r} is no longer in the calendar")
        problem = self._valid_start(ctx, service, start)
        if problem is not None:
            return ToolResult(
                text=f"Não foi possível remarcar para {_when(start)}: {problem}.",
                data={"rescheduled": False, "reason": problem},
                found=False,
            )
        booking = await self._reserve(ctx, service, start)
        if booking is None:
            return await self._unavailable(ctx, service, start)
        await self._forget(ctx, old)
        return ToolResult(
            text=f"Remarcado: {service.name} para {_when(start)}. Novo código: {booking.id} "
            f"(o código {old.id} foi cancelado).",
            data={"rescheduled": True, "previous_booking_id": old.id, **booking.public()},
        )
