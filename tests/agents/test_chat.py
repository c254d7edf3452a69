"""The `chat` conversation loop on the cosmetics domain, through input and output streams."""

from __future__ import annotations

import io
from pathlib import Path

from typer.testing import CliRunner

from chatwootai.cli.app import app
from chatwootai.cli.chat import converse
from chatwootai.config.loader import DomainLoader

DOMAINS = Path(__file__).resolve().parents[2] / "domains"


async def test_conversation_routes_calls_tools_and_exits_on_sair():
    config = DomainLoader(DOMAINS).load("cosmetics")
    inputs = io.StringIO("quanto custa o sérum de vitamina c?\nsair\nnunca lido\n")
    output = io.StringIO()
    await converse(config, inputs, output, verbose=True)
    text = output.getvalue()
    assert "[rota] sales" in text
    assert "modelo offline" in text
    assert "[ferramenta] vendedor → catalogo" in text
    assert "R$ 119,90" in text
    assert "nunca lido" not in text


async def test_conversation_ends_on_eof_and_hands_off_on_request():
    config = DomainLoader(DOMAINS).load("cosmetics")
    output = io.StringIO()
    await converse(config, io.StringIO("quero falar com um atendente\n"), output)
    text = output.getvalue()
    assert config.chatwoot.texts.handoff in text
    assert "[rota]" not in text  # not verbose


def test_chat_command_reports_unknown_domain():
    result = CliRunner().invoke(app, ["chat", "nope", "--domains-dir", str(DOMAINS)], input="")
    assert result.exit_code == 1
