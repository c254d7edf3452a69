"""The journal: every acknowledged message on local disk until its turn ends, replayed (and
deduplicated) when the store lost its data.

The store losing its data is played here by deleting every key of the deployment (what a Redis
restart without persistence, or a flush, does); the restart itself, with real processes, is in
tests/resilience/test_redis_data_loss.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import redis
from service_fakes import TENANTS, FakeSystem

from chatwootai.service import journal as journal_module
from chatwootai.service.app import create_app, service_of
from chatwootai.service.context import Service
from chatwootai.service.journal import Journal
from chatwootai.service.turns import PendingMessage
from chatwootai.settings import Settings
from chatwootai.store import keys
from chatwootai.store.embedded import EmbeddedStore
from conftest import Harness, fast_client
from fakes.chatwoot_server import FakeChatwoot


def message(message_id: int, key: str = "3:417") -> PendingMessage:
    account, display = key.split(":")
    return PendingMessage(
        message_id=message_id,
        conversation_key=key,
        account_id=int(account),
        display_id=int(display),
        text=f"m{message_id}",
        received_at=float(message_id),
    )


def segment_files(journal: Journal) -> list[Path]:
    assert journal.dir is not None
    return sorted(journal.dir.glob("*.jsonl"))


# -- the journal itself -------------------------------------------------------------------------


async def test_entries_outlive_the_process_and_go_once_their_turn_ended(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.open()
    for mid in (1, 2, 3):
        await journal.record(message(mid), "epoch-1")
        journal.stored(message(mid), "epoch-1")
    journal.close()

    reopened = Journal(tmp_path)
    assert reopened.open() == 3
    assert [e.message.message_id for e in reopened.entries()] == [1, 2, 3]
    assert {e.epoch for e in reopened.entries()} == {None}  # as saved by this slot
    assert reopened.saved_epoch() is None  # the keeper saves it; none was saved here
    reopened.ended([message(1), message(2)])
    assert len(reopened) == 1
    reopened.ended([message(3)])
    assert len(reopened) == 0
    assert segment_files(reopened) == []  # a segment without live entries is deleted
    reopened.close()


async def test_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.open()
    await journal.record(message(1), None)
    [segment] = segment_files(journal)
    journal.close()
    with segment.open("ab") as fh:
        fh.write(message(2).model_dump_json().encode()[:40])  # died mid-write: no 200 was sent
    reopened = Journal(tmp_path)
    assert reopened.open() == 1
    reopened.close()


async def test_appends_share_their_disk_syncs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    syncs = 0
    real = journal_module._datasync

    def counted(fd: int) -> None:
        nonlocal syncs
        syncs += 1
        real(fd)

    monkeypatch.setattr(journal_module, "_datasync", counted)
    journal = Journal(tmp_path)
    journal.open()
    await asyncio.gather(*(journal.record(message(mid), None) for mid in range(1, 101)))
    assert len(journal) == 100
    assert 1 <= syncs < 20, syncs  # group commit: one sync covers every append before it
    journal.close()


async def test_processes_sharing_a_data_dir_take_separate_slots_and_adopt_dead_ones(
    tmp_path: Path,
) -> None:
    first, second = Journal(tmp_path), Journal(tmp_path)
    first.open()
    second.open()
    assert first.dir != second.dir
    await first.record(message(1), None)
    await second.record(message(2, "4:51"), None)
    first.close()  # its process is gone; nobody holds its slot
    third = Journal(tmp_path)
    assert third.open() == 1  # slot 0 is free again: it takes it, entries included
    assert [e.message.message_id for e in third.entries()] == [1]
    second.close()
    fourth = Journal(tmp_path)
    fourth.open()  # takes slot 1 (second's), holding message 2
    assert [e.message.message_id for e in fourth.entries()] == [2]
    third.close()
    fourth.close()


async def test_a_later_reply_answers_the_earlier_messages_of_its_conversation(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path)
    journal.open()
    for m in (message(10), message(11), message(12), message(10, "4:51")):
        await journal.record(m, None)
        journal.stored(m, None)
    assert journal.answered("3:417", 12) == 2
    assert sorted(e.message.message_id for e in journal.entries()) == [10, 12]
    journal.close()


# -- the keeper, around the running service ----------------------------------------------------


@pytest.fixture
async def unworked(
    settings: Settings, system: FakeSystem, fake: FakeChatwoot, redis_url: str
) -> AsyncIterator[Harness]:
    """The HTTP service with arq queue and no worker: accepted messages stay pending."""
    app = create_app(
        settings, system, tenants=TENANTS, client_factory=fast_client, in_process=False
    )
    service = service_of(app)
    await service.start()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://service"
    ) as http:
        yield Harness(app, http, fake)
    await service.close()
    forget_everything(redis_url, settings.redis_prefix)


def forget_everything(redis_url: str, prefix: str) -> int:
    """What a Redis restart without persistence does to this deployment: every key gone."""
    client = redis.Redis.from_url(redis_url)
    try:
        names = list(client.scan_iter(match=prefix + "*", count=1000))
        names += list(client.scan_iter(match=f"arq:*{prefix}*", count=1000))
        if names:
            client.delete(*names)
        return len(names)
    finally:
        client.close()


async def pending_ids(service: Service, key: str) -> list[int]:
    return [m.message_id for m in await service.pending.peek(key)]


def replayed(service: Service) -> float:
    return service.metrics.journal_replayed._value.get()


async def test_messages_acknowledged_before_the_store_lost_its_data_are_replayed_once(
    unworked: Harness, settings: Settings, redis_url: str
) -> None:
    service, fake = unworked.service, unworked.fake
    keeper = service.keeper
    assert keeper is not None and keeper.epoch is not None
    sent = [fake.incoming(3, 417, "primeira"), fake.incoming(3, 417, "segunda")]
    delivery = {}
    for payload in sent:
        response = await unworked.post(payload)
        assert response.json()["status"] == "queued"
        delivery[payload["id"]] = response
    assert len(keeper.journal) == 2
    await keeper.tick()
    assert len(keeper.journal) == 2  # still pending: kept

    assert forget_everything(redis_url, settings.redis_prefix) > 0
    assert await pending_ids(service, "3:417") == []
    await keeper.tick()
    assert await pending_ids(service, "3:417") == [p["id"] for p in sent]
    assert replayed(service) == 2
    assert service.metrics.store_data_lost._value.get() == 1
    assert await service.queue.depth() == 2
    await keeper.tick()  # the same epoch: nothing replayed twice
    assert await pending_ids(service, "3:417") == [p["id"] for p in sent]
    assert replayed(service) == 2
    again = await unworked.post(sent[0])  # Chatwoot delivering it again: already there
    assert again.json()["status"] == "duplicate"


async def test_a_data_loss_while_the_service_was_down_is_found_at_start(
    unworked: Harness,
    settings: Settings,
    system: FakeSystem,
    fake: FakeChatwoot,
    redis_url: str,
) -> None:
    payload = fake.incoming(4, 51, "antes do reinício")
    assert (await unworked.post(payload)).json()["status"] == "queued"
    await unworked.service.close()
    forget_everything(redis_url, settings.redis_prefix)

    app = create_app(
        settings, system, tenants=TENANTS, client_factory=fast_client, in_process=False
    )
    restarted = service_of(app)
    await restarted.start()
    try:
        assert await pending_ids(restarted, "4:51") == [payload["id"]]
        assert replayed(restarted) == 1
    finally:
        await restarted.close()


async def test_entries_are_forgotten_once_their_turn_ended(harness: Harness) -> None:
    service = harness.service
    keeper = service.keeper
    assert keeper is not None
    for n in range(3):
        assert (await harness.post(harness.fake.incoming(3, 417, f"oi {n}"))).status_code == 200
    await harness.settle()
    for entry in keeper.journal.entries():
        entry.next_check_at = 0  # due now rather than in half a second
    await keeper.tick()
    assert len(keeper.journal) == 0
    assert segment_files(keeper.journal) == []


async def test_a_reply_delivered_back_by_chatwoot_ends_the_entries_at_once(
    unworked: Harness,
) -> None:
    service, fake = unworked.service, unworked.fake
    assert service.keeper is not None
    assert (await unworked.post(fake.incoming(3, 417, "pergunta"))).status_code == 200
    assert len(service.keeper.journal) == 1
    assert (await unworked.post(fake.agent_reply(3, 417, "resposta"))).json()["status"] == "paused"
    assert len(service.keeper.journal) == 0


async def test_the_redis_persistence_is_reported_at_start(
    settings: Settings, system: FakeSystem, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="chatwootai.service.durability")
    app = create_app(settings, system, tenants=TENANTS, client_factory=fast_client, in_process=True)
    service = service_of(app)
    await service.start()
    await service.close()
    [line] = [r.getMessage() for r in caplog.records if "Redis persistence" in r.getMessage()]
    assert "journaled" in line and "Not covered by the journal" in line


def test_the_embedded_store_keeps_no_journal(tmp_path: Path, fake: FakeChatwoot) -> None:
    settings = Settings.model_validate(
        {"CHATWOOTAI_DATA_DIR": str(tmp_path / "data"), "CHATWOOT_BASE_URL": fake.base_url}
    )
    system = FakeSystem(settings, EmbeddedStore(tmp_path / "store.sqlite3"))
    app = create_app(settings, system, tenants=TENANTS, client_factory=fast_client)
    assert service_of(app).keeper is None
    assert not (tmp_path / "data" / journal_module.JOURNAL_DIR).exists()


def test_the_journal_can_be_turned_off(settings: Settings, system: FakeSystem) -> None:
    off = settings.model_copy(update={"journal": False})
    app = create_app(off, system, tenants=TENANTS, client_factory=fast_client, in_process=True)
    assert service_of(app).keeper is None
    assert keys.store_epoch() == "store:epoch"
