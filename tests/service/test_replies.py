"""Delivering a turn's plan: a re-run never posts again what an earlier attempt posted."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from service_fakes import DOMAINS, TENANTS, FakeSystem

from chatwootai.chatwoot.client import ChatwootUnavailable
from chatwootai.service.credentials import Credentials
from chatwootai.service.replies import PlannedReply, Replier, ReplyTarget
from chatwootai.settings import Settings
from conftest import fast_client
from fakes.chatwoot_server import FakeChatwoot

TARGET = ReplyTarget(
    conversation_key="3:417", account_id=3, display_id=417, inbox_id=None, channel="whatsapp"
)
OPTIONS = DOMAINS["retail"]


@pytest.fixture
async def replier(settings: Settings, system: FakeSystem) -> AsyncIterator[Replier]:
    """A replier on the test Redis and the fake Chatwoot."""
    built = Replier(system.store, Credentials(settings, TENANTS), client_factory=fast_client)
    yield built
    await built.close()


def plan(reply: str, **extra: object) -> PlannedReply:
    """A plan made just now."""
    return PlannedReply.model_validate(
        {"reply": reply, "domain": "retail", "crew": "sales", "planned_at": time.time(), **extra}
    )


def posts(fake: FakeChatwoot, *, private: bool = False) -> list[str]:
    """What the bot posted to 3:417 (public replies, or private notes)."""
    return [
        call.body["content"]
        for call in fake.calls_to("messages.create")
        if bool(call.body.get("private")) == private
    ]


async def test_a_rerun_does_not_post_a_reply_an_attempt_posted_without_recording_it(
    replier: Replier, fake: FakeChatwoot
) -> None:
    answer = plan("Temos sim, o tênis custa R$ 199.")
    # An earlier attempt posted the reply, then died before recording it as sent.
    await replier.client_for(TARGET).send_message(3, 417, answer.reply, echo_id="t1-0")
    done = await replier.deliver(TARGET, answer, OPTIONS, "t1", first_attempt=False)
    assert done == ["reply:0"]
    assert posts(fake) == [answer.reply]
    assert await replier.deliver(TARGET, answer, OPTIONS, "t1") == []  # recorded now


async def test_a_rerun_posts_what_no_attempt_posted(replier: Replier, fake: FakeChatwoot) -> None:
    await replier.client_for(TARGET).send_message(3, 417, "Resposta de outro turno.")
    answer = plan("Resposta de outro turno, agora esta.")
    assert await replier.deliver(TARGET, answer, OPTIONS, "t2", first_attempt=False) == ["reply:0"]
    assert posts(fake) == ["Resposta de outro turno.", answer.reply]


async def test_a_first_attempt_does_not_read_the_conversation(
    replier: Replier, fake: FakeChatwoot
) -> None:
    await replier.deliver(TARGET, plan("Oi!"), OPTIONS, "t3", first_attempt=True)
    assert fake.calls_to("conversation.show") == []
    assert posts(fake) == ["Oi!"]


async def test_a_handoff_cut_at_opening_resumes_without_posting_its_messages_again(
    replier: Replier, fake: FakeChatwoot
) -> None:
    options = DOMAINS["cosmetics"]  # team 2, labels handoff and cosmeticos
    handoff = plan("", handoff_reason="cliente pediu humano", handoff_by="routing")
    fake.fail("toggle_status", "error", times=4)  # the first attempt cannot open it
    with pytest.raises(ChatwootUnavailable):
        await replier.deliver(TARGET, handoff, options, "t4", first_attempt=True)
    done = await replier.deliver(TARGET, handoff, options, "t4", first_attempt=False)
    assert done == ["handoff:status", "handoff"]
    assert posts(fake) == [options.texts.handoff]
    assert len(posts(fake, private=True)) == 1
    assert len(fake.calls_to("assignments")) == 1
    assert fake.conversations[(3, 417)].status == "open"


async def test_a_handoff_note_posted_but_not_recorded_is_not_posted_again(
    replier: Replier, fake: FakeChatwoot
) -> None:
    options = DOMAINS["retail"]
    handoff = plan("Vou chamar alguém.", handoff_reason="reclamação")
    assert await replier.deliver(TARGET, handoff, options, "t5", first_attempt=True)
    note = posts(fake, private=True)
    assert len(note) == 1
    # A second turn id with the same plan: its note is the conversation's last message.
    done = await replier.deliver(TARGET, handoff, options, "t6", first_attempt=False)
    assert "handoff:private_note" in done
    assert posts(fake, private=True) == note
