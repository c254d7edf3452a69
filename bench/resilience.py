"""Resilience under DEFAULT settings: a worker killed mid-turn, and a 90 s Chatwoot outage.

Starts `chatwootai serve` and two `chatwootai worker` processes (tests/service/service_deployment
.py: no CHATWOOTAI_* tuning at all) on a Redis of its own (a private `redis-server` on a free
port, so INFO commandstats counts this deployment only; `--redis-url` to use another one, with a
fresh key prefix), the fake Chatwoot of the tests in this process, and the fake brain of
tests/service/service_fakes.py (a text with "lento" thinks FAKE_SLOW_S seconds).

1. SIGKILL mid-turn: N conversations each send a slow message; once every turn is thinking, the
   worker holding the most of them is killed. Measured: seconds from the kill to each affected
   conversation's reply (p50, max; target <= 15 s), replies per conversation (target exactly 1),
   turn jobs and arq retries per affected conversation (the survivor's metrics), and Redis
   commands per affected conversation from the kill to the last reply (INFO commandstats delta,
   less the idle deployment's own rate measured just before).
2. Chatwoot down 90 s: every API call answers 500 for 90 s while M conversations write. Measured:
   replies delivered after the outage (target: all, each exactly once), seconds from the end of
   the outage to the replies (p50, max), and API calls made during the outage.

Run: .venv/bin/python bench/resilience.py [--conversations 8] [--outage-conversations 10]
     [--outage-s 90] [--redis-url URL]
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "service")]

from service_deployment import (  # noqa: E402
    Deployment,
    free_port,
    launch,
    metric_value,
    wait_for,
)

SLOW_S = 4.0
"""Thinking time of the killed turns (the fake brain's FAKE_SLOW_S)."""


def commands(client: redis.Redis) -> int:
    """Commands the Redis server has run (sum over INFO commandstats)."""
    stats = client.info("commandstats")
    return sum(int(entry["calls"]) for entry in stats.values())


def public_replies(dep: Deployment, account_id: int, display_id: int) -> list[str]:
    """Public messages the bot left in a conversation."""
    conversation = dep.fake.conversations[(account_id, display_id)]
    return [
        str(m["content"])
        for m in conversation.messages
        if m["sender_type"] == "AgentBot" and not m["private"]
    ]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def private_redis(port: int) -> subprocess.Popen[bytes]:
    """A redis-server of this bench alone (no persistence), once it answers."""
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    wait_for(lambda: _pings(client), "the private redis-server", 20)
    client.close()
    return proc


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def sigkill(dep: Deployment, count: int) -> dict[str, float]:
    """Scenario 1; its figures."""
    fake = dep.fake
    ids = list(range(7001, 7001 + count))
    for display_id in ids:
        fake.add_conversation(account_id=5, display_id=display_id)
        assert (
            dep.deliver(fake.incoming(5, display_id, f"pedido lento {display_id}")).json()["status"]
            == "queued"
        )
    started = {d: f"{dep.prefix}fake:started:5:{d}" for d in ids}
    wait_for(lambda: all(dep.redis.get(k) for k in started.values()), "every turn to start", 60)
    holders = {d: int(str(dep.redis.get(k))) for d, k in started.items()}
    victim = max(dep.workers, key=lambda w: sum(1 for pid in holders.values() if pid == w.pid))
    affected = [d for d, pid in holders.items() if pid == victim.pid]
    time.sleep(0.5)  # well into the turns (typing on)

    survivor = next(w for w in dep.workers if w is not victim)
    index = dep.workers.index(survivor)
    port = dep.metrics_ports[index]

    def survivor_metric(name: str, **labels: str) -> float:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        return metric_value(text, name, labels)

    jobs_before = survivor_metric("chatwootai_turn_jobs_total")
    retries_before = survivor_metric("chatwootai_turn_jobs_total", outcome="retry")
    cmds_before = commands(dep.redis)
    victim.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    victim.wait(timeout=10)
    answered: dict[int, float] = {}
    taken: dict[int, float] = {}
    while len(answered) < len(affected):
        if time.monotonic() - killed > 180:
            raise SystemExit("affected conversations not answered within 180 s")
        for d in affected:
            if d not in taken and dep.redis.get(started[d]) == str(survivor.pid):
                taken[d] = time.monotonic() - killed  # the survivor is thinking it again
            if d not in answered and public_replies(dep, 5, d):
                answered[d] = time.monotonic() - killed
        time.sleep(0.02)
    window = time.monotonic() - killed
    cmds = commands(dep.redis) - cmds_before
    time.sleep(2)  # room for a wrong second reply
    wait_for(lambda: all(public_replies(dep, 5, d) for d in ids), "every reply", 60)
    doubles = sum(1 for d in ids if len(public_replies(dep, 5, d)) != 1)
    return {
        "in_flight": len(ids),
        "affected": len(affected),
        "p50": statistics.median(answered.values()),
        "max": max(answered.values()),
        "taken_p50": statistics.median(taken.values()) if taken else float("nan"),
        "taken_max": max(taken.values()) if taken else float("nan"),
        "window": window,
        "commands": cmds,
        "jobs": survivor_metric("chatwootai_turn_jobs_total") - jobs_before,
        "retries": survivor_metric("chatwootai_turn_jobs_total", outcome="retry") - retries_before,
        "not_exactly_once": doubles,
        "takeovers": survivor_metric("chatwootai_turn_takeovers_total"),
    }


def outage(dep: Deployment, count: int, seconds: float) -> dict[str, float]:
    """Scenario 2; its figures."""
    fake = dep.fake
    ids = list(range(8001, 8001 + count))
    for display_id in ids:
        fake.add_conversation(account_id=3, display_id=display_id)
    down = fake.down(seconds)
    calls_before = len(fake.calls)
    for display_id in ids:
        assert (
            dep.deliver(fake.incoming(3, display_id, f"oi {display_id}")).json()["status"]
            == "queued"
        )
    time.sleep(max(0.0, down.until - time.monotonic()))
    calls_during = len(fake.calls) - calls_before
    back = time.monotonic()
    delivered: dict[int, float] = {}
    while len(delivered) < len(ids) and time.monotonic() - back < 600:
        for d in ids:
            if d not in delivered and public_replies(dep, 3, d):
                delivered[d] = time.monotonic() - back
        time.sleep(0.05)
    time.sleep(3)
    once = sum(1 for d in ids if len(public_replies(dep, 3, d)) == 1)
    after = list(delivered.values()) or [float("nan")]
    return {
        "conversations": len(ids),
        "delivered": len(delivered),
        "exactly_once": once,
        "p50": statistics.median(after),
        "max": max(after),
        "calls_during": calls_during,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=8)
    parser.add_argument("--outage-conversations", type=int, default=10)
    parser.add_argument("--outage-s", type=float, default=90.0)
    parser.add_argument("--redis-url", default=None)
    args = parser.parse_args()
    own: subprocess.Popen[bytes] | None = None
    redis_url = args.redis_url
    if redis_url is None:
        port = free_port()
        own = private_redis(port)
        redis_url = f"redis://127.0.0.1:{port}/0"
    os.environ["FAKE_SLOW_S"] = str(SLOW_S)
    load_before = os.getloadavg()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            overrides = {
                "CHATWOOTAI_SYSTEM_FACTORY": "service_fakes:create_system",
                "CHATWOOTAI_DOMAINS_DIR": str(Path(tmp) / "domains"),
            }
            with launch(
                Path(tmp), (3, 5), overrides, workers=2, redis_url=redis_url, metrics=True
            ) as dep:
                time.sleep(3)
                idle_from, idle_at = commands(dep.redis), time.monotonic()
                time.sleep(10)
                idle_rate = (commands(dep.redis) - idle_from) / (time.monotonic() - idle_at)
                killed = sigkill(dep, args.conversations)
                down = outage(dep, args.outage_conversations, args.outage_s)
    finally:
        if own is not None:
            own.terminate()
            own.wait(timeout=10)
    load_after = os.getloadavg()
    affected = killed["affected"] or 1
    print("resilience with default settings: serve + 2 workers, fake Chatwoot, fake brain")
    print(f"command: .venv/bin/python bench/{Path(__file__).name} " + shlex.join(sys.argv[1:]))
    print(f"redis: {'private redis-server' if own else redis_url}")
    print(
        f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}; "
        f"after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} "
        f"({os.cpu_count()} CPUs)"
    )
    print()
    print(
        f"1. SIGKILL of a worker with {killed['affected']:.0f} of {killed['in_flight']:.0f} "
        f"turns in flight ({SLOW_S:g} s of thinking each):"
    )
    print(
        f"   kill -> reply: p50 {killed['p50']:.1f} s, max {killed['max']:.1f} s (target <= 15 s)"
    )
    print(
        f"   kill -> taken over (the survivor thinking it again): p50 {killed['taken_p50']:.1f} s, "
        f"max {killed['taken_max']:.1f} s"
    )
    print(
        f"   conversations not answered exactly once: {killed['not_exactly_once']:.0f}; "
        f"take-overs: {killed['takeovers']:.0f}"
    )
    print(
        f"   turn jobs per affected conversation: {killed['jobs'] / affected:.1f}; "
        f"arq retries: {killed['retries']:.0f}"
    )
    print(
        f"   Redis commands from the kill to the last reply ({killed['window']:.1f} s): "
        f"{killed['commands']:.0f}, {killed['commands'] / affected:.0f} per affected "
        f"conversation, {killed['commands'] / killed['window']:.0f}/s (the idle deployment, "
        f"two workers polling: {idle_rate:.0f}/s)"
    )
    print()
    print(f"2. Chatwoot answering 500 on every call for {args.outage_s:g} s:")
    print(
        f"   replies delivered: {down['delivered']:.0f} of {down['conversations']:.0f}; "
        f"exactly once: {down['exactly_once']:.0f}"
    )
    print(
        f"   outage end -> reply: p50 {down['p50']:.1f} s, max {down['max']:.1f} s; "
        f"API calls during the outage: {down['calls_during']:.0f}"
    )


if __name__ == "__main__":
    main()
