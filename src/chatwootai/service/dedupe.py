"""Dropping webhook deliveries seen before: by message id and by ``X-Chatwoot-Delivery``.

Chatwoot re-sends a delivery (same delivery id) after a 429/500, and sends every message twice
(different delivery ids) when the service is both an account webhook and an Agent Bot.

Ids are remembered per account scope (the account, and its installation when it is not the
deployment's Chatwoot: :func:`chatwootai.store.keys.scope_of`): a tenant can only mark ids of its
own account as seen, never suppress another tenant's messages by sending their ids first.
"""

from __future__ import annotations

from chatwootai.store import keys
from chatwootai.store.base import Store

DEDUPE_TTL_S = 86400
"""How long a message or delivery id is remembered."""


class Deduplicator:
    """Marks message and delivery ids as received, once (SET NX with a TTL), per account scope."""

    def __init__(self, store: Store, *, ttl: int = DEDUPE_TTL_S) -> None:
        self.store = store
        self.ttl = ttl

    @staticmethod
    def _names(scope: str, message_id: int | str, delivery_id: str | None) -> list[str]:
        names = [keys.dedupe_message(scope, message_id)]
        if delivery_id:
            names.append(keys.dedupe_delivery(scope, delivery_id))
        return names

    async def first_time(
        self, message_id: int | str, delivery_id: str | None = None, *, scope: str
    ) -> bool:
        """True the first time this message (and delivery) is seen in `scope`; else False."""
        if delivery_id and not await self.store.set(
            keys.dedupe_delivery(scope, delivery_id), "1", self.ttl, nx=True
        ):
            return False
        return await self.store.set(keys.dedupe_message(scope, message_id), "1", self.ttl, nx=True)

    async def mark(
        self, message_id: int | str, delivery_id: str | None = None, *, scope: str
    ) -> None:
        """Mark ids as received whatever was seen before (a spooled message being replayed)."""
        names = self._names(scope, message_id, delivery_id)
        await self.store.mset(dict.fromkeys(names, "1"), self.ttl)

    async def forget(
        self, message_id: int | str, delivery_id: str | None = None, *, scope: str
    ) -> None:
        """Unmark ids whose message could not be stored, so a re-delivery is accepted."""
        await self.store.delete(*self._names(scope, message_id, delivery_id))
