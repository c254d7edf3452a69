"""Images and documents through the real service: images to a model that reads them (as image
parts of the customer's message, never kept in the history), the non-text policy otherwise;
documents' text given capped; the domain's media rules sending some to a human or a crew."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from media_support import minimal_pdf, png, running
from test_voice_notes import NON_TEXT

from chatwootai.media.prompt import IMAGE_NOTE
from fakes import openai_server
from fakes.chatwoot_server import FakeChatwoot

HANDOFF = "Vou transferir você para um atendente humano. Aguarde um momento, por favor."


def photo(fake: FakeChatwoot, caption: str | None = None, data: bytes | None = None) -> Any:
    """A customer's WhatsApp photo, with its caption as content."""
    image = png() if data is None else data
    attachment = fake.attachment("image", image, "image/png", "photo.png")
    return fake.incoming(3, 417, caption, attachments=[attachment])


def document(fake: FakeChatwoot, data: bytes, name: str = "exame.pdf") -> Any:
    attachment = fake.attachment("file", data, "application/pdf", name)
    return fake.incoming(3, 417, None, attachments=[attachment])


async def test_an_image_reaches_a_vision_model_with_its_caption(
    tmp_path: Path, fake: FakeChatwoot, llm: Any, redis_url: str, key_prefix: str
) -> None:
    image = png()
    async with running(tmp_path, fake, llm, redis_url, key_prefix) as m:
        await m.send(photo(fake, "tem esse aqui?", image))
        [body] = llm.requests
        [part] = openai_server.image_parts(body)
        expected = "data:image/png;base64," + base64.b64encode(image).decode()
        assert part["image_url"]["url"] == expected
        assert openai_server.last_user_text(body).startswith("tem esse aqui?")
        assert m.replies() == ["ok"]
        stored = await m.state_dump()
        assert IMAGE_NOTE in stored and base64.b64encode(image).decode() not in stored
        assert m.media_count("image", "seen") == 1


async def test_a_photo_without_a_caption_is_answered_too(
    tmp_path: Path, fake: FakeChatwoot, llm: Any, redis_url: str, key_prefix: str
) -> None:
    async with running(tmp_path, fake, llm, redis_url, key_prefix) as m:
        await m.send(photo(fake))
        [body] = llm.requests
        assert len(openai_server.image_parts(body)) == 1
        assert m.replies() == ["ok"]


async def test_without_vision_an_image_gets_the_non_text_policy_undownloaded(
    tmp_path: Path, fake: FakeChatwoot, llm: Any, redis_url: str, key_prefix: str
) -> None:
    media = {"images": {"vision": False}}
    async with running(tmp_path, fake, llm, redis_url, key_prefix, media=media) as m:
        await m.send(photo(fake))
        assert m.replies() == [NON_TEXT] and llm.requests == [] and fake.blob_requests == []
    async with running(tmp_path / "off", fake, llm, redis_url, key_prefix, online=False) as m:
        await m.send(photo(fake))
        assert m.replies() == [NON_TEXT, NON_TEXT] and fake.blob_requests == []


async def test_a_file_that_is_not_an_image_gets_the_non_text_policy(
    tmp_path: Path, fake: FakeChatwoot, llm: Any, redis_url: str, key_prefix: str
) -> None:
    async with running(tmp_path, fake, llm, redis_url, key_prefix) as m:
        await m.send(photo(fake, data=b"<html>surprise</html>"))
        assert m.replies() == [NON_TEXT] and llm.requests == []
        assert m.media_count("image", "wrong_type") == 1


async def test_a_rule_by_file_type_hands_every_photo_to_a_human(
    tmp_path: Path, fake: FakeChatwoot, llm: Any, redis_url: str, key_prefix: str
) -> None:
    rule = {"name": "fotos", "file_types": ["image"], "handoff": True, "reason": "Foto de receita"}
    media = {"images": {"vision": False}, "rules": [rule]}
    async with running(tmp_path, fake, llm, redis_url, key_prefix, media=media) as m:
        await m.send(photo(fake, "olha"))
        assert m.replies() == [HANDOFF] and llm.requests == []
        [note] = m.notes()
        assert "Foto de receita" in note
        assert fake.conversations[(3, 417)].status == "open"


async def test_a_rule_by_what_the_model_says_the_image_is(
    tmp_path: Path, fake: FakeChatwoot, llm: Any, redis_url: str, key_prefix: str
) -> None:
    rules = [
        {"name": "receita", "classes": ["receita médica"], "handoff": True, "reason": "Receita"},
        {"name": "pix", "classes": ["comprovante de pagamento"], "crew": "receitas"},
    ]
    async with running(tmp_path, fake, llm, redis_url, key_prefix, media={"rules": rules}) as m:
        llm.script(openai_server.text("Receita médica."))
        await m.send(photo(fake))
        [classify] = llm.requests
        assert len(openai_server.image_parts(classify)) == 1
        assert "receita médica; comprovante de pagamento; outra" in str(classify["messages"])
        assert m.replies() == [HANDOFF]
        assert "Receita (a imagem parece ser: receita médica)" in m.notes()[-1]

        fake.conversations[(3, 417)].status = "pending"  # back to the bot
        await m.system.conversations.resume("3:417")
        llm.script(openai_server.text("comprovante de pagamento"), openai_server.text("Recebido!"))
        await m.send(photo(fake, "paguei"))
        assert m.replies()[-1] == "Recebido!"
        routed = m.service.metrics.registry.get_sample_value(
            "chatwootai_routing_total",
            {"domain": "loja", "crew": "receitas", "method": "media_rule"},
        )
        assert routed == 1

        llm.script(openai_server.text("outra"), openai_server.text("Bonita foto"))
        await m.send(photo(fake))
        assert m.replies()[-1] == "Bonita foto"  # no rule: answered as usual


async def test_a_documents_text_is_given_to_the_model(
    tmp_path: Path, fake: FakeChatwoot, llm: Any, redis_url: str, key_prefix: str
) -> None:
    media = {"documents": {"max_chars": 200}}
    async with running(tmp_path, fake, llm, redis_url, key_prefix, media=media) as m:
        await m.send(document(fake, minimal_pdf("Hemograma completo: normal")))
        [body] = llm.requests
        said = openai_server.last_user_text(body)
        assert "Documento enviado pelo cliente (exame.pdf):\nHemograma completo: normal" in said
        assert m.media_count("document", "read") == 1
        await m.send(document(fake, minimal_pdf(""), "scan.pdf"))  # no text to read
        assert m.replies()[-1] == NON_TEXT
        assert m.media_count("document", "no_text") == 1
