"""The typing indicator of a turn that thinks: shown when slow, never left on, even by the dead.

It is shown only once thinking outlasts :data:`TYPING_AFTER_S` (no flicker), and hidden when the
thinking ends, after the request showing it, if still in flight, has ended. While it is on, the
store records it (``turn:typing:{key}``), so when a worker dies mid-turn, whoever takes the turn
over switches it off.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Protocol

from chatwootai.service.replies import ReplyTarget
from chatwootai.store import keys
from chatwootai.store.base import Store, StoreError

log = logging.getLogger(__name__)

TYPING_AFTER_S = 0.3
"""Typing is shown only for turns thinking longer than this."""
TYPING_TTL_S = 3600
"""Life of the record that typing is on (whoever takes the turn over switches it off)."""


class Typist(Protocol):
    """Sends typing on or off to a conversation (the replier); never raises."""

    async def typing(self, target: ReplyTarget, on: bool) -> None:
        """Show or hide the typing indicator."""
        ...


@dataclass(slots=True)
class TypingIndicator:
    """Shows typing while a turn thinks slowly; switches off what a dead turn left on."""

    store: Store
    typist: Typist
    after_s: float = TYPING_AFTER_S
    _background: set[asyncio.Task[None]] = field(default_factory=set)

    async def while_slow(self, target: ReplyTarget) -> None:
        """Show typing once thinking outlasts `after_s`; hide it when cancelled.

        Cancelled while the 'on' request is in flight, it lets that request finish and then
        sends 'off', so typing is never left on.
        """
        await asyncio.sleep(self.after_s)
        record = json.dumps(asdict(target))
        with contextlib.suppress(StoreError):
            await self.store.set(keys.turn_typing(target.conversation_key), record, TYPING_TTL_S)
        on = asyncio.ensure_future(self.typist.typing(target, True))
        try:
            await asyncio.shield(on)
            await asyncio.Event().wait()
        finally:
            off = asyncio.create_task(self._off_after(target, on))
            self._background.add(off)
            off.add_done_callback(self._background.discard)

    async def _off_after(self, target: ReplyTarget, on: asyncio.Future[None]) -> None:
        """Hide the typing indicator once the request showing it has ended."""
        with contextlib.suppress(Exception):
            await on
        await self.typist.typing(target, False)
        with contextlib.suppress(StoreError):
            await self.store.delete(keys.turn_typing(target.conversation_key))

    async def switch_off_left_on(self, conversation_key: str) -> None:
        """Switch off the typing indicator a turn left on (its worker died mid-turn)."""
        raw = await self.store.get(keys.turn_typing(conversation_key))
        if raw is None:
            return
        try:
            target: ReplyTarget | None = ReplyTarget(**json.loads(raw))
        except (ValueError, TypeError):
            target = None
        if target is not None:
            log.info("switching off the typing indicator a stopped turn left on in %s", target)
            await self.typist.typing(target, False)
        await self.store.delete(keys.turn_typing(conversation_key))
