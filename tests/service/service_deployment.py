"""Running deployments for end-to-end tests: `chatwootai serve` + workers, and a fake Chatwoot.

Each deployment gets a fresh key prefix on the given Redis (the test Redis by default); the
pipeline is chosen by ``CHATWOOTAI_SYSTEM_FACTORY`` in the overrides (``service_fakes`` for the
fake brain). The processes run with the service's default tuning: a test about a setting passes
it in the overrides, and no test shortens a timeout to make a guarantee hold.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import redis

from fakes.chatwoot_server import FakeChatwoot

HERE = Path(__file__).resolve().parent
DOMAINS = HERE.parents[1] / "domains"
BIN = Path(sys.executable).parent / "chatwootai"
ADMIN = "admin-e2e-token"
STARTUP_S = 120.0
"""Liveness bound on processes starting (imports take seconds on a loaded machine)."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll until `condition()` holds (a liveness bound, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


class Deployment:
    """The running processes and the fake Chatwoot they talk to."""

    def __init__(self, fake: FakeChatwoot, url: str, prefix: str, redis_url: str) -> None:
        self.fake = fake
        self.url = url
        self.prefix = prefix
        self.redis = redis.Redis.from_url(redis_url, decode_responses=True)
        self.workers: list[subprocess.Popen[bytes]] = []
        self.metrics_ports: list[int] = []

    def deliver(
        self, payload: dict[str, object], *, delivery_id: str | None = None
    ) -> httpx.Response:
        """Sign and post a webhook like Chatwoot."""
        body, headers = self.fake.build_delivery(payload, delivery_id=delivery_id)
        return httpx.post(self.url + "/webhooks/chatwoot", content=body, headers=headers, timeout=5)

    def worker_metric(self, name: str, **labels: str) -> float:
        """A counter summed over the live workers' /metrics (``launch(metrics=True)``)."""
        total = 0.0
        for worker, port in zip(self.workers, self.metrics_ports, strict=True):
            if worker.poll() is not None:
                continue
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            total += metric_value(text, name, labels)
        return total

    def replies(self, account_id: int, display_id: int) -> list[str]:
        """Public messages the bot posted in a conversation."""
        return [
            str(call.body["content"])
            for call in self.fake.calls_to("messages.create")
            if (call.account_id, call.conversation_id) == (account_id, display_id)
            and not call.body.get("private")
        ]


def metric_value(text: str, name: str, labels: dict[str, str]) -> float:
    """The sum of a metric's samples carrying `labels`, in Prometheus text."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        sample, _, value = line.rpartition(" ")
        if sample.split("{", 1)[0] != name:
            continue
        if all(f'{key}="{val}"' in sample for key, val in labels.items()):
            total += float(value)
    return total


@contextmanager
def launch(
    tmp: Path,
    accounts: tuple[int, ...],
    overrides: dict[str, str],
    workers: int = 2,
    *,
    redis_url: str | None = None,
    before_ready: Callable[[Path], None] | None = None,
    metrics: bool = False,
) -> Iterator[Deployment]:
    """A server and `workers` workers on a Redis (fresh key prefix) and a fake Chatwoot.

    `before_ready(logs_dir)` runs once the processes are started, before waiting for them. With
    `metrics`, each worker serves its Prometheus metrics (see :meth:`Deployment.worker_metric`).
    """
    redis_url = redis_url or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"test:e2e{uuid.uuid4().hex[:12]}:"  # unique across parallel workers too
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    fake = FakeChatwoot(accounts=accounts, webhook_url=url + "/webhooks/chatwoot").start()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent)]),
        "REDIS_URL": redis_url,
        "CHATWOOTAI_REDIS_PREFIX": prefix,
        "CHATWOOT_BASE_URL": fake.base_url,
        "CHATWOOT_API_TOKEN": fake.bot_token,
        "CHATWOOT_WEBHOOK_SECRET": fake.webhook_secret,
        "ADMIN_TOKEN": ADMIN,
        "CHATWOOTAI_DATA_DIR": str(tmp / "data"),
        "CHATWOOTAI_LOG_LEVEL": "WARNING",
        **overrides,
    }
    logs = tmp / "logs"
    logs.mkdir()
    server = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port)],
        env=env,
        stdout=(logs / "serve.out").open("wb"),
        stderr=subprocess.STDOUT,
    )
    dep = Deployment(fake, url, prefix, redis_url)
    for n in range(workers):
        command = [str(BIN), "worker"]
        if metrics:
            dep.metrics_ports.append(free_port())
            command += ["--metrics-port", str(dep.metrics_ports[-1])]
        dep.workers.append(
            subprocess.Popen(
                command,
                env=env,
                stdout=(logs / f"worker{n}.out").open("wb"),
                stderr=subprocess.STDOUT,
            )
        )

    if before_ready is not None:
        try:
            before_ready(logs)
        except BaseException:
            for proc in [server, *dep.workers]:
                proc.kill()
                proc.wait()
            fake.stop()
            raise

    def up() -> bool:
        try:
            return httpx.get(url + "/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, "the server to be ready", STARTUP_S)
        queue = prefix + "arq:queue:health-check"
        wait_for(lambda: dep.redis.exists(queue) == 1, "a worker to be up", STARTUP_S)
        yield dep
    finally:
        for proc in [server, *dep.workers]:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in [server, *dep.workers]:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        fake.stop()
        keys = list(dep.redis.scan_iter(match=prefix + "*", count=1000))
        keys += list(dep.redis.scan_iter(match=f"arq:*{prefix}*", count=1000))
        if keys:
            dep.redis.delete(*keys)
        dep.redis.close()
