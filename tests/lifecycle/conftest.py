"""Fixtures of the lifecycle tests: the example domains (a copy a test may change), a fake
Chatwoot, and the worker's side of the service around the real pipeline, on real Redis (arq
queue) and on the embedded store (in-process queue)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from chatwootai.chatwoot.client import ChatwootClient  # noqa: E402
from chatwootai.service.context import Service, build_service  # noqa: E402
from chatwootai.service.credentials import ApiAccess  # noqa: E402
from chatwootai.settings import Settings  # noqa: E402
from chatwootai.store.base import Store  # noqa: E402
from chatwootai.store.embedded import EmbeddedStore  # noqa: E402
from chatwootai.system import ChatwootAISystem  # noqa: E402
from fakes import openai_server  # noqa: E402
from fakes.chatwoot_server import FakeChatwoot  # noqa: E402

DOMAINS = Path(__file__).resolve().parents[2] / "domains"


@pytest.fixture
def fake_openai() -> Iterator[Any]:
    """A fake OpenAI-compatible server on 127.0.0.1 (see tests/fakes/openai_server.py)."""
    yield from openai_server.serve()


@pytest.fixture
def fake() -> Iterator[FakeChatwoot]:
    """A running fake Chatwoot (conversations are added by each test)."""
    with FakeChatwoot(accounts=(1, 2, 3)) as server:
        yield server


@pytest.fixture
def domains(tmp_path: Path) -> Path:
    """A copy of the example domains."""
    target = tmp_path / "domains"
    shutil.copytree(DOMAINS, target, ignore=shutil.ignore_patterns("tests"))
    return target


def fast_client(access: ApiAccess) -> ChatwootClient:
    """A Chatwoot client with quick retries."""
    return ChatwootClient(access.base_url, access.token, backoff=0.01, timeout=3)


@pytest.fixture
def model() -> dict[str, str]:
    """Settings of the model answering (none: the offline model); a test may override it."""
    return {}


@pytest.fixture
async def service(
    store: Store,
    fake: FakeChatwoot,
    domains: Path,
    tmp_path: Path,
    redis_url: str,
    key_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
    model: dict[str, str],
) -> AsyncIterator[Service]:
    """The worker's side around the real pipeline (offline model unless `model` says otherwise)
    on `store`: arq on Redis, the in-process queue on the embedded store."""
    for name in ("OPENAI_API_KEY", "REDIS_URL", "REDIS_HOST", "CHATWOOTAI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in model.items():
        monkeypatch.setenv(name, value)
    embedded = isinstance(store, EmbeddedStore)
    values: dict[str, object] = {
        "CHATWOOTAI_DOMAINS_DIR": str(domains),
        "CHATWOOTAI_DATA_DIR": str(tmp_path / "data"),
        "CHATWOOT_BASE_URL": fake.base_url,
        "CHATWOOT_API_TOKEN": fake.bot_token,
        "CHATWOOTAI_BURST_WINDOW": 0,
        "CHATWOOTAI_REDIS_PREFIX": key_prefix,
    }
    if not embedded:
        values["REDIS_URL"] = redis_url
    settings = Settings.model_validate(values)
    system = await ChatwootAISystem.create(settings, store=store)
    await system.start()
    built = build_service(settings, system, client_factory=fast_client, in_process=embedded)
    yield built
    await built.close()
    await system.close()
    if not embedded:  # arq's job keys are named "arq:job:{prefix}…"
        client = redis.Redis.from_url(redis_url)
        names = list(client.scan_iter(match=f"arq:*{key_prefix}*", count=1000))
        if names:
            client.delete(*names)
        client.close()
