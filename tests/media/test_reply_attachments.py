"""Replies carrying files: a catalog product's photo, a domain's price list; posted as
multipart ``attachments[]`` with the mark in ``content_attributes`` (a JSON string, as
Chatwoot's builder reads it), and never posted twice when the answer of a post is lost."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from media_support import JPEG, running

from chatwootai.chatwoot.client import MARK_ATTRIBUTE, ChatwootClient
from chatwootai.config.schema import ChatwootOptions, Tenants
from chatwootai.media.attachments import OutboundAttachment
from chatwootai.media.outbound import attachment_messages
from chatwootai.service.credentials import ApiAccess, Credentials
from chatwootai.service.delivery import DeliveryPending
from chatwootai.service.metrics import Metrics
from chatwootai.service.replies import PlannedReply, Replier, ReplyTarget
from chatwootai.settings import Settings
from chatwootai.store.redis import RedisStore
from fakes import openai_server
from fakes.chatwoot_server import FakeChatwoot

TARGET = ReplyTarget("3:417", 3, 417, None, "whatsapp")
TIMEOUT_S = 0.2


async def test_the_catalog_sends_a_products_photo_when_asked(
    tmp_path: Path, fake: FakeChatwoot, llm: Any, redis_url: str, key_prefix: str
) -> None:
    async with running(tmp_path, fake, llm, redis_url, key_prefix) as m:
        llm.script(
            openai_server.tool_call("catalogo", {"query": "sérum vitamina c", "show_image": True}),
            openai_server.text("Segue a foto do sérum!"),
        )
        await m.send(fake.incoming(3, 417, "me mostra o sérum de vitamina c?"))
        text, photo = m.posts()
        assert text.body["content"] == "Segue a foto do sérum!"
        assert photo.body["content"] == "Sérum Vitamina C 30ml — R$ 119,90"
        [sent] = photo.body["attachments"]
        assert sent["field"] == "attachments[]" and sent["content_type"] == "image/jpeg"
        assert sent["filename"] == "serum.jpg"
        assert sent["sha256"] == hashlib.sha256(JPEG).hexdigest()
        assert photo.body["content_attributes"][MARK_ATTRIBUTE].endswith(":files:0")
        assert photo.body["private"] is False
        [message] = [x for x in fake.conversations[(3, 417)].messages if x.get("attachments")]
        assert message["attachments"][0]["file_type"] == "image"
        tool_result = llm.requests[1]["messages"][-1]["content"]
        assert "segue junto com a sua resposta" in tool_result


async def test_an_agent_sends_the_price_list(
    tmp_path: Path, fake: FakeChatwoot, llm: Any, redis_url: str, key_prefix: str
) -> None:
    async with running(tmp_path, fake, llm, redis_url, key_prefix) as m:
        llm.script(
            openai_server.tool_call("arquivos", {"name": "Tabela-Precos"}),
            openai_server.text("Aqui está a tabela."),
        )
        await m.send(fake.incoming(3, 417, "manda a tabela de preços?"))
        _, document = m.posts()
        assert document.body["content"] == "Tabela de preços"
        [sent] = document.body["attachments"]
        assert sent["filename"] == "tabela-precos.pdf"
        assert sent["content_type"] == "application/pdf"


def test_files_are_grouped_into_messages() -> None:
    plain = [OutboundAttachment(path=f"/x/{i}.pdf") for i in range(3)]
    captioned = OutboundAttachment(path="/x/a.jpg", caption="Sérum")
    assert attachment_messages([captioned, *plain, plain[0]]) == [
        ("Sérum", [captioned]),
        ("", plain),
    ]
    assert len(attachment_messages([OutboundAttachment(path=f"/{i}") for i in range(20)])) == 1


# -- posting, written ahead and read back --------------------------------------------------------


def short_client(access: ApiAccess) -> ChatwootClient:
    return ChatwootClient(access.base_url, access.token, backoff=0.01, timeout=TIMEOUT_S)


@pytest.fixture
async def replier(fake: FakeChatwoot, redis_url: str, key_prefix: str) -> AsyncIterator[Replier]:
    settings = Settings.model_validate(
        {"CHATWOOT_BASE_URL": fake.base_url, "CHATWOOT_API_TOKEN": fake.bot_token}
    )
    store = RedisStore.from_url(redis_url, prefix=key_prefix)
    built = Replier(
        store, Credentials(settings, Tenants()), client_factory=short_client, metrics=Metrics()
    )
    yield built
    await built.close()
    await store.close()


def plan_with_photo(tmp_path: Path) -> PlannedReply:
    image = tmp_path / "serum.jpg"
    image.write_bytes(JPEG)
    return PlannedReply(
        reply="Segue a foto.",
        domain="loja",
        crew="vendas",
        planned_at=time.time(),
        attachments=[OutboundAttachment(path=str(image), caption="Sérum")],
    )


def bot_posts(fake: FakeChatwoot) -> list[dict[str, Any]]:
    return [m for m in fake.conversations[(3, 417)].messages if m["sender_type"] == "AgentBot"]


async def test_a_lost_attachment_post_is_read_back_and_not_posted_twice(
    replier: Replier, fake: FakeChatwoot, tmp_path: Path
) -> None:
    asked = int(fake.incoming(3, 417, "foto?")["id"])
    plan = plan_with_photo(tmp_path)
    options = ChatwootOptions()
    fake.fail("messages.create", "lost", delay=1.0, times=1)
    with pytest.raises(DeliveryPending):  # the text: saved, the answer lost
        await replier.deliver(TARGET, plan, options, "t1", first_attempt=True, after_id=asked)
    assert await replier.deliver(TARGET, plan, options, "t1", after_id=asked) == [
        "reply:0",
        "files:0",
    ]
    fake.fail("messages.create", "lost", delay=1.0, times=1)
    plan2 = plan.model_copy(update={"reply": "De novo."})
    with pytest.raises(DeliveryPending):  # the text posts; the photo's answer is lost
        await replier.deliver(TARGET, plan2, options, "t2", after_id=asked)
    assert await replier.deliver(TARGET, plan2, options, "t2", after_id=asked) == [
        "reply:0",
        "files:0",
    ]
    photos = [m for m in bot_posts(fake) if m.get("attachments")]
    assert len(photos) == 2  # one per delivery: the lost one was found by its mark
    assert [m["content"] for m in bot_posts(fake)] == [
        "Segue a foto.",
        "Sérum",
        "De novo.",
        "Sérum",
    ]


async def test_an_attachment_post_that_never_arrived_is_posted_again_once_settled(
    replier: Replier, fake: FakeChatwoot, tmp_path: Path
) -> None:
    asked = int(fake.incoming(3, 417, "foto?")["id"])
    plan = plan_with_photo(tmp_path).model_copy(update={"reply": ""})
    fake.fail("messages.create", "timeout", delay=0.5)  # nothing saved
    with pytest.raises(DeliveryPending):
        await replier.deliver(
            TARGET, plan, ChatwootOptions(), "t3", first_attempt=True, after_id=asked
        )
    await asyncio.sleep(3 * TIMEOUT_S)
    assert await replier.deliver(TARGET, plan, ChatwootOptions(), "t3", after_id=asked) == [
        "files:0"
    ]
    assert [m["content"] for m in bot_posts(fake)] == ["Sérum"]


async def test_a_missing_file_is_left_out_and_the_reply_still_goes(
    replier: Replier, fake: FakeChatwoot, tmp_path: Path
) -> None:
    plan = PlannedReply(
        reply="Segue.",
        domain="loja",
        crew="vendas",
        attachments=[OutboundAttachment(path=str(tmp_path / "gone.jpg"))],
    )
    steps = await replier.deliver(TARGET, plan, ChatwootOptions(), "t4", first_attempt=True)
    assert steps == ["reply:0", "files:0"]  # the file's step is done: nothing to post
    assert [m["content"] for m in bot_posts(fake)] == ["Segue."]
    assert replier.metrics is not None
    failed = replier.metrics.registry.get_sample_value(
        "chatwootai_reply_attachments_total", {"outcome": "failed"}
    )
    assert failed == 1
