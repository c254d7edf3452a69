"""Per-conversation state of one agent: its message history and the slots it has collected."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chatwootai.store import keys
from chatwootai.store.base import Store
from chatwootai.store.ttl import AGENT_STATE_TTL


class AgentState(BaseModel):
    """What an agent remembers of one conversation between turns (JSON-serialisable)."""

    model_config = ConfigDict(extra="ignore")

    messages: list[dict[str, Any]] = Field(
        default_factory=list,
        description="pydantic-ai messages dumped with ModelMessagesTypeAdapter (mode='json').",
    )
    slots: dict[str, Any] = Field(default_factory=dict)
    updated_at: float = 0.0


_TOOL_ANSWER_PARTS = frozenset({"tool-return", "retry-prompt"})
"""Request parts that answer a tool call of the preceding response: never cut before them."""


def _starts_turn(message: dict[str, Any]) -> bool:
    """True when history may start at `message`: a request answering no tool call."""
    if message.get("kind") != "request":
        return False
    parts = message.get("parts") or []
    return not any(
        isinstance(part, dict) and part.get("part_kind") in _TOOL_ANSWER_PARTS for part in parts
    )


def trim_messages(
    messages: list[dict[str, Any]], max_messages: int, max_bytes: int
) -> list[dict[str, Any]]:
    """The longest recent suffix of `messages` within both bounds that starts a turn cleanly.

    Cuts happen only before a request that answers no tool call, so a tool call is never left
    without its result nor a result without its call. When even the last turn is too big, the
    history is emptied.
    """
    sizes = [len(json.dumps(m, separators=(",", ":"), default=str)) for m in messages]
    total = sum(sizes)
    count = len(messages)
    for start in range(len(messages)):
        if count <= max_messages and total <= max_bytes and _starts_turn(messages[start]):
            return messages if start == 0 else messages[start:]
        total -= sizes[start]
        count -= 1
    return []


class AgentStateManager:
    """Loads and saves agents' states under ``agent:state:{domain}:{agent_id}:{conversation}``."""

    def __init__(
        self,
        store: Store,
        *,
        ttl: int = AGENT_STATE_TTL,
        max_messages: int = 40,
        max_bytes: int = 64_000,
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.max_messages = max_messages
        self.max_bytes = max_bytes

    async def load(self, domain: str, agent_id: str, conversation_key: str) -> AgentState:
        """The agent's state in the conversation; a fresh one when absent or unreadable."""
        raw = await self.store.get(keys.agent_state(domain, agent_id, conversation_key))
        return _parse(raw)

    async def load_many(
        self, domain: str, agent_ids: Sequence[str], conversation_key: str
    ) -> dict[str, AgentState]:
        """The states of several agents in the conversation, in one round trip."""
        names = [keys.agent_state(domain, a, conversation_key) for a in agent_ids]
        values = await self.store.mget(names)
        return {a: _parse(v) for a, v in zip(agent_ids, values, strict=True)}

    def bound(self, state: AgentState, max_messages: int | None = None) -> AgentState:
        """`state` with its oldest messages trimmed to the bounds, stamped with the time."""
        limit = self.max_messages if max_messages is None else max_messages
        slots_bytes = len(json.dumps(state.slots, separators=(",", ":"), default=str))
        messages = trim_messages(state.messages, limit, self.max_bytes - slots_bytes)
        return state.model_copy(update={"messages": messages, "updated_at": time.time()})

    def encode(self, state: AgentState, max_messages: int | None = None) -> str:
        """`state` as bounded JSON (trimming only when over a bound)."""
        limit = self.max_messages if max_messages is None else max_messages
        stamped = state.model_copy(update={"updated_at": time.time()})
        raw = stamped.model_dump_json()
        if len(stamped.messages) <= limit and len(raw) <= self.max_bytes:
            return raw
        return self.bound(stamped, limit).model_dump_json()

    async def save(
        self,
        domain: str,
        agent_id: str,
        conversation_key: str,
        state: AgentState,
        ttl: int | None = None,
    ) -> None:
        """Save the agent's state, bounded, with the agent-state TTL (or `ttl`)."""
        await self.store.set(
            keys.agent_state(domain, agent_id, conversation_key),
            self.encode(state),
            self.ttl if ttl is None else ttl,
        )

    async def save_many(
        self,
        domain: str,
        states: Mapping[str, AgentState],
        conversation_key: str,
        ttl: int | None = None,
        max_messages: int | None = None,
    ) -> None:
        """Save several agents' states (agent id → state), bounded, in one round trip.

        `max_messages` is the domain's `limits.max_state_messages` (default: the manager's).
        """
        items = {
            keys.agent_state(domain, a, conversation_key): self.encode(s, max_messages)
            for a, s in states.items()
        }
        await self.store.mset(items, self.ttl if ttl is None else ttl)

    async def clear(self, domain: str, agent_id: str, conversation_key: str) -> None:
        """Forget the agent's state in the conversation."""
        await self.store.delete(keys.agent_state(domain, agent_id, conversation_key))


def fresh_states(states: Mapping[str, AgentState]) -> dict[str, AgentState]:
    """The states of a resolved conversation: history kept, slots (a flow's data) dropped."""
    return {a: s.model_copy(update={"slots": {}}) for a, s in states.items()}


def _parse(raw: str | None) -> AgentState:
    if raw is None:
        return AgentState()
    try:
        return AgentState.model_validate_json(raw)
    except ValidationError:
        return AgentState()
