"""A plain question about a document, a price or a policy costs one LLM request (real pipeline).

The example domains run on an `openai:` model whose base URL is the fake OpenAI-compatible
server. Its policy is an honest model: it answers at once when what it is sent already holds the
fact asked about, and otherwise calls the knowledge (or catalog) tool first.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from tests.knowledge.conftest import openai_server

from chatwootai.settings import Settings
from chatwootai.store.base import Store
from chatwootai.system import ChatwootAISystem
from chatwootai.turn import Customer, IncomingMessage

DOMAINS = Path(__file__).resolve().parents[2] / "domains"


def honest(evidence: str, tool: str) -> Callable[[dict[str, Any]], Any]:
    """A model that answers when `evidence` is in its request, else calls `tool` once."""

    def policy(body: dict[str, Any]) -> Any:
        sent = json.dumps(body["messages"], ensure_ascii=False)
        called = any(m.get("role") == "tool" for m in body["messages"])
        if evidence in sent or called:
            return openai_server.text("Resposta com base nos documentos.")
        return openai_server.tool_call(tool, {"query": openai_server.last_user_text(body)})

    return policy


@pytest.fixture
def domains(tmp_path: Path) -> Path:
    """A copy of the example domains (a test may change one)."""
    target = tmp_path / "domains"
    shutil.copytree(DOMAINS, target)
    return target


@pytest.fixture
async def online(
    store: Store, tmp_path: Path, domains: Path, fake_openai: Any, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ChatwootAISystem]:
    """The pipeline over the example domains with every agent on the fake OpenAI server."""
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-secret")
    settings = Settings(
        CHATWOOTAI_DOMAINS_DIR=domains,
        CHATWOOTAI_DATA_DIR=tmp_path / "data",
        CHATWOOTAI_MODEL="openai:gpt-4o-mini",
    )
    system = await ChatwootAISystem.create(settings, store=store)
    fake_openai.count_tokens = True
    yield system
    await system.close()


def system_text(body: dict[str, Any]) -> str:
    """The system (instructions) text of a request."""
    return "\n".join(
        str(m.get("content")) for m in body["messages"] if m["role"] in ("system", "developer")
    )


def message(text: str, account: str = "1") -> IncomingMessage:
    return IncomingMessage(text=text, account_id=account, customer=Customer(phone="5511999990000"))


async def test_policy_question_in_an_html_page_takes_one_request(
    online: ChatwootAISystem, fake_openai: Any
) -> None:
    fake_openai.policy = honest("R$ 12,90 pagos pelo cliente", "faq")
    outcome = await online.process_message(
        message("quem paga o frete se eu trocar o tom da base?"), "1:501", "api"
    )
    assert outcome.crew == "support" and not outcome.fallback
    assert fake_openai.count == 1 and outcome.llm_requests == 1
    assert outcome.tool_calls == []
    system = system_text(fake_openai.requests[0])
    assert "politica-trocas.html, #frete" in system
    assert "pode não conter a resposta" in system and "Nunca invente" in system
    assert outcome.input_tokens == fake_openai.prompt_tokens


async def test_price_in_a_pdf_takes_one_request(online: ChatwootAISystem, fake_openai: Any) -> None:
    fake_openai.policy = honest("R$ 480,00", "faq")
    outcome = await online.process_message(
        message("qto ta o pacote pele renovada de limpeza de pele?"), "1:502", "api"
    )
    assert fake_openai.count == 1 and outcome.llm_requests == 1
    assert "tabela-estudio.pdf, p. 1" in system_text(fake_openai.requests[0])


async def test_catalog_question_gets_name_price_and_stock_in_the_context(
    online: ChatwootAISystem, fake_openai: Any
) -> None:
    fake_openai.policy = honest("R$ 119,90 — em estoque: 14", "catalogo")
    outcome = await online.process_message(
        message("quanto custa o serum de vitamina c?"), "1:503", "api"
    )
    assert outcome.crew == "sales"
    assert fake_openai.count == 1 and outcome.llm_requests == 1
    assert "Sérum Vitamina C 10% 30ml" in system_text(fake_openai.requests[0])


async def test_without_the_context_the_same_question_takes_two_requests(
    store: Store, tmp_path: Path, domains: Path, fake_openai: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    yaml = domains / "cosmetics" / "domain.yaml"
    yaml.write_text(
        yaml.read_text(encoding="utf-8") + "\nknowledge:\n  context:\n    enabled: false\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-secret")
    settings = Settings(
        CHATWOOTAI_DOMAINS_DIR=domains,
        CHATWOOTAI_DATA_DIR=tmp_path / "data",
        CHATWOOTAI_MODEL="openai:gpt-4o-mini",
    )
    system = await ChatwootAISystem.create(settings, store=store)
    try:
        fake_openai.policy = honest("R$ 12,90 pagos pelo cliente", "faq")
        outcome = await system.process_message(
            message("quem paga o frete se eu trocar o tom da base?"), "1:504", "api"
        )
    finally:
        await system.close()
    assert fake_openai.count == 2 and outcome.llm_requests == 2
    assert [c.tool_id for c in outcome.tool_calls] == ["faq"]
    assert "R$ 12,90" in fake_openai.requests[1]["messages"][-1]["content"]  # the tool's answer


async def test_when_the_context_misses_the_answer_the_agent_still_searches(
    online: ChatwootAISystem, fake_openai: Any
) -> None:
    fake_openai.policy = honest("a resposta que nenhum documento tem", "faq")
    outcome = await online.process_message(message("vcs fazem entrega de drone?"), "1:505", "api")
    assert fake_openai.count == 2 and outcome.llm_requests == 2
    assert [c.tool_id for c in outcome.tool_calls] == ["faq"]


async def test_the_context_is_not_kept_in_the_conversation_history(
    online: ChatwootAISystem, fake_openai: Any, store: Store
) -> None:
    fake_openai.policy = honest("R$ 12,90 pagos pelo cliente", "faq")
    await online.process_message(message("quem paga o frete da troca de tom?"), "1:506", "api")
    fake_openai.policy = honest("Das 9h", "faq")
    await online.process_message(message("e que horas abre?"), "1:506", "api")
    sent = fake_openai.requests[-1]["messages"]
    history = json.dumps([m for m in sent if m["role"] != "system"], ensure_ascii=False)
    assert "quem paga o frete da troca de tom?" in history  # the earlier turn is there
    assert "politica-trocas.html" not in history  # but not its context
