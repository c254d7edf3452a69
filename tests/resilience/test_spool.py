"""The webhook with the store unreachable: 200 and the message on disk; 500 only if the disk fails.

In process, against a Redis URL where nothing listens (connections refused at once).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from resilience_support import InProcess, quick_client, running
from service_deployment import free_port
from service_fakes import TENANTS, FakeSystem

from chatwootai.service.app import create_app
from chatwootai.service.spool import OwnershipChange, Spool
from chatwootai.service.turns import PendingMessage
from chatwootai.settings import Settings
from chatwootai.store.redis import RedisStore
from fakes.chatwoot_server import FakeChatwoot


async def down(fake: FakeChatwoot, data_dir: Path) -> AsyncIterator[InProcess]:
    url = f"redis://127.0.0.1:{free_port()}/0"
    settings = Settings.model_validate(
        {
            "REDIS_URL": url,
            "CHATWOOT_BASE_URL": fake.base_url,
            "CHATWOOT_API_TOKEN": fake.bot_token,
            "CHATWOOTAI_BURST_WINDOW": 0,
            "CHATWOOTAI_DATA_DIR": str(data_dir),
        }
    )
    system = FakeSystem(settings, RedisStore.from_url(url, timeout=0.5))
    app = create_app(
        settings, system, tenants=TENANTS, client_factory=quick_client, manage_system=False
    )
    async for harness in running(app, fake):
        yield harness
    await system.store.close()


@pytest.fixture
async def store_down(fake: FakeChatwoot, tmp_path: Path) -> AsyncIterator[InProcess]:
    """The app (arq queue) with its Redis unreachable and a writable data dir."""
    async for harness in down(fake, tmp_path / "data"):
        yield harness


@pytest.fixture
async def store_and_disk_down(fake: FakeChatwoot, tmp_path: Path) -> AsyncIterator[InProcess]:
    """The app with its Redis unreachable and a data dir that cannot be created."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data dir should be")
    async for harness in down(fake, blocker / "data"):
        yield harness


async def test_store_down_gives_200_and_keeps_the_message_on_disk(
    store_down: InProcess, fake: FakeChatwoot
) -> None:
    fake.add_conversation(account_id=3, display_id=417)
    response = await store_down.post(fake.incoming(3, 417, "Olá 😀"))
    assert (response.status_code, response.json()["status"]) == (200, "spooled")
    spool = store_down.service.spool
    [path] = spool.files()
    kept = PendingMessage.model_validate_json(path.read_text(encoding="utf-8"))
    assert (kept.conversation_key, kept.text) == ("3:417", "Olá 😀")
    assert await store_down.service.drain_spool() == 0  # still down: the file stays
    assert len(spool.files()) == 1


async def test_store_and_disk_down_gives_500_so_chatwoot_delivers_again(
    store_and_disk_down: InProcess, fake: FakeChatwoot
) -> None:
    fake.add_conversation(account_id=3, display_id=417)
    response = await store_and_disk_down.post(fake.incoming(3, 417, "oi"))
    assert response.status_code == 500  # Chatwoot retries 500 (and 429), 3 times, 3 s apart
    assert response.json()["status"] == "unavailable"


async def test_the_drainer_outlives_a_failed_round(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = Spool(tmp_path)
    spool.write(
        PendingMessage(message_id=1, conversation_key="3:417", account_id=3, display_id=417)
    )
    listing = spool.files
    rounds = 0

    def flaky_files() -> list[Path]:
        nonlocal rounds
        rounds += 1
        if rounds == 1:
            raise OSError("input/output error")
        return listing()

    monkeypatch.setattr(spool, "files", flaky_files)
    accepted = asyncio.Event()

    async def accept(message: PendingMessage) -> None:
        accepted.set()

    async def own(change: OwnershipChange) -> None:
        raise AssertionError("no ownership change was spooled")

    async def ready() -> bool:
        return True

    drainer = asyncio.create_task(spool.drain_forever(accept, own, ready, every_s=0.01))
    try:
        await asyncio.wait_for(accepted.wait(), 10)
    finally:
        drainer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await drainer
    assert rounds >= 2
    assert not spool.holds("3:417")
