"""Webhook-to-reply latency and throughput of the service: one server, one worker, real Redis.

Starts `chatwootai serve` and one `chatwootai worker` (arq) as subprocesses on the local Redis
(a throw-away key prefix), with the fake Chatwoot of the tests in this process recording every
API call, and an instant pipeline (tests/service/service_fakes.py: real tenancy, conversation
state and config registry, a brain that answers at once: no LLM time). The burst window is 0.

* latency: messages sent one at a time (each to its own conversation, paced), measured from
  just before the signed webhook POST to the moment the fake Chatwoot receives the reply;
* throughput: many messages over many conversations, sent by 32 concurrent senders; messages
  per second from the first POST to the last reply;
* the journal's cost (every acknowledged message is appended to the local journal and fsynced
  before its 200): the latency run again on a second deployment with CHATWOOTAI_JOURNAL=false,
  and the journal alone in this process (one append at a time: each waits for its own fsync;
  32 at once: group commit, so appends share fsyncs), on the data dir's file system.

Run: .venv/bin/python bench/webhook_latency.py [latency_messages] [throughput_messages]
Needs Redis at REDIS_URL (default redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "service")]

from fakes.chatwoot_server import FakeChatwoot  # noqa: E402

BIN = Path(sys.executable).parent / "chatwootai"
POLL_ENV = os.environ.get("CHATWOOTAI_WORKER_POLL")
"""Passed on when set; else the worker's default (a safety poll: jobs wake a worker at once)."""


class TimedCalls(list[Any]):
    """The fake's call log, stamping each call with its arrival time."""

    def append(self, item: Any) -> None:
        item.arrived = time.perf_counter()
        super().append(item)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(
    fake: FakeChatwoot, prefix: str, port: int, tmp: Path, *, journal: bool = True
) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "service"), str(ROOT / "tests")]),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "CHATWOOTAI_REDIS_PREFIX": prefix,
        "CHATWOOT_BASE_URL": fake.base_url,
        "CHATWOOT_API_TOKEN": fake.bot_token,
        "CHATWOOT_WEBHOOK_SECRET": fake.webhook_secret,
        "CHATWOOTAI_BURST_WINDOW": "0",
        **({"CHATWOOTAI_WORKER_POLL": POLL_ENV} if POLL_ENV else {}),
        "CHATWOOTAI_WORKER_CONCURRENCY": "32",
        "CHATWOOTAI_SYSTEM_FACTORY": "service_fakes:create_system",
        "CHATWOOTAI_DATA_DIR": str(tmp / "data"),
        "CHATWOOTAI_DOMAINS_DIR": str(tmp / "domains"),
        "CHATWOOTAI_LOG_LEVEL": "WARNING",
        "CHATWOOTAI_JOURNAL": "true" if journal else "false",
    }
    out = subprocess.DEVNULL
    return [
        subprocess.Popen([str(BIN), "serve", "--port", str(port)], env=env, stdout=out, stderr=out),
        subprocess.Popen([str(BIN), "worker"], env=env, stdout=out, stderr=out),
    ]


def wait_until(condition: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("gave up waiting (is Redis running?)")
        time.sleep(0.01)


def reply_times(fake: FakeChatwoot) -> dict[str, float]:
    return {
        str(call.body["content"]).split("] ", 1)[-1]: call.arrived
        for call in list(fake.calls)
        if call.endpoint == "messages.create"
    }


async def send(
    http: httpx.AsyncClient, url: str, fake: FakeChatwoot, account: int, display: int, text: str
) -> float:
    body, headers = fake.build_delivery(fake.incoming(account, display, text))
    sent = time.perf_counter()
    response = await http.post(url, content=body, headers=headers)
    if response.json().get("status") != "queued":
        raise SystemExit(f"webhook answered {response.status_code} {response.text}")
    return sent


async def latency(fake: FakeChatwoot, url: str, count: int) -> tuple[list[float], list[float]]:
    sent: dict[str, float] = {}
    acks: list[float] = []
    async with httpx.AsyncClient(timeout=10) as http:
        for i in range(count):
            display = 10_000 + i
            fake.add_conversation(account_id=5, display_id=display)
            text = f"lat-{i}"
            before = time.perf_counter()
            sent[text] = await send(http, url, fake, 5, display, text)
            acks.append(time.perf_counter() - before)
            await asyncio.sleep(0.02)
    wait_until(lambda: all(t in reply_times(fake) for t in sent))
    replies = reply_times(fake)
    return [replies[t] - sent[t] for t in sent], acks


async def throughput(fake: FakeChatwoot, url: str, count: int) -> float:
    conversations = 200
    for c in range(conversations):
        fake.add_conversation(account_id=5, display_id=50_000 + c)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def sender(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            await send(http, url, fake, 5, 50_000 + i % conversations, f"tp-{i}")

    texts = {f"tp-{i}" for i in range(count)}
    start_time = time.perf_counter()
    async with httpx.AsyncClient(timeout=10) as http:
        await asyncio.gather(*(sender(http) for _ in range(32)))
    wait_until(lambda: texts <= set(reply_times(fake)) or _merged(fake, texts), 120)
    last = max(t for text, t in reply_times(fake).items() if text.startswith("tp-") or "\n" in text)
    return count / (last - start_time)


def _merged(fake: FakeChatwoot, texts: set[str]) -> bool:
    """Messages of one conversation arriving during its turn are merged into the next reply."""
    seen: set[str] = set()
    for text in reply_times(fake):
        seen.update(text.replace("[retail/sales] ", "").split("\n"))
    return texts <= seen


async def journal_alone(directory: Path, count: int) -> tuple[float, float, float, int]:
    """Median and p99 ms of one append at a time; ms per append and syncs when 32 append at once."""
    from chatwootai.service import journal as journal_module
    from chatwootai.service.journal import Journal
    from chatwootai.service.turns import PendingMessage

    syncs = 0
    real = journal_module._datasync

    def counted(fd: int) -> None:
        nonlocal syncs
        syncs += 1
        real(fd)

    journal_module._datasync = counted
    journal = Journal(directory)
    journal.open()

    def message(n: int) -> PendingMessage:
        return PendingMessage(
            message_id=n,
            conversation_key=f"5:{n % 200}",
            account_id=5,
            display_id=n % 200,
            text="Oi! Meu pedido 1234 ainda não chegou, vocês podem ver?",
            customer_name="Maria Silva",
            customer_phone="+5511987654321",
            received_at=time.time(),
        )

    one: list[float] = []
    for n in range(count):
        started = time.perf_counter()
        await journal.record(message(n), "epoch")
        one.append((time.perf_counter() - started) * 1000)
    syncs = 0
    started = time.perf_counter()
    queue = list(range(count, 2 * count))

    async def appender() -> None:
        while queue:
            await journal.record(message(queue.pop()), "epoch")

    await asyncio.gather(*(appender() for _ in range(32)))
    per_append = (time.perf_counter() - started) * 1000 / count
    journal.close()
    journal_module._datasync = real
    one.sort()
    return statistics.median(one), one[int(len(one) * 0.99)], per_append, syncs


def deploy(
    fake: FakeChatwoot, n_latency: int, n_throughput: int, *, journal: bool
) -> tuple[list[float], list[float], float]:
    """Latency (and, with n_throughput, throughput) of one server + one worker deployment."""
    prefix = f"bench:{os.getpid()}:{'j' if journal else 'n'}:"
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhooks/chatwoot"
    r = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    rate = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        procs = start(fake, prefix, port, Path(tmp), journal=journal)
        try:
            wait_until(lambda: r.exists(prefix + "arq:queue:health-check") == 1)
            wait_until(lambda: _ready(port))
            asyncio.run(latency(fake, url, 20))  # warm-up
            lat, acks = asyncio.run(latency(fake, url, n_latency))
            if n_throughput:
                rate = asyncio.run(throughput(fake, url, n_throughput))
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                proc.wait(timeout=15)
            keys = list(r.scan_iter(match=prefix + "*", count=1000))
            keys += list(r.scan_iter(match=f"arq:*{prefix}*", count=1000))
            if keys:
                r.delete(*keys)
    return lat, acks, rate


def main() -> None:
    n_latency = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    n_throughput = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    load_before = os.getloadavg()
    fake = FakeChatwoot(accounts=(5,))
    fake.calls = TimedCalls()
    fake.start()
    try:
        lat, acks, rate = deploy(fake, n_latency, n_throughput, journal=True)
        fake.calls = TimedCalls()
        _, acks_off, _ = deploy(fake, n_latency, 0, journal=False)
    finally:
        fake.stop()
    with tempfile.TemporaryDirectory() as tmp:
        alone = asyncio.run(journal_alone(Path(tmp), 1000))
    ms = sorted(x * 1000 for x in lat)
    ack_ms = sorted(x * 1000 for x in acks)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print("webhook → reply latency (one server, one arq worker, instant pipeline, burst window 0)")
    print(f"  messages: {len(ms)}, one at a time, 20 ms apart, each to its own conversation")
    print(f"  median {statistics.median(ms):.1f} ms   p99 {p99:.1f} ms   max {ms[-1]:.1f} ms")
    print(
        f"  webhook answer (200 queued): median {statistics.median(ack_ms):.1f} ms   "
        f"p99 {ack_ms[min(len(ack_ms) - 1, int(len(ack_ms) * 0.99))]:.1f} ms"
    )
    print(
        f"throughput: {rate:.0f} messages/s ({n_throughput} messages, 200 conversations, "
        "32 concurrent senders, first POST to last reply)"
    )
    off_ms = sorted(x * 1000 for x in acks_off)
    print(
        f"journal: webhook answer with it median {statistics.median(ack_ms):.1f} ms, without it "
        f"(CHATWOOTAI_JOURNAL=false) {statistics.median(off_ms):.1f} ms   "
        f"(p99 {ack_ms[min(len(ack_ms) - 1, int(len(ack_ms) * 0.99))]:.1f} / "
        f"{off_ms[min(len(off_ms) - 1, int(len(off_ms) * 0.99))]:.1f} ms)"
    )
    print(
        f"  the journal alone: one append at a time median {alone[0]:.3f} ms, p99 "
        f"{alone[1]:.3f} ms (each waits for its fdatasync); 32 at once {alone[2]:.3f} ms per "
        f"append, {alone[3]} fdatasyncs for 1000 appends (group commit)"
    )
    load_after = os.getloadavg()
    print(
        f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
        f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}"
    )
    poll = f"{POLL_ENV} s" if POLL_ENV else "default"
    print(f"worker poll {poll} (CHATWOOTAI_WORKER_POLL); fake Chatwoot, Redis, server,")
    print(f"worker and load generator share this machine ({os.cpu_count()} CPUs).")
    env = f"CHATWOOTAI_WORKER_POLL={POLL_ENV} " if POLL_ENV else ""
    print(f"command: {env}.venv/bin/python bench/webhook_latency.py {n_latency} {n_throughput}")


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
