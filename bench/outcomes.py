"""What recording a turn's outcome adds to a turn, and what reading a month of outcomes costs.

Recording: `OutcomeRecorder.record` (what the pipeline calls once per turn) on varied outcomes
(answers, handoffs of several reasons, fallbacks, costs known and unknown, 1,000 conversations
so the abandonment watch holds realistic members). Per turn: median and p95 time, Redis round
trips (packets sent by the client), client commands and commands run by the server (both from
`INFO commandstats` deltas: commands a Lua script runs are counted there too).

Reading: one domain with `--turns` turns (default 100,000) over one month (30 days), then
`read_report` of that month (what `GET /api/admin/outcomes` runs): median and p95 time, round
trips and commands per read.

Both on Redis and on the embedded store (SQLite, WAL). By default Redis is a private
`redis-server` started on a free port (no persistence), so `INFO commandstats` counts only this
bench; `--redis-url` uses a running server instead (its other clients add to the counts).

Run: .venv/bin/python bench/outcomes.py [-n 5000] [--turns 100000] [--redis-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from redis.asyncio.connection import Connection

from chatwootai.outcomes import OutcomeRecorder, TurnOutcome, estimate_cost_usd, read_report
from chatwootai.store.base import Store
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.store.redis import RedisStore

ROUND_TRIPS = 0
MONTH_START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
REASONS = ["asked", "agent", "fallback", "limit", "budget", "flood"]


def count_round_trips() -> None:
    """Count every packet of commands sent to Redis (a pipeline or a script call is one)."""
    original = Connection.send_packed_command

    async def counting(self: Connection, command: Any, check_health: bool = True) -> None:
        global ROUND_TRIPS
        ROUND_TRIPS += 1
        await original(self, command, check_health)

    Connection.send_packed_command = counting  # type: ignore[method-assign]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server of this bench alone (no persistence), killed at the end."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server not found: install it or pass --redis-url")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        proc.kill()
        proc.wait(timeout=10)


def commandstats(url: str) -> dict[str, int]:
    """Calls per command on the server (INFO commandstats)."""
    client = redis.Redis.from_url(url)
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Commands run between two snapshots, without the INFO of the snapshots themselves."""
    out = {name: after[name] - before.get(name, 0) for name in after}
    out["info"] = out.get("info", 0) - 1
    return {name: n for name, n in out.items() if n > 0}


def outcome(rng: random.Random, when: datetime) -> TurnOutcome:
    """A turn as the pipeline records it: mostly answers, some handoffs and fallbacks."""
    handoff = rng.random() < 0.15
    fallback = handoff and rng.random() < 0.3
    tokens_in = rng.randint(300, 4000)
    tokens_out = rng.randint(20, 400)
    return TurnOutcome(
        domain="cosmetics",
        crew=rng.choice(["sales", "support", "scheduling"]),
        route_method=rng.choice(["rules", "classifier", "sticky", "llm"]),
        handoff=handoff,
        handoff_reason=rng.choice(REASONS) if handoff else None,
        fallback=fallback,
        tool_calls=rng.randint(0, 3),
        llm_requests=rng.randint(1, 3),
        input_tokens=tokens_in,
        output_tokens=tokens_out,
        model="openai:gpt-4o-mini",
        cost_usd=None if rng.random() < 0.02 else (tokens_in * 0.15 + tokens_out * 0.6) / 1e6,
        turn_ms=rng.lognormvariate(7.0, 0.6),
        messages=rng.choice([1, 1, 1, 2, 3]),
        conversation_key=f"1:{rng.randint(1, 1000)}",
        time=when,
        timezone="America/Sao_Paulo",
    )


def summary(timings: list[float]) -> str:
    """Median and p95 in microseconds."""
    ordered = sorted(timings)
    p95 = ordered[int(len(ordered) * 0.95)]
    return f"median {statistics.median(ordered) * 1e6:.0f} µs, p95 {p95 * 1e6:.0f} µs"


async def record_cost(store: Store, n: int, url: str | None, label: str) -> None:
    """Time (and count the commands of) recording `n` outcomes, after a warm-up."""
    global ROUND_TRIPS
    rng = random.Random(7)
    recorder = OutcomeRecorder(store)
    now = datetime.now(UTC)
    for _ in range(200):
        await recorder.record(outcome(rng, now))
    before = commandstats(url) if url else {}
    ROUND_TRIPS = 0
    timings: list[float] = []
    for _ in range(n):
        turn = outcome(rng, now)
        start = time.perf_counter()
        await recorder.record(turn)
        timings.append(time.perf_counter() - start)
    line = f"{label}: recording an outcome: {summary(timings)} per turn over {n} turns"
    if url:
        ran = delta(before, commandstats(url))
        client = ran.get("evalsha", 0) + ran.get("eval", 0)
        inner = sum(ran.values()) - client
        line += (
            f"; {ROUND_TRIPS / n:.2f} round trips, {client / n:.2f} client commands "
            f"(EVALSHA) and {inner / n:.1f} commands inside the script per turn "
            f"({', '.join(f'{k} {v / n:.2f}' for k, v in sorted(ran.items()))})"
        )
    print(line, flush=True)


async def read_cost(store: Store, turns: int, reads: int, url: str | None, label: str) -> None:
    """Seed one domain's month with `turns` turns, then time reading that month."""
    global ROUND_TRIPS
    rng = random.Random(11)
    recorder = OutcomeRecorder(store)
    started = time.perf_counter()
    for i in range(turns):
        when = MONTH_START + timedelta(seconds=i * (29 * 86400 / turns))  # Nov 1-30 local
        await recorder.record(outcome(rng, when))
    seeded_s = time.perf_counter() - started
    start_day, end_day = date(2026, 11, 1), date(2026, 11, 30)
    now = MONTH_START + timedelta(days=30)
    report = await read_report(store, "cosmetics", start_day, end_day, now=now)
    assert report.totals.turns == turns, report.totals.turns
    before = commandstats(url) if url else {}
    ROUND_TRIPS = 0
    timings: list[float] = []
    for _ in range(reads):
        start = time.perf_counter()
        await read_report(store, "cosmetics", start_day, end_day, now=now)
        timings.append(time.perf_counter() - start)
    line = (
        f"{label}: reading a month (30 days, {turns} turns of one domain; seeded in "
        f"{seeded_s:.1f} s): {summary(timings)} per read over {reads} reads"
    )
    if url:
        ran = delta(before, commandstats(url))
        client = ran.get("evalsha", 0) + ran.get("eval", 0)
        line += (
            f"; {ROUND_TRIPS / reads:.2f} round trips and {client / reads:.2f} client commands "
            f"per read ({', '.join(f'{k} {v / reads:.1f}' for k, v in sorted(ran.items()))})"
        )
    print(line, flush=True)
    totals = report.totals
    print(
        f"  month totals: {totals.turns} turns, {totals.messages} messages, "
        f"{totals.handoffs} handoffs {totals.handoffs_by_reason}, cost {totals.cost_usd:.2f} USD, "
        f"turn p50 {totals.turn_ms_p50} ms, p95 {totals.turn_ms_p95} ms, "
        f"conversations {totals.conversations.model_dump()}",
        flush=True,
    )


def pricing_cost(n: int = 20000) -> None:
    """The CPU time of a turn's cost estimate (the price table is looked up once per model)."""
    rng = random.Random(3)
    estimate_cost_usd("openai:gpt-4o-mini", 1, 1)  # the one lookup
    timings = []
    for _ in range(n):
        tokens_in, tokens_out = rng.randint(300, 4000), rng.randint(20, 400)
        start = time.perf_counter()
        estimate_cost_usd("openai:gpt-4o-mini", tokens_in, tokens_out)
        timings.append(time.perf_counter() - start)
    timings.sort()
    print(
        f"pricing a turn (openai:gpt-4o-mini): median {statistics.median(timings) * 1e6:.2f} µs, "
        f"p95 {timings[int(n * 0.95)] * 1e6:.2f} µs over {n} turns",
        flush=True,
    )


async def run(url: str, n: int, turns: int, reads: int) -> None:
    """Both measures on Redis, then on the embedded store."""
    count_round_trips()
    pricing_cost()
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    store = RedisStore.from_url(url, prefix=prefix)
    try:
        await record_cost(store, n, url, "redis")
        await store.delete(*await store.scan("*"))
        await read_cost(store, turns, reads, url, "redis")
    finally:
        found = await store.scan("*")
        if found:
            await store.delete(*found)
        await store.close()
    with tempfile.TemporaryDirectory() as tmp:
        embedded = EmbeddedStore(Path(tmp) / "record.sqlite3", prefix=prefix)
        await record_cost(embedded, n, None, "embedded (sqlite WAL)")
        await embedded.close()
        embedded = EmbeddedStore(Path(tmp) / "read.sqlite3", prefix=prefix)
        await read_cost(embedded, turns, reads, None, "embedded (sqlite WAL)")
        await embedded.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=5000, help="turns recorded for the timing")
    parser.add_argument("--turns", type=int, default=100_000, help="turns of the month read")
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--redis-url", default=None, help="a running Redis (default: private)")
    args = parser.parse_args()
    print(
        f"command: .venv/bin/python bench/outcomes.py -n {args.n} --turns {args.turns} "
        f"--reads {args.reads}" + (f" --redis-url {args.redis_url}" if args.redis_url else "")
    )
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    if args.redis_url:
        asyncio.run(run(args.redis_url, args.n, args.turns, args.reads))
    else:
        with private_redis() as url:
            print(f"redis: private redis-server at {url}", flush=True)
            asyncio.run(run(url, args.n, args.turns, args.reads))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
