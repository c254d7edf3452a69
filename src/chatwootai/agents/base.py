"""The base agent type: who the agent is (role, goal, backstory) and how it is prompted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict
from pydantic_ai import Tool as AITool

from chatwootai.agents.deps import TurnDeps
from chatwootai.config.schema import AgentConfig, DomainConfig
from chatwootai.tools.base import ToolCallRecord


class AgentTypeConfig(BaseModel):
    """Base of the type-specific `config:` map of an agent: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    extra_instructions: str = ""
    context: bool | None = None
    """Retrieve passages, products and orders for each message before the LLM request (see
    ``knowledge.context``); None: the agent type's default."""


class BaseAgent:
    """An agent type: validates its YAML config and writes its system prompt. Holds no state."""

    config_model: ClassVar[type[BaseModel]] = AgentTypeConfig
    required_tool_kinds: ClassVar[tuple[str, ...]] = ()
    """Tool kinds of which the agent needs at least one among its tools (any of them)."""
    behaviour: ClassVar[str] = ""
    """Type-specific instructions added to every prompt of this agent type."""
    context_by_default: ClassVar[bool] = True
    """Whether the agent gets the retrieved context when its `config.context` is not set."""

    def __init__(self, agent_id: str, agent: AgentConfig, domain: DomainConfig) -> None:
        self.id = agent_id
        self.agent = agent
        self.domain = domain
        self.settings = self.config_model.model_validate(agent.config)

    @classmethod
    def check_config(cls, agent_id: str, agent: AgentConfig, domain: DomainConfig) -> list[str]:
        """Problems with this agent's configuration specific to its type (empty when fine)."""
        problems: list[str] = []
        try:
            cls.config_model.model_validate(agent.config)
        except ValueError as exc:
            problems.append(f"agent {agent_id!r}: invalid config for {cls.__name__}: {exc}")
        if cls.required_tool_kinds:
            kinds = {domain.tools[t].kind for t in agent.tools if t in domain.tools}
            if not kinds.intersection(cls.required_tool_kinds):
                wanted = " or ".join(cls.required_tool_kinds)
                problems.append(
                    f"agent {agent_id!r}: a {cls.__name__} needs a tool of kind {wanted} "
                    f"among its tools (has: {', '.join(agent.tools) or 'none'})"
                )
        return problems

    def type_instructions(self) -> str:
        """The behaviour this agent type adds to its prompt (subclasses extend it)."""
        return self.behaviour

    def wants_context(self) -> bool:
        """True when the turn retrieves context (knowledge, catalog, orders) for this agent."""
        enabled = getattr(self.settings, "context", None)
        return self.context_by_default if enabled is None else bool(enabled)

    def extra_tools(self) -> list[AITool[TurnDeps]]:
        """Tools of the agent type itself (not domain tools), e.g. remembering booking slots."""
        return []

    def in_flow(self, slots: Mapping[str, Any], records: Sequence[ToolCallRecord]) -> bool:
        """True while the agent is mid-task and the conversation should stay with its crew."""
        return False

    def kept_slots(
        self, slots: Mapping[str, Any], records: Sequence[ToolCallRecord]
    ) -> dict[str, Any]:
        """The slots kept after a turn whose tool calls were `records` (all of them, by default)."""
        return dict(slots)

    def system_prompt(self, today: datetime | None = None) -> str:
        """The full system prompt: identity, instructions, type behaviour, business facts, date."""
        domain, agent = self.domain, self.agent
        lines = [f"Você é {agent.role}.", f"Objetivo: {agent.goal}"]
        if agent.backstory:
            lines.append(f"Contexto: {agent.backstory}")
        if agent.instructions:
            lines.append(f"Instruções: {agent.instructions}")
        behaviour = self.type_instructions()
        if behaviour:
            lines.append(behaviour)
        extra = getattr(self.settings, "extra_instructions", "")
        if extra:
            lines.append(extra)
        lines.append(business_facts(domain))
        lines.append(
            f"Responda sempre no idioma {domain.language}, de forma breve e cordial. "
            f"Hoje é {local_today(domain.timezone, today)} (fuso {domain.timezone})."
        )
        return "\n".join(line for line in lines if line)


def business_facts(domain: DomainConfig) -> str:
    """The business facts of a domain as prompt lines (empty when none are configured)."""
    business = domain.business
    lines: list[str] = []
    if business.company_name:
        lines.append(f"Empresa: {business.company_name}")
    if business.address:
        lines.append(f"Endereço: {business.address}")
    if business.opening_hours:
        hours = "; ".join(f"{day}: {span}" for day, span in business.opening_hours.items())
        lines.append(f"Horário de funcionamento: {hours}")
    contact = business.contact
    for label, value in (
        ("Telefone", contact.phone),
        ("WhatsApp", contact.whatsapp),
        ("E-mail", contact.email),
        ("Site", contact.website),
    ):
        if value:
            lines.append(f"{label}: {value}")
    for key, value in business.facts.items():
        lines.append(f"{key}: {value}")
    return ("Fatos do negócio:\n" + "\n".join(lines)) if lines else ""


def local_today(timezone: str, now: datetime | None = None, *, with_time: bool = False) -> str:
    """Today's date (weekday and ISO date, and the time if asked) in `timezone`; UTC if unknown.

    A naive `now` is taken as local time in `timezone`.
    """
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=zone)
    moment = (now or datetime.now(zone)).astimezone(zone)
    weekdays = ("segunda", "terça", "quarta", "quinta", "sexta", "sábado", "domingo")
    text = f"{weekdays[moment.weekday()]}-feira, {moment.date().isoformat()}".replace(
        "sábado-feira", "sábado"
    ).replace("domingo-feira", "domingo")
    return f"{text}, {moment:%H:%M}" if with_time else text
