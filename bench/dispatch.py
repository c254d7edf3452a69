"""Queue dispatch: how soon a worker starts an enqueued turn job, and what the queue costs Redis.

What runs (all on this machine):

* a redis-server of the bench's own (free port, no persistence), so that INFO commandstats counts
  only the queue's commands (``--redis-url`` to use another server);
* k worker processes, each the service's worker exactly as ``chatwootai worker`` builds it
  (``build_worker``, default settings), with the turn function replaced by one that records how
  late it started (its start time less the job's due time, arq's score), pushes that on a list
  (one RPUSH, not counted below) and then sleeps ``--job-s`` (1 s: a turn waiting on a 1 s LLM,
  so that running jobs sit in the queue while the others poll, as turns do);
* the jobs are enqueued by the service's own enqueuer (``ArqTurnQueue.enqueue``) at a steady
  rate (open loop), at once (``defer 0``) or deferred (``defer 0.5`` s, as the burst window does).

Figures per worker count and deferral: dispatch latency p50/p90/p99 (enqueue, or due time, to job
start), Redis commands per job (INFO commandstats delta over the phase, without the recorder's
RPUSH and the bench's LLEN), worker CPU per job (/proc), and, before the phase, the Redis commands
per second of the idle workers (over 10 s, divided by k).

Run: .venv/bin/python bench/dispatch.py [--workers 1,2,4] [--jobs 200] [--rate 20] [--job-s 1]
     [--defers 0,0.5] [--redis-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import os
import platform
import shlex
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, cast

import redis

from private_redis import command_calls, delta, private_redis

CLK_TCK = os.sysconf("SC_CLK_TCK")
IDLE_S = 10.0
NOT_COUNTED = ("rpush", "llen")
"""The bench's own commands (recording, waiting)."""


# -- the worker process -----------------------------------------------------------------------


def worker_main() -> None:
    """Run the service's worker with a turn function that records how late it started."""
    from chatwootai.service.queue import TURN_FUNCTION
    from chatwootai.service.worker import build_worker
    from chatwootai.settings import Settings

    results = os.environ["BENCH_RESULTS_KEY"]
    job_s = float(os.environ["BENCH_JOB_S"])

    async def record(ctx: dict[str, Any], conversation_key: str) -> str:
        late_ms = time.time() * 1000 - float(ctx["score"])
        await ctx["redis"].rpush(results, f"{late_ms:.3f}")
        await asyncio.sleep(job_s)
        return "answered"

    worker: Any = build_worker(Settings(), runner_factory=None)
    worker.on_startup = worker.on_shutdown = None  # no turn runner: only the queue is measured
    turn = worker.functions[TURN_FUNCTION]
    worker.functions[TURN_FUNCTION] = dataclasses.replace(turn, coroutine=record)
    worker.run()


# -- the bench --------------------------------------------------------------------------------


@dataclasses.dataclass
class Phase:
    """The figures of one worker count and deferral."""

    workers: int
    defer_s: float
    late_ms: list[float]
    calls: dict[str, int]
    cpu_s: float
    idle_per_worker: float


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def enqueue_steadily(url: str, prefix: str, jobs: int, rate: float, defer_s: float) -> None:
    """Enqueue `jobs` turn jobs at `rate` per second through the service's enqueuer."""
    from chatwootai.service.queue import ArqTurnQueue
    from chatwootai.settings import Settings

    queue = ArqTurnQueue(Settings(REDIS_URL=url, CHATWOOTAI_REDIS_PREFIX=prefix))
    start = time.perf_counter()
    try:
        for n in range(jobs):
            await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
            await queue.enqueue(f"9:{n}", n, defer_s)
    finally:
        await queue.close()


def run_phase(url: str, workers: int, defer_s: float, args: argparse.Namespace) -> Phase:
    """Start k workers, measure them idle, then under a steady flow of jobs; stop them."""
    r = redis.Redis.from_url(url, decode_responses=True)
    prefix = f"bench:dispatch{os.getpid()}:{uuid.uuid4().hex[:6]}:"
    results = prefix + "results"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATWOOT")}
    env.update(
        REDIS_URL=url,
        CHATWOOTAI_REDIS_PREFIX=prefix,
        CHATWOOTAI_LOG_LEVEL="WARNING",
        BENCH_RESULTS_KEY=results,
        BENCH_JOB_S=str(args.job_s),
    )
    procs = [
        subprocess.Popen([sys.executable, __file__, "--worker"], env=env) for _ in range(workers)
    ]
    try:
        time.sleep(3.0)  # imports, first poll
        before = command_calls(r)
        time.sleep(IDLE_S)
        idle = sum(v for k, v in delta(before, command_calls(r)).items() if k not in NOT_COUNTED)
        cpu_before = sum(cpu_s(p.pid) for p in procs)
        before = command_calls(r)
        asyncio.run(enqueue_steadily(url, prefix, args.jobs, args.rate, defer_s))
        deadline = time.monotonic() + 120
        while r.llen(results) < args.jobs:
            if time.monotonic() > deadline:
                raise SystemExit("jobs did not all start: see the workers' output")
            time.sleep(0.05)
        time.sleep(args.job_s + 0.5)  # the last jobs end
        calls = delta(before, command_calls(r))
        cpu = sum(cpu_s(p.pid) for p in procs) - cpu_before
        late = [float(x) for x in r.lrange(results, 0, -1)]
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        stale = list(r.scan_iter(match=f"*{prefix}*", count=1000))
        if stale:
            r.delete(*stale)
        r.close()
    return Phase(workers, defer_s, late, calls, cpu, idle / IDLE_S / workers)


def main() -> None:
    """Parse the flags, run every phase, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="jobs enqueued per second")
    parser.add_argument("--job-s", type=float, default=1.0, help="how long each job runs")
    parser.add_argument("--defers", default="0,0.5", help="job deferrals in seconds")
    parser.add_argument("--redis-url", default=None, help="default: a redis-server of its own")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main()
        return
    load_start = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    phases: list[Phase] = []
    with contextlib.ExitStack() as stack:
        url = args.redis_url or stack.enter_context(private_redis())
        version = cast(dict[str, Any], redis.Redis.from_url(url).info("server"))["redis_version"]
        for defer_s in (float(x) for x in args.defers.split(",")):
            for workers in (int(x) for x in args.workers.split(",")):
                phases.append(run_phase(url, workers, defer_s, args))
                print(f"done: {workers} worker(s), defer {defer_s:g} s", file=sys.stderr)
    from chatwootai.settings import Settings

    poll = Settings.model_fields["worker_poll_s"].default
    print(
        f"queue dispatch: the service's worker (default settings, CHATWOOTAI_WORKER_POLL "
        f"{os.environ.get('CHATWOOTAI_WORKER_POLL') or poll}), {args.jobs} jobs at "
        f"{args.rate:g}/s through the service's enqueuer, each running {args.job_s:g} s"
    )
    print(
        "workers  defer   dispatch p50    p90    p99 ms   Redis cmds/job   worker CPU ms/job"
        "   idle cmds/s per worker"
    )
    for ph in phases:
        jobs = len(ph.late_ms) or 1
        counted = sum(v for k, v in ph.calls.items() if k not in NOT_COUNTED)
        print(
            f"{ph.workers:7d}  {ph.defer_s:4g} s  {pct(ph.late_ms, 0.5):11.1f} "
            f"{pct(ph.late_ms, 0.9):6.1f} {pct(ph.late_ms, 0.99):6.1f}      "
            f"{counted / jobs:11.1f}   {ph.cpu_s / jobs * 1000:17.1f}   {ph.idle_per_worker:10.1f}"
        )
    for ph in phases:
        jobs = len(ph.late_ms) or 1
        top = sorted(
            ((k, v) for k, v in ph.calls.items() if k not in NOT_COUNTED), key=lambda kv: -kv[1]
        )[:8]
        print(
            f"  {ph.workers} worker(s), defer {ph.defer_s:g} s, commands per job: "
            + ", ".join(f"{k} {v / jobs:.1f}" for k, v in top)
        )
    load_end = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"date {dt.datetime.now().astimezone().isoformat(timespec='seconds')}; {os.cpu_count()} "
        f"CPUs; Python {platform.python_version()}, Redis {version}; load average at start "
        f"{load_start}, at the end {load_end}"
    )
    command = " ".join(shlex.quote(a) for a in sys.argv[1:])
    print(f"command: .venv/bin/python bench/dispatch.py {command}".rstrip())


if __name__ == "__main__":
    main()
