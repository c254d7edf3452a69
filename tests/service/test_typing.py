"""The typing indicator is never left on: not when the turn ends while 'on' is being sent, nor
when the worker showing it dies (whoever takes the turn over switches it off)."""

from __future__ import annotations

import asyncio
import contextlib
from types import SimpleNamespace
from typing import Any, cast

from chatwootai.service.metrics import Metrics
from chatwootai.service.replies import ReplyTarget
from chatwootai.service.worker import TurnRunner
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


def runner_of(replier: SlowTyping, store: EmbeddedStore) -> TurnRunner:
    unused = cast(Any, None)
    return TurnRunner(
        system=cast(Any, SimpleNamespace(store=store)),
        pending=unused,
        leases=unused,
        replier=cast(Any, replier),
        metrics=Metrics(),
        burst_window_s=0,
        deliveries=unused,
        typing_after_s=0,
    )


async def test_typing_is_turned_off_after_an_on_request_still_in_flight() -> None:
    replier = SlowTyping()
    store = EmbeddedStore(":memory:")
    runner = runner_of(replier, store)
    typing = asyncio.create_task(runner._typing_while_slow(TARGET))
    await replier.on_sent.wait()
    assert await store.get(keys.turn_typing("3:417")) is not None  # on: recorded
    typing.cancel()  # the turn's answer is ready while 'on' is still on its way
    with contextlib.suppress(asyncio.CancelledError):
        await typing
    replier.release.set()
    await asyncio.wait_for(asyncio.gather(*runner._background), 10)
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
    dead = runner_of(SlowTyping(), store)
    typing = asyncio.create_task(dead._typing_while_slow(TARGET))
    await dead.replier.on_sent.wait()  # type: ignore[attr-defined]
    typing.cancel()  # ...and the worker died before switching typing off: the record stays
    for task in list(dead._background):
        task.cancel()
    assert await store.get(keys.turn_typing("3:417")) is not None
    await runner_of(replier, store)._typing_left_on("3:417")
    assert replier.calls == [("sent", False), ("answered", False)]
    assert await store.get(keys.turn_typing("3:417")) is None
    await runner_of(replier, store)._typing_left_on("3:417")  # nothing left: no call
    assert len(replier.calls) == 2
