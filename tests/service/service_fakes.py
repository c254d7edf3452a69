"""A pipeline for service tests: the real registry, tenancy and conversation state, a fake brain.

The "brain" answers ``[{domain}/{crew}] {text}``; a text with "humano" asks for a handoff, one
with "lento" sleeps ``FAKE_SLOW_S`` seconds (to kill a worker mid-turn), one with "explode"
raises; a slow turn first writes the worker's pid under ``fake:started:{conversation}``; one
with "segura" is held (as the flood limit holds a turn) for ``HOLD_S`` from the first time.
``create_system`` is the factory the CLI loads through
``CHATWOOTAI_SYSTEM_FACTORY=service_fakes:create_system``.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from chatwootai.config.registry import DomainRegistry
from chatwootai.config.schema import ChatwootOptions, DomainConfig, Tenants
from chatwootai.conversation import ConversationStore
from chatwootai.settings import Settings
from chatwootai.store.base import Store
from chatwootai.store.connection import open_store
from chatwootai.system import non_text_outcome
from chatwootai.tenancy import DomainManager
from chatwootai.tools.base import HandoffRequest
from chatwootai.turn import IncomingMessage, TurnOutcome

DOMAINS = {
    "cosmetics": ChatwootOptions(
        handoff_team_id=2, handoff_labels=["handoff", "cosmeticos"], crew_labels={"sales": "vendas"}
    ),
    "health": ChatwootOptions(non_text="handoff"),
    "retail": ChatwootOptions(),
}
HOLD_S = 0.3
"""How long a "segura" turn is held."""
TENANTS = Tenants.model_validate({"accounts": {"3": "cosmetics", "4": "health", "5": "retail"}})


class FakeLoader:
    """Three small domains, as the YAML loader would give them."""

    def names(self) -> list[str]:
        """The domain names."""
        return sorted(DOMAINS)

    def load(self, name: str) -> DomainConfig:
        """A minimal valid config of `name`."""
        return DomainConfig(name=name, extends=["_base"], chatwoot=DOMAINS[name])


class FakeSystem:
    """The pipeline interface with real tenancy and state, and a predictable brain."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.registry = DomainRegistry(FakeLoader(), store)
        self.domains = DomainManager(
            store, self.registry, TENANTS, default_domain=settings.default_domain
        )
        self.conversations = ConversationStore(store)
        self.turns: list[tuple[str, IncomingMessage]] = []
        self.slow_s = float(os.environ.get("FAKE_SLOW_S", "0.5"))
        self.held: dict[str, float] = {}
        """Until when each conversation's "segura" turns are held."""

    async def process_message(
        self, message: IncomingMessage, conversation_key: str, channel: str
    ) -> TurnOutcome:
        """Answer like a crew would, without an LLM."""
        domain = await self.domains.get_domain_for_conversation(
            conversation_key, account_id=message.account_id, inbox_id=message.inbox_id
        )
        if not message.text.strip():
            return non_text_outcome(await self.registry.get_domain_config(domain), message)
        text = message.text
        if "explode" in text:
            raise RuntimeError("the brain exploded")
        if "segura" in text:
            until = self.held.setdefault(conversation_key, time.time() + HOLD_S)
            if time.time() < until:
                return TurnOutcome(
                    reply="",
                    domain=domain,
                    crew="held",
                    route_method="flood",
                    route_score=1.0,
                    held_until=until,
                )
        if "lento" in text:
            await self.store.set(f"fake:started:{conversation_key}", str(os.getpid()), 600)
            await asyncio.sleep(self.slow_s)
        self.turns.append((conversation_key, message))
        if "humano" in text:
            options = (await self.registry.get_domain_config(domain)).chatwoot
            return TurnOutcome(
                reply=options.texts.handoff,
                domain=domain,
                crew="sales",
                route_method="handoff_phrase",
                route_score=1.0,
                handoff=HandoffRequest(reason="customer asked for a human", requested_by="routing"),
            )
        return TurnOutcome(
            reply=f"[{domain}/sales] {text}",
            domain=domain,
            crew="sales",
            route_method="rule",
            route_score=1.0,
            input_tokens=10,
            output_tokens=5,
        )

    async def conversation_summary(self, conversation_key: str) -> dict[str, Any]:
        """Domain and state of a conversation."""
        state = await self.conversations.load(conversation_key)
        domain = await self.domains.get_domain_for_conversation(conversation_key)
        return {"domain": domain, "crew": state.crew, "paused": state.paused}

    async def ready(self) -> tuple[bool, dict[str, str]]:
        """Ready when the domains load."""
        try:
            for name in self.registry.names():
                await self.registry.get_domain_config(name, abstract_ok=True)
        except Exception as exc:
            return False, {"domains": str(exc)}
        return True, {"domains": "ok"}

    async def start(self) -> None:
        """Nothing to start."""

    async def close(self) -> None:
        """Close the store."""
        await self.store.close()


async def create_system(settings: Settings) -> FakeSystem:
    """The factory the CLI loads in end-to-end tests."""
    return FakeSystem(settings, open_store(settings))
