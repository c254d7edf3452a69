"""The typing indicator is never left on, even when the turn ends while 'on' is being sent."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, cast

from chatwootai.service.metrics import Metrics
from chatwootai.service.replies import ReplyTarget
from chatwootai.service.worker import TurnRunner

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


async def test_typing_is_turned_off_after_an_on_request_still_in_flight() -> None:
    replier = SlowTyping()
    unused = cast(Any, None)
    runner = TurnRunner(
        system=unused,
        pending=unused,
        lock=unused,
        replier=cast(Any, replier),
        metrics=Metrics(),
        burst_window_s=0,
        typing_after_s=0,
    )
    typing = asyncio.create_task(runner._typing_while_slow(TARGET))
    await replier.on_sent.wait()
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
