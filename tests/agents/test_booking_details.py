"""`save_booking_details`: keeps the details, forgets one given as "", reports them all."""

from __future__ import annotations

from typing import Any

from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from chatwootai.agents.factory import CrewFactory

from .test_crew import FixedResolver, tool_returns


async def test_details_are_kept_forgotten_and_reported(
    scheduler_domain: Any, fake_proxy: Any, ctx: Any
) -> None:
    seen: list[dict[str, Any]] = []
    plan = [
        {
            "service": "limpeza",
            "date": "2030-01-10",
            "action": "remarcar",
            "booking_id": "AB12CD34",
        },
        {"date": "", "time": "10:00", "unknown": "x"},
    ]

    async def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        returns = tool_returns(messages) if len(messages) > 1 else []
        if returns:
            seen.append(returns[-1].metadata)
        if len(seen) < len(plan):
            return ModelResponse(parts=[ToolCallPart("save_booking_details", plan[len(seen)])])
        return ModelResponse(parts=[TextPart("ok")])

    crew = CrewFactory(scheduler_domain, fake_proxy, FixedResolver(FunctionModel(fn))).build(
        "agenda"
    )
    result = await crew.run("quero remarcar", {}, ctx)
    assert seen[0]["missing"] == ["time"] and seen[0]["confirm"] is True
    assert seen[1]["before"]["date"] == "2030-01-10"
    assert seen[1]["slots"] == {
        "service": "limpeza",
        "time": "10:00",
        "action": "remarcar",
        "booking_id": "AB12CD34",
    }
    assert seen[1]["missing"] == ["date"]
    assert result.in_flow and result.states["scheduler"].slots == seen[1]["slots"]
