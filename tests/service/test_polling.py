"""Worker polls skip jobs known to be running: here (never checked) or elsewhere (looked up
together in one MGET, then not again for a second)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from arq import create_pool
from arq.constants import in_progress_key_prefix
from arq.worker import Worker

from chatwootai.service import polling
from chatwootai.service.queue import queue_name, redis_settings
from chatwootai.service.worker import build_worker
from chatwootai.settings import Settings


@pytest.fixture
async def worker(settings: Settings, key_prefix: str) -> AsyncIterator[Any]:
    """The service's worker on the test Redis (not running: its polls are called by the test)."""
    built: Any = build_worker(settings, runner_factory=None, handle_signals=False)
    built._pool = await create_pool(
        redis_settings(settings), default_queue_name=queue_name(settings)
    )
    yield built
    marks = [k async for k in built.pool.scan_iter(match=f"{in_progress_key_prefix}{key_prefix}*")]
    if marks:
        await built.pool.delete(*marks)
    await built.pool.aclose()


async def test_running_jobs_are_not_checked_at_every_poll(
    worker: Any, key_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[list[bytes]] = []

    async def start_jobs(self: Worker, job_ids: list[bytes]) -> None:
        checked.append(list(job_ids))  # arq's own check: here nothing starts

    monkeypatch.setattr(Worker, "start_jobs", start_jobs)
    lookups: list[int] = []
    mget = worker.pool.mget

    async def counted_mget(keys: list[str]) -> Any:
        lookups.append(len(keys))
        return await mget(keys)

    worker.pool.mget = counted_mget
    here, elsewhere, free = (
        f"{key_prefix}job-{name}".encode() for name in ("here", "else", "free")
    )
    await worker.pool.set(in_progress_key_prefix + elsewhere.decode(), b"1", ex=60)
    mine = asyncio.get_running_loop().create_future()
    worker.tasks[here.decode()] = mine  # a job this worker runs
    jobs = [here, elsewhere, free]

    await worker.start_jobs(jobs)
    assert lookups == [2]  # one lookup for both jobs not running here
    assert checked == [[free]]  # the one marked in progress never reaches arq's check
    for _ in range(50):  # 50 polls within a second: no lookup, no check
        await worker.start_jobs(jobs)
    assert lookups == [2]
    assert len(checked) == 1
    assert worker._running_elsewhere.keys() == {elsewhere, free}
    assert all(
        0 < until - polling.time.monotonic() <= polling.RECHECK_RUNNING_S
        for until in worker._running_elsewhere.values()
    )
    worker._running_elsewhere = dict.fromkeys(worker._running_elsewhere, 0.0)  # a second later
    await worker.start_jobs(jobs)
    assert lookups == [2, 2]
    assert checked[-1] == [free]

    mine.set_result(None)  # its own job ended (its task not yet cleared by arq): checked again
    worker._running_elsewhere = {}
    await worker.start_jobs(jobs)
    assert checked[-1] == [here, free]
