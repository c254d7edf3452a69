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
import logging
from collections.abc import Mapping
from typing import Any

from pydantic_ai import RunContext
from pydantic_ai import Tool as AITool
from pydantic_ai.messages import ToolReturn

from chatwootai.agents.deps import TurnDeps
from chatwootai.tools.base import Tool, ToolCallRecord, ToolError, ToolResult

logger = logging.getLogger(__name__)


def tool_error_text(tool_id: str, error: ToolError) -> str:
    """What the model is told when a tool call is refused or fails."""
    return f"Erro na ferramenta {tool_id}: {error}. Não invente a resposta; tente outra forma."


async def proxy_call(
    deps: TurnDeps, tool: Tool, agent_id: str, args: Mapping[str, Any]
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


def domain_tool(tool: Tool, agent_id: str) -> AITool[TurnDeps]:
    """A pydantic-ai tool that calls `tool` through the proxy on behalf of `agent_id`."""
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
        description=tool.model_description() or f"{kind} tool {tool_id}",
        json_schema=tool.args_model.model_json_schema(),
        takes_ctx=True,
    )
    ai_tool.metadata = {"kinds": [kind], "tool_id": tool_id, **tool.model_facts()}
    return ai_tool
