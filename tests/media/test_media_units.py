"""The small parts: durations, vision families, rules, classes, catalog photos, the files tool."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from media_support import ogg_opus, wav

from chatwootai.config.datafiles import parse_catalog
from chatwootai.config.errors import ConfigError
from chatwootai.config.media import ImageOptions, MediaOptions, MediaRule
from chatwootai.config.schema import FilesSettings
from chatwootai.media.attachments import AttachmentInfo, InboundAttachment, MediaPart
from chatwootai.media.duration import duration_s
from chatwootai.media.rules import applies, match_rule, pick_class
from chatwootai.media.vision import reads_images
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.tools.base import ToolContext
from chatwootai.tools.files import FilesArgs, FilesTool


def test_durations_are_read_from_headers() -> None:
    assert duration_s(io.BytesIO(ogg_opus(4.0))) == pytest.approx(4.0, abs=0.01)
    assert duration_s(io.BytesIO(wav(2.5))) == pytest.approx(2.5, abs=0.01)
    assert duration_s(io.BytesIO(b"\x1a\x45\xdf\xa3webm")) is None  # unknown: size bounds it


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("openai:gpt-4o-mini", True),
        ("openai:gpt-4.1-nano", True),
        ("anthropic:claude-3-5-haiku-latest", True),
        ("google-gla:gemini-2.0-flash", True),
        ("ollama:llava:13b", True),
        ("ollama:qwen2.5vl:7b", True),
        ("openai:gpt-3.5-turbo", False),
        ("ollama:llama3.1", False),
        ("offline", False),
    ],
)
def test_auto_vision_knows_the_families(name: str, expected: bool) -> None:
    assert reads_images(ImageOptions(), name) is expected


def test_vision_can_be_forced_and_a_profile_can_rule_it_out() -> None:
    assert reads_images(ImageOptions(vision=True), "ollama:my-own-vlm")
    assert not reads_images(ImageOptions(vision=False), "openai:gpt-4o")
    assert not reads_images(ImageOptions(), "openai:gpt-4o", profile_allows=False)
    assert not reads_images(ImageOptions(vision=True), "offline")


def test_a_rule_needs_one_action() -> None:
    with pytest.raises(ValueError, match="exactly one action"):
        MediaRule(name="x")
    with pytest.raises(ValueError, match="exactly one action"):
        MediaRule(name="x", handoff=True, crew="vendas")


async def test_rules_by_type_and_by_class() -> None:
    pdfs = MediaRule(name="pdf", file_types=["file"], extensions=[".PDF"], handoff=True)
    assert applies(pdfs, [AttachmentInfo("file", "pdf")])
    assert not applies(pdfs, [AttachmentInfo("file", "docx"), AttachmentInfo("image", "jpg")])
    asked: list[list[str]] = []

    async def classify(images: object, classes: list[str]) -> str | None:
        asked.append(list(classes))
        return "comprovante de pagamento"

    options = MediaOptions(
        rules=[
            MediaRule(name="receita", classes=["receita médica"], handoff=True),
            MediaRule(name="pix", classes=["comprovante de pagamento"], crew="pagamentos"),
        ]
    )
    image = [MediaPart("image", "image/png", b"png")]
    match = await match_rule(options, [AttachmentInfo("image", "png")], image, classify)
    assert match is not None and match.rule.name == "pix" and match.said
    assert asked == [["receita médica", "comprovante de pagamento"]]  # one request for all
    assert await match_rule(options, [AttachmentInfo("image")], [], classify) is None
    assert await match_rule(options, [AttachmentInfo("image")], image, None) is None


def test_the_class_named_in_an_answer() -> None:
    classes = ["receita", "receita médica", "comprovante"]
    assert pick_class("É uma Receita Medica.", classes) == "receita médica"
    assert pick_class("outra", classes) is None


def test_attachment_metadata() -> None:
    audio = InboundAttachment(
        file_type="audio", data_url="https://c/rails/active_storage/blobs/redirect/x/audio.ogg"
    )
    assert (audio.kind, audio.suffix, audio.filename) == ("audio", "ogg", "audio.ogg")
    pdf = InboundAttachment(file_type="file", extension="PDF")
    assert pdf.kind == "document" and pdf.filename == "attachment.pdf"
    assert InboundAttachment(file_type=None).kind == "other"  # type: ignore[arg-type]


def test_catalog_photos_are_files_beside_it_or_https_urls(tmp_path: Path) -> None:
    (tmp_path / "fotos").mkdir()
    (tmp_path / "fotos" / "a.jpg").write_bytes(b"\xff\xd8\xff")
    catalog = tmp_path / "catalog.csv"
    header = "sku,name,category,price,stock,description,image\n"
    rows = "A,Sérum,Skin,10,1,x,fotos/a.jpg\nB,Creme,Skin,5,1,y,https://cdn.loja.com/b.jpg\n"
    products = parse_catalog((header + rows).encode(), catalog)
    assert products[0].image == str(tmp_path / "fotos" / "a.jpg")
    assert products[1].image == "https://cdn.loja.com/b.jpg"
    bad = "C,X,S,1,1,z,../segredo.jpg\nD,Y,S,1,1,z,http://x/y.jpg\nE,Z,S,1,1,z,nada.jpg\n"
    with pytest.raises(ConfigError) as error:
        parse_catalog((header + bad).encode(), catalog)
    messages = [issue.message for issue in error.value.issues]
    assert len(messages) == 3 and all("column 'image'" in m for m in messages)


async def test_the_files_tool_finds_a_file_by_its_name(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "s.sqlite3")
    settings = FilesSettings(files=["/d/tabela-precos.pdf", "https://x.com/Cardápio.pdf"])
    tool = FilesTool("arquivos", "", store, settings)
    assert "tabela-precos, Cardápio" in tool.description
    ctx = ToolContext(domain="d", conversation_key="1:1", agent_id="a")
    found = await tool.run(ctx, FilesArgs(name="cardapio"))
    assert found.attachments[0].url == "https://x.com/Cardápio.pdf"
    missing = await tool.run(ctx, FilesArgs(name="folheto"))
    assert not missing.found and "Disponíveis" in missing.text
    with pytest.raises(ValueError, match="https"):
        FilesSettings(files=["http://x.com/a.pdf"])
    await store.close()
