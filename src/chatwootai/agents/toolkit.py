"""Domain tools as pydantic-ai tools: the LLM picks arguments, the DataProxy runs the call.

Each tool's parameters schema is its `args_model`'s JSON schema; its body calls
``deps.proxy.call`` with the tenant context of the turn and the calling agent's id. A refused or
failed call becomes a message to the model (never an exception), and every call, ok or not, is
recorded in ``deps.records``. The model reads the result's text; the result's `found` flag and
structured data travel beside it as metadata, which an LLM never sees (the offline model reads it).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from pydantic import BaseModel
from pydantic_ai import RunContext
from pydantic_ai import Tool as AITool
from pydantic_ai.messages import ToolReturn

from chatwootai.agents.deps import TurnDeps
from chatwootai.artefacts import SHARED, artefact_key
from chatwootai.tools.base import Tool, ToolCallRecord, ToolError, ToolResult

logger = logging.getLogger(__name__)


def tool_error_text(tool_id: str, error: ToolError) -> str:
    """What the model is told when a tool call is refused or fails."""
    return f"Erro na ferramenta {tool_id}: {error}. Não invente a resposta; tente outra forma."


class NamedTool(Protocol):
    """What a call through the proxy needs of a tool: its id and kind."""

    @property
    def id(self) -> str:
        """The tool's id in its domain."""
        ...

    @property
    def kind(self) -> str:
        """The tool's kind (catalog, calendar...)."""
        ...


@dataclasses.dataclass(frozen=True, slots=True)
class ToolName:
    """A tool's id and kind alone (what a shared pydantic-ai tool keeps of it)."""

    id: str
    kind: str


async def proxy_call(
    deps: TurnDeps, tool: NamedTool, agent_id: str, args: Mapping[str, Any]
) -> ToolResult:
    """Call `tool` through the proxy for `agent_id` and record the call; raises ToolError.

    A handoff the result carries becomes the turn's handoff (the first one wins).
    """
    tool_id, kind = tool.id, tool.kind
    context = dataclasses.replace(deps.context, agent_id=agent_id)
    try:
        result = await deps.proxy.call(context, tool_id, args)
    except asyncio.CancelledError:
        deps.interrupted_tool = tool_id  # the turn was cut while this tool ran
        raise
    except ToolError as exc:
        deps.records.append(
            ToolCallRecord(
                agent_id, tool_id, dict(args), ok=False, error=str(exc), extra={"kind": kind}
            )
        )
        raise
    deps.records.append(
        ToolCallRecord(agent_id, tool_id, dict(args), ok=True, result=result, extra={"kind": kind})
    )
    if result.handoff is not None and deps.handoff is None:
        deps.handoff = result.handoff
    if result.resolve:
        deps.resolved = True
    return result


@functools.cache
def args_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of a tool's arguments model (built once per model, shared read-only)."""
    return model.model_json_schema()


DOMAIN_TOOL_KIND = "domain-tool"
DOMAIN_TOOL_VERSION = 1
"""Format of the shared pydantic-ai tools of :func:`domain_tool`; bump when they change."""


def tool_identity(tool: Tool) -> tuple[str, ...]:
    """What a model is told of `tool` (id, kind, description, arguments, facts), as strings."""
    model = tool.args_model
    return (
        tool.id,
        tool.kind,
        tool.model_description() or f"{tool.kind} tool {tool.id}",
        f"{model.__module__}.{model.__qualname__}",
        json.dumps(tool.model_facts(), sort_keys=True, default=str, ensure_ascii=False),
    )


def domain_tool(tool: Tool, agent_id: str) -> AITool[TurnDeps]:
    """A pydantic-ai tool that calls `tool` through the proxy on behalf of `agent_id`.

    It keeps only the tool's id and kind (the call goes to the turn's own proxy), so every
    domain with the same tool definition for the same agent shares one (keyed by content).
    """
    description = tool.model_description() or f"{tool.kind} tool {tool.id}"
    facts = tool.model_facts()
    model = tool.args_model
    key = artefact_key(DOMAIN_TOOL_KIND, DOMAIN_TOOL_VERSION, agent_id, *tool_identity(tool))
    name = ToolName(tool.id, tool.kind)
    return SHARED.get_or_build(
        DOMAIN_TOOL_KIND, key, lambda: _domain_tool(name, agent_id, description, facts, model)
    )


def _domain_tool(
    tool: ToolName,
    agent_id: str,
    description: str,
    facts: Mapping[str, Any],
    model: type[BaseModel],
) -> AITool[TurnDeps]:
    tool_id, kind = tool.id, tool.kind

    async def call(ctx: RunContext[TurnDeps], /, **args: Any) -> str | ToolReturn:
        # `ctx` is positional-only so that an LLM argument named "ctx" lands in `args` (and is
        # refused by the proxy) instead of colliding with the run context.
        try:
            result = await proxy_call(ctx.deps, tool, agent_id, args)
        except ToolError as exc:
            return tool_error_text(tool_id, exc)
        metadata = {"kind": kind, "found": result.found, "data": result.data}
        return ToolReturn(return_value=result.text, metadata=metadata)

    ai_tool: AITool[TurnDeps] = AITool.from_schema(
        call,
        name=tool_id,
        description=description,
        json_schema=args_schema(model),
        takes_ctx=True,
    )
    ai_tool.metadata = {"kinds": [kind], "tool_id": tool_id, **facts}
    return ai_tool
