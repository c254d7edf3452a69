"""Crews on pydantic-ai: prompts, tools through the proxy, processes, state, limits, fallback."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, FunctionModel

from chatwootai.agents.crew import Crew
from chatwootai.agents.factory import CrewFactory
from chatwootai.agents.state import AgentState
from chatwootai.config.schema import DomainConfig, LLMSettings
from chatwootai.llm import MissingModelKeyError, ModelResolver
from chatwootai.settings import Settings


class FixedResolver(ModelResolver):
    """A resolver that gives every agent the same test model."""

    def __init__(self, model: Model) -> None:
        super().__init__(Settings())
        self.model = model

    def resolve(self, domain: LLMSettings, agent: LLMSettings | None = None) -> Model:
        return self.model


def last_user_text(messages: list[ModelMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    return part.content
    return ""


def tool_returns(messages: list[ModelMessage]) -> list[ToolReturnPart]:
    last = messages[-1]
    assert isinstance(last, ModelRequest)
    return [p for p in last.parts if isinstance(p, ToolReturnPart)]


def build(domain: DomainConfig, proxy: Any, fn: Any, crew: str = "support") -> Crew:
    return CrewFactory(domain, proxy, FixedResolver(FunctionModel(fn))).build(crew)


async def test_one_step_crew_without_tools_makes_one_request(shop, fake_proxy, ctx):
    seen: list[str | None] = []

    async def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(info.instructions)
        return ModelResponse(parts=[TextPart("Olá!")])

    result = await build(shop, fake_proxy, fn).run("oi", {}, ctx)
    assert result.reply == "Olá!"
    assert result.requests == 1
    assert not result.fallback and not result.offline
    prompt = seen[0] or ""
    assert "atendente" in prompt and "tirar dúvidas" in prompt
    assert "Loja Teste" in prompt and "Só em SP" in prompt
    assert "pt-BR" in prompt and "Hoje é" in prompt
    assert "base de conhecimento" in prompt  # SupportAgent behaviour
    assert len(result.states["support"].messages) == 2


async def test_tool_call_goes_through_proxy_with_agent_context(shop, fake_proxy, ctx):
    async def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        returns = tool_returns(messages)
        if returns:
            return ModelResponse(parts=[TextPart(f"Resposta: {returns[0].content}")])
        names = {t.name for t in info.function_tools}
        assert names == {"faq", "orders"}
        faq = next(t for t in info.function_tools if t.name == "faq")
        assert faq.parameters_json_schema["required"] == ["query"]
        return ModelResponse(parts=[ToolCallPart("orders", {"order_id": "1234"})])

    result = await build(shop, fake_proxy, fn).run("meu pedido 1234", {}, ctx)
    assert result.reply == "Resposta: Pedido 1234: enviado, chega amanhã."
    assert [(r.agent_id, r.tool_id, r.ok) for r in result.tool_calls] == [
        ("support", "orders", True)
    ]
    assert fake_proxy.contexts[0].agent_id == "support"
    assert fake_proxy.contexts[0].conversation_key == "1:10"
    assert result.requests == 2


async def test_refused_tool_becomes_a_message_not_a_crash(shop, fake_proxy, ctx):
    async def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        returns = tool_returns(messages)
        if returns:
            return ModelResponse(parts=[TextPart(str(returns[0].content))])
        return ModelResponse(parts=[ToolCallPart("orders", {"order_id": "1"})])

    crew = build(shop, fake_proxy, fn)
    fake_proxy.grants["support"] = ["faq"]  # orders revoked after build: the proxy refuses
    result = await crew.run("pedido 1", {}, ctx)
    assert "Erro na ferramenta orders" in result.reply
    assert not result.fallback
    assert result.tool_calls[0].ok is False
    assert "may not use" in (result.tool_calls[0].error or "")


async def test_bad_arguments_are_reported_to_the_model(shop, fake_proxy, ctx):
    async def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        returns = tool_returns(messages)
        if returns:
            return ModelResponse(parts=[TextPart(str(returns[0].content))])
        return ModelResponse(parts=[ToolCallPart("faq", {"wrong": 1})])

    result = await build(shop, fake_proxy, fn).run("?", {}, ctx)
    assert "Erro na ferramenta faq" in result.reply
    assert result.tool_calls[0].ok is False


async def test_handoff_from_tool_sets_result_handoff(shop, fake_proxy, ctx):
    fake_proxy.tools["faq"].handoff = True

    async def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if tool_returns(messages):
            return ModelResponse(parts=[TextPart("Vou chamar alguém.")])
        return ModelResponse(parts=[ToolCallPart("faq", {"query": "zzz"})])

    result = await build(shop, fake_proxy, fn).run("quero humano", {}, ctx)
    assert result.handoff is not None and result.handoff.reason == "asked"
    assert not result.fallback


async def test_concurrent_runs_do_not_mix_states(shop, fake_proxy, ctx):
    async def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        await asyncio.sleep(0.01)
        prompts = [
            p.content
            for m in messages
            if isinstance(m, ModelRequest)
            for p in m.parts
            if isinstance(p, UserPromptPart)
        ]
        return ModelResponse(parts=[TextPart(" | ".join(str(p) for p in prompts))])

    crew = build(shop, fake_proxy, fn)
    first = await crew.run("A1", {}, ctx)
    second = await crew.run("B1", {}, ctx)
    a, b = await asyncio.gather(
        crew.run("A2", first.states, ctx), crew.run("B2", second.states, ctx)
    )
    assert a.reply == "A1 | A2"
    assert b.reply == "B1 | B2"
    assert "B1" not in json.dumps(a.states["support"].messages)


async def test_sequential_workflow_passes_output_and_restricts_tools(shop, fake_proxy, ctx):
    calls: list[tuple[set[str], str]] = []

    async def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        calls.append(({t.name for t in info.function_tools}, last_user_text(messages)))
        return ModelResponse(parts=[TextPart(f"saída {len(calls)}")])

    result = await build(shop, fake_proxy, fn, "two_steps").run("batom?", {}, ctx)
    assert result.reply == "saída 2"
    assert calls[0][0] == {"faq", "orders"}
    assert calls[1][0] == set()  # step restricts sales to no tools
    assert "saída 1" in calls[1][1]
    assert set(result.states) == {"support", "sales"}


async def test_hierarchical_manager_delegates_and_sums_usage(shop, fake_proxy, ctx):
    async def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        names = {t.name for t in info.function_tools}
        returns = tool_returns(messages)
        if "delegate_to_sales" in names:  # the manager
            if returns:
                return ModelResponse(parts=[TextPart(f"Final: {returns[0].content}")])
            return ModelResponse(parts=[ToolCallPart("delegate_to_sales", {"task": "batom"})])
        if returns:  # the sales member after its catalog call
            return ModelResponse(parts=[TextPart(str(returns[0].content))])
        return ModelResponse(parts=[ToolCallPart("catalog", {"query": "batom"})])

    result = await build(shop, fake_proxy, fn, "managed").run("preço do batom", {}, ctx)
    assert result.reply == "Final: Batom Rubi: R$ 39,90 (12 em estoque)"
    assert result.requests == 4
    assert [(r.agent_id, r.tool_id) for r in result.tool_calls] == [("sales", "catalog")]


async def test_request_limit_ends_turn_with_fallback(shop, fake_proxy, ctx):
    limited = shop.model_copy(update={"limits": shop.limits.model_copy(update={"max_requests": 1})})

    async def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[ToolCallPart("faq", {"query": "horario"})])

    state = AgentState(messages=[], slots={"x": 1})
    result = await build(limited, fake_proxy, fn).run("oi", {"support": state}, ctx)
    assert result.fallback
    assert result.reply == shop.chatwoot.texts.fallback
    assert result.handoff is not None and result.handoff.requested_by == "runtime"
    assert result.states["support"] == state


async def test_timeout_ends_turn_with_fallback(shop, fake_proxy, ctx):
    quick = shop.model_copy(update={"limits": shop.limits.model_copy(update={"timeout_s": 0.05})})

    async def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        await asyncio.sleep(10)
        return ModelResponse(parts=[TextPart("tarde demais")])

    result = await build(quick, fake_proxy, fn).run("oi", {}, ctx)
    assert result.fallback and result.handoff is not None


async def test_model_error_ends_turn_with_fallback(shop, fake_proxy, ctx):
    async def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        raise RuntimeError("boom")

    result = await build(shop, fake_proxy, fn).run("oi", {}, ctx)
    assert result.fallback and result.reply == shop.chatwoot.texts.fallback


async def test_history_sent_and_kept_are_bounded(shop, fake_proxy, ctx):
    limits = shop.limits.model_copy(update={"history_messages": 2, "max_state_messages": 4})
    bounded = shop.model_copy(update={"limits": limits})
    sizes: list[int] = []

    async def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        sizes.append(len(messages))
        return ModelResponse(parts=[TextPart("ok")])

    crew = build(bounded, fake_proxy, fn)
    states: dict[str, AgentState] = {}
    for i in range(4):
        states = (await crew.run(f"m{i}", states, ctx)).states
    assert sizes == [1, 3, 3, 3]  # one previous exchange (2 messages) + the new prompt
    kept = states["support"].messages
    assert len(kept) == 4
    assert kept[0]["kind"] == "request" and kept[-1]["kind"] == "response"
    assert "m3" in json.dumps(kept) and "m1" not in json.dumps(kept)


async def test_scheduling_agent_keeps_flow_until_booked(scheduler_domain, fake_proxy, ctx):
    config = scheduler_domain

    async def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        text = last_user_text(messages)
        if tool_returns(messages):
            return ModelResponse(parts=[TextPart("feito")])
        if "limpeza" in text:
            return ModelResponse(
                parts=[ToolCallPart("save_booking_details", {"service": "limpeza"})]
            )
        return ModelResponse(parts=[ToolCallPart("calendar", {"query": "book limpeza"})])

    crew = CrewFactory(config, fake_proxy, FixedResolver(FunctionModel(fn))).build("agenda")
    first = await crew.run("quero limpeza", {}, ctx)
    assert first.in_flow
    assert first.states["scheduler"].slots == {"service": "limpeza"}
    second = await crew.run("sim, confirma", first.states, ctx)
    assert not second.in_flow
    assert second.states["scheduler"].slots == {}  # the booking is done: its slots go


async def test_booking_slots_are_cleared_by_the_booking_not_by_its_words(
    scheduler_domain, fake_proxy, ctx
):
    async def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        text = last_user_text(messages)
        if tool_returns(messages) or "obrigado" in text:
            return ModelResponse(parts=[TextPart("ok")])
        if "limpeza" in text:
            details = {"service": "limpeza", "date": "2030-01-10", "time": "10:00"}
            return ModelResponse(parts=[ToolCallPart("save_booking_details", details)])
        if "horarios" in text:  # words of a booking, but only availability is asked
            return ModelResponse(parts=[ToolCallPart("calendar", {"query": "livre reservar"})])
        return ModelResponse(parts=[ToolCallPart("calendar", {"query": "book"})])

    crew = CrewFactory(scheduler_domain, fake_proxy, FixedResolver(FunctionModel(fn))).build(
        "agenda"
    )
    first = await crew.run("quero limpeza dia 10 às 10h", {}, ctx)
    assert first.in_flow and len(first.states["scheduler"].slots) == 3
    looked = await crew.run("quais horarios?", first.states, ctx)
    assert looked.in_flow  # "reservar" in the arguments is not a booking
    assert looked.states["scheduler"].slots == first.states["scheduler"].slots
    booked = await crew.run("sim, confirma", looked.states, ctx)
    assert not booked.in_flow and booked.states["scheduler"].slots == {}
    after = await crew.run("obrigado", booked.states, ctx)
    assert not after.in_flow  # the next turn does not find the old date and time


async def test_offline_manager_delegates_to_the_member_with_the_tool(shop, fake_proxy, ctx):
    crew = CrewFactory(shop, fake_proxy, ModelResolver(Settings())).build("managed")
    assert crew.offline
    result = await crew.run("quanto custa o batom?", {}, ctx)
    assert not result.fallback and result.offline
    assert [(r.agent_id, r.tool_id) for r in result.tool_calls] == [("sales", "catalog")]
    assert "Batom Rubi: R$ 39,90" in result.reply


async def test_missing_key_fails_at_build_not_mid_turn(shop, fake_proxy, monkeypatch):
    monkeypatch.delenv("SHOP_KEY", raising=False)
    llm = shop.llm.model_copy(update={"model": "openai:gpt-4o-mini", "api_key_env": "SHOP_KEY"})
    config = shop.model_copy(update={"llm": llm})
    with pytest.raises(MissingModelKeyError, match="SHOP_KEY"):
        CrewFactory(config, fake_proxy, ModelResolver(Settings())).build("support")


def with_slots(domain: DomainConfig, slots: list[str]) -> DomainConfig:
    """`domain` whose scheduler asks for `slots` (its `config.required_slots`)."""
    agents = dict(domain.agents)
    agents["scheduler"] = agents["scheduler"].model_copy(
        update={"config": {"required_slots": slots}}
    )
    return domain.model_copy(update={"agents": agents})


async def test_booking_details_follow_the_configured_slots(scheduler_domain, fake_proxy, ctx):
    config = with_slots(scheduler_domain, ["service", "professional", "date"])
    seen: list[str] = []

    async def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        returns = tool_returns(messages)
        if returns:
            seen.append(str(returns[-1].content))
            return ModelResponse(parts=[TextPart("ok")])
        tool = next(t for t in info.function_tools if t.name == "save_booking_details")
        properties = set(tool.parameters_json_schema["properties"])
        assert properties == {"service", "professional", "date", "action", "booking_id"}
        details = {"service": "corte", "date": "2030-01-10"}
        if "Ana" in last_user_text(messages):
            details = {"professional": "Ana"}
        return ModelResponse(parts=[ToolCallPart("save_booking_details", details)])

    crew = CrewFactory(config, fake_proxy, FixedResolver(FunctionModel(fn))).build("agenda")
    first = await crew.run("corte dia 10", {}, ctx)
    assert seen[-1] == "Anotado. Ainda falta: professional"  # no time asked; a professional is
    assert first.in_flow
    second = await crew.run("com a Ana", first.states, ctx)
    assert seen[-1].startswith("Anotado. Todos os dados coletados")
    assert second.states["scheduler"].slots == {
        "service": "corte",
        "date": "2030-01-10",
        "professional": "Ana",
    }


def with_manager(domain: DomainConfig, max_delegations: int = 3) -> DomainConfig:
    """`domain` plus crew `front`: the boss (with `max_delegations`) leads scheduler and sales."""
    agents = dict(domain.agents)
    agents["boss"] = agents["boss"].model_copy(
        update={"config": {"max_delegations": max_delegations}}
    )
    crews = dict(domain.crews)
    crews["front"] = domain.crews["managed"].model_copy(
        update={"agents": ["scheduler", "sales"], "manager": "boss"}
    )
    return domain.model_copy(update={"agents": agents, "crews": crews})


async def test_the_manager_may_delegate_only_max_delegations_times(
    scheduler_domain, fake_proxy, ctx
):
    member_runs = 0

    async def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        nonlocal member_runs
        names = {t.name for t in info.function_tools}
        returns = tool_returns(messages)
        if "delegate_to_sales" in names:  # the manager delegates twice
            done = sum(
                isinstance(p, ToolReturnPart)
                for m in messages
                if isinstance(m, ModelRequest)
                for p in m.parts
            )
            if done < 2:
                return ModelResponse(parts=[ToolCallPart("delegate_to_sales", {"task": "preço"})])
            return ModelResponse(parts=[TextPart(str(returns[0].content))])
        member_runs += 1
        return ModelResponse(parts=[TextPart("R$ 39,90")])

    crew = CrewFactory(
        with_manager(scheduler_domain, max_delegations=1),
        fake_proxy,
        FixedResolver(FunctionModel(fn)),
    ).build("front")
    result = await crew.run("preço do batom", {}, ctx)
    assert member_runs == 1  # the second delegation was refused
    assert "Limite de delegações neste atendimento (1)" in result.reply
    assert not result.fallback


async def test_a_scheduling_member_keeps_a_hierarchical_crew_in_flow(
    scheduler_domain, fake_proxy, ctx
):
    async def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        names = {t.name for t in info.function_tools}
        returns = tool_returns(messages)
        text = last_user_text(messages)
        if "delegate_to_scheduler" in names:  # the manager
            if returns:
                return ModelResponse(parts=[TextPart(str(returns[0].content))])
            task = {"task": text}
            return ModelResponse(parts=[ToolCallPart("delegate_to_scheduler", task)])
        if returns:  # the scheduler, after its tool call
            return ModelResponse(parts=[TextPart(str(returns[0].content))])
        if "confirma" in text:
            return ModelResponse(parts=[ToolCallPart("calendar", {"query": "book"})])
        details = {"service": "limpeza"} if "limpeza" in text else {"date": "2030-01-10"}
        return ModelResponse(parts=[ToolCallPart("save_booking_details", details)])

    crew = CrewFactory(
        with_manager(scheduler_domain), fake_proxy, FixedResolver(FunctionModel(fn))
    ).build("front")
    first = await crew.run("quero limpeza", {}, ctx)
    assert first.in_flow
    assert first.states["scheduler"].slots == {"service": "limpeza"}
    assert first.states["boss"].slots == {}  # the member's slots are the member's
    second = await crew.run("dia 10", first.states, ctx)
    assert second.in_flow
    assert second.states["scheduler"].slots == {"service": "limpeza", "date": "2030-01-10"}
    assert "Ainda falta: time" in second.reply
    third = await crew.run("sim, confirma", second.states, ctx)
    assert not third.in_flow and third.states["scheduler"].slots == {}
