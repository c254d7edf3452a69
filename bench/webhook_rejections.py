"""What a forged or unsigned webhook costs the service, and what a flood of them does to genuine
deliveries.

Starts `chatwootai serve` (real pipeline, the shipped domains/ and tenants.yaml, the local Redis
under a throw-away prefix, no worker: accepted messages just wait in the queue) with the global
secret and the shipped per-tenant secrets (account 3, inbox 20): the most expensive case, where
the webhook reads the account and inbox ids off the raw body to pick the secret.

0. **The app's own CPU per rejected request**: the ASGI app called in this process (no HTTP
   server, no sockets; the body handed over in 64 KiB chunks prepared beforehand), so the figure
   is the webhook's code alone: header checks, reading the chunks, the id search, the HMAC.
1. **CPU per rejected request**: N requests of each kind, sent one at a time on fresh
   connections; the serve process's CPU time (``/proc/<pid>/stat``, user + system) over the run,
   less its idle CPU over the same time (measured before), divided by N. Kinds: no signature
   headers (refused before the body is read), a well-formed but wrong signature (the body is read
   and one HMAC computed), at 256 KiB and 1 MiB (the default body limit); for scale, a genuine
   signed delivery of 256 KiB (authenticated, parsed, journaled, queued).
2. **Latency of genuine deliveries under a flood**: 4 client threads send garbage back to back
   (unsigned 250 KB bodies, as in issue 9; then badly signed 1 MiB bodies) while one client
   sends a signed 5 KB message every 50 ms; p50/p99/max of its round trip (Chatwoot gives up at
   5 s and opens the conversation).

Run: .venv/bin/python bench/webhook_rejections.py [requests_per_kind] [genuine_during_flood]
Needs Redis at REDIS_URL (default redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "service")]
BIN = Path(sys.executable).parent / "chatwootai"
FIXTURE = ROOT / "tests" / "fixtures" / "chatwoot" / "a_incoming_whatsapp.json"
GLOBAL_SECRET = "bench-global-secret"
RETAIL_SECRET = "bench-retail-secret"  # account 3 in the shipped tenants.yaml
KIB = 1024
SECRET_VARIABLE = "BENCH_RETAIL_SECRET"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def delivery(size: int, message_id: int) -> bytes:
    """A message_created of account 3 carrying an e-mail HTML part, padded to `size` bytes."""
    payload: dict[str, Any] = json.loads(FIXTURE.read_text())
    payload["id"] = message_id
    payload["content_attributes"] = {"email": {"html_content": {"full": ""}}}
    base = len(json.dumps(payload, separators=(",", ":")).encode())
    payload["content_attributes"]["email"]["html_content"]["full"] = "x" * max(0, size - base)
    return json.dumps(payload, separators=(",", ":")).encode()


def request_bytes(port: int, body: bytes, headers: dict[str, str]) -> bytes:
    head = [
        "POST /webhooks/chatwoot HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def post_raw(port: int, data: bytes, timeout: float = 10.0) -> int:
    """Send one request on a fresh connection; its status (0 when cut before an answer)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        with contextlib.suppress(OSError):  # refused before the body was read: closed early
            sock.sendall(data)
        reply = b""
        try:
            while b"\r\n" not in reply:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
        except OSError:
            return 0
    try:
        return int(reply.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def unsigned(port: int, body: bytes) -> bytes:
    return request_bytes(port, body, {})


def badly_signed(port: int, body: bytes) -> bytes:
    headers = {
        "X-Chatwoot-Timestamp": str(int(time.time())),
        "X-Chatwoot-Signature": "sha256=" + secrets.token_hex(32),
        "X-Chatwoot-Delivery": secrets.token_hex(8),
    }
    return request_bytes(port, body, headers)


def signed(port: int, body: bytes) -> bytes:
    ts = str(int(time.time()))
    headers = {
        "X-Chatwoot-Timestamp": ts,
        "X-Chatwoot-Signature": sign(RETAIL_SECRET, ts, body),
        "X-Chatwoot-Delivery": secrets.token_hex(8),
    }
    return request_bytes(port, body, headers)


class Server:
    """`chatwootai serve` on a throw-away prefix and data dir."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.prefix = f"bench:rej{os.getpid()}:"
        self.redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        env = {
            **os.environ,
            "REDIS_URL": self.redis_url,
            "CHATWOOTAI_REDIS_PREFIX": self.prefix,
            "CHATWOOTAI_DOMAINS_DIR": str(ROOT / "domains"),
            "CHATWOOTAI_DATA_DIR": str(tmp / "data"),
            "CHATWOOT_BASE_URL": "http://127.0.0.1:9",
            "CHATWOOT_API_TOKEN": "unused",
            "CHATWOOT_WEBHOOK_SECRET": GLOBAL_SECRET,
            "CHATWOOT_WEBHOOK_SECRET_RETAIL": RETAIL_SECRET,
            "CHATWOOT_WEBHOOK_SECRET_FARMACIA": "bench-farmacia-secret",
            "CHATWOOTAI_LOG_LEVEL": "WARNING",
            "OPENAI_API_KEY": "",
            "CHATWOOTAI_MODEL": "",
        }
        env.pop("CHATWOOTAI_SYSTEM_FACTORY", None)
        self.proc = subprocess.Popen(
            [str(BIN), "serve", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(tmp / "serve.err").open("wb"),
        )
        deadline = time.monotonic() + 90
        while not self._ready():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit(f"serve did not start; see {tmp / 'serve.err'}")
            time.sleep(0.1)

    def _ready(self) -> bool:
        try:
            url = f"http://127.0.0.1:{self.port}/readyz"
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)
        client = redis.Redis.from_url(self.redis_url)
        names = list(client.scan_iter(match=self.prefix + "*", count=1000))
        names += list(client.scan_iter(match=f"arq:*{self.prefix}*", count=1000))
        if names:
            client.delete(*names)


def cpu_per_request(
    server: Server, requests: list[bytes], idle_rate: float
) -> tuple[float, set[int]]:
    """Server CPU milliseconds per request (idle CPU subtracted), and the statuses seen."""
    statuses: set[int] = set()
    before, started = cpu_seconds(server.proc.pid), time.monotonic()
    for data in requests:
        statuses.add(post_raw(server.port, data))
    used = cpu_seconds(server.proc.pid) - before - idle_rate * (time.monotonic() - started)
    return used / len(requests) * 1000, statuses


def flood(port: int, garbage: bytes, stop: threading.Event, counter: list[int]) -> None:
    while not stop.is_set():
        try:
            post_raw(port, garbage, timeout=30)
            counter[0] += 1
        except OSError:
            time.sleep(0.01)


def under_flood(
    server: Server, garbage: bytes | None, genuine: int, first_id: int
) -> dict[str, float]:
    """Round trips of genuine deliveries while 4 threads send `garbage` (none: quiet)."""
    stop = threading.Event()
    counter = [0]
    threads = [
        threading.Thread(target=flood, args=(server.port, garbage, stop, counter), daemon=True)
        for _ in range(4 if garbage is not None else 0)
    ]
    for thread in threads:
        thread.start()
    time.sleep(1.0 if threads else 0.0)
    times: list[float] = []
    cpu_before, started = cpu_seconds(server.proc.pid), time.monotonic()
    try:
        for n in range(genuine):
            body = delivery(5 * KIB, first_id + n)
            data = signed(server.port, body)
            sent = time.perf_counter()
            status = post_raw(server.port, data, timeout=30)
            times.append(time.perf_counter() - sent)
            if status != 200:
                raise SystemExit(f"a genuine delivery got {status}")
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    elapsed = time.monotonic() - started
    ms = sorted(t * 1000 for t in times)
    return {
        "p50": statistics.median(ms),
        "p99": ms[min(len(ms) - 1, int(len(ms) * 0.99))],
        "max": ms[-1],
        "garbage_per_s": counter[0] / (elapsed + 1.0),
        "server_cpu": (cpu_seconds(server.proc.pid) - cpu_before) / elapsed,
    }


async def app_cost(per_kind: int) -> list[tuple[str, float, set[int]]]:
    """CPU milliseconds of the ASGI app alone per request, by kind."""
    from service_fakes import FakeSystem

    from chatwootai.config.schema import Tenants
    from chatwootai.service.app import create_app, service_of
    from chatwootai.settings import Settings
    from chatwootai.store.redis import RedisStore

    os.environ[SECRET_VARIABLE] = RETAIL_SECRET
    prefix = f"bench:rejapp{os.getpid()}:"
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.model_validate(
            {
                "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
                "CHATWOOTAI_REDIS_PREFIX": prefix,
                "CHATWOOTAI_DATA_DIR": tmp,
                "CHATWOOT_WEBHOOK_SECRET": GLOBAL_SECRET,
            }
        )
        assert settings.redis_url is not None
        store = RedisStore.from_url(settings.redis_url, prefix=prefix)
        tenants = Tenants.model_validate(
            {
                "accounts": {
                    "3": {"domain": "retail", "webhook_secret_env": "BENCH_RETAIL_SECRET"}
                },
                "inboxes": {
                    "20": {"domain": "retail", "webhook_secret_env": "BENCH_RETAIL_SECRET"}
                },
            }
        )
        app = create_app(settings, FakeSystem(settings, store), tenants=tenants, in_process=True)
        service = service_of(app)

        async def call(headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> int:
            messages = [
                {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
                for i, c in enumerate(chunks)
            ]
            sent: list[Any] = []

            async def receive() -> Any:
                return messages.pop(0) if messages else {"type": "http.disconnect"}

            async def send(message: Any) -> None:
                sent.append(message)

            scope = {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": "1.1",
                "method": "POST",
                "scheme": "http",
                "path": "/webhooks/chatwoot",
                "raw_path": b"/webhooks/chatwoot",
                "query_string": b"",
                "root_path": "",
                "headers": headers,
                "client": ("127.0.0.1", 50000),
                "server": ("127.0.0.1", 80),
                "state": {},
            }
            await app(scope, receive, send)
            return int(sent[0]["status"])

        rows: list[tuple[str, float, set[int]]] = []
        for size, label in ((256 * KIB, "256 KiB"), (1024 * KIB - 512, "1 MiB")):
            body = delivery(size, 1)
            chunks = [body[i : i + 64 * KIB] for i in range(0, len(body), 64 * KIB)]
            length = [(b"content-length", str(len(body)).encode())]
            for kind in ("unsigned", "bad signature"):
                statuses: set[int] = set()
                used = 0.0
                for _ in range(per_kind):
                    headers = list(length)
                    if kind == "bad signature":
                        headers += [
                            (b"x-chatwoot-timestamp", str(int(time.time())).encode()),
                            (b"x-chatwoot-signature", ("sha256=" + secrets.token_hex(32)).encode()),
                        ]
                    before = time.process_time()
                    statuses.add(await call(headers, chunks))
                    used += time.process_time() - before
                rows.append((f"{kind}, {label}", used / per_kind * 1000, statuses))
        await service.close()
        await store.close()
    return rows


def main() -> None:
    per_kind = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    genuine = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    load_before = os.getloadavg()
    own = asyncio.run(app_cost(per_kind))
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp))
        try:
            for _ in range(50):  # warm-up
                post_raw(server.port, badly_signed(server.port, delivery(KIB, 1)))
            idle_from = cpu_seconds(server.proc.pid)
            time.sleep(3.0)
            idle_rate = (cpu_seconds(server.proc.pid) - idle_from) / 3.0
            rows: list[tuple[str, float, set[int]]] = []
            for size, label in ((256 * KIB, "256 KiB"), (1024 * KIB - 512, "1 MiB")):
                body = delivery(size, 1)
                for kind, build in (("unsigned", unsigned), ("bad signature", badly_signed)):
                    requests = [build(server.port, body) for _ in range(per_kind)]
                    ms, statuses = cpu_per_request(server, requests, idle_rate)
                    rows.append((f"{kind}, {label}", ms, statuses))
            accepted = [signed(server.port, delivery(256 * KIB, 10_000 + n)) for n in range(200)]
            ms, statuses = cpu_per_request(server, accepted, idle_rate)
            rows.append(("genuine signed, 256 KiB (parsed, journaled, queued)", ms, statuses))
            floods: dict[str, bytes | None] = {
                "no garbage (for scale)": None,
                "4 clients sending unsigned 250 KB bodies": unsigned(
                    server.port, delivery(250_000, 2)
                ),
                "4 clients sending badly signed 1 MiB bodies": badly_signed(
                    server.port, delivery(1024 * KIB - 512, 3)
                ),
            }
            flooded = {
                name: under_flood(server, garbage, genuine, 100_000 * (i + 1))
                for i, (name, garbage) in enumerate(floods.items())
            }
        finally:
            server.stop()
    load_after = os.getloadavg()
    print("CPU of the webhook app alone per request (ASGI call in process, no HTTP server):")
    for name, ms, statuses in own:
        print(f"  {name:<55} {ms:6.3f} ms   (answers {sorted(statuses)})")
    print("CPU of the serve process per request (idle CPU subtracted), one request at a time:")
    for name, ms, statuses in rows:
        print(f"  {name:<55} {ms:6.3f} ms   (answers {sorted(statuses)})")
    print(f"  requests per kind: {per_kind}; idle CPU of serve: {idle_rate * 1000:.1f} ms/s")
    print("Signed 5 KB deliveries (round trip), one every 50 ms, while 4 clients send garbage:")
    for name, figures in flooded.items():
        print(
            f"  {name}: p50 {figures['p50']:.1f} ms   p99 {figures['p99']:.1f} ms   "
            f"max {figures['max']:.1f} ms   ({figures['garbage_per_s']:.0f} garbage requests/s, "
            f"serve at {figures['server_cpu'] * 100:.0f}% of a core)"
        )
    print(
        f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
        f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}; "
        f"{os.cpu_count()} CPUs shared by server, clients and Redis"
    )
    print(f"command: .venv/bin/python bench/webhook_rejections.py {per_kind} {genuine}")


if __name__ == "__main__":
    main()
