"""Per-message cost of tenancy and persistence, without the LLM: time, Redis round trips, memory.

One "message" does what the worker does around a crew run, with warm caches:
domain lookup (DomainManager) + config get (DomainRegistry) + conversation state load +
agent states load (one MGET) + agent states save (one pipeline) + conversation state save.

Run: .venv/bin/python bench/store_overhead.py [--redis-url redis://127.0.0.1:6379/0] [-n 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from pydantic_ai import ModelMessagesTypeAdapter
from pydantic_ai.messages import (
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from redis.asyncio.connection import Connection

from chatwootai.agents.state import AgentState, AgentStateManager
from chatwootai.config.registry import DomainRegistry
from chatwootai.config.schema import DomainConfig, Tenants
from chatwootai.conversation import ConversationStore
from chatwootai.store import keys
from chatwootai.store.base import Store
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.store.redis import RedisStore
from chatwootai.tenancy import DomainManager

AGENTS = ["sales", "support"]
ROUND_TRIPS = 0


def count_round_trips() -> None:
    """Count every packet of commands sent to Redis (a pipeline is one)."""
    original = Connection.send_packed_command

    async def counting(self: Connection, command: Any, check_health: bool = True) -> None:
        global ROUND_TRIPS
        ROUND_TRIPS += 1
        await original(self, command, check_health)

    Connection.send_packed_command = counting  # type: ignore[method-assign]


class Loader:
    def names(self) -> list[str]:
        return ["cosmetics"]

    def load(self, name: str) -> DomainConfig:
        crews = {"sales": {"name": "Vendas", "agents": AGENTS}}
        return DomainConfig.model_validate({"name": name, "crews": crews})


def history(turns: int = 3) -> list[dict[str, Any]]:
    """A realistic agent history: each turn a question, a catalog tool call and an answer."""
    messages: list[Any] = []
    for i in range(turns):
        messages.append(ModelRequest(parts=[UserPromptPart(content=f"Vocês têm protetor {i}?")]))
        call = ToolCallPart(tool_name="catalog", args={"query": "protetor"}, tool_call_id=f"c{i}")
        messages.append(ModelResponse(parts=[call]))
        result = "SKU PS-50 Protetor solar FPS 50, R$ 59,90, 12 em estoque"
        messages.append(
            ModelRequest(
                parts=[ToolReturnPart(tool_name="catalog", content=result, tool_call_id=f"c{i}")]
            )
        )
        messages.append(
            ModelResponse(parts=[TextPart(content="Temos sim! O FPS 50 custa R$ 59,90.")])
        )
    dumped: list[dict[str, Any]] = ModelMessagesTypeAdapter.dump_python(messages, mode="json")
    return dumped


async def one_message(
    manager: DomainManager,
    registry: DomainRegistry,
    conversations: ConversationStore,
    states: AgentStateManager,
    conversation: str,
) -> None:
    domain = await manager.get_domain_for_conversation(conversation)
    await registry.get_domain_config(domain)
    state = await conversations.load(conversation)
    agent_states = await states.load_many(domain, AGENTS, conversation)
    for agent_state in agent_states.values():
        agent_state.slots["seen"] = agent_state.slots.get("seen", 0) + 1
    await states.save_many(domain, agent_states, conversation)
    await conversations.save(conversation, state)


async def measure(store: Store, n: int, label: str) -> None:
    global ROUND_TRIPS
    registry = DomainRegistry(Loader(), store)
    tenants = Tenants.model_validate({"accounts": {"1": "cosmetics"}})
    manager = DomainManager(store, registry, tenants, default_domain=None)
    conversations = ConversationStore(store)
    states = AgentStateManager(store)
    seed = AgentState(messages=history(), slots={"produto": "PS-50"})
    conversation_ids = [keys.conversation_key(1, i) for i in range(50)]
    for conversation in conversation_ids:
        await states.save_many("cosmetics", dict.fromkeys(AGENTS, seed), conversation)
        await one_message(manager, registry, conversations, states, conversation)  # warm caches
    timings: list[float] = []
    ROUND_TRIPS = 0
    for i in range(n):
        start = time.perf_counter()
        await one_message(
            manager, registry, conversations, states, conversation_ids[i % len(conversation_ids)]
        )
        timings.append(time.perf_counter() - start)
    trips = ROUND_TRIPS / n
    timings.sort()
    p95 = timings[int(len(timings) * 0.95)]
    print(
        f"{label}: per message median {statistics.median(timings) * 1e6:.0f} µs, "
        f"p95 {p95 * 1e6:.0f} µs over {n} messages"
        + (f", {trips:.2f} Redis round trips per message" if isinstance(store, RedisStore) else "")
    )


async def redis_memory(url: str, prefix: str, conversations_n: int) -> None:
    client = aioredis.Redis.from_url(url, decode_responses=True)
    store = RedisStore(client, prefix)
    registry = DomainRegistry(Loader(), store)
    manager = DomainManager(store, registry, Tenants(), default_domain=None)
    states = AgentStateManager(store)
    conversations = ConversationStore(store)
    seed = AgentState(messages=history(), slots={"produto": "PS-50"})

    async def create(conversation: str) -> None:
        await manager.set_conversation_domain(conversation, "cosmetics")
        await states.save_many("cosmetics", dict.fromkeys(AGENTS, seed), conversation)
        await conversations.save(conversation, (await conversations.load(conversation)))

    await create("9:0")
    one = [
        keys.domain_conversation("9:0"),
        keys.conversation_state("9:0"),
        *(keys.agent_state("cosmetics", a, "9:0") for a in AGENTS),
    ]
    usage = {k: await client.memory_usage(prefix + k) for k in one}
    for key, size in usage.items():
        print(f"  MEMORY USAGE {key}: {size} B")
    total = sum(v or 0 for v in usage.values())
    print(f"redis: one conversation's keys (MEMORY USAGE sum): {total} B")
    before = int((await client.info("memory"))["used_memory"])
    for i in range(1, conversations_n + 1):
        await create(f"9:{i}")
    after = int((await client.info("memory"))["used_memory"])
    print(
        f"redis: INFO used_memory delta over {conversations_n} conversations: "
        f"{(after - before) / conversations_n:.0f} B per conversation "
        "(shared server: other clients add noise)"
    )
    found = await client.keys(prefix + "*")
    if found:
        await client.delete(*found)
    await client.aclose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--conversations", type=int, default=1000)
    args = parser.parse_args()
    count_round_trips()
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    print(f"command: .venv/bin/python bench/store_overhead.py -n {args.n}")
    print(f"history per agent: {len(history())} pydantic-ai messages, {len(AGENTS)} agents")

    store = RedisStore.from_url(args.redis_url, prefix=prefix)
    await measure(store, args.n, f"redis ({args.redis_url})")
    found = await store.scan("*")
    if found:
        await store.delete(*found)
    await store.close()

    with tempfile.TemporaryDirectory() as tmp:
        embedded = EmbeddedStore(Path(tmp) / "store.sqlite3", prefix=prefix)
        await measure(embedded, args.n, "embedded (sqlite WAL)")
        await embedded.close()

    await redis_memory(args.redis_url, prefix, args.conversations)


if __name__ == "__main__":
    asyncio.run(main())
