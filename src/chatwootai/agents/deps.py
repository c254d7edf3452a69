"""What one run of a crew carries into its agents' tools: the data door and the tenant context.

The runtime depends on the DataProxy only through :class:`ToolProxy`, the two methods it calls,
so agents stay testable with a small fake and the dependency points one way (agents → tools).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from chatwootai.tools.base import HandoffRequest, Tool, ToolCallRecord, ToolContext, ToolResult


class ToolProxy(Protocol):
    """The part of `chatwootai.tools.proxy.DataProxy` the agent runtime uses."""

    def tools_for(self, agent_id: str) -> list[Tool]:
        """The tools granted to `agent_id`."""
        ...

    async def call(self, ctx: ToolContext, tool_id: str, args: Mapping[str, Any]) -> ToolResult:
        """Call `tool_id` for the tenant and agent in `ctx`; raises ToolError subclasses."""
        ...


@dataclass
class TurnDeps:
    """pydantic-ai deps of one run: tenant context, the proxy, and what the turn collected."""

    proxy: ToolProxy
    context: ToolContext
    """Tenant context; the runtime fills `agent_id` per agent when a tool is called."""
    records: list[ToolCallRecord] = field(default_factory=list)
    handoff: HandoffRequest | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    member_slots: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Slots of the members of a hierarchical crew, by agent id (the manager's are `slots`)."""
    delegations: int = 0
    """Tasks the manager of a hierarchical crew handed to its members in this run."""
    interrupted_tool: str | None = None
    """The domain tool that was running when the turn was cut (its time is not the model's)."""
    knowledge_context: str = ""
    """Passages and products retrieved for the message before the step's first LLM request."""
    message: str = ""
    """The customer's message of this turn (shown to a member answering the customer directly)."""
    briefing: str = ""
    """What the manager of a hierarchical crew adds to a member's instructions for one task."""
    handed_off: bool = False
    """An agent's handoff tool ended the run: the reply is the domain's handoff text."""
    resolved: bool = False
    """An agent's resolve tool ended the conversation: the reply is its closing text."""
