"""The typing indicator is never left on: not when the turn ends while 'on' is being sent, nor
when the worker showing it dies (whoever takes the turn over switches it off)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, cast

from chatwootai.service.replies import ReplyTarget
from chatwootai.service.typing_indicator import TypingIndicator
from chatwootai.store import keys
from chatwootai.store.embedded import EmbeddedStore

TARGET = ReplyTarget(
    conversation_key="3:417", account_id=3, display_id=417, inbox_id=None, channel="api"
)


class SlowTyping:
    """A replier whose 'on' request takes until released."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bool]] = []
        self.on_sent = asyncio.Event()
        self.release = asyncio.Event()

    async def typing(self, target: ReplyTarget, on: bool) -> None:
        """Record the request; 'on' waits for the release."""
        self.calls.append(("sent", on))
        if on:
            self.on_sent.set()
            await self.release.wait()
        self.calls.append(("answered", on))


def indicator(replier: SlowTyping, store: EmbeddedStore) -> TypingIndicator:
    """The typing indicator of a turn, shown at once."""
    return TypingIndicator(store, cast(Any, replier), after_s=0)


async def test_typing_is_turned_off_after_an_on_request_still_in_flight() -> None:
    replier = SlowTyping()
    store = EmbeddedStore(":memory:")
    shown = indicator(replier, store)
    typing = asyncio.create_task(shown.while_slow(TARGET))
    await replier.on_sent.wait()
    assert await store.get(keys.turn_typing("3:417")) is not None  # on: recorded
    typing.cancel()  # the turn's answer is ready while 'on' is still on its way
    with contextlib.suppress(asyncio.CancelledError):
        await typing
    replier.release.set()
    await asyncio.wait_for(asyncio.gather(*shown._background), 10)
    assert replier.calls == [
        ("sent", True),
        ("answered", True),
        ("sent", False),
        ("answered", False),
    ]
    assert await store.get(keys.turn_typing("3:417")) is None  # off: forgotten


async def test_typing_left_on_by_a_dead_worker_is_switched_off_by_the_next_turn() -> None:
    replier = SlowTyping()
    replier.release.set()
    store = EmbeddedStore(":memory:")
    dead = indicator(SlowTyping(), store)
    typing = asyncio.create_task(dead.while_slow(TARGET))
    await dead.typist.on_sent.wait()  # type: ignore[attr-defined]
    typing.cancel()  # ...and the worker died before switching typing off: the record stays
    for task in list(dead._background):
        task.cancel()
    assert await store.get(keys.turn_typing("3:417")) is not None
    await indicator(replier, store).switch_off_left_on("3:417")
    assert replier.calls == [("sent", False), ("answered", False)]
    assert await store.get(keys.turn_typing("3:417")) is None
    await indicator(replier, store).switch_off_left_on("3:417")  # nothing left: no call
    assert len(replier.calls) == 2
