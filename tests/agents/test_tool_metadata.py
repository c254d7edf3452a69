"""Tool results carry `found` and their data beside the text; the state keeps neither."""

from __future__ import annotations

from typing import Any

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel

from chatwootai.agents.factory import CrewFactory
from chatwootai.agents.history import dump_messages

from .test_crew import FixedResolver, tool_returns


async def test_tool_returns_carry_found_and_data_but_the_state_drops_them(
    shop: Any, fake_proxy: Any, ctx: Any
) -> None:
    seen: list[Any] = []

    async def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        returns = tool_returns(messages)
        if returns:
            seen.append(returns[-1].metadata)
            return ModelResponse(parts=[TextPart("ok")])
        return ModelResponse(parts=[ToolCallPart("catalog", {"query": "batom"})])

    crew = CrewFactory(shop, fake_proxy, FixedResolver(FunctionModel(fn))).build("sales")
    result = await crew.run("quanto custa o batom?", {}, ctx)
    assert seen == [{"kind": "catalog", "found": True, "data": None}]
    kept = result.states["sales"].messages
    parts = [p for m in kept for p in m["parts"] if p.get("part_kind") == "tool-return"]
    assert parts and all(p.get("metadata") is None for p in parts)


def test_dump_messages_drops_metadata() -> None:
    messages = [
        ModelRequest(
            parts=[ToolReturnPart("t", "text", tool_call_id="1", metadata={"data": [1] * 1000})]
        )
    ]
    [dumped] = dump_messages(messages)
    assert dumped["parts"][0]["metadata"] is None
