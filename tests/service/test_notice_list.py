"""The notice list, its dedupe, the rescan of stranded notices, and the other-bot watch."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence

import pytest
from service_fakes import FakeSystem

from chatwootai.chatwoot.filters import decide
from chatwootai.chatwoot.payloads import MessageEvent, parse_event
from chatwootai.service.lease import TurnLeases
from chatwootai.service.metrics import Metrics
from chatwootai.service.notices import (
    Notice,
    NoticeList,
    accept_notice,
    batch_id,
    notice_of,
    rescan_notices,
    shorten,
)
from chatwootai.service.other_bots import OtherBotWatch
from chatwootai.service.queue import TurnQueue
from chatwootai.store import keys
from fakes.chatwoot_server import load_fixture


def notice(message_id: int = 151900, *, key: str = "3:417", age_s: float = 0.0) -> Notice:
    return Notice(
        kind="delivery_failed",
        message_id=message_id,
        conversation_key=key,
        account_id=int(key.split(":")[0]),
        display_id=int(key.split(":")[1]),
        inbox_id=12,
        channel="whatsapp",
        excerpt="Seu pedido saiu",
        error="131047",
        received_at=time.time() - age_s,
    )


class RecordingQueue(TurnQueue):
    """A queue that records enqueues and knows of no job (as arq after a lost job)."""

    def __init__(self, *, fail: bool = False) -> None:
        self.enqueued: list[tuple[str, int, float]] = []
        self.fail = fail

    async def enqueue(self, conversation_key: str, message_id: int, defer_s: float) -> None:
        if self.fail:
            raise OSError("queue down")
        self.enqueued.append((conversation_key, message_id, defer_s))

    async def schedule(self, conversation_key: str, defer_s: float, reason: str) -> None:
        await self.enqueue(conversation_key, 0, defer_s)

    async def has_job(self, conversation_key: str, message_ids: Sequence[int]) -> bool:
        return False

    async def depth(self) -> int:
        return len(self.enqueued)


async def test_accept_dedupes_on_kind_and_message_of_the_conversation(system: FakeSystem) -> None:
    notices, queue = NoticeList(system.store), RecordingQueue()
    assert await accept_notice(notices, queue, notice()) == "queued"
    assert await accept_notice(notices, queue, notice()) == "duplicate"
    other_kind = notice().model_copy(update={"kind": "customer_wrote_to_human"})
    assert await accept_notice(notices, queue, other_kind) == "queued"
    other_account = notice(key="8:417")
    assert await accept_notice(notices, queue, other_account) == "queued"
    assert queue.enqueued == [("3:417", 151900, 0), ("3:417", 151900, 0), ("8:417", 151900, 0)]
    assert [n.kind for n in await notices.peek("3:417")] == [
        "delivery_failed",
        "customer_wrote_to_human",
    ]
    assert sorted(await notices.conversations()) == ["3:417", "8:417"]


async def test_a_notice_whose_job_was_not_enqueued_is_kept(system: FakeSystem) -> None:
    notices = NoticeList(system.store)
    assert await accept_notice(notices, RecordingQueue(fail=True), notice()) == "queued"
    assert len(await notices.peek("3:417")) == 1


async def test_remove_and_unreadable_entries(system: FakeSystem) -> None:
    notices = NoticeList(system.store)
    first, second = notice(1), notice(2)
    for item in (first, second, first):
        await notices.push(item)
    await system.store.list_push(keys.pending_notices("3:417"), "{not json", 60)
    assert [n.message_id for n in await notices.peek("3:417")] == [1, 2, 1]
    assert await system.store.list_range(keys.pending_notices("3:417")) == [
        first.model_dump_json(),
        second.model_dump_json(),
        first.model_dump_json(),
    ]
    await notices.remove("3:417", [first])
    assert [n.message_id for n in await notices.peek("3:417")] == [2]


def test_batch_id_is_stable_and_order_free() -> None:
    assert batch_id([notice(1), notice(2)]) == batch_id([notice(2), notice(1)])
    assert batch_id([notice(1)]) != batch_id([notice(1), notice(2)])


def test_shorten() -> None:
    assert shorten("a\n  b") == "a b"
    assert shorten("x" * 400) == "x" * 299 + "…"


def test_notice_of_a_reopened_email_quotes_the_new_text() -> None:
    data = load_fixture("incoming_email_quoted_thread")
    data["conversation"]["meta"]["assignee"] = {"id": 21, "name": "Joao", "type": "user"}
    data["conversation"]["meta"]["assignee_type"] = "User"
    event = parse_event(json.dumps(data).encode())
    assert isinstance(event, MessageEvent)
    made = notice_of(event, decide(event), "email")
    assert made.kind == "customer_wrote_to_human"
    assert made.assignee == "Joao"
    assert made.excerpt.startswith("Bom dia, O pedido 1234 chegou")
    assert "escreveu" not in made.excerpt


async def test_rescan_enqueues_old_notices_without_lock_or_job(system: FakeSystem) -> None:
    notices, queue = NoticeList(system.store), RecordingQueue()
    lock = TurnLeases(system.store, lease_s=60)
    await notices.push(notice(10, key="3:1", age_s=120))  # stranded
    await notices.push(notice(11, key="3:2", age_s=1))  # its own job is on its way
    await notices.push(notice(12, key="3:3", age_s=120))  # its turn is running
    await lock.acquire("3:3")
    requeued = await rescan_notices(
        notices,
        lock,
        queue,  # type: ignore[arg-type]
        every_s=30,
        now=time.time(),
    )
    assert requeued == ["3:1"]
    assert queue.enqueued == [("3:1", 10, 0)]


def test_other_bot_watch_counts_each_and_warns_once_per_inbox_and_period(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [1000.0]
    metrics = Metrics()
    watch = OtherBotWatch(metrics, every_s=3600, clock=lambda: now[0])
    captain = parse_event(json.dumps(load_fixture("outgoing_captain_assistant")).encode())
    owned = parse_event(json.dumps(load_fixture("incoming_captain_assigned")).encode())
    customer = parse_event(json.dumps(load_fixture("a_incoming_whatsapp")).encode())
    other_inbox = load_fixture("outgoing_captain_assistant")
    other_inbox["inbox"] = {"id": 13, "name": "Site"}
    elsewhere = parse_event(json.dumps(other_inbox).encode())
    with caplog.at_level(logging.WARNING, logger="chatwootai.service.other_bots"):
        assert watch.observe(captain, decide(captain)) is True
        assert watch.observe(owned, decide(owned)) is False  # same inbox, same hour
        assert watch.observe(customer, decide(customer)) is False  # not another bot
        assert watch.observe(elsewhere, decide(elsewhere)) is True
        now[0] += 3601
        assert watch.observe(captain, decide(captain)) is True
    assert len(caplog.records) == 3
    text = metrics.render().decode()
    assert 'chatwootai_other_bot_messages_total{kind="captain_message"} 3.0' in text
    assert 'chatwootai_other_bot_messages_total{kind="captain_assigned"} 1.0' in text


def test_notice_of_an_attachment_names_its_kind() -> None:
    data = load_fixture("incoming_image_no_content")
    data["conversation"]["meta"]["assignee"] = {"id": 21, "name": "Joao", "type": "user"}
    event = parse_event(json.dumps(data).encode())
    assert isinstance(event, MessageEvent)
    assert notice_of(event, decide(event), "whatsapp").excerpt == "(image)"
