"""A busy conversation hands its work to the running turn; a delivery Chatwoot cannot take waits.

The worker's side of a deployment (arq mode, jobs called directly) with a scheduler that records
the runs it is asked for, and the in-process queue counting its runs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from service_fakes import TENANTS, FakeSystem

from chatwootai.service.context import Service, build_service
from chatwootai.service.queue import InProcessTurnQueue
from chatwootai.service.turns import PendingMessage
from chatwootai.service.worker import rescan_pending, turn_job
from chatwootai.settings import Settings
from chatwootai.store import keys
from conftest import fast_client
from fakes.chatwoot_server import FakeChatwoot

KEY = "3:417"


class Scheduled:
    """A turn scheduler recording the runs it is asked for."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, float, str]] = []

    async def schedule(self, conversation_key: str, defer_s: float, reason: str) -> None:
        self.runs.append((conversation_key, defer_s, reason))


@pytest.fixture
async def service(settings: Settings, system: FakeSystem) -> AsyncIterator[Service]:
    """The worker's side (arq queue never used: runs are recorded), giving up after 3 failures."""
    three = settings.model_copy(update={"turn_attempts": 3})
    built = build_service(
        three, system, tenants=TENANTS, client_factory=fast_client, in_process=False
    )
    built.runner.scheduler = Scheduled()
    yield built
    await built.close()


def scheduled(service: Service) -> list[tuple[str, float, str]]:
    """The runs the service's runner asked for."""
    scheduler = service.runner.scheduler
    assert isinstance(scheduler, Scheduled)
    return scheduler.runs


def ctx_of(service: Service) -> dict[str, Any]:
    """What arq hands the job."""
    return {"runner": service.runner, "settings": service.settings, "job_try": 1}


async def say(service: Service, message_id: int, text: str) -> None:
    """A customer message (of Chatwoot's conversation 3:417) waiting in the pending list."""
    await service.pending.push(
        PendingMessage(
            message_id=message_id,
            conversation_key=KEY,
            account_id=3,
            display_id=417,
            text=text,
            received_at=time.time(),
        )
    )


async def test_a_job_finding_the_turn_busy_leaves_it_to_the_holder(
    service: Service, system: FakeSystem, fake: FakeChatwoot
) -> None:
    system.slow_s = 1.0
    await say(service, 1, "pedido lento")
    holder = asyncio.create_task(turn_job(ctx_of(service), KEY))
    await asyncio.sleep(0.3)  # the slow turn is thinking
    await say(service, 2, "e o frete?")
    assert await turn_job(ctx_of(service), KEY) == "busy"  # ends at once: no retry
    assert await service.system.store.get(keys.turn_more(KEY)) == "1"
    assert await holder == "answered"
    [(key, defer_s, reason)] = scheduled(service)  # the holder runs the work left
    assert (key, reason) == (KEY, "more") and defer_s == 0
    assert await service.system.store.get(keys.turn_more(KEY)) is None
    assert await turn_job(ctx_of(service), KEY) == "answered"
    replies = [c.body["content"] for c in fake.calls_to("messages.create")]
    assert replies == ["[cosmetics/sales] pedido lento", "[cosmetics/sales] e o frete?"]
    assert service.metrics.turn_jobs.labels("busy")._value.get() == 1


async def test_a_delivery_chatwoot_cannot_take_waits_and_pauses_only_once_handed_off(
    service: Service, fake: FakeChatwoot
) -> None:
    await say(service, 1, "quero falar com um humano")
    fake.down(60)
    assert await turn_job(ctx_of(service), KEY) == "undelivered"
    [(_, defer_s, reason)] = scheduled(service)
    assert reason == "retry" and 1 <= defer_s <= 3
    assert not (await service.system.conversations.load(KEY)).paused  # nothing reached it
    assert [m.message_id for m in await service.pending.peek(KEY)] == [1]
    assert await service.runner.deliveries.counts() == (1, 0)
    calls = len(fake.calls)
    assert await turn_job(ctx_of(service), KEY) == "waiting"  # early: Chatwoot left alone
    assert len(fake.calls) == calls
    fake.up()
    await service.system.store.delete(keys.turn_delivery(KEY))  # as if the retry were due
    assert await turn_job(ctx_of(service), KEY) == "answered"
    assert (await service.system.conversations.load(KEY)).paused  # handed off: now silent
    assert fake.conversations[(3, 417)].status == "open"
    assert await service.pending.peek(KEY) == []
    assert service.metrics.deliveries_deferred.labels("unavailable")._value.get() == 1


async def test_giving_up_while_chatwoot_is_down_keeps_the_messages(
    service: Service, fake: FakeChatwoot
) -> None:
    from arq import Retry

    await say(service, 1, "explode")
    for _ in range(2):
        with pytest.raises(Retry):
            await turn_job(ctx_of(service), KEY)
    fake.down(60)
    assert await turn_job(ctx_of(service), KEY) == "gave up"
    assert not (await service.system.conversations.load(KEY)).paused
    assert [m.message_id for m in await service.pending.peek(KEY)] == [1]  # not dropped
    fake.up()
    await service.system.store.delete(keys.turn_delivery(KEY))
    assert await turn_job(ctx_of(service), KEY) == "answered"  # the kept fallback, delivered
    conversation = fake.conversations[(3, 417)]
    fallback = (await service.system.registry.get_domain_config("cosmetics")).chatwoot
    public = [m["content"] for m in conversation.messages if not m["private"]]
    assert public == [fallback.texts.fallback]
    assert conversation.status == "open"
    assert (await service.system.conversations.load(KEY)).paused


async def test_the_rescan_leaves_a_waiting_delivery_to_its_retry(
    service: Service, fake: FakeChatwoot
) -> None:
    await service.pending.push(
        PendingMessage(
            message_id=1,
            conversation_key=KEY,
            account_id=3,
            display_id=417,
            text="oi",
            received_at=time.time() - 120,
        )
    )
    fake.down(60)
    assert await turn_job(ctx_of(service), KEY) == "undelivered"

    class NoJobs:
        def __init__(self) -> None:
            self.enqueued: list[str] = []

        async def has_job(self, key: str, ids: list[int]) -> bool:
            return False

        async def enqueue(self, key: str, message_id: int, defer_s: float) -> None:
            self.enqueued.append(key)

    queue = NoJobs()
    assert await rescan_pending(service.runner, queue) == []  # type: ignore[arg-type]
    assert queue.enqueued == []  # its retry is scheduled later: not re-enqueued now


async def test_the_in_process_queue_does_not_spin_on_a_busy_conversation(
    settings: Settings, system: FakeSystem, fake: FakeChatwoot
) -> None:
    system.slow_s = 1.0
    service = build_service(
        settings, system, tenants=TENANTS, client_factory=fast_client, in_process=True
    )
    queue = service.queue
    assert isinstance(queue, InProcessTurnQueue)
    runs: list[str] = []
    run = service.runner.run

    async def counted(conversation_key: str) -> str:
        outcome = await run(conversation_key)
        runs.append(outcome)
        return outcome

    queue.run = counted
    try:
        for message_id, text in enumerate(["pedido lento", "oi", "tudo bem?", "alô"], start=1):
            message = PendingMessage(
                message_id=message_id,
                conversation_key=KEY,
                account_id=3,
                display_id=417,
                text=text,
                received_at=time.time(),
            )
            await service.accept(message, dedupe=False)
            await asyncio.sleep(0.2)
        await asyncio.wait_for(queue.drain(), 30)
    finally:
        await service.close()
    assert runs.count("answered") == 2  # the slow turn, then the three others merged
    assert runs.count("busy") == 3  # one run per message that found it busy, no more
    assert len(runs) <= 6
    replies = [c.body["content"] for c in fake.calls_to("messages.create")]
    assert replies == ["[cosmetics/sales] pedido lento", "[cosmetics/sales] oi\ntudo bem?\nalô"]
