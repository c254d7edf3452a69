"""DomainManager: which domain answers a conversation.

Resolution order, first match wins:

1. a conversation override (``domain:conversation:{conversation_key}``, set at run time);
2. the inbox's mapping in ``tenants.yaml``;
3. the account's mapping in ``tenants.yaml``;
4. the global active domain (``domain:active``, set through the admin API);
5. the deployment default (``CHATWOOT_DOMAIN``);

else :class:`NoDomainError`. Values read from the store are kept in memory for at most
`cache_seconds`, so a change made by another process is seen within that time.
"""

from __future__ import annotations

import logging
import time

from chatwootai.config.errors import ConfigError
from chatwootai.config.registry import DomainNotFoundError, DomainRegistry
from chatwootai.config.schema import DomainConfig, Tenants
from chatwootai.store import keys
from chatwootai.store.base import Store
from chatwootai.store.ttl import CONVERSATION_TTL, ttl_or

log = logging.getLogger(__name__)

__all__ = ["DefaultDomainError", "DomainManager", "DomainNotFoundError", "NoDomainError"]


class NoDomainError(Exception):
    """No domain is configured for a conversation."""

    def __init__(self, conversation_key: str) -> None:
        self.conversation_key = conversation_key
        super().__init__(
            f"No domain for conversation {conversation_key!r}: map its account or inbox in "
            "domains/tenants.yaml, set an active domain through the admin API, or set "
            "CHATWOOT_DOMAIN."
        )


class DefaultDomainError(DomainNotFoundError):
    """The deployment default (CHATWOOT_DOMAIN) names no servable domain."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(name, known)
        self.args = (
            f"CHATWOOT_DOMAIN={name!r} is not a domain that can answer (unknown or abstract); "
            f"set it to one of: {', '.join(sorted(known)) or 'no domain found'}.",
        )


class DomainManager:
    """Maps conversations to domains (override, inbox, account, active domain, default)."""

    def __init__(
        self,
        store: Store,
        registry: DomainRegistry,
        tenants: Tenants,
        *,
        default_domain: str | None,
        ttl: int = CONVERSATION_TTL,
        cache_seconds: float = 1.0,
    ) -> None:
        self.store = store
        self.registry = registry
        self._tenants = tenants
        self.default_domain = default_domain
        self.ttl = ttl
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[str | None, float]] = {}
        """Logical key → (value, monotonic time it stops being fresh)."""
        self._default_checked = False

    @property
    def tenants(self) -> Tenants:
        """The account and inbox mappings in force (``tenants.yaml``); replace with set_tenants."""
        return self._tenants

    def set_tenants(self, tenants: Tenants) -> None:
        """Replace the account and inbox mappings (after tenants.yaml changed)."""
        self._tenants = tenants

    async def get_domain_for_conversation(
        self,
        conversation_key: str,
        refresh_cache: bool = False,
        *,
        account_id: int | str | None = None,
        inbox_id: int | str | None = None,
    ) -> str:
        """The domain answering `conversation_key` (whose account is its prefix if not given)."""
        override, active = await self._read(
            [keys.domain_conversation(conversation_key), keys.domain_active()], refresh_cache
        )
        if override:
            return override
        account = conversation_key.partition(":")[0] if account_id is None else str(account_id)
        inbox = None if inbox_id is None else str(inbox_id)
        entry = self._tenants.entry_for(account, inbox)
        if entry is not None:
            return entry.domain
        if active:
            return active
        if self.default_domain:
            if not self._default_checked:
                await self.check_default_domain()
            return self.default_domain
        raise NoDomainError(conversation_key)

    async def check_default_domain(self) -> None:
        """Raise DefaultDomainError unless the default domain, if set, can answer conversations."""
        if not self.default_domain:
            return
        try:
            await self._servable(self.default_domain)
        except DomainNotFoundError as exc:
            known = [n for n in self.registry.names() if not n.startswith("_")]
            raise DefaultDomainError(self.default_domain, known) from exc
        except ConfigError as exc:  # it exists but is invalid: the others are still served
            log.error(
                "CHATWOOT_DOMAIN=%r is not valid; its turns go to humans:\n%s",
                self.default_domain,
                exc,
            )
        self._default_checked = True

    async def set_conversation_domain(self, conversation_key: str, domain: str) -> None:
        """Make `domain` answer this conversation from now on (for the conversation TTL)."""
        config = await self._servable(domain)
        ttl = ttl_or(config.ttl.conversation, self.ttl)
        key = keys.domain_conversation(conversation_key)
        await self.store.set(key, domain, ttl)
        self._remember(key, domain)

    async def clear_conversation_domain(self, conversation_key: str) -> None:
        """Drop the conversation's override; the mappings decide again."""
        key = keys.domain_conversation(conversation_key)
        await self.store.delete(key)
        self._remember(key, None)

    async def set_active_domain(self, domain: str | None) -> None:
        """Set (or clear, with None) the global active domain."""
        key = keys.domain_active()
        if domain is None:
            await self.store.delete(key)
        else:
            await self._servable(domain)
            await self.store.set(key, domain)
        self._remember(key, domain)

    async def get_active_domain(self) -> str | None:
        """The global active domain, if set."""
        (active,) = await self._read([keys.domain_active()], refresh=True)
        return active

    async def _servable(self, domain: str) -> DomainConfig:
        known = self.registry.names()
        if domain not in known:
            raise DomainNotFoundError(domain, known)
        return await self.registry.get_domain_config(domain)  # refuses an abstract domain

    async def _read(self, names: list[str], refresh: bool) -> list[str | None]:
        now = time.monotonic()
        values: dict[str, str | None] = {}
        missing: list[str] = []
        for name in names:
            cached = None if refresh else self._cache.get(name)
            if cached is not None and cached[1] > now:
                values[name] = cached[0]
            else:
                missing.append(name)
        if missing:
            for name, value in zip(missing, await self.store.mget(missing), strict=True):
                values[name] = value
                self._remember(name, value)
        return [values[name] for name in names]

    def _remember(self, name: str, value: str | None) -> None:
        if self.cache_seconds > 0:
            self._cache[name] = (value, time.monotonic() + self.cache_seconds)
            if len(self._cache) > 50_000:
                self._prune()

    def _prune(self) -> None:
        now = time.monotonic()
        self._cache = {k: v for k, v in self._cache.items() if v[1] > now}
