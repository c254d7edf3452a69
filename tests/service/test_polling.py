"""Worker polls skip jobs known to be running: here (never checked) or elsewhere (once a second)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from arq.worker import Worker

from chatwootai.service import polling
from chatwootai.service.worker import build_worker
from chatwootai.settings import Settings


async def test_running_jobs_are_not_checked_at_every_poll(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[list[bytes]] = []

    async def start_jobs(self: Worker, job_ids: list[bytes]) -> None:
        checked.append(list(job_ids))  # arq's own: here, nothing starts (all run elsewhere)

    monkeypatch.setattr(Worker, "start_jobs", start_jobs)
    worker: Any = build_worker(settings, runner_factory=None, handle_signals=False)
    mine = asyncio.get_running_loop().create_future()
    worker.tasks["job-here"] = mine  # a job this worker runs
    jobs = [b"job-here", b"job-elsewhere", b"job-dead"]
    await worker.start_jobs(jobs)
    assert checked == [[b"job-elsewhere", b"job-dead"]]  # its own job: never checked
    for _ in range(50):  # 50 polls within a second
        await worker.start_jobs(jobs)
    assert len(checked) == 1  # the others: not checked again within a second
    assert worker._running_elsewhere.keys() == {b"job-elsewhere", b"job-dead"}
    assert all(
        0 < until - polling.time.monotonic() <= polling.RECHECK_RUNNING_S
        for until in worker._running_elsewhere.values()
    )
    worker._running_elsewhere = dict.fromkeys(worker._running_elsewhere, 0.0)  # a second later
    await worker.start_jobs(jobs)
    assert checked[-1] == [b"job-elsewhere", b"job-dead"]
    mine.cancel()
