"""Bounding histories: whole turns only, never a tool return without its call."""

from __future__ import annotations

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)

from chatwootai.agents.history import (
    bound_dumped,
    bound_state,
    dump_messages,
    load_messages,
)


def turn(text: str, with_tool: bool = False) -> list[ModelMessage]:
    messages: list[ModelMessage] = [ModelRequest(parts=[UserPromptPart(text)])]
    if with_tool:
        messages += [
            ModelResponse(parts=[ToolCallPart("faq", {"query": text}, tool_call_id=text)]),
            ModelRequest(parts=[ToolReturnPart("faq", "r", tool_call_id=text)]),
        ]
    return [*messages, ModelResponse(parts=[TextPart(f"re {text}")])]


def test_state_bound_drops_whole_turns():
    a, b, c = turn("a"), turn("b", with_tool=True), turn("c")
    history = a + b + c
    assert bound_state(history, 5) == c  # turn b (4 messages) does not fit beside c
    assert bound_state(history, 6) == b + c
    assert bound_state(history, 1) == []


def test_dumped_bound_matches_the_object_bound():
    history = turn("a", with_tool=True) + turn("b") + turn("c", with_tool=True)
    dumped = dump_messages(history)
    for limit in range(len(history) + 1):
        assert bound_dumped(dumped, limit) == dump_messages(bound_state(history, limit))
    assert load_messages(dumped) == history
