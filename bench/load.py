"""Load: N conversations x M messages through one server and 1, 2, 4 workers, real pipeline.

What runs (all on this machine, only 127.0.0.1):

* one `chatwootai serve` process and, per configuration, k `chatwootai worker` (arq) processes on
  a redis-server of the bench's own (free port, no persistence; ``--redis-url`` for another
  server) under a throw-away key prefix (deleted at the end);
* the REAL pipeline (no CHATWOOTAI_SYSTEM_FACTORY) on the shipped domains/ and tenants.yaml:
  accounts 1, 2, 3 are cosmetics, health and retail;
* the model of every domain overridden with CHATWOOTAI_MODEL=openai:fake-gpt, OPENAI_BASE_URL at
  the fake OpenAI-compatible server of the tests (tests/fakes/openai_server.py) and a dummy
  OPENAI_API_KEY, so the real OpenAI client path is measured. The fake answers plain text (no tool
  calls; one request per turn on sequential crews), echoing the customer's message so each reply
  can be matched to its message; it answers (a) at once or (b) after a fixed delay (1 s);
* the fake Chatwoot of the tests in this process: it records every API call (and when it arrived);
* burst window 0 (CHATWOOTAI_BURST_WINDOW=0): a turn starts as soon as a worker takes it.

Each conversation is a customer who writes, waits for the bot's reply, then writes again (closed
loop, no think time): N conversations run at once, M messages each, so every message should get
exactly one reply. Before each configuration's measured phase, 3k warm-up messages (excluded)
let every worker load the domains and build its crews.

Figures per configuration: throughput (answered messages/s, first POST to last reply), webhook
acknowledgement latency (client side, POST round trip), turn latency (just before the POST to the
reply recorded by the fake Chatwoot), Redis commands per message (INFO commandstats delta over the
measured phase / messages; the server is shared, so the idle rate before the phase is printed to
judge the noise), CPU seconds of the service per message (/proc/<pid>/stat), RSS of each worker at
the end (/proc/<pid>/status), LLM requests per message, scaling relative to one worker, and the
Redis commands per second of an idle worker (after the warm-up, over 5 s, less the rate of the
server alone measured before any worker started, divided by k). Dispatch latency (enqueue to job
start) is measured by bench/dispatch.py.

Run: .venv/bin/python bench/load.py [--conversations 40] [--messages 5] [--workers 1,2,4]
     [--delays 0,1] [--redis-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib.util
import logging
import os
import platform
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx
import redis

from private_redis import command_calls, delta, private_redis

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests")]

from fakes.chatwoot_server import Call, FakeChatwoot  # noqa: E402


def _load_openai_fake() -> Any:
    path = ROOT / "tests" / "fakes" / "openai_server.py"
    spec = importlib.util.spec_from_file_location("bench_openai_server", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


openai_server = _load_openai_fake()

BIN = Path(sys.executable).parent / "chatwootai"
IDLE_S = 5.0
RETAIL_SECRET = "bench-retail-secret"
DOMAIN_OF = {1: "cosmetics", 2: "health", 3: "retail"}
TEXTS = {
    1: ["vocês têm protetor solar? qual o preço?", "qual o horário de vocês?", "aceitam pix?"],
    2: ["quero marcar uma consulta", "qual o horário de funcionamento?", "aceitam convênio?"],
    3: ["quanto custa a panela de pressão?", "cadê meu pedido?", "vocês entregam em Contagem?"],
}
REPLY_TIMEOUT_S = 90.0
RUN_DEADLINE_S = 900.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    """The figures of one configuration (LLM delay, number of workers)."""

    delay_s: float
    workers: int
    messages: int
    seconds: float
    acks: list[float]
    turns: list[float]
    redis_calls: int
    redis_idle_rate: float
    idle_per_worker: float
    top_commands: list[tuple[str, int]]
    llm_requests: int
    jobs: dict[str, float]
    """Turn jobs run in the phase, by outcome (the workers' chatwootai_turn_jobs_total)."""
    cpu_s: dict[str, float]
    rss_mb: list[float]
    serve_rss_mb: float
    answered_once: int
    lost: int
    extra: int
    mismatched: int
    notes: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        """Answered messages per second."""
        return self.answered_once / self.seconds if self.seconds > 0 else 0.0


class ReplyLog(list[Call]):
    """The fake's call log, handing each public reply and its arrival time to its sender."""

    def __init__(self) -> None:
        super().__init__()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.waiters: dict[tuple[int, int], asyncio.Queue[tuple[float, str]]] = {}

    def append(self, item: Call) -> None:
        """Record a call (from the fake's thread)."""
        arrived = time.perf_counter()
        super().append(item)
        body = item.body if isinstance(item.body, dict) else {}
        if item.endpoint != "messages.create" or body.get("private"):
            return
        queue = self.waiters.get((item.account_id, item.conversation_id))
        if queue is not None and self.loop is not None:
            self.loop.call_soon_threadsafe(queue.put_nowait, (arrived, str(body.get("content"))))


# -- processes ------------------------------------------------------------------------------


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_env(
    fake: FakeChatwoot, llm_url: str, prefix: str, tmp: Path, redis_url: str
) -> dict[str, str]:
    """The environment of the server and the workers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHATWOOT", "OPENAI_"))}
    env.update(
        {
            "REDIS_URL": redis_url,
            "CHATWOOTAI_REDIS_PREFIX": prefix,
            "CHATWOOT_BASE_URL": fake.base_url,
            "CHATWOOT_API_TOKEN": fake.bot_token,
            "CHATWOOT_WEBHOOK_SECRET": fake.webhook_secret,
            "CHATWOOT_WEBHOOK_SECRET_RETAIL": RETAIL_SECRET,
            "CHATWOOTAI_BURST_WINDOW": "0",
            "CHATWOOTAI_DOMAINS_DIR": str(ROOT / "domains"),
            "CHATWOOTAI_DATA_DIR": str(tmp / "data"),
            "CHATWOOTAI_LOG_LEVEL": "WARNING",
            "CHATWOOTAI_MODEL": "openai:fake-gpt",
            "OPENAI_BASE_URL": llm_url,
            "OPENAI_API_KEY": "bench-dummy-key",
        }
    )
    for name in ("CHATWOOTAI_WORKER_POLL", "CHATWOOTAI_WORKER_CONCURRENCY"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    return env


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a chatwootai command, its output to a log file."""
    with log.open("wb") as out:
        return subprocess.Popen([str(BIN), *args], env=env, stdout=out, stderr=subprocess.STDOUT)


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM, then wait (kill after 15 s)."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_until(condition: Any, what: str, timeout: float = 60) -> None:
    """Poll a condition (bounded)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what} (see the logs in the temporary dir)")
        time.sleep(0.05)


def server_ready(port: int) -> bool:
    """The server answers /readyz with 200."""
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def redis_ports(pid: int, redis_port: int) -> set[int]:
    """Local ports of a process's TCP connections to Redis's port (from /proc)."""
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            for line in list(lines)[1:]:
                cols = line.split()
                if cols[9] in inodes and cols[2].endswith(f":{redis_port:04X}"):
                    ports.add(int(cols[1].rsplit(":", 1)[1], 16))
    return ports


def workers_polling(r: redis.Redis, pids: list[int]) -> bool:
    """Every worker has started its arq poll loop (a connection whose last command polled or
    waited for a wake-up)."""
    clients = cast(list[dict[str, str]], r.client_list())
    polling = {
        int(c["addr"].rsplit(":", 1)[1])
        for c in clients
        if c.get("cmd") in ("zrangebyscore", "brpop", "mget")
    }
    port = int(r.connection_pool.connection_kwargs.get("port", 6379))
    return all(redis_ports(pid, port) & polling for pid in pids)


def rss_mb(pid: int) -> float:
    """Resident set size of a process (VmRSS), MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


# -- load -----------------------------------------------------------------------------------


class Load:
    """Customers writing to the server through signed webhooks."""

    def __init__(self, fake: FakeChatwoot, log: ReplyLog, url: str) -> None:
        self.fake = fake
        self.log = log
        self.url = url
        self.acks: list[float] = []
        self.turns: list[float] = []
        self.sent: dict[tuple[int, int], list[str]] = {}
        self.first_post = 0.0
        self.last_reply = 0.0
        self.lost = 0

    def conversations(self, base: int, count: int) -> list[tuple[int, int]]:
        """Create `count` pending conversations, spread over accounts 1, 2, 3."""
        made = []
        for c in range(count):
            account = 1 + c % 3
            display = base + c
            self.fake.add_conversation(
                account_id=account, display_id=display, inbox_id=100 + account
            )
            made.append((account, display))
        return made

    async def run(self, conversations: list[tuple[int, int]], messages: int) -> None:
        """Every conversation writes `messages` messages, each after the previous reply."""
        self.log.loop = asyncio.get_running_loop()
        for key in conversations:
            self.log.waiters[key] = asyncio.Queue()
        limits = httpx.Limits(max_connections=len(conversations))
        async with httpx.AsyncClient(timeout=10, limits=limits) as http:
            self.first_post = time.perf_counter()
            await asyncio.gather(*(self._customer(http, key, messages) for key in conversations))

    async def _customer(self, http: httpx.AsyncClient, key: tuple[int, int], count: int) -> None:
        account, display = key
        texts = TEXTS[account]
        queue = self.log.waiters[key]
        for m in range(count):
            token = f"(ref c{display}m{m})"
            text = f"{texts[(display + m) % len(texts)]} {token}"
            self.sent.setdefault(key, []).append(token)
            payload = self.fake.incoming(account, display, text)
            secret = RETAIL_SECRET if account == 3 else None
            body, headers = self.fake.build_delivery(payload, secret=secret)
            before = time.perf_counter()
            response = await http.post(self.url, content=body, headers=headers)
            self.acks.append(time.perf_counter() - before)
            if response.json().get("status") != "queued":
                raise SystemExit(f"webhook answered {response.status_code} {response.text}")
            try:
                arrived, _ = await asyncio.wait_for(queue.get(), REPLY_TIMEOUT_S)
            except TimeoutError:
                self.lost += count - m
                return
            self.turns.append(arrived - before)
            self.last_reply = max(self.last_reply, arrived)


def check_replies(log: ReplyLog, sent: dict[tuple[int, int], list[str]]) -> tuple[int, int, int]:
    """(messages answered exactly once, extra replies, replies not matching their message)."""
    replies: dict[tuple[int, int], list[str]] = {}
    for call in list(log):
        body = call.body if isinstance(call.body, dict) else {}
        if call.endpoint == "messages.create" and not body.get("private"):
            replies.setdefault((call.account_id, call.conversation_id), []).append(
                str(body.get("content"))
            )
    once = extra = mismatched = 0
    for key, tokens in sent.items():
        got = replies.get(key, [])
        extra += max(0, len(got) - len(tokens))
        for token, reply in zip(tokens, got, strict=False):
            if token in reply:
                once += 1
            else:
                mismatched += 1
    return once, extra, mismatched


# -- one configuration ----------------------------------------------------------------------


def run_config(
    *,
    fake: FakeChatwoot,
    log: ReplyLog,
    llm: Any,
    r: redis.Redis,
    env: dict[str, str],
    tmp: Path,
    port: int,
    serve_pid: int,
    delay_s: float,
    workers: int,
    base: int,
    conversations: int,
    messages: int,
    server_idle_rate: float,
) -> Result:
    """Start `workers` workers, warm them up, measure one closed-loop run, stop them."""
    llm.delay_s = delay_s
    url = f"http://127.0.0.1:{port}/webhooks/chatwoot"
    metrics_ports = [free_port() for _ in range(workers)]
    procs = [
        spawn(
            ["worker", "--metrics-port", str(metrics_ports[n])],
            env,
            tmp / f"worker-{delay_s:g}s-{workers}w-{n}.log",
        )
        for n in range(workers)
    ]
    pids = [p.pid for p in procs]
    try:
        wait_until(lambda: workers_polling(r, pids), f"{workers} worker(s) to poll", 90)
        warm = Load(fake, log, url)
        asyncio.run(warm.run(warm.conversations(base, 3 * workers), 1))
        if warm.lost:
            raise SystemExit("warm-up messages got no reply: see the worker logs")
        time.sleep(0.3)
        idle_rate = idle_commands_rate(r)

        load = Load(fake, log, url)
        chats = load.conversations(base + 1000, conversations)
        calls_before = command_calls(r)
        llm_before = llm.count
        jobs_before = turn_jobs(metrics_ports)
        cpu_before = {pid: cpu_s(pid) for pid in [serve_pid, *pids]}
        asyncio.run(asyncio.wait_for(load.run(chats, messages), RUN_DEADLINE_S))
        time.sleep(0.3)  # the turn's last writes after its reply
        used = delta(calls_before, command_calls(r))
        cpu_after = {pid: cpu_s(pid) for pid in [serve_pid, *pids]}
        llm_requests = llm.count - llm_before
        jobs_after = turn_jobs(metrics_ports)
        rss = [rss_mb(pid) for pid in pids]
        serve_rss = rss_mb(serve_pid)
        time.sleep(0.7)  # room for a wrong second reply to show up
    finally:
        stop(procs)
    once, extra, mismatched = check_replies(log, load.sent)
    return Result(
        delay_s=delay_s,
        workers=workers,
        messages=conversations * messages,
        seconds=load.last_reply - load.first_post,
        acks=load.acks,
        turns=load.turns,
        redis_calls=sum(used.values()),
        redis_idle_rate=idle_rate,
        idle_per_worker=(idle_rate - server_idle_rate) / workers,
        top_commands=sorted(used.items(), key=lambda kv: -kv[1])[:16],
        llm_requests=llm_requests,
        jobs={
            k: v - jobs_before.get(k, 0) for k, v in jobs_after.items() if v > jobs_before.get(k, 0)
        },
        cpu_s={
            "serve": cpu_after[serve_pid] - cpu_before[serve_pid],
            "workers": sum(cpu_after[p] - cpu_before[p] for p in pids),
        },
        rss_mb=rss,
        serve_rss_mb=serve_rss,
        answered_once=once,
        lost=load.lost,
        extra=extra,
        mismatched=mismatched,
    )


def turn_jobs(ports: list[int]) -> dict[str, float]:
    """Turn jobs run so far by outcome, summed over the workers' /metrics."""
    totals: dict[str, float] = {}
    for port in ports:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        for line in text.splitlines():
            if line.startswith("chatwootai_turn_jobs_total{"):
                outcome = line.split('outcome="', 1)[1].split('"', 1)[0]
                totals[outcome] = totals.get(outcome, 0.0) + float(line.rsplit(" ", 1)[1])
    return totals


def idle_commands_rate(r: redis.Redis) -> float:
    """Redis commands per second while nothing is sent (over IDLE_S)."""
    before = command_calls(r)
    start = time.perf_counter()
    time.sleep(IDLE_S)
    return sum(delta(before, command_calls(r)).values()) / (time.perf_counter() - start)


# -- report ---------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile, in ms."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] * 1000


def report(results: list[Result], conversations: int, messages: int) -> None:
    """Print one block per configuration, then the scaling table."""
    for res in results:
        per = res.messages or 1
        print(f"\nLLM delay {res.delay_s:g} s, {res.workers} worker(s):")
        print(
            f"  answered {res.answered_once}/{res.messages} exactly once, lost {res.lost}, "
            f"extra replies {res.extra}, replies not matching their message {res.mismatched}"
        )
        print(f"  throughput {res.throughput:.1f} messages/s over {res.seconds:.1f} s")
        print(
            f"  webhook ack   p50 {pct(res.acks, 0.5):7.1f} ms  p99 {pct(res.acks, 0.99):7.1f} ms"
        )
        print(
            f"  turn latency  p50 {pct(res.turns, 0.5):7.1f} ms  p99 {pct(res.turns, 0.99):7.1f} ms"
            f"  max {max(res.turns, default=0) * 1000:7.1f} ms"
        )
        top = ", ".join(f"{name} {calls / per:.1f}" for name, calls in res.top_commands)
        idle = res.redis_idle_rate * res.seconds / per
        print(
            f"  Redis commands per message {res.redis_calls / per:.1f}, of which about "
            f"{idle:.1f} at the idle rate measured before the phase ({res.redis_idle_rate:.0f}/s:"
            " workers polling, other clients)"
        )
        print(f"    top commands per message: {top}")
        print(
            f"  CPU per message: workers {res.cpu_s['workers'] / per * 1000:.1f} ms, "
            f"serve {res.cpu_s['serve'] / per * 1000:.1f} ms; "
            f"LLM requests per message {res.llm_requests / per:.2f}"
        )
        jobs = sum(res.jobs.values())
        outcomes = ", ".join(f"{k} {v / per:.2f}" for k, v in sorted(res.jobs.items()))
        print(
            f"  turn jobs per message {jobs / per:.2f} ({outcomes}); Redis commands per turn job "
            f"{res.redis_calls / (jobs or 1):.1f}"
        )
        rss = ", ".join(f"{mb:.0f}" for mb in res.rss_mb)
        print(f"  RSS at the end: workers [{rss}] MB, serve {res.serve_rss_mb:.0f} MB")
    print("\nscaling (throughput relative to 1 worker at the same LLM delay):")
    print("  delay  workers  msg/s   x1   turn p50 ms  turn p99 ms")
    for res in results:
        one = next((x for x in results if x.delay_s == res.delay_s and x.workers == 1), None)
        ratio = res.throughput / one.throughput if one and one.throughput else float("nan")
        print(
            f"  {res.delay_s:4g} s  {res.workers:7d}  {res.throughput:5.1f}  {ratio:4.2f}"
            f"  {pct(res.turns, 0.5):11.0f}  {pct(res.turns, 0.99):11.0f}"
        )
    print("\nper message and idle (Redis commands from INFO commandstats deltas):")
    print(
        "  delay  workers  msg/s  Redis cmds/msg  worker CPU ms/msg  idle worker cmds/s"
        "  jobs/msg  cmds/job"
    )
    for res in results:
        per = res.messages or 1
        jobs = sum(res.jobs.values())
        print(
            f"  {res.delay_s:4g} s  {res.workers:7d}  {res.throughput:5.1f}  "
            f"{res.redis_calls / per:14.1f}  {res.cpu_s['workers'] / per * 1000:17.1f}  "
            f"{res.idle_per_worker:18.1f}  {jobs / per:8.2f}  {res.redis_calls / (jobs or 1):8.1f}"
        )
    lost = sum(r.lost + r.extra + r.mismatched for r in results)
    total = sum(r.messages for r in results)
    print(f"\ncorrectness: {total - lost}/{total} messages answered exactly once, by their reply")


def machine_facts(r: redis.Redis) -> list[str]:
    """Date, CPUs, load average, Python and Redis versions."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    server = cast(dict[str, Any], r.info("server"))
    return [
        f"date {dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"{os.cpu_count()} CPUs ({model or platform.machine()}), load average {load}",
        f"Python {platform.python_version()}, Redis {server['redis_version']}",
    ]


def main() -> None:
    """Parse the flags, run every configuration, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--messages", type=int, default=5, help="messages per conversation")
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    parser.add_argument("--delays", default="0,1", help="LLM delays in seconds, comma-separated")
    parser.add_argument("--redis-url", default=None, help="default: a redis-server of its own")
    parser.add_argument("--keep-logs", default=None, help="keep the processes' logs in this dir")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        redis_url = args.redis_url or stack.enter_context(private_redis())
        run(args, redis_url)


def run(args: argparse.Namespace, redis_url: str) -> None:
    """Run every configuration on the Redis at `redis_url`, print the figures."""
    worker_counts = [int(x) for x in args.workers.split(",")]
    delays = [float(x) for x in args.delays.split(",")]

    # A worker stopped between configurations may leave a typing-indicator request half sent;
    # the fake Chatwoot's server would print the disconnect as a traceback. Replies are counted.
    logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    facts = machine_facts(r)
    prefix = f"bench:load{os.getpid()}:"
    log = ReplyLog()
    fake = FakeChatwoot(accounts=(1, 2, 3))
    fake.calls = log
    fake.start()
    llm = openai_server.start(echo=True, keep_requests=False)
    port = free_port()
    results: list[Result] = []
    with contextlib.ExitStack() as keep:
        if args.keep_logs:
            tmp = Path(args.keep_logs)
            tmp.mkdir(parents=True, exist_ok=True)
        else:
            tmp = Path(keep.enter_context(tempfile.TemporaryDirectory(prefix="chatwootai-load-")))
        env = service_env(fake, llm.base_url, prefix, tmp, redis_url)
        server = spawn(["serve", "--port", str(port)], env, tmp / "serve.log")
        try:
            wait_until(lambda: server_ready(port), "the server to be ready")
            server_idle_rate = idle_commands_rate(r)
            base = 100_000
            for delay_s in delays:
                for workers in worker_counts:
                    results.append(
                        run_config(
                            fake=fake,
                            log=log,
                            llm=llm,
                            r=r,
                            env=env,
                            tmp=tmp,
                            port=port,
                            serve_pid=server.pid,
                            delay_s=delay_s,
                            workers=workers,
                            base=base,
                            conversations=args.conversations,
                            messages=args.messages,
                            server_idle_rate=server_idle_rate,
                        )
                    )
                    base += 10_000
                    print(f"done: LLM delay {delay_s:g} s, {workers} worker(s)", file=sys.stderr)
        finally:
            stop([server])
            fake.stop()
            llm.stop()
            keys = list(r.scan_iter(match=prefix + "*", count=1000))
            keys += list(r.scan_iter(match=f"arq:*{prefix}*", count=1000))
            if keys:
                r.delete(*keys)
    print("load: one `chatwootai serve`, k `chatwootai worker` processes, real pipeline on the")
    print("shipped domains (accounts 1/2/3 = cosmetics/health/retail), fake OpenAI-compatible LLM")
    print("over HTTP (plain-text answers), fake Chatwoot, local Redis; burst window 0.")
    print(
        f"{args.conversations} conversations x {args.messages} messages per configuration, "
        "closed loop (each message sent after the previous reply), warm-up excluded."
    )
    poll = os.environ.get("CHATWOOTAI_WORKER_POLL") or "default"
    jobs = os.environ.get("CHATWOOTAI_WORKER_CONCURRENCY") or "default"
    print(f"worker poll {poll}, concurrency per worker {jobs} (CHATWOOTAI_WORKER_CONCURRENCY)")
    report(results, args.conversations, args.messages)
    print("\nmachine at start: " + "; ".join(facts))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at the end {load}. The load generator, the fake Chatwoot and the fake")
    print("LLM run in this process and share the CPUs with the service and Redis (a server of")
    print("the bench's own unless --redis-url: then its counts include other clients' commands).")
    env_vars = " ".join(
        f"{name}={shlex.quote(os.environ[name])}"
        for name in ("CHATWOOTAI_WORKER_POLL", "CHATWOOTAI_WORKER_CONCURRENCY")
        if os.environ.get(name)
    )
    command = " ".join(shlex.quote(a) for a in sys.argv[1:])
    print(f"command: {env_vars + ' ' if env_vars else ''}.venv/bin/python bench/load.py {command}")


if __name__ == "__main__":
    main()
