"""An e-mail's new text: Chatwoot's trimmed text when it fits, else the quoted thread cut here."""

from __future__ import annotations

import json

import pytest

from chatwootai.chatwoot.email_text import new_email_text, strip_quoted
from chatwootai.chatwoot.payloads import MessageEvent, parse_event
from fakes.chatwoot_server import FIXTURES, load_fixture

NEW = "Bom dia,\n\nO pedido 1234 chegou com a tampa quebrada. Vocês trocam?\n\nObrigada,\nAna Souza"


def _email_event(data: dict[str, object]) -> MessageEvent:
    event = parse_event(json.dumps(data).encode())
    assert isinstance(event, MessageEvent)
    return event


def test_fixture_keeps_chatwoots_escaped_html_and_gives_the_new_text() -> None:
    raw = (FIXTURES / "incoming_email_quoted_thread.json").read_bytes()
    assert b"\\u003cdiv" in raw  # Chatwoot escapes <>& in JSON
    event = parse_event(raw)
    assert isinstance(event, MessageEvent)
    assert "escreveu:" in (event.content or "")
    assert event.customer_text == NEW
    assert event.email["html_content"]["full"].startswith("<div")


def test_chatwoot_trimmed_text_is_used_when_it_heads_the_content() -> None:
    data = load_fixture("incoming_email_quoted_thread")
    result = new_email_text(data["content"], data["content_attributes"]["email"])
    assert (result.text, result.source, result.trimmed) == (NEW, "chatwoot", True)
    assert result.full == data["content"]


def test_old_chatwoot_layout_is_not_mistaken_for_the_new_text() -> None:
    """Before EmailReplyTrimmer, ``reply`` (so ``content``) was trimmed, ``quoted`` the rest."""
    history = "Em seg., 22 de jun. de 2026 às 14:05, Acme <s@acme.com.br> escreveu:\n> Olá"
    email = {"text_content": {"full": NEW + "\n\n" + history, "reply": NEW, "quoted": history}}
    result = new_email_text(NEW, email)
    assert result.text == NEW
    assert result.source == "full"


def test_without_chatwoots_trimmed_text_the_thread_is_cut_here() -> None:
    data = load_fixture("incoming_email_quoted_thread")
    result = new_email_text(data["content"], {})
    assert (result.text, result.source) == (NEW, "stripped")
    event = data.copy()
    event["content_attributes"] = {}
    assert _email_event(event).customer_text == NEW  # content_type incoming_email


def test_html_only_email_uses_the_html_parts_trimmed_text() -> None:
    content = NEW + "\n\nEm seg., 22 de jun. de 2026, Acme <s@acme.com.br> escreveu:\n\n> "
    email = {"text_content": {}, "html_content": {"full": "<div>…</div>", "quoted": NEW}}
    assert new_email_text(content, email).text == NEW


def test_empty_content_with_a_trimmed_text() -> None:
    assert new_email_text(None, {"text_content": {"quoted": "Oi"}}).text == "Oi"
    assert new_email_text(None, {}).text == ""


def test_an_email_that_is_only_a_quote_keeps_its_whole_text() -> None:
    text = "> só o histórico\n> mais nada"
    assert new_email_text(text, {}).text == text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "Pode trocar?\n\nOn Mon, Jun 22, 2026 at 2:05 PM Acme Support <s@acme.com>\nwrote:\n\n"
            "> Hello\n",
            "Pode trocar?",
        ),
        ("Pode trocar?\n\nEm 22/06/2026 14:05, Acme escreveu:\n> Olá\n", "Pode trocar?"),
        (
            "Pode trocar?\n\nNo dia 22/06/2026, às 14:05, Acme <s@acme.com.br>\nescreveu:\n> Olá",
            "Pode trocar?",
        ),
        (
            "Pode trocar?\n\n-----Mensagem original-----\nDe: Acme\nEnviada em: hoje\n",
            "Pode trocar?",
        ),
        ("Can you swap it?\n\n-----Original Message-----\nFrom: Acme\n", "Can you swap it?"),
        (
            "Pode?\n\nDe: Acme <a@acme.example>\nEnviada em: segunda\nPara: Ana\nAssunto: x\n\nOi",
            "Pode?",
        ),
        (
            "Pode trocar?\n\nDe: Acme Suporte <s@acme.com.br>\nEnviado: segunda-feira, 22 de "
            "junho de 2026 14:05\nPara: Ana\nAssunto: Pedido\n\nOlá Ana",
            "Pode trocar?",
        ),
        (
            "Pode trocar?\n\n________________________________\nFrom: Acme <s@acme.com>\n"
            "Sent: Monday, June 22, 2026 2:05 PM\nTo: Ana\nSubject: Order\n\nHello",
            "Pode trocar?",
        ),
        ("Pode trocar?\n-- \nAna Souza\nGerente", "Pode trocar?"),
        ("Pode trocar?\n\nEnviado do meu iPhone", "Pode trocar?"),
        ("Sim.\n> Vocês trocam?\nE o frete?\n> Pago", "Sim.\nE o frete?"),
        ("Em relação ao pedido 55, quero cancelar.\nObrigado", None),
        ("De: hoje eu espero resposta\nData: amanhã", None),
        ("Veja abaixo\n---------- Forwarded message ---------\nFrom: x\nDate: y", None),
    ],
)
def test_strip_quoted(body: str, expected: str | None) -> None:
    assert strip_quoted(body) == (body.strip() if expected is None else expected)


def test_plain_messages_are_untouched() -> None:
    data = load_fixture("a_incoming_whatsapp")
    data["content"] = "  Oi!\n> citação não é e-mail  "
    assert _email_event(data).customer_text == "Oi!\n> citação não é e-mail"
