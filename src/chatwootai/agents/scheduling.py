"""SchedulingAgent: books services, collecting service, date and time before confirming."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from chatwootai.agents.base import AgentTypeConfig, BaseAgent

SCHEDULING_SLOTS = ("service", "date", "time")
"""The slots a booking needs, in the order they are asked for."""


class SchedulingConfig(AgentTypeConfig):
    """`config:` of a SchedulingAgent."""

    confirm_before_booking: bool = True
    required_slots: list[str] = Field(default_factory=lambda: list(SCHEDULING_SLOTS))


class SchedulingAgent(BaseAgent):
    """Collects service, date and time, confirms, then books; stays in flow until done."""

    config_model: ClassVar[type[BaseModel]] = SchedulingConfig
    required_tool_kinds: ClassVar[tuple[str, ...]] = ("calendar",)
    keeps_flow: ClassVar[bool] = True

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
