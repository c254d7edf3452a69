"""Cheaper arq polls: jobs already running are not checked again and again, one by one.

arq keeps a running job in the queue (a sorted set) until it ends, and each poll of each worker
checks every due job it reads there: four commands (WATCH, EXISTS, ZSCORE, UNWATCH) per running
job per poll. Here this worker's own running jobs are never checked; the others a poll reads are
first looked up together, in one MGET of their in-progress marks, and only those not marked go
to arq's check (which still decides, atomically, who starts a job). A job found running
elsewhere is then left alone for a second: a job that becomes startable again (retried by arq,
or its worker died) is picked up at most a second late.
"""

from __future__ import annotations

import time
from typing import Any

from arq.constants import in_progress_key_prefix
from arq.worker import Worker

RECHECK_RUNNING_S = 1.0
"""How long a job found running elsewhere is not checked again."""


class SkipRunningJobs(Worker):
    """An arq worker whose polls skip jobs it knows are running."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._running_elsewhere: dict[bytes, float] = {}

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        """Start the due jobs not known to be running, and remember the ones found running."""
        now = time.monotonic()
        if len(self._running_elsewhere) > 4 * self.queue_read_limit:
            self._running_elsewhere = {
                job: until for job, until in self._running_elsewhere.items() if until > now
            }
        fresh = [
            job
            for job in job_ids
            if not self._runs_here(job) and self._running_elsewhere.get(job, 0.0) <= now
        ]
        if not fresh:
            return
        fresh = await self._not_in_progress(fresh, now)
        if not fresh:
            return
        await super().start_jobs(fresh)
        if self.job_counter >= self.max_jobs:
            return  # full: the ones not started were not checked
        for job in fresh:
            if not self._runs_here(job):
                self._running_elsewhere[job] = now + RECHECK_RUNNING_S

    def _runs_here(self, job: bytes) -> bool:
        """The job runs in this worker (a finished task waiting to be cleared does not count)."""
        task = self.tasks.get(job.decode())
        return task is not None and not task.done()

    async def _not_in_progress(self, jobs: list[bytes], now: float) -> list[bytes]:
        """The jobs without an in-progress mark (one MGET); the marked ones are remembered."""
        marks = await self.pool.mget([in_progress_key_prefix + job.decode() for job in jobs])
        startable = []
        for job, mark in zip(jobs, marks, strict=True):
            if mark is None:
                startable.append(job)
            else:
                self._running_elsewhere[job] = now + RECHECK_RUNNING_S
        return startable
