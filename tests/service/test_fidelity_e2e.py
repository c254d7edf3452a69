"""End to end, with default tuning: what `serve` + `worker` do with real Chatwoot behaviours.

Bot-assigned open conversations, a customer reopening a conversation a human owns, a bot reply
the channel refuses (the fake Chatwoot sends ``message_updated`` with ``external_error`` for it,
several times, as Chatwoot does), an e-mail with its quoted thread, and Captain answering in the
same inbox. Chatwoot is the fake server; the pipeline is the fake brain of ``service_fakes``.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from service_deployment import ADMIN, Deployment, launch, wait_for

pytestmark = pytest.mark.slow

DEFAULT_TUNING = {
    "CHATWOOTAI_JOB_TIMEOUT": "120",
    "CHATWOOTAI_BURST_WINDOW": "2",
    "CHATWOOTAI_WORKER_POLL": "1",
}
"""The settings' defaults: launch() shortens some of them for other tests."""
WINDOW = (
    "131047: Message failed to send because more than 24 hours have passed since the customer "
    "last replied to this number."
)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """One server and one worker with default tuning, for the whole module."""
    tmp = tmp_path_factory.mktemp("fidelity")
    overrides = {
        "CHATWOOTAI_SYSTEM_FACTORY": "service_fakes:create_system",
        "CHATWOOTAI_DOMAINS_DIR": str(tmp / "domains"),
        **DEFAULT_TUNING,
    }
    with launch(tmp, (3, 4, 5), overrides, workers=1) as dep:
        yield dep


def notes(dep: Deployment, account: int, display: int) -> list[str]:
    """Private notes posted in a conversation."""
    return [
        str(c.body["content"])
        for c in dep.fake.calls_to("messages.create")
        if (c.account_id, c.conversation_id) == (account, display) and c.body.get("private")
    ]


def paused(dep: Deployment, key: str) -> bool:
    auth = {"Authorization": f"Bearer {ADMIN}"}
    summary = httpx.get(f"{dep.url}/api/admin/conversations/{key}", headers=auth).json()
    return bool(summary["paused"])


def metric(dep: Deployment, line: str) -> bool:
    return line in httpx.get(dep.url + "/metrics").text


def test_reopened_by_the_customer_goes_to_its_human_once(deployment: Deployment) -> None:
    fake = deployment.fake
    conversation = fake.add_conversation(account_id=3, display_id=2001)
    fake.assign_human(3, 2001)
    conversation.status = "resolved"
    payload = fake.customer_reopens(3, 2001, "Oi, o produto veio com defeito")
    assert deployment.deliver(payload).json()["status"] == "notice_queued"
    assert deployment.deliver(payload).json()["status"] == "duplicate"
    wait_for(lambda: conversation.status == "open" and paused(deployment, "3:2001"), "handoff")
    [note] = notes(deployment, 3, 2001)
    assert "escreveu de novo" in note and "Oi, o produto veio com defeito" in note
    assert conversation.bot_handoffs == 1
    assert deployment.replies(3, 2001) == []


def test_a_reply_the_channel_refuses_becomes_one_handoff(deployment: Deployment) -> None:
    fake = deployment.fake
    conversation = fake.add_conversation(account_id=3, display_id=2002)
    conversation.rejects_replies = WINDOW
    assert deployment.deliver(fake.incoming(3, 2002, "quando chega?")).json()["status"] == "queued"
    wait_for(lambda: bool(notes(deployment, 3, 2002)), "the note about the failed reply")
    wait_for(lambda: paused(deployment, "3:2002"), "the pause, after the handoff")
    updates = [d for d in fake.deliveries if b'"message_updated"' in d.body]
    wait_for(lambda: all(d.status is not None for d in updates), "the three message_updated")
    assert len(updates) == 3 and {d.status for d in updates} == {200}
    [note] = notes(deployment, 3, 2002)
    assert "não foi entregue" in note and "[cosmetics/sales] quando chega?" in note
    assert "131047: Message failed to send" in note
    assert (conversation.status, conversation.bot_handoffs) == ("open", 1)
    assert conversation.team == {"id": 2, "name": "vendas"}
    assert set(conversation.labels) >= {"handoff", "cosmeticos"}
    assert deployment.replies(3, 2002) == ["[cosmetics/sales] quando chega?"]
    assert metric(
        deployment, 'chatwootai_notices_total{kind="delivery_failed",outcome="duplicate"} 2.0'
    )


def test_an_open_conversation_assigned_to_the_bot_is_answered(deployment: Deployment) -> None:
    fake = deployment.fake
    conversation = fake.add_conversation(account_id=4, display_id=2003)
    fake.assign_bot(4, 2003)
    conversation.status = "open"
    assert deployment.deliver(fake.incoming(4, 2003, "posso remarcar?")).json()["status"] == (
        "queued"
    )
    wait_for(lambda: bool(deployment.replies(4, 2003)), "the answer")
    assert deployment.replies(4, 2003) == ["[health/sales] posso remarcar?"]


def test_an_email_is_answered_from_its_new_text(deployment: Deployment) -> None:
    fake = deployment.fake
    fake.add_conversation(account_id=5, display_id=2004, channel="Channel::Email")
    quoted = (
        "Em seg., 22 de jun. de 2026 às 14:05, Loja <s@loja.example> escreveu:\n"
        "> Seu pedido 88 foi enviado.\n> Att."
    )
    payload = fake.incoming_email(5, 2004, "Quero trocar o pedido 88", quoted)
    assert "escreveu:" in str(payload["content"])
    assert deployment.deliver(payload).json()["status"] == "queued"
    wait_for(lambda: bool(deployment.replies(5, 2004)), "the answer")
    assert deployment.replies(5, 2004) == ["[retail/sales] Quero trocar o pedido 88"]


def test_captain_answering_in_the_inbox_is_counted(deployment: Deployment) -> None:
    fake = deployment.fake
    fake.add_conversation(account_id=3, display_id=2005)
    response = deployment.deliver(fake.captain_reply(3, 2005, "Olá! Sou o Captain."))
    assert response.json()["status"] == "ignored"
    assert metric(deployment, 'chatwootai_other_bot_messages_total{kind="captain_message"} 1.0')


def test_a_notice_survives_chatwoot_failing_and_pauses_only_once_open(
    deployment: Deployment,
) -> None:
    fake = deployment.fake
    conversation = fake.add_conversation(account_id=4, display_id=2006)
    fake.assign_human(4, 2006)
    conversation.status = "resolved"
    fake.fail("toggle_status", "error", times=12)  # three attempts of the job, with the retries
    payload = fake.customer_reopens(4, 2006, "alguém aí?")
    assert deployment.deliver(payload).json()["status"] == "notice_queued"
    wait_for(lambda: bool(notes(deployment, 4, 2006)), "the note")
    assert not paused(deployment, "4:2006")  # the conversation is not open yet
    wait_for(lambda: conversation.status == "open", "the conversation opened", 90)
    wait_for(lambda: paused(deployment, "4:2006"), "the pause")
    assert len(notes(deployment, 4, 2006)) == 1
    assert [c.outcome for c in fake.calls_to("toggle_status")][-1] == "ok"
    assert conversation.bot_handoffs == 1
