"""A handoff that ends the run: the agent asks for a human and the turn ends in that request.

The resolve tool is given the same way: its call ends the run with its closing text.

An agent's handoff tool is given to the model as an output tool (pydantic-ai ``ToolOutput``)
instead of a function tool. Calling it runs the handoff through the DataProxy exactly as before
(grants, argument checks, the call recorded, ``deps.handoff`` set) and ends the run with the
domain's handoff text (``chatwoot.texts.handoff``), so a handoff costs one LLM request instead of
two: there is no second request to word a sentence the business already wrote. A refused call
(a missing reason, bad arguments) goes back to the model to be fixed, like any output tool.
"""

from __future__ import annotations

from typing import Any

from pydantic_ai import ModelRetry, RunContext, StructuredDict, ToolOutput

from chatwootai.agents.deps import TurnDeps
from chatwootai.agents.toolkit import proxy_call, tool_error_text
from chatwootai.tools.base import Tool, ToolError

ENDS_RUN_KINDS = frozenset({"handoff", "resolve"})
"""Tool kinds whose call ends the agent's run (with a model other than the offline one)."""


def handoff_output(tool: Tool, agent_id: str, reply: str) -> ToolOutput[str]:
    """An output tool named like `tool` that hands off through the proxy and ends with `reply`.

    The model sees the tool's own name, description and argument schema; the arguments reach
    the proxy as the model sent them (the proxy validates them, so every refusal is recorded).
    """

    async def hand_off(ctx: RunContext[TurnDeps], args: dict[str, Any]) -> str:
        deps = ctx.deps
        try:
            result = await proxy_call(deps, tool, agent_id, args)
        except ToolError as exc:
            raise ModelRetry(tool_error_text(tool.id, exc)) from None
        if result.resolve:  # the resolve tool: its closing text is the reply
            return result.text
        deps.handed_off = True
        return reply

    # The schema the model sees is the tool's own; the value stays a plain dict for the proxy.
    hand_off.__annotations__ = {
        "ctx": RunContext[TurnDeps],
        "args": StructuredDict(tool.args_model.model_json_schema(), name=f"{tool.id}_args"),
        "return": str,
    }
    ending = (
        " Encerra a conversa: o cliente recebe a mensagem de despedida."
        if tool.kind == "resolve"
        else " Encerra o atendimento automático: o cliente recebe o aviso de transferência."
    )
    return ToolOutput(
        hand_off,
        name=tool.id,
        description=(tool.model_description() or f"{tool.kind} tool {tool.id}") + ending,
    )
