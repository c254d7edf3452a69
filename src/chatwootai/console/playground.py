"""The playground: chat with a domain as a customer, on a throw-away conversation.

Turns go through the same pipeline the workers use (:meth:`ChatwootAISystem.process_message`:
tenancy, config, routing, crew, state, tools behind the DataProxy), on a system of its own whose
store is an in-memory embedded store: nothing is posted to Chatwoot, and the conversation's state,
bookings and outcomes never reach the service's store (the knowledge indexes, built once per
content hash, are shared). Each turn is served with the config the service serves at that moment.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from chatwootai.config.errors import ConfigError
from chatwootai.config.registry import DomainNotFoundError, DomainRegistry
from chatwootai.console.activity import ConversationActivity
from chatwootai.console.trace import trace_of
from chatwootai.settings import Settings
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.system import ChatwootAISystem
from chatwootai.turn import Customer, IncomingMessage

log = logging.getLogger(__name__)

PREFIX = "playground:"
"""Conversation keys of the playground start with this (never a Chatwoot key)."""
CHANNELS = ("whatsapp", "webwidget", "email", "sms", "telegram", "instagram", "facebook", "api")


class PlaygroundError(Exception):
    """A playground request that cannot be done (unknown conversation, bad channel...)."""


@dataclass(frozen=True, slots=True)
class PlaygroundMessage:
    """What the customer of a playground turn says and who they are."""

    domain: str
    text: str
    channel: str = "whatsapp"
    phone: str | None = None
    email: str | None = None
    verified: bool = False
    conversation_id: str | None = None


def new_conversation_id() -> str:
    """A fresh throw-away conversation key."""
    return PREFIX + secrets.token_hex(6)


class Playground:
    """Throw-away conversations answered by the pipeline on a store of their own."""

    def __init__(self, settings: Settings, served: DomainRegistry) -> None:
        self.settings = settings.model_copy(update={"watch": False})
        self.served = served
        """The service's registry: the playground serves the config it serves."""
        self._system: ChatwootAISystem | None = None
        self._lock = asyncio.Lock()
        self.activity: ConversationActivity | None = None

    async def system(self) -> ChatwootAISystem:
        """The playground's pipeline, built on first use."""
        async with self._lock:
            if self._system is None:
                store = EmbeddedStore(":memory:", prefix=self.settings.redis_prefix)
                self._system = await ChatwootAISystem.create(self.settings, store=store)
                self.activity = ConversationActivity(store)
            return self._system

    async def turn(self, message: PlaygroundMessage) -> dict[str, Any]:
        """Answer one customer message; the reply with its trace and the conversation id."""
        if message.channel not in CHANNELS:
            raise PlaygroundError(f"unknown channel {message.channel!r}; one of {CHANNELS}")
        if not message.text.strip():
            raise PlaygroundError("say something: the message is empty")
        system = await self.system()
        assert self.activity is not None
        key = message.conversation_id or new_conversation_id()
        if not key.startswith(PREFIX):
            raise PlaygroundError(f"{key!r} is not a playground conversation")
        previous = await self.activity.domain_of(key)
        if previous is not None and previous != message.domain:
            key = new_conversation_id()  # another domain: another conversation
        config = await self.served.get_domain_config(message.domain)
        if system.registry.cached(message.domain) is not config:
            await system.registry.update_domain_config(message.domain, config)
        await system.domains.set_conversation_domain(key, message.domain)
        incoming = IncomingMessage(
            text=message.text.strip(),
            customer=Customer(
                id="playground",
                name="Playground",
                phone=message.phone or None,
                email=message.email or None,
                verified=message.verified,
            ),
            channel=message.channel,
        )
        at = time.time()
        started = time.perf_counter()
        try:
            outcome = await system.process_message(incoming, key, message.channel)
        except (ConfigError, DomainNotFoundError):
            raise
        except Exception as exc:  # a model or tool failure: said on the page, never a 500
            failure = f"{type(exc).__name__}: {exc}"
            log.warning("playground turn of %s failed: %s", message.domain, failure)
            raise PlaygroundError(f"the turn failed: {failure}") from exc
        elapsed_ms = (time.perf_counter() - started) * 1000
        trace = trace_of(
            outcome, customer=incoming.text, channel=message.channel, at=at, turn_ms=elapsed_ms
        )
        await self.activity.record(key, trace, ttl=self.settings.ttl_conversation)
        return {"conversation_id": key, "turn": trace}

    async def transcript(self, conversation_id: str) -> tuple[str | None, list[dict[str, Any]]]:
        """The domain and turns of a playground conversation (None, [] when unknown)."""
        if self._system is None or self.activity is None:
            return None, []
        domain = await self.activity.domain_of(conversation_id)
        return domain, await self.activity.transcript(conversation_id)

    async def close(self) -> None:
        """Close the playground's pipeline and store."""
        if self._system is not None:
            await self._system.close()
            self._system = None
