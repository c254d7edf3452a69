"""Delivering a turn's plan: written ahead, read back by its mark, never posted twice.

A post whose answer was lost is read back before it is posted again, and posted again only when
the read-back is conclusive: the message carrying its mark is absent, nothing newer hides it,
and Chatwoot can no longer be saving it (three request timeouts after the post).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from service_fakes import DOMAINS, TENANTS, FakeSystem

from chatwootai.chatwoot.client import MARK_ATTRIBUTE, ChatwootClient
from chatwootai.service.credentials import ApiAccess, Credentials
from chatwootai.service.delivery import DeliveryPending
from chatwootai.service.metrics import Metrics
from chatwootai.service.replies import PlannedReply, Replier, ReplyTarget
from chatwootai.settings import Settings
from fakes.chatwoot_server import FakeChatwoot

TARGET = ReplyTarget(
    conversation_key="3:417", account_id=3, display_id=417, inbox_id=None, channel="whatsapp"
)
OPTIONS = DOMAINS["retail"]
TIMEOUT_S = 0.2
"""The test client's request timeout: a lost post settles three of them later (0.6 s)."""


def short_client(access: ApiAccess) -> ChatwootClient:
    """A Chatwoot client with a short timeout and quick retries."""
    return ChatwootClient(access.base_url, access.token, backoff=0.01, timeout=TIMEOUT_S)


@pytest.fixture
async def replier(settings: Settings, system: FakeSystem) -> AsyncIterator[Replier]:
    """A replier on the test Redis and the fake Chatwoot."""
    built = Replier(
        system.store,
        Credentials(settings, TENANTS),
        client_factory=short_client,
        metrics=Metrics(),
    )
    yield built
    await built.close()


def plan(reply: str, **extra: object) -> PlannedReply:
    """A plan made just now."""
    return PlannedReply.model_validate(
        {"reply": reply, "domain": "retail", "crew": "sales", "planned_at": time.time(), **extra}
    )


def shown(fake: FakeChatwoot, *, private: bool = False) -> list[str]:
    """What the conversation 3:417 holds from the bot (public replies, or private notes)."""
    return [
        str(m["content"])
        for m in fake.conversations[(3, 417)].messages
        if m["sender_type"] == "AgentBot" and bool(m["private"]) == private
    ]


def customer_says(fake: FakeChatwoot, text: str) -> int:
    """A customer message in 3:417; its id."""
    return int(fake.incoming(3, 417, text)["id"])


async def test_a_first_attempt_posts_with_its_mark_and_reads_nothing(
    replier: Replier, fake: FakeChatwoot
) -> None:
    asked = customer_says(fake, "Oi")
    assert await replier.deliver(
        TARGET, plan("Oi!"), OPTIONS, "t1", first_attempt=True, after_id=asked
    ) == ["reply:0"]
    assert fake.calls_to("conversation.show") == []
    [post] = fake.calls_to("messages.create")
    assert post.body["content_attributes"] == {MARK_ATTRIBUTE: "t1:reply:0"}
    assert shown(fake) == ["Oi!"]
    assert await replier.deliver(TARGET, plan("Oi!"), OPTIONS, "t1") == []  # recorded


async def test_a_post_saved_but_unanswered_is_found_by_its_mark(
    replier: Replier, fake: FakeChatwoot
) -> None:
    asked = customer_says(fake, "Tem tênis?")
    answer = plan("Temos sim, o tênis custa R$ 199.")
    fake.fail("messages.create", "lost", delay=1.0)  # saved, the answer never comes in time
    with pytest.raises(DeliveryPending) as pending:
        await replier.deliver(TARGET, answer, OPTIONS, "t2", first_attempt=True, after_id=asked)
    assert pending.value.kind == "unconfirmed"
    assert await replier.deliver(TARGET, answer, OPTIONS, "t2", after_id=asked) == ["reply:0"]
    assert shown(fake) == [answer.reply]  # found by its mark at once: not posted again


async def test_a_slow_save_is_never_posted_twice(replier: Replier, fake: FakeChatwoot) -> None:
    """Chatwoot saves the reply after the client's timeout: the read-back waits for it."""
    asked = customer_says(fake, "Qual o prazo?")
    answer = plan("Chega amanhã.")
    fake.fail("messages.create", "slow", delay=0.45)
    with pytest.raises(DeliveryPending) as pending:
        await replier.deliver(TARGET, answer, OPTIONS, "t3", first_attempt=True, after_id=asked)
    assert pending.value.retry_in_s == pytest.approx(3 * TIMEOUT_S, abs=0.1)
    with pytest.raises(DeliveryPending, match="may still be saved"):
        await replier.deliver(TARGET, answer, OPTIONS, "t3", after_id=asked)  # too early
    assert shown(fake) == []
    await asyncio.sleep(pending.value.retry_in_s or 0)
    assert await replier.deliver(TARGET, answer, OPTIONS, "t3", after_id=asked) == ["reply:0"]
    assert shown(fake) == [answer.reply]
    assert len(fake.calls_to("messages.create")) == 1


async def test_a_post_that_never_arrived_is_posted_again_once_settled(
    replier: Replier, fake: FakeChatwoot
) -> None:
    asked = customer_says(fake, "Oi")
    answer = plan("Olá! Como posso ajudar?")
    fake.fail("messages.create", "timeout", delay=0.5)  # nothing saved
    with pytest.raises(DeliveryPending):
        await replier.deliver(TARGET, answer, OPTIONS, "t4", first_attempt=True, after_id=asked)
    await asyncio.sleep(3 * TIMEOUT_S)
    assert await replier.deliver(TARGET, answer, OPTIONS, "t4", after_id=asked) == ["reply:0"]
    assert shown(fake) == [answer.reply]


async def test_a_post_hidden_by_a_later_message_is_not_posted_again(
    replier: Replier, fake: FakeChatwoot
) -> None:
    asked = customer_says(fake, "Oi")
    answer = plan("Olá!")
    fake.fail("messages.create", "lost", delay=1.0)
    with pytest.raises(DeliveryPending):
        await replier.deliver(TARGET, answer, OPTIONS, "t5", first_attempt=True, after_id=asked)
    customer_says(fake, "oi??")  # the conversation's newest message now: ours cannot be seen
    assert await replier.deliver(TARGET, answer, OPTIONS, "t5", after_id=asked) == ["reply:0"]
    assert shown(fake) == ["Olá!"]  # it had been saved: posting again would double it
    assert replier.metrics is not None
    assert replier.metrics.replies_unconfirmed._value.get() == 1


async def test_a_long_retry_after_defers_the_delivery(replier: Replier, fake: FakeChatwoot) -> None:
    asked = customer_says(fake, "Oi")
    fake.fail("messages.create", "rate_limit", retry_after="120")
    with pytest.raises(DeliveryPending) as pending:
        await replier.deliver(
            TARGET, plan("Oi!"), OPTIONS, "t6", first_attempt=True, after_id=asked
        )
    assert (pending.value.kind, pending.value.retry_in_s) == ("rate_limited", 120)
    assert shown(fake) == []
    assert await replier.deliver(TARGET, plan("Oi!"), OPTIONS, "t6", after_id=asked) == ["reply:0"]
    assert shown(fake) == ["Oi!"] and fake.calls_to("conversation.show") == []


async def test_a_handoff_cut_at_opening_resumes_without_posting_its_messages_again(
    replier: Replier, fake: FakeChatwoot
) -> None:
    asked = customer_says(fake, "quero um humano")
    options = DOMAINS["cosmetics"]  # team 2, labels handoff and cosmeticos
    handoff = plan("", handoff_reason="cliente pediu humano", handoff_by="routing")
    fake.fail("toggle_status", "error", times=4)  # Chatwoot fails while opening it
    with pytest.raises(DeliveryPending):
        await replier.deliver(TARGET, handoff, options, "t7", first_attempt=True, after_id=asked)
    assert fake.conversations[(3, 417)].status == "pending"
    done = await replier.deliver(TARGET, handoff, options, "t7", after_id=asked)
    assert done == ["handoff:status", "handoff"]
    assert shown(fake) == [options.texts.handoff]
    assert len(shown(fake, private=True)) == 1
    assert len(fake.calls_to("assignments")) == 1
    assert fake.conversations[(3, 417)].status == "open"


async def test_chatwoot_down_defers_the_delivery_where_it_stopped(
    replier: Replier, fake: FakeChatwoot
) -> None:
    asked = customer_says(fake, "Oi")
    answer = plan("Um " + "longo " * 1000 + "texto.")  # two WhatsApp parts
    fake.fail("messages.create", "error", status=503)  # a gateway: it may still be saved
    with pytest.raises(DeliveryPending):
        await replier.deliver(TARGET, answer, OPTIONS, "t8", first_attempt=True, after_id=asked)
    fake.down(30)
    with pytest.raises(DeliveryPending, match="HTTP 500"):
        await replier.deliver(TARGET, answer, OPTIONS, "t8", after_id=asked)  # cannot read
    fake.up()
    await asyncio.sleep(3 * TIMEOUT_S)
    done = await replier.deliver(TARGET, answer, OPTIONS, "t8", after_id=asked)
    assert done == ["reply:0", "reply:1"]
    assert len(shown(fake)) == 2
