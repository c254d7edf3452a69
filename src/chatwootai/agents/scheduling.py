"""SchedulingAgent: books services, collecting service, date and time before confirming."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, Field
from pydantic_ai import RunContext
from pydantic_ai import Tool as AITool
from pydantic_ai.messages import ToolReturn

from chatwootai.agents.base import AgentTypeConfig, BaseAgent
from chatwootai.agents.deps import TurnDeps
from chatwootai.tools.base import ToolCallRecord

SCHEDULING_SLOTS = ("service", "date", "time")
"""The slots a booking needs, in the order they are asked for."""

CHANGE_SLOTS = ("action", "booking_id")
"""Optional slots of a change in progress: what is being done and to which booking."""

ACTIONS = ("agendar", "remarcar", "cancelar")
"""Values of the `action` slot (absent: agendar)."""


class SchedulingConfig(AgentTypeConfig):
    """`config:` of a SchedulingAgent."""

    confirm_before_booking: bool = True
    required_slots: list[str] = Field(default_factory=lambda: list(SCHEDULING_SLOTS))


class SchedulingAgent(BaseAgent):
    """Collects service, date and time, confirms, then books; stays in flow until done."""

    config_model: ClassVar[type[BaseModel]] = SchedulingConfig
    required_tool_kinds: ClassVar[tuple[str, ...]] = ("calendar",)
    keeps_flow: ClassVar[bool] = True
    context_by_default: ClassVar[bool] = False
    """Its turns call the calendar anyway, and a knowledge lookup can go in that same request
    (tools are called together), so retrieved passages would cost prompt tokens and save no
    request; `config: {context: true}` turns it on."""

    def type_instructions(self) -> str:
        """Collect the booking slots, confirm before booking, keep the flow until booked."""
        settings = self.settings
        assert isinstance(settings, SchedulingConfig)
        slots = ", ".join(settings.required_slots)
        text = (
            f"Para agendar, colete um a um: {slots}. Consulte horários livres no calendário e "
            "ofereça apenas horários disponíveis."
        )
        if settings.confirm_before_booking:
            text += " Antes de reservar, repita serviço, data e horário e peça confirmação."
        return text

    def extra_tools(self) -> list[AITool[TurnDeps]]:
        """`save_booking_details` (remember slots) and `end_booking` (abandon the flow)."""
        settings = self.settings
        assert isinstance(settings, SchedulingConfig)
        return [
            shared_booking_details_tool(
                tuple(settings.required_slots), settings.confirm_before_booking
            ),
            end_booking_tool(),
        ]

    def in_flow(self, slots: Mapping[str, Any], records: Sequence[ToolCallRecord]) -> bool:
        """In flow while booking details are collected and no booking has been made."""
        return bool(slots) and not any(is_booking(r) for r in records)

    def kept_slots(
        self, slots: Mapping[str, Any], records: Sequence[ToolCallRecord]
    ) -> dict[str, Any]:
        """No slots once a booking went through this turn: the next request starts afresh."""
        if any(is_booking(r) and r.agent_id == self.id for r in records):
            return {}
        return dict(slots)


def is_booking(record: ToolCallRecord) -> bool:
    """True when `record` is a calendar call that booked, rescheduled or cancelled a booking."""
    if not record.ok or record.extra.get("kind") != "calendar" or record.result is None:
        return False
    data = record.result.data
    if not isinstance(data, dict):
        return False
    return any(data.get(done) is True for done in ("booked", "rescheduled", "cancelled"))


SLOT_HINTS = {
    "service": "Serviço escolhido pelo cliente (o id do serviço na agenda).",
    "date": "Data no formato AAAA-MM-DD.",
    "time": "Horário no formato HH:MM.",
    "action": "O que o cliente quer fazer: agendar, remarcar ou cancelar (padrão: agendar).",
    "booking_id": "Código do agendamento a remarcar ou cancelar.",
}
"""How the model is asked to fill the usual slots (any other slot is free text)."""


@functools.cache
def end_booking_tool() -> AITool[TurnDeps]:
    """`end_booking` as a tool, built once (its schema comes from the signature, a slow read)."""
    return AITool(end_booking, takes_ctx=True)


@functools.lru_cache(maxsize=256)
def shared_booking_details_tool(slots: tuple[str, ...], confirm: bool) -> AITool[TurnDeps]:
    """:func:`booking_details_tool`, one per (slots, confirm) for every domain of the process."""
    return booking_details_tool(slots, confirm)


def booking_details_tool(slots: Sequence[str], confirm: bool = True) -> AITool[TurnDeps]:
    """`save_booking_details`: remembers the configured `slots` and says which are missing.

    Besides the configured slots it keeps `action` and `booking_id` (a change in progress). An
    empty value forgets a detail. The result's metadata holds every detail kept so far.
    """
    required = tuple(dict.fromkeys(slots))
    known = tuple(dict.fromkeys([*required, *CHANGE_SLOTS]))

    async def save_booking_details(ctx: RunContext[TurnDeps], /, **details: Any) -> ToolReturn:
        kept = ctx.deps.slots
        before = dict(kept)
        for name, value in details.items():
            if name not in known or value is None:
                continue
            if value == "":
                kept.pop(name, None)
            else:
                kept[name] = str(value)
        missing = [n for n in required if n not in kept]
        if missing:
            text = "Anotado. Ainda falta: " + ", ".join(missing)
        elif confirm:
            text = "Anotado. Todos os dados coletados: confirme com o cliente antes de reservar."
        else:
            text = "Anotado. Todos os dados coletados: pode reservar."
        metadata = {"slots": dict(kept), "before": before, "missing": missing, "confirm": confirm}
        return ToolReturn(return_value=text, metadata=metadata)

    properties: dict[str, Any] = {
        name: {"type": "string", "description": SLOT_HINTS.get(name, name)} for name in known
    }
    properties["action"]["enum"] = [*ACTIONS, ""]
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    return AITool.from_schema(
        save_booking_details,
        name="save_booking_details",
        description="Guarda os dados do agendamento informados até agora ("
        + ", ".join(required)
        + '; e, numa mudança, action e booking_id). Um valor "" esquece o dado.',
        json_schema=schema,
        takes_ctx=True,
    )


async def end_booking(ctx: RunContext[TurnDeps], reason: str = "") -> str:
    """Forget the booking in progress when the customer gives up or the booking is done."""
    ctx.deps.slots.clear()
    return "Agendamento encerrado."
