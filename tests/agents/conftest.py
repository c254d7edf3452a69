"""Fakes for agent tests: a proxy with in-memory tools, a domain config builder, fixtures."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel

from chatwootai.config.schema import DomainConfig
from chatwootai.tools.base import (
    HandoffRequest,
    Tool,
    ToolArgumentsError,
    ToolContext,
    ToolNotGrantedError,
    ToolResult,
    UnknownToolError,
)


class QueryArgs(BaseModel):
    """Search arguments."""

    query: str


class OrderArgs(BaseModel):
    """Order lookup arguments."""

    order_id: str


class FakeTool(Tool):
    """A tool answering from a dict of word → text."""

    kind: ClassVar[str] = "knowledge"
    args_model: ClassVar[type[BaseModel]] = QueryArgs

    def __init__(
        self,
        tool_id: str,
        kind: str,
        answers: dict[str, str],
        handoff: bool = False,
        data: dict[str, Any] | None = None,
    ):
        super().__init__(tool_id, f"{kind} search", store=None)  # type: ignore[arg-type]
        self.kind = kind  # type: ignore[misc]
        self.answers = answers
        self.handoff = handoff
        self.data = data or {}
        """Structured data returned with the answer of a word."""
        if kind == "orders":
            self.args_model = OrderArgs  # type: ignore[misc]

    async def run(self, ctx: ToolContext, args: BaseModel) -> ToolResult:
        text = " ".join(str(v) for v in args.model_dump().values()).lower()
        for word, answer in self.answers.items():
            if word in text:
                return ToolResult(text=answer, data=self.data.get(word))
        if self.handoff:
            return ToolResult(text="transferindo", handoff=HandoffRequest(reason="asked"))
        return ToolResult(text="nada encontrado", found=False)


class FakeProxy:
    """The DataProxy API over FakeTools with grants; records the contexts it saw."""

    def __init__(self, tools: list[FakeTool], grants: dict[str, list[str]]) -> None:
        self.tools = {t.id: t for t in tools}
        self.grants = grants
        self.contexts: list[ToolContext] = []

    def tools_for(self, agent_id: str) -> list[Tool]:
        return [self.tools[t] for t in self.grants.get(agent_id, [])]

    async def call(self, ctx: ToolContext, tool_id: str, args: Mapping[str, Any]) -> ToolResult:
        self.contexts.append(ctx)
        if tool_id not in self.tools:
            raise UnknownToolError(f"no tool {tool_id!r}")
        if tool_id not in self.grants.get(ctx.agent_id, []):
            raise ToolNotGrantedError(f"{ctx.agent_id!r} may not use {tool_id!r}")
        tool = self.tools[tool_id]
        try:
            parsed = tool.args_model.model_validate(dict(args))
        except ValueError as exc:
            raise ToolArgumentsError(str(exc)) from None
        return await tool.run(ctx, parsed)


def domain(**overrides: Any) -> DomainConfig:
    """A small domain: a support agent with a knowledge tool, a sales agent with a catalog."""
    base: dict[str, Any] = {
        "name": "shop",
        "business": {"company_name": "Loja Teste", "facts": {"entrega": "Só em SP"}},
        "agents": {
            "support": {
                "type": "SupportAgent",
                "role": "atendente",
                "goal": "tirar dúvidas",
                "tools": ["faq", "orders"],
            },
            "sales": {
                "type": "SalesAgent",
                "role": "vendedor",
                "goal": "vender",
                "tools": ["catalog"],
                "config": {"currency": "BRL"},
            },
            "boss": {"type": "ManagerAgent", "role": "gerente", "goal": "coordenar"},
        },
        "tools": {
            "faq": {
                "kind": "knowledge",
                "settings": {"files": ["faq.yaml"]},
                "grants": ["support"],
            },
            "orders": {"kind": "orders", "settings": {"file": "o.yaml"}, "grants": ["support"]},
            "catalog": {"kind": "catalog", "settings": {"file": "c.csv"}, "grants": ["sales"]},
        },
        "crews": {
            "support": {"name": "Suporte", "agents": ["support"]},
            "sales": {"name": "Vendas", "agents": ["sales"]},
            "two_steps": {
                "name": "Duas etapas",
                "agents": ["support", "sales"],
                "workflow": [
                    {"step": "find", "agent": "support", "description": "procure na base"},
                    {"step": "sell", "agent": "sales", "description": "ofereça", "tools": []},
                ],
            },
            "managed": {
                "name": "Gerenciada",
                "agents": ["support", "sales"],
                "process": "hierarchical",
                "manager": "boss",
            },
        },
    }
    base.update(overrides)
    return DomainConfig.model_validate(base)


def proxy() -> FakeProxy:
    """The proxy matching :func:`domain`."""
    return FakeProxy(
        [
            FakeTool("faq", "knowledge", {"horario": "Abrimos das 9h às 18h.", "humano": ""}),
            FakeTool("orders", "orders", {"1234": "Pedido 1234: enviado, chega amanhã."}),
            FakeTool("catalog", "catalog", {"batom": "Batom Rubi: R$ 39,90 (12 em estoque)"}),
            FakeTool(
                "calendar",
                "calendar",
                {"book": "Reservado!", "livre": "Livre: 10h, 14h"},
                data={"book": {"booked": True, "booking_id": "b1"}, "livre": {"free": ["10:00"]}},
            ),
        ],
        {"support": ["faq", "orders"], "sales": ["catalog"], "scheduler": ["calendar"]},
    )


def scheduler_domain() -> DomainConfig:
    """The test domain plus a scheduling agent with a calendar tool, in crew `agenda`."""
    base = domain()
    agents = dict(base.agents)
    agents["scheduler"] = base.agents["support"].model_copy(
        update={"type": "SchedulingAgent", "tools": ["calendar"]}
    )
    tools = dict(base.tools)
    tools["calendar"] = base.tools["faq"].model_copy(
        update={"kind": "calendar", "settings": {"file": "cal.yaml"}, "grants": ["scheduler"]}
    )
    crews = dict(base.crews)
    crews["agenda"] = base.crews["support"].model_copy(update={"agents": ["scheduler"]})
    return base.model_copy(update={"agents": agents, "tools": tools, "crews": crews})


@pytest.fixture
def shop() -> DomainConfig:
    """The small test domain."""
    return domain()


@pytest.fixture(name="scheduler_domain")
def scheduler_domain_fixture() -> DomainConfig:
    """The test domain with a scheduling crew."""
    return scheduler_domain()


@pytest.fixture
def fake_proxy() -> FakeProxy:
    """A fresh fake proxy for the test domain."""
    return proxy()


@pytest.fixture
def ctx() -> ToolContext:
    """A tenant context (agent id filled by the runtime)."""
    return ToolContext(domain="shop", conversation_key="1:10", agent_id="")


def _load_openai_server() -> Any:
    path = Path(__file__).resolve().parent.parent / "fakes" / "openai_server.py"
    spec = importlib.util.spec_from_file_location("fakes_openai_server", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


openai_server = _load_openai_server()


@pytest.fixture
def fake_openai() -> Iterator[Any]:
    """A fake OpenAI-compatible server on 127.0.0.1 (see tests/fakes/openai_server.py)."""
    yield from openai_server.serve()
