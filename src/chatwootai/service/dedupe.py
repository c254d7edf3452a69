"""Dropping webhook deliveries seen before: by message id and by ``X-Chatwoot-Delivery``.

Chatwoot re-sends a delivery (same delivery id) after a 429/500, and sends every message twice
(different delivery ids) when the service is both an account webhook and an Agent Bot.
"""

from __future__ import annotations

from chatwootai.store import keys
from chatwootai.store.base import Store

DEDUPE_TTL_S = 86400
"""How long a message or delivery id is remembered."""


class Deduplicator:
    """Marks message and delivery ids as received, once (SET NX with a TTL)."""

    def __init__(self, store: Store, *, ttl: int = DEDUPE_TTL_S) -> None:
        self.store = store
        self.ttl = ttl

    async def first_time(self, message_id: int | str, delivery_id: str | None = None) -> bool:
        """True the first time this message (and delivery) is seen; False for a duplicate."""
        if delivery_id and not await self.store.set(
            keys.dedupe_delivery(delivery_id), "1", self.ttl, nx=True
        ):
            return False
        key = keys.dedupe_message(message_id)
        return await self.store.set(key, "1", self.ttl, nx=True)

    async def mark(self, message_id: int | str, delivery_id: str | None = None) -> None:
        """Mark ids as received whatever was seen before (a spooled message being replayed)."""
        items = {keys.dedupe_message(message_id): "1"}
        if delivery_id:
            items[keys.dedupe_delivery(delivery_id)] = "1"
        await self.store.mset(items, self.ttl)

    async def forget(self, message_id: int | str, delivery_id: str | None = None) -> None:
        """Unmark ids whose message could not be stored, so a re-delivery is accepted."""
        names = [keys.dedupe_message(message_id)]
        if delivery_id:
            names.append(keys.dedupe_delivery(delivery_id))
        await self.store.delete(*names)
