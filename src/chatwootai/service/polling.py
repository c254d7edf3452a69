"""Cheaper arq polls: jobs already running are not checked again at every poll.

arq keeps a running job in the queue (a sorted set) until it ends, and each poll of each worker
checks every due job it reads there: four commands (WATCH, EXISTS, ZSCORE, UNWATCH) per running
job per poll. With the default 5 ms poll, a turn thinking for 10 s cost every idle worker about
8,000 Redis commands, and a dead worker's jobs were checked that way until arq's in-progress
timeout. Here a job found running elsewhere is left alone for a second, and this worker's own
running jobs are never checked; a job that becomes startable again (retried by arq) is picked up
at most a second late.
"""

from __future__ import annotations

import time
from typing import Any

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
            if job.decode() not in self.tasks and self._running_elsewhere.get(job, 0.0) <= now
        ]
        if not fresh:
            return
        await super().start_jobs(fresh)
        if self.job_counter >= self.max_jobs:
            return  # full: the ones not started were not checked
        for job in fresh:
            if job.decode() not in self.tasks:
                self._running_elsewhere[job] = now + RECHECK_RUNNING_S
