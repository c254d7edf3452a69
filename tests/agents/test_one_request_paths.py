"""One LLM request where one is enough: handoffs, orders, hierarchical crews, single-crew routing.

Every test runs the real pipeline (``ChatwootAISystem.process_message``: tenancy, routing, crews,
tools through the DataProxy) over a copy of the example domains, every agent on an `openai:`
model whose base URL is the fake OpenAI-compatible server, which counts the requests.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chatwootai.agents.delegation import DIRECT_BRIEFING
from chatwootai.knowledge.context import HEADER, ORDERS_HEADER
from chatwootai.settings import Settings
from chatwootai.store.base import Store
from chatwootai.store.redis import RedisStore
from chatwootai.system import ChatwootAISystem
from chatwootai.turn import Customer, IncomingMessage

openai_server: Any = __import__("sys").modules["fakes_openai_server"]

DOMAINS = Path(__file__).resolve().parents[2] / "domains"
OWNER_PHONE = "+5511987654321"
"""Phone of order BP-104587 (in transit) in domains/cosmetics/orders.yaml."""

Policy = Callable[[dict[str, Any]], Any]


@pytest.fixture
async def redis_store(redis_url: str, key_prefix: str) -> AsyncIterator[Store]:
    """A RedisStore under the test's prefix."""
    store = RedisStore.from_url(redis_url, prefix=key_prefix)
    yield store
    await store.close()


@pytest.fixture
def domains(tmp_path: Path) -> Path:
    """A copy of the example domains (a test may change one)."""
    target = tmp_path / "domains"
    shutil.copytree(DOMAINS, target)
    return target


@pytest.fixture
def start(
    redis_store: Store,
    tmp_path: Path,
    domains: Path,
    fake_openai: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Any]:
    """Starts the pipeline over `domains` with every agent on the fake OpenAI server."""
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-secret")

    async def create(**settings: Any) -> ChatwootAISystem:
        values = {
            "CHATWOOTAI_DOMAINS_DIR": domains,
            "CHATWOOTAI_DATA_DIR": tmp_path / "data",
            "CHATWOOTAI_MODEL": "openai:gpt-4o-mini",
            **settings,
        }
        return await ChatwootAISystem.create(Settings(**values), store=redis_store)

    return create


@pytest.fixture
async def online(start: Callable[..., Any]) -> AsyncIterator[ChatwootAISystem]:
    """The pipeline over the example domains."""
    system = await start()
    yield system
    await system.close()


OPEN = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("America/Sao_Paulo"))
"""A Tuesday morning: every example domain's team is at work (their `hours:`), so a handoff
reads the same whatever the machine's clock says."""


def message(text: str, account: str = "1", phone: str | None = None) -> IncomingMessage:
    return IncomingMessage(text=text, account_id=account, customer=Customer(phone=phone), now=OPEN)


def tools_of(body: dict[str, Any]) -> set[str]:
    """Names of the tools (function and output tools) a request offered the model."""
    return {t["function"]["name"] for t in body.get("tools") or []}


def system_text(body: dict[str, Any]) -> str:
    """The instructions of a request."""
    return "\n".join(
        str(m.get("content")) for m in body["messages"] if m["role"] in ("system", "developer")
    )


def answered(body: dict[str, Any]) -> bool:
    """The request carries a tool result of this turn."""
    return body["messages"][-1]["role"] == "tool"


# -- a handoff ends the turn ---------------------------------------------------------------


async def test_a_handoff_ends_the_turn_in_one_request(
    online: ChatwootAISystem, fake_openai: Any
) -> None:
    fake_openai.script(openai_server.tool_call("handoff", {"reason": "batom quebrado, irritada"}))
    outcome = await online.process_message(
        message("o batom veio quebrado e to muito brava"), "1:701", "api"
    )
    texts = (await online.runtime("cosmetics")).config.chatwoot.texts
    assert outcome.crew == "support" and not outcome.fallback
    assert fake_openai.count == 1 and outcome.llm_requests == 1
    assert outcome.reply == texts.handoff
    handoff = outcome.handoff
    assert handoff is not None and handoff.requested_by == "agent"
    assert handoff.reason == "batom quebrado, irritada"
    assert "o batom veio quebrado" in handoff.summary
    [record] = outcome.tool_calls
    assert (record.agent_id, record.tool_id, record.ok) == ("atendente", "handoff", True)
    assert {"handoff", "faq", "pedidos"} <= tools_of(fake_openai.requests[0])
    # the agent's history keeps the call, so a later turn knows the conversation was handed over
    states = await online.states.load_many("cosmetics", ["atendente"], "1:701")
    assert "batom quebrado, irritada" in json.dumps(states["atendente"].messages)


async def test_a_refused_handoff_goes_back_to_the_model(
    online: ChatwootAISystem, fake_openai: Any
) -> None:
    fake_openai.script(
        openai_server.tool_call("handoff", {}),  # the domain requires a reason
        openai_server.tool_call("handoff", {"reason": "cliente pediu"}),
    )
    outcome = await online.process_message(message("o batom veio quebrado"), "1:702", "api")
    assert fake_openai.count == 2
    assert "handoff needs a 'reason'" in json.dumps(fake_openai.requests[1]["messages"])
    assert [(r.tool_id, r.ok) for r in outcome.tool_calls] == [
        ("handoff", False),
        ("handoff", True),
    ]
    assert outcome.handoff is not None and outcome.handoff.reason == "cliente pediu"
    assert outcome.reply == (await online.runtime("cosmetics")).config.chatwoot.texts.handoff


async def test_a_handoff_in_the_first_step_ends_the_crew(
    start: Callable[..., Any], domains: Path, fake_openai: Any
) -> None:
    yaml = domains / "cosmetics" / "domain.yaml"
    second_step = (
        "crews:\n  support:\n    workflow+:\n      - step: revisar\n        agent: atendente\n"
        "        description: Revise a resposta.\n"
    )
    yaml.write_text(
        yaml.read_text(encoding="utf-8").replace("crews:\n", second_step, 1), encoding="utf-8"
    )
    system = await start()
    try:
        fake_openai.script(openai_server.tool_call("handoff", {"reason": "reclamação"}))
        outcome = await system.process_message(message("o batom veio quebrado"), "1:703", "api")
    finally:
        await system.close()
    assert fake_openai.count == 1  # the second step never ran
    assert outcome.handoff is not None and outcome.reply.startswith("Certo! Vou chamar")


# -- orders in the context -----------------------------------------------------------------


def orders_or(tool: str) -> Policy:
    """A model that answers when the orders context is in its request, else calls `tool`."""

    def policy(body: dict[str, Any]) -> Any:
        if ORDERS_HEADER in system_text(body) or answered(body):
            return openai_server.text("Resposta com base no pedido.")
        return openai_server.tool_call(tool, {})

    return policy


async def test_an_order_named_in_the_message_is_in_the_context(
    online: ChatwootAISystem, fake_openai: Any
) -> None:
    fake_openai.policy = orders_or("pedidos")
    outcome = await online.process_message(message("meu pedido BP-104587 ta onde"), "1:711", "api")
    assert outcome.crew == "support"
    assert fake_openai.count == 1 and outcome.tool_calls == []
    system = system_text(fake_openai.requests[0])
    assert "Pedido BP-104587: em transporte" in system
    assert "Previsão de entrega: 25/11/2026" in system
    # an API channel does not vouch for the phone: status only, as the tool would say
    assert "QB123456789BR" not in system and "Batom Líquido" not in system


async def test_the_contacts_own_orders_are_in_the_context_on_whatsapp(
    online: ChatwootAISystem, fake_openai: Any
) -> None:
    fake_openai.policy = orders_or("pedidos")
    outcome = await online.process_message(
        message("cadê meu pedido?", phone=OWNER_PHONE), "1:712", "whatsapp"
    )
    assert fake_openai.count == 1 and outcome.llm_requests == 1
    system = system_text(fake_openai.requests[0])
    assert "Pedido BP-104587" in system and "QB123456789BR" in system  # the owner: in full
    assert "BP-104521" not in system and "BP-104603" not in system  # other contacts' orders


async def test_a_contact_the_channel_does_not_vouch_for_is_asked_the_number(
    online: ChatwootAISystem, fake_openai: Any
) -> None:
    fake_openai.policy = orders_or("pedidos")
    await online.process_message(
        message("cadê meu pedido?", phone=OWNER_PHONE), "1:713", "webwidget"
    )
    system = system_text(fake_openai.requests[0])
    assert "peça o número do pedido" in system
    assert "BP-104587" not in system


async def test_context_orders_zero_turns_the_lookup_off(
    start: Callable[..., Any], domains: Path, fake_openai: Any
) -> None:
    yaml = domains / "cosmetics" / "domain.yaml"
    yaml.write_text(
        yaml.read_text(encoding="utf-8") + "\nknowledge:\n  context:\n    orders: 0\n",
        encoding="utf-8",
    )
    system = await start()
    try:
        fake_openai.policy = orders_or("pedidos")
        outcome = await system.process_message(
            message("meu pedido BP-104587 ta onde"), "1:714", "api"
        )
    finally:
        await system.close()
    assert fake_openai.count == 2 and [r.tool_id for r in outcome.tool_calls] == ["pedidos"]
    assert ORDERS_HEADER not in system_text(fake_openai.requests[0])


# -- hierarchical crews ----------------------------------------------------------------------


def coordinating_manager(domains: Path, direct_replies: bool = True) -> None:
    """Retail's manager without the catalog and FAQ: it can only delegate (and hand off)."""
    yaml = domains / "retail" / "domain.yaml"
    text = yaml.read_text(encoding="utf-8")
    text = text.replace("    tools: [catalogo, faq, handoff]\n", "    tools: [handoff]\n", 1)
    text = text.replace("    grants+: [gerente]\n", "")
    if not direct_replies:
        text = text.replace(
            "    tools: [handoff]\n", "    tools: [handoff]\n    config: {direct_replies: false}\n"
        )
    yaml.write_text(text, encoding="utf-8")


AIR_FRYER = "a air fryer de 4 litros tem em 220?"


async def test_a_single_member_answers_the_customer_directly(
    start: Callable[..., Any], domains: Path, fake_openai: Any
) -> None:
    coordinating_manager(domains)
    seen: list[dict[str, Any]] = []

    def policy(body: dict[str, Any]) -> Any:
        seen.append(body)
        if "reply_via_vendedor" in tools_of(body):  # the manager: one member answers it all
            return openai_server.tool_call("reply_via_vendedor", {"task": "air fryer 4 L 220 V"})
        return openai_server.text("Temos sim: Air Fryer 4 L 220 V por R$ 399,90.")

    fake_openai.policy = policy
    system = await start()
    try:
        outcome = await system.process_message(message(AIR_FRYER, account="3"), "3:721", "api")
    finally:
        await system.close()
    assert outcome.crew == "sales" and not outcome.fallback
    assert outcome.reply == "Temos sim: Air Fryer 4 L 220 V por R$ 399,90."
    assert fake_openai.count == 2 and outcome.llm_requests == 2  # manager, member: no third
    manager, member = seen
    assert {"delegate_to_vendedor", "delegate_to_agendador", "reply_via_agendador"} <= tools_of(
        manager
    )
    briefing = DIRECT_BRIEFING.split(":")[0]
    assert briefing in system_text(member) and AIR_FRYER in system_text(member)
    assert HEADER in system_text(member)  # the member's own context (catalog, FAQ)
    assert "catalogo" in tools_of(member) and "reply_via_vendedor" not in tools_of(member)
    # the manager's history keeps what the customer was told, for the next turn
    states = await system.states.load_many("retail", ["gerente"], "3:721")
    assert "Air Fryer 4 L 220 V por R$ 399,90" in json.dumps(states["gerente"].messages)


async def test_a_member_handing_off_ends_the_turn_with_the_handoff_text(
    start: Callable[..., Any], domains: Path, fake_openai: Any
) -> None:
    coordinating_manager(domains)

    def policy(body: dict[str, Any]) -> Any:
        if "reply_via_vendedor" in tools_of(body):
            return openai_server.tool_call("reply_via_vendedor", {"task": "reclamação"})
        return openai_server.tool_call("handoff", {"reason": "cliente quer falar com alguém"})

    fake_openai.policy = policy
    system = await start()
    try:
        outcome = await system.process_message(
            message("quero comprar mas preciso falar com o dono", account="3"), "3:725", "api"
        )
        texts = (await system.runtime("retail")).config.chatwoot.texts
    finally:
        await system.close()
    assert fake_openai.count == 2 and outcome.reply == texts.handoff
    assert outcome.handoff is not None and outcome.handoff.reason == "cliente quer falar com alguém"
    assert [(r.agent_id, r.tool_id) for r in outcome.tool_calls] == [("vendedor", "handoff")]


async def test_a_manager_combining_members_still_writes_the_answer(
    start: Callable[..., Any], domains: Path, fake_openai: Any
) -> None:
    coordinating_manager(domains)

    def policy(body: dict[str, Any]) -> Any:
        tools = tools_of(body)
        if "delegate_to_vendedor" in tools:  # the manager
            done = sum(m["role"] == "tool" for m in body["messages"])
            if done == 0:
                return openai_server.tool_call("delegate_to_vendedor", {"task": "preço"})
            if done == 1:
                return openai_server.tool_call("delegate_to_agendador", {"task": "entrega"})
            return openai_server.text("Custa R$ 399,90 e entregamos sábado.")
        return openai_server.text("parte do especialista")

    fake_openai.policy = policy
    system = await start()
    try:
        outcome = await system.process_message(
            message("quero comprar a air fryer e receber sábado", account="3"), "3:722", "api"
        )
    finally:
        await system.close()
    assert outcome.reply == "Custa R$ 399,90 e entregamos sábado."
    assert fake_openai.count == 5  # manager, member, manager, member, manager


async def test_direct_replies_off_keeps_the_manager_on_every_answer(
    start: Callable[..., Any], domains: Path, fake_openai: Any
) -> None:
    coordinating_manager(domains, direct_replies=False)
    fake_openai.default_text = "Temos sim."
    system = await start()
    try:
        await system.process_message(message(AIR_FRYER, account="3"), "3:723", "api")
    finally:
        await system.close()
    tools = tools_of(fake_openai.requests[0])
    assert "delegate_to_vendedor" in tools
    assert not any(name.startswith("reply_via_") for name in tools)


async def test_retails_manager_answers_a_product_question_from_its_context(
    online: ChatwootAISystem, fake_openai: Any
) -> None:
    def policy(body: dict[str, Any]) -> Any:
        if "CC-ELE-002" in system_text(body) or answered(body):
            return openai_server.text("Tem sim, 220 V.")
        return openai_server.tool_call("catalogo", {"query": AIR_FRYER})

    fake_openai.policy = policy
    outcome = await online.process_message(message(AIR_FRYER, account="3"), "3:724", "api")
    assert outcome.crew == "sales"
    assert fake_openai.count == 1 and outcome.reply == "Tem sim, 220 V."


# -- context by agent type -------------------------------------------------------------------


SCHEDULING = "quero marcar limpeza de pele sexta"


async def test_the_scheduler_gets_no_passages_by_default(
    online: ChatwootAISystem, fake_openai: Any
) -> None:
    outcome = await online.process_message(message(SCHEDULING), "1:731", "api")
    assert outcome.crew == "scheduling"
    assert HEADER not in system_text(fake_openai.requests[0])


async def test_the_schedulers_context_can_be_turned_on(
    start: Callable[..., Any], domains: Path, fake_openai: Any
) -> None:
    yaml = domains / "cosmetics" / "domain.yaml"
    yaml.write_text(
        yaml.read_text(encoding="utf-8").replace(
            "  agendador:\n    role:", "  agendador:\n    config: {context: true}\n    role:", 1
        ),
        encoding="utf-8",
    )
    system = await start()
    try:
        await system.process_message(message(SCHEDULING), "1:732", "api")
    finally:
        await system.close()
    assert HEADER in system_text(fake_openai.requests[0])


async def test_a_workflow_steps_tools_bound_its_context(
    start: Callable[..., Any], domains: Path, fake_openai: Any
) -> None:
    yaml = domains / "cosmetics" / "domain.yaml"
    step = (
        "crews:\n  sales:\n    workflow:\n      - step: atender\n        agent: vendedor\n"
        "        description: Responda.\n        tools: [faq, handoff]\n"
    )
    yaml.write_text(
        yaml.read_text(encoding="utf-8").replace("crews:\n  sales:\n", step, 1), encoding="utf-8"
    )
    system = await start()
    try:
        outcome = await system.process_message(
            message("quanto custa o serum de vitamina c?"), "1:733", "api"
        )
    finally:
        await system.close()
    assert outcome.crew == "sales"
    request = fake_openai.requests[0]
    assert "catalogo" not in tools_of(request)
    assert "Produtos do catálogo" not in system_text(request)  # the step cannot use the catalog


# -- the LLM router is never asked when its answer cannot change ----------------------------

SOLO = """
name: solo
description: Uma loja com uma só equipe.
agents:
  atendente:
    type: SupportAgent
    role: Atendente
    goal: Tirar dúvidas.
    tools: [faq]
tools:
  faq:
    kind: knowledge
    settings: {files: [faq.yaml]}
    grants: [atendente]
crews:
  support:
    name: Suporte
    agents: [atendente]
"""
SOLO_FAQ = """
- question: Qual o horário?
  answer: Das 9h às 18h.
"""


ROUTINGS = [
    "routing:\n  default_crew: support\n",
    "routing:\n  default_crew: support\n  handoff_phrases: [falar com humano]\n"
    "  crews:\n    support:\n      examples: [qual o horario?, vcs abrem domingo?]\n",
]


@pytest.mark.parametrize("routing", ROUTINGS, ids=["default-crew-only", "with-examples"])
async def test_a_single_crew_domain_never_asks_the_llm_router(
    start: Callable[..., Any], domains: Path, fake_openai: Any, routing: str
) -> None:
    solo = domains / "solo"
    solo.mkdir()
    (solo / "domain.yaml").write_text(SOLO + routing, encoding="utf-8")
    (solo / "faq.yaml").write_text(SOLO_FAQ, encoding="utf-8")
    fake_openai.default_text = "Oi!"
    system = await start(CHATWOOT_DOMAIN="solo")
    try:
        for number, text in enumerate(["xyzzy qwrtp", "oi, tudo bem?", "vcs abrem sabado?"]):
            outcome = await system.process_message(
                message(text, account="99"), f"99:{number}", "api"
            )
            assert outcome.domain == "solo" and outcome.crew == "support"
    finally:
        await system.close()
    assert fake_openai.count == 3  # one request per message: the agent's, no router's
    assert not any(
        openai_server.last_user_text(r).startswith("Teams:") for r in fake_openai.requests
    )
