"""What the offline model sees of one request: the customer's message, the time, its tools, and
the tool calls already made in this turn with their results."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo
from pydantic_ai.tools import ToolDefinition

TOOL_ERROR_PREFIX = "Erro na ferramenta"
"""How a refused or failed domain tool call reads (see ``agents.toolkit.tool_error_text``)."""

_TODAY = re.compile(r"Hoje é [^,]+, (\d{4}-\d{2}-\d{2})(?:, (\d{1,2}):(\d{2}))?")
_TEAM_OPEN = re.compile(r"Equipe humana: em expediente agora \(até (\d{2}:\d{2})\)")
_TEAM_AWAY = re.compile(r"Equipe humana: fora do horário agora; volta ([^.\n]+)\.")


@dataclass(frozen=True, slots=True)
class Call:
    """Call a tool with these arguments."""

    tool: str
    args: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Reply:
    """Answer the customer with this text (ends the run)."""

    text: str


Action = Call | Reply
"""What the offline model does next."""


@dataclass(frozen=True, slots=True)
class Done:
    """A tool call made in this turn and what it returned."""

    name: str
    args: dict[str, Any]
    text: str
    metadata: dict[str, Any] | None
    ok: bool

    @property
    def found(self) -> bool:
        """Whether the tool found what was asked (an error never did)."""
        if not self.ok:
            return False
        if self.metadata is None:
            return True
        return bool(self.metadata.get("found", True))

    @property
    def data(self) -> Any:
        """The tool's structured data (None when it gave none)."""
        return (self.metadata or {}).get("data")


@dataclass
class Turn:
    """One request of a run of the offline model."""

    prompt: str
    now: datetime
    tools: list[ToolDefinition]
    done: list[Done] = field(default_factory=list)
    earlier: list[ModelMessage] = field(default_factory=list)
    team: str = ""
    """Whether people are at work now, for the customer (from the instructions' business
    hours line); empty when the domain has no hours."""

    @property
    def today(self) -> date:
        """The turn's local date."""
        return self.now.date()

    @classmethod
    def read(cls, messages: list[ModelMessage], info: AgentInfo) -> Turn:
        """The turn as the messages of the run and the agent's info describe it."""
        start = _turn_start(messages)
        prompt = ""
        if start < len(messages):
            for part in messages[start].parts:
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    prompt = part.content
        return cls(
            prompt=prompt,
            now=_now(info.instructions),
            tools=list(info.function_tools),
            done=_done(messages[start:]),
            earlier=list(messages[:start]),
            team=_team(info.instructions),
        )

    def tool(self, kind: str) -> ToolDefinition | None:
        """The first domain tool of `kind` (never a delegate)."""
        for tool in self.tools:
            metadata = tool.metadata or {}
            if kind in metadata.get("kinds", ()) and "delegate" not in metadata:
                return tool
        return None

    def delegates(self) -> list[ToolDefinition]:
        """The delegate tools of a hierarchical crew's manager."""
        return [t for t in self.tools if "delegate" in (t.metadata or {})]

    def named(self, name: str) -> ToolDefinition | None:
        """The tool called `name`, if the agent has it."""
        return next((t for t in self.tools if t.name == name), None)

    def calls(self, name: str, **args: Any) -> list[Done]:
        """Calls of `name` in this turn whose arguments include `args` (None: key absent)."""
        return [
            d
            for d in self.done
            if d.name == name
            and all(
                (key not in d.args) if value is None else d.args.get(key) == value
                for key, value in args.items()
            )
        ]

    def last(self, name: str, **args: Any) -> Done | None:
        """The latest call of `name` with `args` in this turn, or None."""
        found = self.calls(name, **args)
        return found[-1] if found else None

    def earlier_delegate(self) -> str | None:
        """The delegate tool the manager called last in an earlier turn, if any."""
        names = {t.name for t in self.delegates()}
        for message in reversed(self.earlier):
            if isinstance(message, ModelResponse):
                for part in message.parts:
                    if isinstance(part, ToolCallPart) and part.tool_name in names:
                        return part.tool_name
        return None


def _turn_start(messages: list[ModelMessage]) -> int:
    """Index of the request that carries the current customer message."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, ModelRequest) and any(
            isinstance(p, UserPromptPart) for p in message.parts
        ):
            return index
    return len(messages)


def _now(instructions: str | None) -> datetime:
    """The turn's local time, read from the instructions' "Hoje é ..." line (else the clock)."""
    match = _TODAY.search(instructions or "")
    if match is None:
        return datetime.now().replace(second=0, microsecond=0)
    day = date.fromisoformat(match.group(1))
    hour, minute = int(match.group(2) or 0), int(match.group(3) or 0)
    return datetime(day.year, day.month, day.day, hour, minute)


def _team(instructions: str | None) -> str:
    """The customer's sentence on whether the team works now (see chatwootai.hours)."""
    text = instructions or ""
    opened = _TEAM_OPEN.search(text)
    if opened is not None:
        return f"Agora estamos em horário de atendimento, até as {opened.group(1)}."
    away = _TEAM_AWAY.search(text)
    if away is not None:
        return f"Agora estamos fora do horário de atendimento; a equipe volta {away.group(1)}."
    return ""


def _done(messages: list[ModelMessage]) -> list[Done]:
    """The tool calls of this turn paired with their returns."""
    calls: dict[str, ToolCallPart] = {}
    done: list[Done] = []
    for message in messages:
        if isinstance(message, ModelResponse):
            for answer in message.parts:
                if isinstance(answer, ToolCallPart):
                    calls[answer.tool_call_id] = answer
        elif isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, ToolReturnPart):
                    call = calls.get(part.tool_call_id)
                    text = part.model_response_str()
                    metadata = part.metadata if isinstance(part.metadata, dict) else None
                    ok = not text.startswith(TOOL_ERROR_PREFIX)
                    args = call.args_as_dict() if call is not None else {}
                    done.append(Done(part.tool_name, args, text, metadata, ok))
                elif isinstance(part, RetryPromptPart) and part.tool_name:
                    call = calls.get(part.tool_call_id)
                    args = call.args_as_dict() if call is not None else {}
                    done.append(Done(part.tool_name, args, str(part.content), None, False))
    return done
