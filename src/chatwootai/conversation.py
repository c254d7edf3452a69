"""Routing and ownership state of a conversation: current crew, mid-flow, paused by a human.

The two halves have different writers and live under different keys, so neither can overwrite
the other: the turn writes the routing half (``conversation:state:{key}``: crew, in flow, inbox)
after its crew ran, while a webhook may pause or resume the bot at any moment
(``conversation:paused:{key}``, which also remembers when the bot was given the conversation
back, so a flow begun before a human took over is not resumed). A human who takes over during
a long LLM run is never undone by the turn that was running.
"""

from __future__ import annotations

import json
import time

from pydantic import BaseModel, ConfigDict, ValidationError

from chatwootai.store import keys
from chatwootai.store.base import Store
from chatwootai.store.ttl import CONVERSATION_TTL


class ConversationState(BaseModel):
    """What the service knows of a conversation between turns, besides the agents' memories."""

    model_config = ConfigDict(extra="ignore")

    crew: str | None = None
    """The crew that answered last (sticky routing keeps it while `in_flow`)."""
    in_flow: bool = False
    """True while a crew is mid-way through a multi-turn flow (e.g. a booking)."""
    inbox_id: str | None = None
    """The Chatwoot inbox of the conversation's last turn (inbox mappings pick the domain)."""
    paused: bool = False
    """True when a human took the conversation over: the bot stays silent."""
    paused_reason: str | None = None
    updated_at: float = 0.0
    flood_since: float = 0.0
    """Start of the minute whose customer messages reaching the LLM are counted (see flood.py)."""
    flood_messages: int = 0
    """Customer messages of that minute that reached the LLM."""
    flood_strikes: int = 0
    """Minutes in a row over the flood limit."""
    flood_struck_at: float = 0.0
    """Start of the last minute that went over the limit."""


ROUTING_FIELDS = frozenset(
    {
        "crew",
        "in_flow",
        "inbox_id",
        "updated_at",
        "flood_since",
        "flood_messages",
        "flood_strikes",
        "flood_struck_at",
    }
)
"""The fields kept under ``conversation:state:{key}``; the pause has its own key."""


class ConversationStore:
    """Loads and saves :class:`ConversationState`: routing and pause under separate keys."""

    def __init__(self, store: Store, *, ttl: int = CONVERSATION_TTL) -> None:
        self.store = store
        self.ttl = ttl

    async def load(self, conversation_key: str) -> ConversationState:
        """The conversation's state (one round trip); a fresh one when absent or unreadable."""
        raw, paused = await self.store.mget(
            [keys.conversation_state(conversation_key), keys.conversation_paused(conversation_key)]
        )
        state = ConversationState()
        if raw is not None:
            try:
                routing = ConversationState.model_validate_json(raw)
            except ValidationError:
                routing = ConversationState()
            state = ConversationState(**routing.model_dump(include=set(ROUTING_FIELDS)))
        owner = _ownership(paused)
        if owner is None:
            return state
        is_paused, reason, changed_at = owner
        if is_paused:
            return state.model_copy(
                update={"paused": True, "paused_reason": reason, "in_flow": False}
            )
        if state.updated_at < changed_at:  # a flow begun before a human took over is over
            return state.model_copy(update={"in_flow": False})
        return state

    async def save(
        self, conversation_key: str, state: ConversationState, ttl: int | None = None
    ) -> ConversationState:
        """Save the routing half of `state` (crew, in flow, inbox); the pause is not touched."""
        stamped = state.model_copy(update={"updated_at": time.time()})
        await self.store.set(
            keys.conversation_state(conversation_key),
            stamped.model_dump_json(include=set(ROUTING_FIELDS)),
            self.ttl if ttl is None else ttl,
        )
        return stamped

    async def pause(self, conversation_key: str, reason: str) -> ConversationState:
        """Silence the bot in this conversation (a human is in charge)."""
        record = json.dumps({"paused": True, "reason": reason, "at": time.time()})
        await self.store.set(keys.conversation_paused(conversation_key), record, self.ttl)
        return await self.load(conversation_key)

    async def resume(self, conversation_key: str) -> ConversationState:
        """Give the conversation back to the bot (a flow begun before the pause is dropped)."""
        record = json.dumps({"paused": False, "at": time.time()})
        await self.store.set(keys.conversation_paused(conversation_key), record, self.ttl)
        return await self.load(conversation_key)

    async def clear(self, conversation_key: str) -> None:
        """Forget the conversation's state."""
        await self.store.delete(
            keys.conversation_state(conversation_key), keys.conversation_paused(conversation_key)
        )


def _ownership(raw: str | None) -> tuple[bool, str | None, float] | None:
    """(paused, reason, when) from an ownership record; None when absent or unreadable."""
    if raw is None:
        return None
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    reason = record.get("reason")
    at = record.get("at")
    return (
        record.get("paused", True) is not False,
        reason if isinstance(reason, str) else None,
        float(at) if isinstance(at, int | float) else 0.0,
    )
