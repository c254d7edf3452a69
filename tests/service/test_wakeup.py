"""Wake-ups: each enqueued job wakes one idle worker; deferred jobs and retries are woken at
their time; a full worker hands its wake-ups back; a stopping worker gives back what it holds.

The workers here have their safety poll set to a minute, longer than the default, so that a job
that runs could only have been started by its wake-up (the bounds below are far shorter)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from arq import Retry, create_pool
from arq.worker import func

from chatwootai.service.polling import SkipRunningJobs
from chatwootai.service.queue import TURN_FUNCTION, ArqTurnQueue, queue_name, redis_settings
from chatwootai.service.wakeup import parse_wake_up, wake_key
from chatwootai.service.worker import OutageTolerantWorker
from chatwootai.settings import Settings

NO_SAFETY_POLL_S = 60.0
TurnFunction = Callable[[dict[str, Any], str], Awaitable[None]]


@pytest.fixture
def slow_poll(settings: Settings) -> Settings:
    """The test settings with a safety poll of a minute."""
    return settings.model_copy(update={"worker_poll_s": NO_SAFETY_POLL_S})


def make_worker(settings: Settings, turn: TurnFunction, **kwargs: Any) -> OutageTolerantWorker:
    """The service's worker class on `settings`, running `turn` as the turn function."""
    return OutageTolerantWorker(
        functions=[func(turn, name=TURN_FUNCTION)],  # type: ignore[arg-type]
        queue_name=queue_name(settings),
        redis_settings=redis_settings(settings),
        wake_key=wake_key(settings),
        safety_poll_s=settings.worker_poll_s,
        handle_signals=False,
        keep_result=0,
        **kwargs,
    )


@contextlib.asynccontextmanager
async def running(*workers: OutageTolerantWorker) -> AsyncIterator[None]:
    """Run the workers for the block, then stop and close them."""
    tasks = [asyncio.create_task(w.async_run()) for w in workers]
    try:
        await asyncio.sleep(0.2)  # their first poll done, they wait on the wake-up list
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for w in workers:
            await w.close()


async def until(check: Callable[[], bool], bound_s: float = 10.0) -> None:
    """Return once `check()` holds; fail after `bound_s` (far below the safety poll)."""
    async with asyncio.timeout(bound_s):
        while not check():
            await asyncio.sleep(0.01)


async def test_enqueued_and_deferred_jobs_are_started_by_their_wake_up(
    slow_poll: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each job is started by the one worker its wake-up reached, without reading the queue."""
    started: dict[str, float] = {}
    due: dict[str, float] = {}
    queue_reads: list[list[bytes]] = []
    full_poll_start = SkipRunningJobs.start_jobs

    async def counted(self: SkipRunningJobs, job_ids: list[bytes]) -> None:
        queue_reads.append(job_ids)
        await full_poll_start(self, job_ids)

    monkeypatch.setattr(SkipRunningJobs, "start_jobs", counted)

    async def turn(ctx: dict[str, Any], conversation_key: str) -> None:
        started[conversation_key] = time.time()
        due[conversation_key] = ctx["score"] / 1000

    queue = ArqTurnQueue(slow_poll)
    workers = [make_worker(slow_poll, turn) for _ in range(2)]
    try:
        async with running(*workers):
            queue_reads.clear()  # the workers' first polls, at start
            for n in range(10):
                await queue.enqueue(f"1:{n}", n, 0)
            await queue.enqueue("1:later", 99, 0.5)  # deferred, as by the burst window
            await until(lambda: len(started) == 11)
            assert started["1:later"] >= due["1:later"]  # never before its time
            assert queue_reads == []  # no worker read the queue (one minute between polls)
            pool = await queue._get_pool()
            assert await pool.llen(wake_key(slow_poll)) == 0  # every wake-up was taken
    finally:
        await queue.close()


async def test_a_retried_job_is_woken_at_its_new_time(slow_poll: Settings) -> None:
    tries: list[int] = []

    async def turn(ctx: dict[str, Any], conversation_key: str) -> None:
        tries.append(ctx["job_try"])
        if ctx["job_try"] == 1:
            raise Retry(defer=0.3)

    queue = ArqTurnQueue(slow_poll)
    worker = make_worker(slow_poll, turn)
    try:
        async with running(worker):
            await queue.enqueue("1:1", 1, 0)
            await until(lambda: tries == [1, 2])
    finally:
        await queue.close()


async def test_a_job_scheduled_for_later_is_woken_at_its_time(slow_poll: Settings) -> None:
    """``TurnQueue.later`` (the conversation lifecycle's steps) gets its wake-up too."""
    ran: list[tuple[str, str, float, float]] = []

    async def step(ctx: dict[str, Any], conversation_key: str, name: str) -> None:
        ran.append((conversation_key, name, time.time(), ctx["score"] / 1000))

    async def turn(ctx: dict[str, Any], conversation_key: str) -> None:
        return None

    queue = ArqTurnQueue(slow_poll)
    worker = OutageTolerantWorker(
        functions=[func(turn, name=TURN_FUNCTION), func(step, name="step")],  # type: ignore[arg-type]
        queue_name=queue_name(slow_poll),
        redis_settings=redis_settings(slow_poll),
        wake_key=wake_key(slow_poll),
        safety_poll_s=slow_poll.worker_poll_s,
        handle_signals=False,
        keep_result=0,
    )
    try:
        async with running(worker):
            assert await queue.later("step", "1:5", "resolve", time.time() + 0.4)
            await until(lambda: bool(ran))
            key, name, started, due = ran[0]
            assert (key, name) == ("1:5", "resolve")
            assert started >= due
    finally:
        await queue.close()


async def test_a_full_worker_hands_back_due_wake_ups_and_a_stopping_one_all_it_holds(
    settings: Settings,
) -> None:
    async def turn(ctx: dict[str, Any], conversation_key: str) -> None:
        return None

    worker = make_worker(settings, turn)
    worker._pool = await create_pool(
        redis_settings(settings), default_queue_name=queue_name(settings)
    )
    key = wake_key(settings)  # under the test's prefix: deleted afterwards
    worker.job_counter = worker.max_jobs  # full
    past, future = (time.time() - 1, "job-due"), (time.time() + 3600, "job-later")
    worker._held = [past, future]
    worker._next_poll = asyncio.get_running_loop().time() + 0.2
    assert await worker._wait() == []  # a full poll at its time; a full worker takes no wake-up
    assert await worker.pool.lrange(key, 0, -1) == [f"{int(past[0] * 1000)} job-due".encode()]
    assert worker._held == [future]
    worker.job_counter = 0
    await worker.pool.delete(key)
    worker.allow_pick_jobs = False  # SIGTERM: its running jobs finish, it starts no new one
    worker._next_poll = 0.0
    await worker._wait()
    assert await worker.pool.lrange(key, 0, -1) == [f"{int(future[0] * 1000)} job-later".encode()]
    assert worker._held == []
    await worker.pool.delete(key)
    later = (time.time() + 7200, "job-much-later")
    worker._held = [later]
    await worker.close()  # closing: what it still holds goes back to the list
    assert await wake_list(settings) == [f"{int(later[0] * 1000)} job-much-later"]


async def wake_list(settings: Settings) -> list[str]:
    """The wake-up list's contents, read on a connection of its own."""
    pool = await create_pool(redis_settings(settings))
    try:
        return [v.decode() for v in await pool.lrange(wake_key(settings), 0, -1)]
    finally:
        await pool.aclose()


def test_wake_ups_are_read_as_due_time_and_job_and_anything_else_as_a_full_poll() -> None:
    assert parse_wake_up(b"1700000000123 test:1:turn:1:7:42") == (
        1700000000.123,
        "test:1:turn:1:7:42",
    )
    assert parse_wake_up(b"garbage") == (0.0, "")  # due at once, no job: the queue is polled
    assert parse_wake_up(b"") == (0.0, "")
