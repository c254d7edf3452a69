"""Opening the store from settings, TTL policy, and surviving a Redis that goes away."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatwootai.config.schema import TTLs
from chatwootai.settings import Settings
from chatwootai.store.base import StoreUnavailableError
from chatwootai.store.connection import open_store, store_ready
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.store.redis import RedisStore
from chatwootai.store.ttl import Lifetimes, deployment_ttls, effective_ttls


@pytest.fixture(autouse=True)
def no_redis_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from each test's arguments only."""
    for name in ("REDIS_URL", "REDIS_HOST", "REDIS_PASSWORD", "CHATWOOTAI_REDIS_PREFIX"):
        monkeypatch.delenv(name, raising=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_no_redis_configured_opens_the_embedded_store(tmp_path: Path) -> None:
    store = open_store(Settings(CHATWOOTAI_DATA_DIR=tmp_path / "data"))
    assert isinstance(store, EmbeddedStore)
    assert store.path == tmp_path / "data" / "store.sqlite3"
    await store.set("k", "v")
    await store.close()
    reopened = open_store(Settings(CHATWOOTAI_DATA_DIR=tmp_path / "data"))
    assert await reopened.get("k") == "v"
    await reopened.close()


async def test_redis_url_opens_redis_with_prefix(redis_url: str, key_prefix: str) -> None:
    store = open_store(Settings(REDIS_URL=redis_url, CHATWOOTAI_REDIS_PREFIX=key_prefix))
    assert isinstance(store, RedisStore)
    await store.set("k", "v")
    raw = await store.client.get(key_prefix + "k")
    assert raw == "v"
    await store.close()


async def test_redis_host_settings_open_redis(key_prefix: str) -> None:
    settings = Settings(
        REDIS_HOST="127.0.0.1", REDIS_PORT=6379, REDIS_DB=0, CHATWOOTAI_REDIS_PREFIX=key_prefix
    )
    store = open_store(settings)
    assert isinstance(store, RedisStore)
    assert await store_ready(store) is True
    await store.close()


async def test_unreachable_redis_is_a_clear_error_and_not_ready() -> None:
    port = free_port()
    store = open_store(Settings(REDIS_URL=f"redis://127.0.0.1:{port}/0", REDIS_TIMEOUT=0.5))
    with pytest.raises(StoreUnavailableError, match="Redis is unreachable"):
        await store.get("k")
    with pytest.raises(StoreUnavailableError):
        await store.set("k", "v")
    assert await store_ready(store) is False
    await store.close()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[int, list[subprocess.Popen[bytes]]]]:
    """A port for a private redis-server, and the list of servers started on it (killed after)."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed on PATH for the outage test")
    started: list[subprocess.Popen[bytes]] = []
    yield free_port(), started
    for proc in started:
        proc.kill()
        proc.wait()


def start_redis(port: int, started: list[subprocess.Popen[bytes]]) -> None:
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
    started.append(proc)


async def wait_ready(store: RedisStore) -> None:
    for _ in range(200):
        if await store.ping():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("private redis-server did not start")


async def test_redis_down_and_back_without_restart(
    private_redis: tuple[int, list[subprocess.Popen[bytes]]],
) -> None:
    port, started = private_redis
    start_redis(port, started)
    store = RedisStore.from_url(f"redis://127.0.0.1:{port}/0", timeout=0.5)
    await wait_ready(store)
    await store.set("k", "before")

    started[-1].kill()
    started[-1].wait()
    with pytest.raises(StoreUnavailableError):
        await store.get("k")
    assert await store_ready(store) is False

    start_redis(port, started)
    await wait_ready(store)
    assert await store.get("k") is None  # a fresh server without persistence
    await store.set("k", "after")
    assert await store.get("k") == "after"
    await store.close()


def test_ttl_policy_defaults_and_domain_overrides() -> None:
    settings = Settings(CHATWOOTAI_TTL_CONFIG=60, CHATWOOTAI_TTL_AGENT_STATE=120)
    defaults = deployment_ttls(settings)
    assert defaults == Lifetimes(config=60, conversation=86400, agent_state=120)
    assert effective_ttls(defaults, None) == defaults
    assert effective_ttls(defaults, TTLs()) == defaults  # nothing written: deployment wins
    domain = TTLs.model_validate({"agent_state": 600})
    assert effective_ttls(defaults, domain) == Lifetimes(60, 86400, 600)


def test_default_ttls_are_the_documented_ones() -> None:
    assert deployment_ttls(Settings()) == Lifetimes(
        config=3600, conversation=86400, agent_state=86400
    )
