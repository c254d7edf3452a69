"""Config invalidation between two processes, and the listener surviving a Redis restart."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from chatwootai.config.registry import DomainRegistry
from chatwootai.config.schema import DomainConfig
from chatwootai.store import keys
from chatwootai.store.redis import RedisStore

CHILD = """
import asyncio, sys
from chatwootai.config.registry import DomainRegistry
from chatwootai.config.schema import DomainConfig
from chatwootai.store.redis import RedisStore

class Loader:
    def names(self):
        return ["cosmetics"]
    def load(self, name):
        return DomainConfig(name=name, description="from the child's files")

async def main(url, prefix):
    registry = DomainRegistry(Loader(), RedisStore.from_url(url, prefix=prefix))
    changed = asyncio.Event()
    registry.on_change(lambda name: changed.set())
    await registry.start()
    print("ready", (await registry.get_domain_config("cosmetics")).description, flush=True)
    while True:
        await changed.wait()
        changed.clear()
        config = await registry.get_domain_config("cosmetics")
        print("changed", registry.version("cosmetics"), config.description, flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


class OneLoader:
    def names(self) -> list[str]:
        return ["cosmetics"]

    def load(self, name: str) -> DomainConfig:
        return DomainConfig(name=name, description="from the parent's files")


async def test_another_process_sees_an_update_within_one_second(
    redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    store = RedisStore.from_url(redis_url, prefix=key_prefix)
    seeded = DomainConfig(name="cosmetics", description="v1")
    await store.set(keys.domain_config("cosmetics"), seeded.model_dump_json())
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = await asyncio.create_subprocess_exec(
        sys.executable, str(script), redis_url, key_prefix, stdout=asyncio.subprocess.PIPE
    )
    assert child.stdout is not None
    try:
        line = await asyncio.wait_for(child.stdout.readline(), timeout=30)
        assert line.decode().strip() == "ready v1"  # served from the store, now in its memory

        parent = DomainRegistry(OneLoader(), store)
        await parent.update_domain_config(
            "cosmetics", DomainConfig(name="cosmetics", description="v2")
        )
        line = await asyncio.wait_for(child.stdout.readline(), timeout=1.0)
        assert line.decode().strip() == "changed 1 v2"

        await parent.update_domain_config(
            "cosmetics", DomainConfig(name="cosmetics", description="v3")
        )
        line = await asyncio.wait_for(child.stdout.readline(), timeout=1.0)
        assert line.decode().strip() == "changed 2 v3"
    finally:
        child.kill()
        await child.wait()
        await store.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_listener_recovers_after_redis_restarts(tmp_path: Path) -> None:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed on PATH for this test")
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    reader_store = RedisStore.from_url(url, timeout=0.5)
    writer_store = RedisStore.from_url(url, timeout=0.5)
    reader = DomainRegistry(OneLoader(), reader_store)
    writer = DomainRegistry(OneLoader(), writer_store)
    try:
        while not await reader_store.ping():
            await asyncio.sleep(0.02)
        await reader.start()
        assert (
            await reader.get_domain_config("cosmetics")
        ).description == "from the parent's files"

        server.kill()
        server.wait()
        await asyncio.sleep(0.3)  # the listener notices the loss
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        while not await writer_store.ping():
            await asyncio.sleep(0.02)

        seen = asyncio.Event()
        reader.on_change(lambda name: seen.set() if name == "cosmetics" else None)
        for _ in range(100):  # the listener subscribes again within about a second
            await writer.update_domain_config(
                "cosmetics", DomainConfig(name="cosmetics", description="after restart")
            )
            try:
                await asyncio.wait_for(seen.wait(), timeout=0.1)
                break
            except TimeoutError:
                continue
        assert seen.is_set()
        assert (await reader.get_domain_config("cosmetics")).description == "after restart"
    finally:
        await reader.stop()
        server.kill()
        server.wait()
        await reader_store.close()
        await writer_store.close()
