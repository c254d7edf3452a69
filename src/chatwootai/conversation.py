"""Routing and ownership state of a conversation: current crew, mid-flow, paused by a human."""

from __future__ import annotations

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
    paused: bool = False
    """True when a human took the conversation over: the bot stays silent."""
    paused_reason: str | None = None
    updated_at: float = 0.0


class ConversationStore:
    """Loads and saves :class:`ConversationState` (key ``conversation:state:{key}``)."""

    def __init__(self, store: Store, *, ttl: int = CONVERSATION_TTL) -> None:
        self.store = store
        self.ttl = ttl

    async def load(self, conversation_key: str) -> ConversationState:
        """The conversation's state; a fresh one when absent, expired or unreadable."""
        raw = await self.store.get(keys.conversation_state(conversation_key))
        if raw is None:
            return ConversationState()
        try:
            return ConversationState.model_validate_json(raw)
        except ValidationError:
            return ConversationState()

    async def save(
        self, conversation_key: str, state: ConversationState, ttl: int | None = None
    ) -> ConversationState:
        """Save the state (stamping `updated_at`); the saved state."""
        stamped = state.model_copy(update={"updated_at": time.time()})
        await self.store.set(
            keys.conversation_state(conversation_key),
            stamped.model_dump_json(),
            self.ttl if ttl is None else ttl,
        )
        return stamped

    async def pause(self, conversation_key: str, reason: str) -> ConversationState:
        """Silence the bot in this conversation (a human is in charge)."""
        state = await self.load(conversation_key)
        update = {"paused": True, "paused_reason": reason, "in_flow": False}
        return await self.save(conversation_key, state.model_copy(update=update))

    async def resume(self, conversation_key: str) -> ConversationState:
        """Give the conversation back to the bot."""
        state = await self.load(conversation_key)
        update = {"paused": False, "paused_reason": None}
        return await self.save(conversation_key, state.model_copy(update=update))

    async def clear(self, conversation_key: str) -> None:
        """Forget the conversation's state."""
        await self.store.delete(keys.conversation_state(conversation_key))
