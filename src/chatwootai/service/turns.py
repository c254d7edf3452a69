"""Per-conversation turn taking: the pending messages and burst merging.

Every customer message the webhook accepts is appended to its conversation's pending list
before the webhook answers. A turn takes *all* pending messages at once (a burst becomes one
turn) and removes them only after the reply was sent, so a worker that dies mid-turn loses
nothing. One turn at a time per conversation: see :mod:`chatwootai.service.lease`.
"""

from __future__ import annotations

import hashlib
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence

from pydantic import BaseModel, Field, ValidationError

from chatwootai.media.attachments import AttachmentInfo, InboundAttachment
from chatwootai.store import keys
from chatwootai.store.base import Store
from chatwootai.turn import Customer, IncomingMessage

PENDING_TTL_S = 7 * 86400
"""A pending list not touched for this long is dropped (a conversation long abandoned)."""


class PendingMessage(BaseModel):
    """A customer message accepted by the webhook and not answered yet."""

    message_id: int
    conversation_key: str
    account_id: int
    display_id: int
    inbox_id: int | None = None
    channel: str = "api"
    text: str = ""
    content_kind: str = "text"
    """``text``, or the attachment kind (image, audio, location...) when there is no text."""
    customer_id: str | None = None
    customer_name: str | None = None
    customer_phone: str | None = None
    customer_email: str | None = None
    customer_verified: bool = False
    """Chatwoot verified the contact's identity (``hmac_verified``)."""
    delivery_id: str | None = None
    received_at: float = 0.0
    attachments: list[InboundAttachment] = Field(default_factory=list)
    """The message's attachments (metadata only: the files are fetched by the turn)."""
    bot_assigned: bool = False
    """The conversation was assigned to the bot (``meta.assignee_type == "AgentBot"``)."""


class PendingList(ABC):
    """The ordered, durable list of a conversation's unanswered messages."""

    @abstractmethod
    async def push(self, message: PendingMessage) -> None:
        """Append a message to its conversation's list."""

    @abstractmethod
    async def peek(self, conversation_key: str) -> list[PendingMessage]:
        """Every pending message of the conversation, oldest first, without removing them."""

    @abstractmethod
    async def remove(self, conversation_key: str, message_ids: Sequence[int]) -> None:
        """Remove answered messages (by message id)."""

    @abstractmethod
    async def conversations(self) -> list[str]:
        """Conversation keys that have pending messages."""


def _parse(raw: Sequence[str]) -> list[PendingMessage]:
    messages: list[PendingMessage] = []
    for item in raw:
        try:
            messages.append(PendingMessage.model_validate_json(item))
        except ValidationError:
            continue
    return messages


def _raw_ids(raw: Sequence[str]) -> list[int | None]:
    ids: list[int | None] = []
    for item in raw:
        try:
            ids.append(int(json.loads(item)["message_id"]))
        except (ValueError, KeyError, TypeError):
            ids.append(None)
    return ids


class StorePendingList(PendingList):
    """Pending lists as store lists (Redis lists, or the embedded store's list table)."""

    def __init__(self, store: Store, *, ttl: int = PENDING_TTL_S) -> None:
        self.store = store
        self.ttl = ttl

    async def push(self, message: PendingMessage) -> None:
        """Append a message to its conversation's list (refreshing the list's TTL)."""
        key = keys.pending_messages(message.conversation_key)
        await self.store.list_push(key, message.model_dump_json(), self.ttl)

    async def peek(self, conversation_key: str) -> list[PendingMessage]:
        """Every pending message, oldest first."""
        return _parse(await self.store.list_range(keys.pending_messages(conversation_key)))

    async def remove(self, conversation_key: str, message_ids: Sequence[int]) -> None:
        """Remove every entry of these message ids (a re-delivered copy too)."""
        wanted = set(message_ids)
        key = keys.pending_messages(conversation_key)
        raw = await self.store.list_range(key)
        answered = [item for item, mid in zip(raw, _raw_ids(raw), strict=True) if mid in wanted]
        await self.store.list_remove(key, answered)

    async def conversations(self) -> list[str]:
        """Conversation keys with pending messages."""
        prefix = keys.pending_messages("")
        return [key[len(prefix) :] for key in await self.store.scan(prefix + "*")]


def pending_list_for(store: Store) -> PendingList:
    """The pending lists of a deployment, on its store."""
    return StorePendingList(store)


def turn_id(messages: Sequence[PendingMessage]) -> str:
    """A stable id of a turn: the same messages give the same id on a re-run."""
    joined = ",".join(str(m.message_id) for m in sorted(messages, key=lambda m: m.message_id))
    return hashlib.sha256(joined.encode()).hexdigest()[:20]


def still_bursting(
    messages: Sequence[PendingMessage], window_s: float, *, now: float | None = None
) -> bool:
    """True while the last message is younger than the burst window (its own job will come).

    A burst never waits longer than four windows from its first message.
    """
    if window_s <= 0 or not messages:
        return False
    current = time.time() if now is None else now
    newest = max(m.received_at for m in messages)
    oldest = min(m.received_at for m in messages)
    return newest + window_s - 0.05 > current and oldest + 4 * window_s > current


def merge_burst(messages: Sequence[PendingMessage]) -> IncomingMessage:
    """One incoming message from a burst: texts joined in message order, the last sender."""
    ordered = sorted({m.message_id: m for m in messages}.values(), key=lambda m: m.message_id)
    texts = [m.text.strip() for m in ordered if m.text.strip()]
    last = ordered[-1]
    if texts:
        kind = "text"
    else:
        kind = next((k for k in (m.content_kind for m in reversed(ordered)) if k != "text"), "text")
    return IncomingMessage(
        text="\n".join(texts),
        message_ids=tuple(str(m.message_id) for m in ordered),
        customer=Customer(
            id=last.customer_id,
            name=last.customer_name,
            phone=last.customer_phone,
            email=last.customer_email,
            verified=last.customer_verified,
        ),
        account_id=str(last.account_id),
        inbox_id=None if last.inbox_id is None else str(last.inbox_id),
        channel=last.channel,
        content_kind=kind,
        attachments=tuple(
            AttachmentInfo(a.file_type, a.suffix) for m in ordered for a in m.attachments
        ),
    )
