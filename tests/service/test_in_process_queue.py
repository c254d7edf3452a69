"""The in-process queue: turns cut at the job timeout, and a crashed turn taken over."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from service_fakes import TENANTS, FakeSystem

from chatwootai.service.context import build_service
from chatwootai.service.lease import TurnLeases
from chatwootai.service.queue import InProcessTurnQueue
from chatwootai.service.turns import PendingMessage
from chatwootai.settings import Settings
from chatwootai.store.embedded import EmbeddedStore
from conftest import fast_client
from fakes.chatwoot_server import FakeChatwoot


async def test_a_turn_that_never_ends_is_cut_and_given_up(settings: Settings) -> None:
    quick = settings.model_copy(update={"job_timeout_s": 0.1, "turn_attempts": 2})
    started: list[str] = []
    gave_up: list[str] = []

    async def run(conversation_key: str) -> None:
        started.append(conversation_key)
        await asyncio.Event().wait()  # a turn stuck for good

    async def give_up(conversation_key: str) -> None:
        gave_up.append(conversation_key)

    queue = InProcessTurnQueue(run, quick, on_give_up=give_up)
    await queue.enqueue("3:417", 1, 0)
    await asyncio.wait_for(queue.drain(), 30)
    assert started == ["3:417", "3:417"]
    assert gave_up == ["3:417"]


@pytest.mark.slow(seconds=10)  # waits out the default turn lease
async def test_a_lease_left_by_a_crashed_serve_is_taken_over_after_a_restart(
    settings: Settings, fake: FakeChatwoot, tmp_path: Path
) -> None:
    """Embedded: `serve` died mid-turn; started again, it answers once the lease expired."""
    embedded = settings.model_copy(update={"redis_url": None})
    store = EmbeddedStore(tmp_path / "store.sqlite3", prefix="t:")
    system = FakeSystem(embedded, store)
    crashed = TurnLeases(store, lease_s=embedded.turn_lease_s)
    assert await crashed.acquire("3:417") is not None  # ...and never released nor renewed
    service = build_service(
        embedded, system, tenants=TENANTS, client_factory=fast_client, in_process=True
    )
    await service.pending.push(
        PendingMessage(
            message_id=1,
            conversation_key="3:417",
            account_id=3,
            display_id=417,
            text="oi",
            received_at=time.time(),
        )
    )
    await service.start()  # recovers the pending conversation: busy, left to the watchdog
    try:
        deadline = time.monotonic() + embedded.turn_lease_s + 10
        while not fake.calls_to("messages.create") and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        queue = service.queue
        assert isinstance(queue, InProcessTurnQueue)
        await asyncio.wait_for(queue.drain(), 10)
    finally:
        await service.close()
        await store.close()
    assert [c.body["content"] for c in fake.calls_to("messages.create")] == ["[cosmetics/sales] oi"]
