"""The real service around the real pipeline for media tests: webhook, in-process worker, a
domain answering with the fake OpenAI-compatible server (chat and transcriptions), and the fake
Chatwoot serving attachments behind ActiveStorage-like redirects."""

from __future__ import annotations

import io
import json
import struct
import wave
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from chatwootai.chatwoot.client import ChatwootClient
from chatwootai.service.app import create_app, service_of
from chatwootai.service.context import Service
from chatwootai.service.credentials import ApiAccess
from chatwootai.service.queue import InProcessTurnQueue
from chatwootai.settings import Settings
from chatwootai.system import ChatwootAISystem
from fakes import openai_server
from fakes.chatwoot_server import FakeChatwoot

KEY_ENV = "FAKE_OPENAI_KEY"
CATALOG = """sku,name,category,price,stock,description,brand,tags,image
SKN-1,Sérum Vitamina C 30ml,Skincare,119.90,14,Sérum antioxidante,Principia,vitamina c,serum.jpg
SKN-2,Protetor Solar FPS 50,Skincare,59.90,8,Protetor facial,Neutra,protetor,
"""


def png(width: int = 2, height: int = 2) -> bytes:
    """A valid PNG image (grey pixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64


def wav(seconds: float, rate: int = 8000) -> bytes:
    """A silent mono 16-bit WAV recording of `seconds`."""
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"\x00\x00" * int(seconds * rate))
    return out.getvalue()


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _ogg_page(packet: bytes, granule: int, sequence: int, flags: int) -> bytes:
    segments = [255] * (len(packet) // 255) + [len(packet) % 255]
    header = (
        b"OggS"
        + bytes([0, flags])
        + struct.pack("<qIII", granule, 0x4F505553, sequence, 0)
        + bytes([len(segments), *segments])
    )
    page = header + packet
    return page[:22] + struct.pack("<I", _ogg_crc(page)) + page[26:]


def ogg_opus(seconds: float) -> bytes:
    """An Ogg Opus file of `seconds` as WhatsApp sends voice notes (headers and a last page
    whose granule position gives the duration; the audio packets are silence frames)."""
    head = b"OpusHead" + bytes([1, 1]) + struct.pack("<HIhB", 312, 48000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 4) + b"test" + struct.pack("<I", 0)
    granule = int(seconds * 48000) + 312
    return (
        _ogg_page(head, 0, 0, 0x02)
        + _ogg_page(tags, 0, 1, 0x00)
        + _ogg_page(b"\xf8\xff\xfe" * 20, granule, 2, 0x04)
    )


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF whose text is `text` (Helvetica)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def domain_yaml(llm_url: str | None, media: dict[str, Any] | None = None) -> dict[str, Any]:
    """A small shop: one sales crew (catalog with photos, files, handoff), a pharmacy crew."""
    config: dict[str, Any] = {
        "name": "loja",
        "description": "Loja de teste de mídia",
        "llm": (
            {
                "model": "openai:gpt-4o-mini",
                "base_url": llm_url,
                "api_key_env": KEY_ENV,
                "retries": 0,
                "timeout_s": 10,
            }
            if llm_url
            else {}
        ),
        "agents": {
            "vendedor": {
                "type": "SalesAgent",
                "role": "Vendedor",
                "goal": "Vender bem",
                "tools": ["catalogo", "arquivos", "handoff"],
            },
            "farmaceutico": {
                "type": "SalesAgent",
                "role": "Farmacêutico",
                "goal": "Atender receitas",
                "tools": ["catalogo", "handoff"],
            },
        },
        "tools": {
            "catalogo": {
                "kind": "catalog",
                "settings": {"file": "catalog.csv"},
                "grants": ["vendedor", "farmaceutico"],
            },
            "arquivos": {
                "kind": "files",
                "settings": {
                    "files": ["tabela-precos.pdf"],
                    "captions": {"tabela-precos": "Tabela de preços"},
                },
                "grants": ["vendedor"],
            },
            "handoff": {"kind": "handoff", "grants": ["vendedor", "farmaceutico"]},
        },
        "crews": {
            "vendas": {"name": "Vendas", "agents": ["vendedor"]},
            "receitas": {"name": "Receitas", "agents": ["farmaceutico"]},
        },
        "routing": {
            "default_crew": "vendas",
            "confidence": 0.0,  # the classifier always decides: no LLM routing request
            "handoff_phrases": ["falar com atendente"],
            "crews": {
                "receitas": {"keywords": ["receita"], "examples": ["tenho uma receita médica"]},
                "vendas": {"examples": ["quero saber o preço", "tem protetor solar?"]},
            },
        },
        "knowledge": {"context": {"enabled": False}},
    }
    if media is not None:
        config["media"] = media
    return config


def write_domains(root: Path, llm_url: str | None, media: dict[str, Any] | None) -> Path:
    """The domains folder: the shop, its catalog, a photo and a price list; tenants."""
    folder = root / "loja"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "domain.yaml").write_text(
        yaml.safe_dump(domain_yaml(llm_url, media), allow_unicode=True), encoding="utf-8"
    )
    (folder / "catalog.csv").write_text(CATALOG, encoding="utf-8")
    (folder / "serum.jpg").write_bytes(JPEG)
    (folder / "tabela-precos.pdf").write_bytes(minimal_pdf("Tabela de precos"))
    (root / "tenants.yaml").write_text(yaml.safe_dump({"accounts": {"3": "loja"}}))
    return root


def quick_client(access: ApiAccess) -> ChatwootClient:
    """A Chatwoot client with quick retries (the default 10 s request timeout)."""
    return ChatwootClient(access.base_url, access.token, backoff=0.01)


class Media:
    """The running service, the fakes and helpers."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        service: Service,
        system: ChatwootAISystem,
        fake: FakeChatwoot,
        llm: Any,
    ) -> None:
        self.http = http
        self.service = service
        self.system = system
        self.fake = fake
        self.llm = llm

    async def post(self, payload: dict[str, Any]) -> httpx.Response:
        """Deliver a payload as Chatwoot would (signed)."""
        body, headers = self.fake.build_delivery(payload)
        return await self.http.post("/webhooks/chatwoot", content=body, headers=headers)

    async def send(self, payload: dict[str, Any]) -> None:
        """Deliver, check it was queued, and wait for the turn to end."""
        response = await self.post(payload)
        assert response.json()["status"] == "queued", response.text
        await self.settle()

    async def settle(self) -> None:
        """Wait until every queued turn ran."""
        queue = self.service.queue
        assert isinstance(queue, InProcessTurnQueue)
        await queue.drain()

    def posts(self, *, private: bool | None = None) -> list[Any]:
        """The bot's message posts in 3:417."""
        return [
            call
            for call in self.fake.calls_to("messages.create")
            if private is None or bool(call.body.get("private")) == private
        ]

    def replies(self) -> list[str]:
        """Public texts the bot posted in 3:417."""
        return [str(call.body.get("content")) for call in self.posts(private=False)]

    def notes(self) -> list[str]:
        """Private notes the bot posted in 3:417."""
        return [str(call.body.get("content")) for call in self.posts(private=True)]

    def media_count(self, kind: str, outcome: str) -> float:
        """``chatwootai_media_total{kind,outcome}``."""
        value = self.service.metrics.registry.get_sample_value(
            "chatwootai_media_total", {"kind": kind, "outcome": outcome}
        )
        return value or 0.0

    def user_texts(self) -> list[str]:
        """The last user message's text of each chat request the model got."""
        return [openai_server.last_user_text(body) for body in self.llm.requests]

    async def state_dump(self) -> str:
        """Every agent state stored for the conversation, as raw JSON text."""
        states = await self.system.states.load_many("loja", ["vendedor", "farmaceutico"], "3:417")
        dumped = {k: v.model_dump(mode="json") for k, v in states.items()}
        return json.dumps(dumped, ensure_ascii=False)


@asynccontextmanager
async def running(
    tmp: Path,
    fake: FakeChatwoot,
    llm: Any,
    redis_url: str,
    prefix: str,
    *,
    media: dict[str, Any] | None = None,
    online: bool = True,
    transcribe: bool = True,
    env: dict[str, Any] | None = None,
) -> AsyncIterator[Media]:
    """The service with the shop domain; `online` answers with the fake model, else offline."""
    domains = write_domains(tmp / "domains", llm.base_url if online else None, media)
    values: dict[str, Any] = {
        "REDIS_URL": redis_url,
        "CHATWOOTAI_REDIS_PREFIX": prefix,
        "CHATWOOT_BASE_URL": fake.base_url,
        "CHATWOOT_API_TOKEN": fake.bot_token,
        "CHATWOOT_WEBHOOK_SECRET": fake.webhook_secret,
        "CHATWOOTAI_DATA_DIR": str(tmp / "data"),
        "CHATWOOTAI_DOMAINS_DIR": str(domains),
        "CHATWOOTAI_BURST_WINDOW": 0,
    }
    if transcribe:
        values["CHATWOOTAI_TRANSCRIBE_MODEL"] = "whisper-1"
        values["CHATWOOTAI_TRANSCRIBE_BASE_URL"] = llm.base_url
        values["CHATWOOTAI_TRANSCRIBE_API_KEY"] = "sk-transcribe-test"
    values.update(env or {})
    settings = Settings.model_validate(values)
    system = await ChatwootAISystem.create(settings)
    app = create_app(settings, system, client_factory=quick_client, in_process=True)
    service = service_of(app)
    await system.start()
    await service.start()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://service"
        ) as http:
            yield Media(http, service, system, fake, llm)
    finally:
        await service.close()
        await system.close()
