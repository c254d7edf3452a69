"""arq mode: a timed-out turn is retried then given up; stranded turns are found again."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from arq import Retry
from arq.constants import job_key_prefix
from service_fakes import TENANTS, FakeSystem

from chatwootai.config.schema import DomainConfig, RunLimits
from chatwootai.service.context import Service, build_service
from chatwootai.service.queue import ArqTurnQueue, job_id
from chatwootai.service.turns import PendingMessage
from chatwootai.service.worker import (
    RESCAN_LOCK_KEY,
    rescan_pending,
    timeout_warnings,
    turn_budget_s,
    turn_job,
)
from chatwootai.settings import Settings
from chatwootai.store import keys
from chatwootai.store.base import StoreUnavailableError
from conftest import fast_client
from fakes.chatwoot_server import FakeChatwoot

KEY = "3:417"


@pytest.fixture
async def service(settings: Settings, system: FakeSystem) -> AsyncIterator[Service]:
    """The worker's side with a 0.4 s job timeout, giving up after 2 failures."""
    short = settings.model_copy(update={"turn_attempts": 2, "job_timeout_s": 0.4})
    system.slow_s = 1.0
    built = build_service(
        short, system, tenants=TENANTS, client_factory=fast_client, in_process=False
    )
    yield built
    await built.close()


def ctx_of(service: Service) -> dict[str, Any]:
    """What arq hands the job."""
    return {"runner": service.runner, "settings": service.settings, "job_try": 1}


async def say(service: Service, message_id: int, text: str, age_s: float = 10) -> None:
    """A customer message waiting in the conversation's pending list."""
    await service.pending.push(
        PendingMessage(
            message_id=message_id,
            conversation_key=KEY,
            account_id=3,
            display_id=417,
            text=text,
            received_at=time.time() - age_s,
        )
    )


async def test_a_turn_outlasting_the_job_timeout_is_retried_then_given_up(
    service: Service, fake: FakeChatwoot
) -> None:
    assert turn_budget_s(service.settings) < service.settings.job_timeout_s
    await say(service, 1, "um pedido lento")
    with pytest.raises(Retry):
        await turn_job(ctx_of(service), KEY)
    store = service.system.store
    assert await store.get(keys.turn_failures(KEY)) == "1"
    assert await store.get(keys.turn_lock(KEY)) is None  # the cut turn released its lease
    assert [m.message_id for m in await service.pending.peek(KEY)] == [1]

    assert await turn_job(ctx_of(service), KEY) == "gave up"
    assert (await service.system.conversations.load(KEY)).paused
    assert len(fake.calls_to("toggle_status")) == 1  # handed to humans
    assert await service.pending.peek(KEY) == []


async def test_a_failure_the_store_cannot_count_is_retried_not_dropped(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    await say(service, 1, "explode")

    async def store_down(key: str, ttl: int | None = None) -> int:
        raise StoreUnavailableError("Redis went away")

    monkeypatch.setattr(service.system.store, "incr", store_down)
    with pytest.raises(Retry):
        await turn_job(ctx_of(service), KEY)
    assert [m.message_id for m in await service.pending.peek(KEY)] == [1]


async def test_domains_whose_time_limit_does_not_fit_are_named_at_start(
    service: Service, system: FakeSystem
) -> None:
    assert await timeout_warnings(system, service.settings) != []  # 45 s limits, 0.4 s jobs
    roomy = service.settings.model_copy(update={"job_timeout_s": 600.0})
    assert await timeout_warnings(system, roomy) == []
    slow = DomainConfig(name="retail", extends=["_base"], limits=RunLimits(timeout_s=590))
    await system.registry.update_domain_config("retail", slow)
    warnings = await timeout_warnings(system, roomy)
    assert len(warnings) == 1 and warnings[0].startswith("domain retail:")
    assert "CHATWOOTAI_JOB_TIMEOUT" in warnings[0]


@pytest.fixture
async def queue(service: Service, settings: Settings) -> AsyncIterator[ArqTurnQueue]:
    """The arq queue of the deployment; its job keys (outside the key prefix) removed after."""
    arq_queue = ArqTurnQueue(service.settings)
    yield arq_queue
    pool = await arq_queue._get_pool()
    for key in await pool.keys(job_key_prefix + settings.redis_prefix + "*"):
        await pool.delete(key)
    await arq_queue.close()


async def test_stranded_conversations_are_requeued_once(
    service: Service, queue: ArqTurnQueue, caplog: pytest.LogCaptureFixture
) -> None:
    await say(service, 1, "oi", age_s=60)
    await say(service, 2, "tudo bem?", age_s=60)
    store = service.system.store
    with caplog.at_level(logging.WARNING):
        assert await rescan_pending(service.runner, queue) == [KEY]
    assert "re-enqueued the turns of 1 stranded" in caplog.text
    assert await queue.has_job(KEY, [2])
    assert await queue.depth() == 1
    assert await rescan_pending(service.runner, queue) == []  # another worker scanned just now
    await store.delete(RESCAN_LOCK_KEY)
    assert await rescan_pending(service.runner, queue) == []  # its job is queued
    pool = await queue._get_pool()
    await pool.delete(job_key_prefix + job_id(service.settings, KEY, 2))
    await store.delete(RESCAN_LOCK_KEY)
    holding = await service.runner.leases.acquire(KEY)
    assert holding is not None
    assert await rescan_pending(service.runner, queue) == []  # a turn is running
    await service.runner.leases.release(holding)
    await store.delete(RESCAN_LOCK_KEY)
    await say(service, 3, "alô", age_s=0)
    assert await rescan_pending(service.runner, queue) == []  # its own job is on its way


async def test_the_rescan_requeues_a_turn_the_worker_then_answers(
    service: Service, queue: ArqTurnQueue, fake: FakeChatwoot
) -> None:
    await say(service, 7, "oi", age_s=60)
    assert await rescan_pending(service.runner, queue) == [KEY]
    ctx = ctx_of(service)
    ctx["settings"] = service.settings.model_copy(update={"job_timeout_s": 30.0})  # room
    assert await turn_job(ctx, KEY) == "answered"
    assert [c.body["content"] for c in fake.calls_to("messages.create")] == ["[cosmetics/sales] oi"]


async def test_a_dead_workers_job_is_taken_off_the_queue(
    service: Service, queue: ArqTurnQueue
) -> None:
    from arq.constants import in_progress_key_prefix

    await queue.enqueue(KEY, 5, 0)
    dead = job_id(service.settings, KEY, 5)
    pool = await queue._get_pool()
    await pool.set(in_progress_key_prefix + dead, b"1", px=120_000)  # "running" on a dead worker
    assert await queue.depth() == 1
    await queue.drop_job(dead)
    assert await queue.depth() == 0
    assert not await pool.exists(job_key_prefix + dead, in_progress_key_prefix + dead)
    await queue.schedule(KEY, 0, "takeover")  # the take-over job, under a fresh id
    assert await queue.depth() == 1
