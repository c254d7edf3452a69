"""Background tasks stop even when a library call swallowed their cancellation.

redis-py's asyncio client loses a cancel now and then when it lands in a command (more often on
a loaded machine); a loop task then goes on, and a shutdown awaiting it never ends. The stores
below swallow one cancel on purpose, where the test knows the task is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from chatwootai.service.durability import JournalKeeper
from chatwootai.service.journal import Journal
from chatwootai.service.metrics import Metrics
from chatwootai.service.turns import PendingMessage, pending_list_for
from chatwootai.stopping import stop_task
from chatwootai.store.embedded import EmbeddedStore

BOUND_S = 10.0
"""Liveness bound: a stop that hangs fails the test instead of the run."""


async def ends_within_bound(stopping: Coroutine[Any, Any, None]) -> bool:
    """Run `stopping`; True if it ended within :data:`BOUND_S`.

    Not ``asyncio.wait_for``: cancelling a hung ``await task`` at its timeout cancels the task
    a second time, and the stop would seem to work."""
    task = asyncio.create_task(stopping)
    done, _ = await asyncio.wait({task}, timeout=BOUND_S)
    if not done:
        task.cancel()
        return False
    task.result()
    return True


async def swallow_one_cancel(inside: asyncio.Event) -> bool:
    """Wait (signalling `inside`) and swallow the first cancel, as redis-py can; True if it did."""
    inside.set()
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        return True
    return False


async def test_a_loop_whose_cancel_was_swallowed_is_cancelled_again() -> None:
    inside = asyncio.Event()
    rounds = 0

    async def loop() -> None:
        nonlocal rounds
        swallowed = await swallow_one_cancel(inside)
        assert swallowed
        while True:  # goes on as a keeper or a drainer would
            rounds += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(loop())
    await inside.wait()
    task.cancel()
    await asyncio.sleep(0.2)
    assert not task.done() and rounds > 0  # one cancel was not enough: the hazard is real
    assert await ends_within_bound(stop_task(task))
    assert task.cancelled()


async def test_an_error_the_task_ended_with_is_raised() -> None:
    async def failing() -> None:
        raise RuntimeError("broken round")

    task = asyncio.create_task(failing())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="broken round"):
        await stop_task(task)


async def test_no_task_and_a_finished_task_are_fine() -> None:
    await stop_task(None)
    task = asyncio.create_task(asyncio.sleep(0))
    await task
    await stop_task(task)


class SwallowingStore(EmbeddedStore):
    """An embedded store whose GET, once armed, swallows one cancel like redis-py."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, prefix="t:")
        self.armed = False
        self.inside = asyncio.Event()
        self.swallowed = 0

    async def get(self, key: str) -> str | None:
        if self.armed:
            self.armed = False
            self.swallowed += await swallow_one_cancel(self.inside)
        return await super().get(key)


async def test_the_journal_keeper_closes_when_a_round_swallowed_the_cancel(
    tmp_path: Path,
) -> None:
    store = SwallowingStore(tmp_path / "store.sqlite3")

    async def replay(message: PendingMessage) -> str:
        return "queued"

    keeper = JournalKeeper(
        Journal(tmp_path / "data"), store, pending_list_for(store), replay, Metrics()
    )
    await keeper.start()
    try:
        store.armed = True
        await asyncio.wait_for(store.inside.wait(), BOUND_S)  # a round is inside the store
        assert await ends_within_bound(keeper.close())
        assert store.swallowed == 1
    finally:
        await store.close()
