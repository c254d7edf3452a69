"""A redis-server of the bench's own (free port, no persistence), so that INFO commandstats
counts only the commands of the processes under measurement, not other clients of a shared one."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from typing import Any, cast

import redis


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def private_redis() -> Iterator[str]:
    """Run a redis-server on a free port for the block; its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (or pass --redis-url)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as cwd:
        args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--daemonize", "no"]  # fmt: skip
        proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL)
        try:
            client = redis.Redis(port=port)
            deadline = time.monotonic() + 10
            while True:
                with contextlib.suppress(redis.RedisError):
                    if client.ping():
                        break
                if time.monotonic() > deadline:
                    raise SystemExit("the bench's redis-server did not start")
                time.sleep(0.05)
            client.close()
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def command_calls(r: redis.Redis) -> dict[str, int]:
    """Calls per command since the server started (INFO commandstats), without the bench's own
    INFO and CLIENT LIST."""
    stats = cast(dict[str, dict[str, Any]], r.info("commandstats"))
    return {
        name.removeprefix("cmdstat_"): int(value["calls"])
        for name, value in stats.items()
        if name not in ("cmdstat_info", "cmdstat_client|list")
    }


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Per-command difference of two commandstats snapshots."""
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0) > 0}
