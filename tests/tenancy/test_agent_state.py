"""AgentStateManager: keys, TTLs, round trips and bounded history that keeps tool pairs whole."""

from __future__ import annotations

import json
from typing import Any

from pydantic_ai import ModelMessagesTypeAdapter
from pydantic_ai.messages import (
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)

from chatwootai.agents.state import AgentState, AgentStateManager, trim_messages
from chatwootai.store import keys
from chatwootai.store.base import Store


def turn(i: int, tool: bool) -> list[Any]:
    """One customer turn as pydantic-ai messages, with a tool call when `tool`."""
    messages: list[Any] = [ModelRequest(parts=[UserPromptPart(content=f"pergunta {i}")])]
    if tool:
        call = ToolCallPart(tool_name="catalog", args={"q": f"q{i}"}, tool_call_id=f"c{i}")
        messages.append(ModelResponse(parts=[call]))
        ret = ToolReturnPart(tool_name="catalog", content=f"r{i}", tool_call_id=f"c{i}")
        messages.append(ModelRequest(parts=[ret]))
    messages.append(ModelResponse(parts=[TextPart(content=f"resposta {i}")]))
    return messages


def history(turns: int) -> list[dict[str, Any]]:
    messages = [m for i in range(turns) for m in turn(i, tool=i % 2 == 0)]
    dumped: list[dict[str, Any]] = ModelMessagesTypeAdapter.dump_python(messages, mode="json")
    return dumped


def assert_tool_pairs_whole(messages: list[dict[str, Any]]) -> None:
    calls = {
        p["tool_call_id"] for m in messages for p in m["parts"] if p["part_kind"] == "tool-call"
    }
    returns = {
        p["tool_call_id"] for m in messages for p in m["parts"] if p["part_kind"] == "tool-return"
    }
    assert calls == returns
    assert not messages or messages[0]["kind"] == "request"
    assert not messages or messages[0]["parts"][0]["part_kind"] == "user-prompt"


async def test_round_trip_key_and_ttl(store: Store) -> None:
    manager = AgentStateManager(store)
    state = AgentState(messages=history(2), slots={"service": "limpeza de pele"})
    await manager.save("health", "scheduler", "3:17", state)
    raw = await store.get("agent:state:health:scheduler:3:17")
    assert raw is not None and json.loads(raw)["slots"] == {"service": "limpeza de pele"}
    ttl = await store.ttl(keys.agent_state("health", "scheduler", "3:17"))
    assert ttl is not None and 86390 <= ttl <= 86400
    loaded = await manager.load("health", "scheduler", "3:17")
    assert loaded.messages == state.messages and loaded.slots == state.slots
    assert loaded.updated_at > 0
    ModelMessagesTypeAdapter.validate_python(loaded.messages)  # still valid pydantic-ai history
    await manager.clear("health", "scheduler", "3:17")
    assert await manager.load("health", "scheduler", "3:17") == AgentState()


async def test_custom_ttl(store: Store) -> None:
    manager = AgentStateManager(store, ttl=600)
    await manager.save("d", "a", "1:1", AgentState())
    await manager.save("d", "b", "1:1", AgentState(), ttl=60)
    ttl_a, ttl_b = await store.ttl("agent:state:d:a:1:1"), await store.ttl("agent:state:d:b:1:1")
    assert ttl_a is not None and 590 <= ttl_a <= 600
    assert ttl_b is not None and 50 <= ttl_b <= 60


async def test_load_many_and_save_many(store: Store) -> None:
    manager = AgentStateManager(store)
    await manager.save_many(
        "retail",
        {"sales": AgentState(slots={"sku": "X1"}), "support": AgentState(slots={"order": "9"})},
        "1:2",
    )
    states = await manager.load_many("retail", ["sales", "support", "manager"], "1:2")
    assert states["sales"].slots == {"sku": "X1"}
    assert states["support"].slots == {"order": "9"}
    assert states["manager"] == AgentState()
    ttl = await store.ttl(keys.agent_state("retail", "support", "1:2"))
    assert ttl is not None and ttl > 86000


async def test_states_are_isolated_by_domain_agent_and_conversation(store: Store) -> None:
    manager = AgentStateManager(store)
    await manager.save("a", "x", "1:1", AgentState(slots={"v": 1}))
    assert await manager.load("b", "x", "1:1") == AgentState()
    assert await manager.load("a", "y", "1:1") == AgentState()
    assert await manager.load("a", "x", "2:1") == AgentState()


async def test_unreadable_state_starts_fresh(store: Store) -> None:
    await store.set(keys.agent_state("a", "x", "1:1"), "not json")
    assert await AgentStateManager(store).load("a", "x", "1:1") == AgentState()


async def test_history_is_bounded_by_message_count(store: Store) -> None:
    manager = AgentStateManager(store, max_messages=10)
    full = history(12)
    await manager.save("d", "a", "1:1", AgentState(messages=full))
    kept = (await manager.load("d", "a", "1:1")).messages
    assert 0 < len(kept) <= 10
    assert kept == full[-len(kept) :]  # the most recent ones
    assert_tool_pairs_whole(kept)


async def test_history_is_bounded_by_bytes(store: Store) -> None:
    manager = AgentStateManager(store, max_bytes=2_000)
    await manager.save("d", "a", "1:1", AgentState(messages=history(30), slots={"k": "v"}))
    raw = await store.get(keys.agent_state("d", "a", "1:1"))
    assert raw is not None
    kept = json.loads(raw)["messages"]
    assert kept and len(json.dumps(kept)) <= 2_000
    assert_tool_pairs_whole(kept)


def test_trim_never_splits_a_tool_call_from_its_result() -> None:
    full = history(6)
    for limit in range(len(full) + 1):
        kept = trim_messages(full, limit, 10**9)
        assert len(kept) <= limit
        assert kept == full[len(full) - len(kept) :]
        assert_tool_pairs_whole(kept)
    assert trim_messages(full, 1, 10**9) == []  # no whole turn fits in one message
    assert trim_messages(full, len(full), 10**9) == full
