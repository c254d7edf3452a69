"""What the service needs of the pipeline (:class:`chatwootai.system.ChatwootAISystem`)."""

from __future__ import annotations

from typing import Any, Protocol

from chatwootai.config.registry import DomainRegistry
from chatwootai.config.schema import Tenants
from chatwootai.conversation import ConversationStore
from chatwootai.settings import Settings
from chatwootai.store.base import Store
from chatwootai.turn import IncomingMessage, TurnOutcome


class DomainDirectory(Protocol):
    """Which domain serves a conversation (the tenancy manager)."""

    @property
    def tenants(self) -> Tenants:
        """The account and inbox mappings in force (they follow ``tenants.yaml`` reloads)."""
        ...

    async def get_domain_for_conversation(
        self,
        conversation_key: str,
        *,
        account_id: int | str | None = None,
        inbox_id: int | str | None = None,
    ) -> str:
        """The domain of a conversation: override, inbox/account mapping, active, default."""
        ...

    async def set_conversation_domain(self, conversation_key: str, domain: str) -> None:
        """Pin a conversation to a domain; raises DomainNotFoundError for an unknown one."""
        ...

    async def set_active_domain(self, domain: str) -> None:
        """Set the global active domain; raises DomainNotFoundError for an unknown one."""
        ...


class Pipeline(Protocol):
    """The system behind the service: tenancy, config, conversation state and one turn."""

    settings: Settings
    store: Store
    registry: DomainRegistry
    domains: DomainDirectory
    conversations: ConversationStore

    async def process_message(
        self, message: IncomingMessage, conversation_key: str, channel: str
    ) -> TurnOutcome:
        """Answer one (possibly merged) customer message."""
        ...

    async def conversation_summary(self, conversation_key: str) -> dict[str, Any]:
        """Domain, current crew and state of a conversation (for the admin API)."""
        ...

    async def ready(self) -> tuple[bool, dict[str, str]]:
        """Whether the system can serve, with a reason per component."""
        ...

    async def start(self) -> None:
        """Start background work (config invalidation listener...)."""
        ...

    async def close(self) -> None:
        """Stop background work and release the store."""
        ...
