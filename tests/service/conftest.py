"""Fixtures of the service tests: a fake pipeline, a fake Chatwoot, and the app around them."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

HERE = Path(__file__).resolve().parent
for path in (HERE.parent, HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from service_fakes import TENANTS, FakeSystem  # noqa: E402

from chatwootai.chatwoot.client import ChatwootClient  # noqa: E402
from chatwootai.service.app import create_app, service_of  # noqa: E402
from chatwootai.service.context import Service  # noqa: E402
from chatwootai.service.credentials import ApiAccess  # noqa: E402
from chatwootai.service.queue import InProcessTurnQueue  # noqa: E402
from chatwootai.settings import Settings  # noqa: E402
from chatwootai.store.redis import RedisStore  # noqa: E402
from fakes.chatwoot_server import FakeChatwoot  # noqa: E402


@pytest.fixture
def fake() -> Iterator[FakeChatwoot]:
    """A running fake Chatwoot with conversations 3:417, 4:51 and 5:9 (pending, WhatsApp)."""
    with FakeChatwoot(accounts=(3, 4, 5)) as server:
        server.add_conversation(account_id=3, display_id=417)
        server.add_conversation(account_id=4, display_id=51)
        server.add_conversation(account_id=5, display_id=9, channel="Channel::WebWidget")
        yield server


@pytest.fixture
def settings(fake: FakeChatwoot, redis_url: str, key_prefix: str, tmp_path: Path) -> Settings:
    """Settings on the test Redis and the fake Chatwoot, no burst window, no secrets."""
    return Settings.model_validate(
        {
            "REDIS_URL": redis_url,
            "CHATWOOTAI_REDIS_PREFIX": key_prefix,
            "CHATWOOT_BASE_URL": fake.base_url,
            "CHATWOOT_API_TOKEN": fake.bot_token,
            "CHATWOOTAI_BURST_WINDOW": 0,
            "CHATWOOTAI_DATA_DIR": str(tmp_path / "data"),
            "CHATWOOTAI_DOMAINS_DIR": str(tmp_path / "domains"),
        }
    )


@pytest.fixture
async def system(settings: Settings) -> AsyncIterator[FakeSystem]:
    """The fake pipeline on the test Redis."""
    assert settings.redis_url is not None
    fake_system = FakeSystem(
        settings, RedisStore.from_url(settings.redis_url, prefix=settings.redis_prefix)
    )
    yield fake_system
    await fake_system.store.close()


def fast_client(access: ApiAccess) -> ChatwootClient:
    """A Chatwoot client with quick retries, for tests."""
    return ChatwootClient(access.base_url, access.token, backoff=0.01, timeout=3)


class Harness:
    """The app in process (in-process queue) with an HTTP client, the fake Chatwoot and system."""

    def __init__(self, app: FastAPI, http: httpx.AsyncClient, fake: FakeChatwoot) -> None:
        self.app = app
        self.http = http
        self.fake = fake
        self.service: Service = service_of(app)

    async def post(
        self, payload: dict[str, Any], *, delivery_id: str | None = None, secret: str | None = None
    ) -> httpx.Response:
        """Deliver a payload as Chatwoot would (signed with `secret` or the fake's secret)."""
        body, headers = self.fake.build_delivery(payload, secret=secret, delivery_id=delivery_id)
        return await self.http.post("/webhooks/chatwoot", content=body, headers=headers)

    async def settle(self) -> None:
        """Wait until every queued turn ran."""
        queue = self.service.queue
        assert isinstance(queue, InProcessTurnQueue)
        await queue.drain()

    def replies(self, account_id: int, display_id: int) -> list[str]:
        """Public messages the bot posted in a conversation."""
        return [
            call.body["content"]
            for call in self.fake.calls_to("messages.create")
            if (call.account_id, call.conversation_id) == (account_id, display_id)
            and not call.body.get("private")
        ]


@pytest.fixture
async def harness(
    settings: Settings, system: FakeSystem, fake: FakeChatwoot
) -> AsyncIterator[Harness]:
    """The app around the fake system, running turns in process."""
    app = create_app(settings, system, tenants=TENANTS, client_factory=fast_client, in_process=True)
    service = service_of(app)
    await service.start()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:
        yield Harness(app, http, fake)
    await service.close()


DOWN_URL = "redis://127.0.0.1:1/0"
"""A Redis URL nobody listens on (connection refused at once)."""


@pytest.fixture
async def store_down(settings: Settings, fake: FakeChatwoot) -> AsyncIterator[Harness]:
    """The app whose Redis is unreachable (same data dir as `harness`: the same spool)."""
    down = settings.model_copy(update={"redis_url": DOWN_URL})
    system = FakeSystem(down, RedisStore.from_url(DOWN_URL, prefix=down.redis_prefix, timeout=0.5))
    app = create_app(down, system, tenants=TENANTS, client_factory=fast_client, in_process=True)
    service = service_of(app)
    await service.start()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://service"
    ) as http:
        yield Harness(app, http, fake)
    await service.close()
    await system.store.close()
