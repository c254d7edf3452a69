"""LLM-chosen tool arguments can carry no tenant context, and junk arguments never crash a turn."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatwootai.system import ChatwootAISystem
from chatwootai.tools.base import ToolArgumentsError, ToolContext
from chatwootai.turn import Customer, IncomingMessage

OWNER_PHONE = "+5519987654321"
"""Phone of order BP-104521 in domains/cosmetics/orders.yaml."""


OPEN = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("America/Sao_Paulo"))
"""A Tuesday morning: every example domain's team is at work (their `hours:`), so a handoff
reads the same whatever the machine's clock says."""


def message(text: str, account: str = "1", phone: str | None = None) -> IncomingMessage:
    """A customer text message in `account`, at a moment the team works."""
    return IncomingMessage(text=text, account_id=account, customer=Customer(phone=phone), now=OPEN)


TENANT_KEYS: list[dict[str, Any]] = [
    {"domain": "health"},
    {"conversation_key": "2:1"},
    {"account_id": 2},
    {"contact_phone": OWNER_PHONE},
    {"agent_id": "agendador"},
    {"ctx": {"domain": "retail", "conversation_key": "3:1"}},
]


@pytest.mark.parametrize("extra", TENANT_KEYS, ids=lambda e: next(iter(e)))
async def test_tenant_context_in_arguments_is_rejected(
    system: ChatwootAISystem, script, extra: dict[str, Any]
) -> None:
    calls = [
        ("pedidos", {"order_id": "BP-104521", **extra}),
        ("faq", {"query": "trocas", **extra}),
    ]
    script.plan(calls)
    outcome = await system.process_message(
        message("cadê meu pedido BP-104521?", phone="+5511900001111"), "1:50", "api"
    )
    assert outcome.domain == "cosmetics" and outcome.crew == "support"
    assert len(outcome.tool_calls) == 2  # both calls reached the proxy, which rejected them
    for record in outcome.tool_calls:
        assert not record.ok
        assert record.result is None
        assert (record.error or "").startswith(f"invalid arguments for {record.tool_id!r}")
        assert "Extra inputs are not permitted" in (record.error or "")
    assert "entregue" not in outcome.reply and "Sérum" not in outcome.reply
    assert await system.store.scan("domain:conversation:*") == []


@pytest.mark.parametrize("extra", TENANT_KEYS, ids=lambda e: next(iter(e)))
async def test_the_proxy_rejects_tenant_keys_for_every_tool(
    system: ChatwootAISystem, extra: dict[str, Any]
) -> None:
    runtime = await system.runtime("cosmetics")
    valid = {
        "faq": {"query": "trocas"},
        "catalogo": {"query": "batom"},
        "pedidos": {"order_id": "BP-104521"},
        "agenda": {"action": "list"},
        "handoff": {"reason": "cliente pediu"},
    }
    for tool_id, args in valid.items():
        agent = next(a for a, tools in runtime.proxy.grants.items() if tool_id in tools)
        ctx = ToolContext(domain="cosmetics", conversation_key="1:51", agent_id=agent)
        await runtime.proxy.call(ctx, tool_id, args)  # valid without the extra key
        with pytest.raises(ToolArgumentsError, match="Extra inputs are not permitted"):
            await runtime.proxy.call(ctx, tool_id, {**args, **extra})


# -- fuzzing ---------------------------------------------------------------------------------

FINAL = "Certo, já verifiquei para você."

CREW_TOOLS = [
    ("cadê meu pedido 12345?", ["pedidos", "faq", "handoff"]),
    ("quanto custa o batom?", ["catalogo", "faq", "handoff"]),
    ("quero agendar limpeza de pele", ["agenda", "faq", "save_booking_details"]),
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=50)
    | st.just("x" * 10_000)
    | st.just("🙂" * 3_000 + "\u0000\ud7ff\u202e")
)
json_like = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "query",
        "order_id",
        "action",
        "service",
        "start",
        "booking_id",
        "reason",
        "sku",
        "max_price",
        "days",
        "from_date",
        "in_stock_only",
        "domain",
        "ctx",
        "deps",
        "",
    ]
) | st.text(max_size=20)
arguments = (
    st.dictionaries(field_names, json_like, max_size=5)
    | st.text(max_size=200)  # raw, often malformed, JSON text
    | json_like.map(lambda v: __import__("json").dumps(v, default=str))
)

_keys = itertools.count()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    crew=st.sampled_from(CREW_TOOLS),
    picks=st.lists(st.tuples(st.integers(0, 2), arguments), min_size=1, max_size=3),
)
async def test_junk_arguments_never_crash_a_turn(
    system: ChatwootAISystem, script, crew: tuple[str, list[str]], picks: list[tuple[int, Any]]
) -> None:
    text, tools = crew
    batch = [(tools[i], args) for i, args in picks]
    script.plan(batch)
    script.final_text = FINAL
    outcome = await system.process_message(message(text), f"1:{9000 + next(_keys)}", "api")
    config = await system.registry.get_domain_config("cosmetics")
    assert outcome.domain == "cosmetics"
    texts = config.chatwoot.texts
    assert outcome.reply in (FINAL, texts.fallback, texts.handoff)
    if outcome.reply == texts.handoff:  # a valid handoff call ends the turn
        assert outcome.handoff is not None
    assert "Traceback" not in outcome.reply
    for record in outcome.tool_calls:
        assert "Traceback" not in (record.error or "")
        assert record.tool_id in tools
