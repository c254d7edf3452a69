"""What every tool is: typed arguments chosen by the LLM, tenant context chosen by the service.

A tool never takes the domain, conversation or contact from its arguments: those come from the
:class:`ToolContext` that the service builds for the turn, so no prompt can point a tool at
another tenant's data.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel

from chatwootai.media.attachments import OutboundAttachment
from chatwootai.store.base import Store


class ToolError(Exception):
    """A tool failed in a way the agent should be told about (bad arguments, no data...)."""


class ToolNotGrantedError(ToolError):
    """The agent called a tool that its domain's YAML does not grant it."""


class UnknownToolError(ToolError):
    """No tool of that id exists in the domain."""


class ToolArgumentsError(ToolError):
    """The arguments chosen by the LLM do not fit the tool's schema."""


@dataclass(frozen=True, slots=True)
class ToolContext:
    """Tenant context of one tool call, set by the service, never by the LLM."""

    domain: str
    conversation_key: str
    agent_id: str
    contact_id: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    contact_name: str | None = None
    channel: str = "api"
    """Chatwoot's channel type lowercased without ``Channel::`` (whatsapp, sms, webwidget...)."""
    timezone: str = "America/Sao_Paulo"
    identity_verified: bool = False
    """The contact's phone and e-mail were vouched for by the business (Chatwoot's HMAC check)."""
    now: datetime | None = None
    """The moment of the turn (timezone-aware); None: the tool's own clock."""


@dataclass(slots=True)
class HandoffRequest:
    """A request that a human take the conversation over."""

    reason: str
    requested_by: str = "agent"
    summary: str = ""
    kind: str = ""
    """Why, as a code (``out_of_hours``...); empty: an ordinary handoff."""
    opens_at: float | None = None
    """Outside hours with ``bot_until_open``: when (epoch s) the conversation is opened to the
    humans; the bot keeps answering until then. None: opened now."""


@dataclass(slots=True)
class ToolResult:
    """What a tool returns: text for the LLM, structured data for logs, an optional handoff."""

    text: str
    data: Any = None
    handoff: HandoffRequest | None = None
    found: bool = True
    attachments: list[OutboundAttachment] = field(default_factory=list)
    """Files the reply carries if the turn answers (a product's photo, a price list)."""
    resolve: bool = False
    """The conversation ends with this turn: its text is the reply, then Chatwoot resolves it."""


@dataclass(slots=True)
class ToolCallRecord:
    """One tool call as it happened in a turn (for logs, `chat --verbose` and tests)."""

    agent_id: str
    tool_id: str
    args: dict[str, Any]
    ok: bool
    error: str | None = None
    result: ToolResult | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Tool(ABC):
    """A capability agents may call through the DataProxy."""

    kind: ClassVar[str]
    args_model: ClassVar[type[BaseModel]]

    def __init__(self, tool_id: str, description: str, store: Store) -> None:
        self.id = tool_id
        self.description = description
        self.store = store

    @abstractmethod
    async def run(self, ctx: ToolContext, args: BaseModel) -> ToolResult:
        """Run the tool for the tenant in `ctx` with validated `args`."""

    def model_description(self) -> str:
        """The description the model reads (the YAML's, plus what the kind adds, e.g. services)."""
        return self.description

    def model_facts(self) -> dict[str, Any]:
        """Structured facts given with the tool's definition (not sent to an LLM); none here."""
        return {}

    async def aclose(self) -> None:  # noqa: B027 - a no-op for tools that hold no resources
        """Release what the tool holds open (connections); nothing by default."""
