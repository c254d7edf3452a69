"""The `chat` conversation loop on the cosmetics domain, through the service's pipeline."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chatwootai.cli.app import app
from chatwootai.cli.chat import converse
from chatwootai.settings import Settings
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.system import ChatwootAISystem

DOMAINS = Path(__file__).resolve().parents[2] / "domains"


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[ChatwootAISystem]:
    """The pipeline over the example domains on an in-memory embedded store."""
    settings = Settings(CHATWOOTAI_DOMAINS_DIR=DOMAINS, CHATWOOTAI_DATA_DIR=tmp_path)
    system = await ChatwootAISystem.create(settings, store=EmbeddedStore(":memory:"))
    yield system
    await system.close()


async def test_conversation_routes_calls_tools_and_exits_on_sair(system):
    inputs = io.StringIO("quanto custa o sérum de vitamina c?\nsair\nnunca lido\n")
    output = io.StringIO()
    await converse(system, "cosmetics", inputs, output, verbose=True)
    text = output.getvalue()
    assert "[rota] sales" in text
    assert "modelo offline" in text
    assert "[ferramenta] vendedor → catalogo" in text
    assert "R$ 119,90" in text
    assert "nunca lido" not in text


async def test_conversation_ends_on_eof_and_hands_off_on_request(system):
    output = io.StringIO()
    tuesday = datetime(2026, 12, 1, 10, 0)  # the team is at work (cosmetics' hours:)
    await converse(
        system, "cosmetics", io.StringIO("quero falar com um atendente\n"), output, now=tuesday
    )
    text = output.getvalue()
    config = await system.registry.get_domain_config("cosmetics")
    assert config.chatwoot.texts.handoff in text
    assert "[handoff]" in text
    assert "[rota]" not in text  # not verbose


def test_chat_command_reports_unknown_domain():
    result = CliRunner().invoke(app, ["chat", "nope", "--domains-dir", str(DOMAINS)], input="")
    assert result.exit_code == 1
    assert "nope" in result.output


async def test_chat_knows_the_customer_and_the_clock(system):
    from chatwootai.turn import Customer

    inputs = io.StringIO("cadê meu pedido?\nquero agendar limpeza de pele amanhã às 10h\n")
    output = io.StringIO()
    await converse(
        system,
        "cosmetics",
        inputs,
        output,
        verbose=True,
        customer=Customer(id="c", phone="+55 11 98765-4321", verified=True),
        channel="webwidget",
        now=datetime(2026, 12, 1, 10, 0),
    )
    text = output.getvalue()
    assert "BP-104587" in text and "QB123456789BR" in text  # a verified contact sees its orders
    assert "quarta 02/12" in text and "10:00" in text  # "amanhã" from the pinned clock


def test_chat_command_takes_phone_email_verified_and_now():
    result = CliRunner().invoke(
        app,
        [
            "chat",
            "cosmetics",
            "--domains-dir",
            str(DOMAINS),
            "--phone",
            "+5511987654321",
            "--email",
            "carla.mendes@example.com",
            "--verified",
            "--now",
            "2026-12-01T10:00",
        ],
        input="qual o status do meu pedido?\n",
    )
    assert result.exit_code == 0, result.output
    assert "BP-104587" in result.output
