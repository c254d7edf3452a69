"""DataProxy: grants from YAML, argument validation, tenant isolation and failure containment."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict

from chatwootai.config.schema import DomainConfig
from chatwootai.store.base import Store
from chatwootai.tools.base import (
    Tool,
    ToolArgumentsError,
    ToolContext,
    ToolError,
    ToolNotGrantedError,
    ToolResult,
    UnknownToolError,
)
from chatwootai.tools.proxy import CrossTenantError, DataProxy, grants_for


@pytest.fixture
def proxy(config: DomainConfig, store: Store) -> DataProxy:
    return DataProxy.for_domain(config, store)


def test_grants_are_the_intersection_of_agent_tools_and_tool_grants(config: DomainConfig) -> None:
    grants = grants_for(config)
    # vendedor lists faq, catalogo, handoff; agenda grants vendedor but vendedor does not list it.
    assert grants["vendedor"] == {"faq", "catalogo", "handoff"}
    # atendente lists agenda, but agenda does not grant atendente.
    assert grants["atendente"] == {"faq", "pedidos", "handoff"}


def test_tools_for_lists_only_granted_tools(proxy: DataProxy) -> None:
    assert [t.id for t in proxy.tools_for("vendedor")] == ["faq", "catalogo", "handoff"]
    assert [t.id for t in proxy.tools_for("atendente")] == ["faq", "pedidos", "handoff"]
    assert proxy.tools_for("nobody") == []


async def test_call_runs_a_granted_tool(proxy: DataProxy, ctx: ToolContext) -> None:
    result = await proxy.call(ctx, "faq", {"query": "prazo de entrega"})
    assert result.found
    assert "3 dias úteis" in result.text


async def test_refuses_and_logs_a_tool_not_granted(
    proxy: DataProxy, make_ctx: Any, caplog: pytest.LogCaptureFixture
) -> None:
    ctx = make_ctx("vendedor")
    with (
        caplog.at_level(logging.WARNING, logger="chatwootai.tools"),
        pytest.raises(ToolNotGrantedError, match=r"vendedor.*pedidos"),
    ):
        await proxy.call(ctx, "pedidos", {"order_id": "1001 segredo do cliente"})
    refusals = [r for r in caplog.records if r.name == "chatwootai.tools"]
    assert len(refusals) == 1
    record = refusals[0]
    assert record.levelno == logging.WARNING
    assert record.agent == "vendedor"  # type: ignore[attr-defined]
    assert record.tool == "pedidos"  # type: ignore[attr-defined]
    assert "segredo" not in caplog.text  # message contents are never logged


async def test_listed_by_agent_but_not_granted_by_tool_is_refused(
    proxy: DataProxy, make_ctx: Any
) -> None:
    with pytest.raises(ToolNotGrantedError):
        await proxy.call(make_ctx("atendente"), "agenda", {"action": "list"})


async def test_unknown_tool(proxy: DataProxy, ctx: ToolContext) -> None:
    with pytest.raises(UnknownToolError, match="nope"):
        await proxy.call(ctx, "nope", {})


async def test_context_of_another_domain_is_refused(
    proxy: DataProxy, make_ctx: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="chatwootai.tools"),
        pytest.raises(CrossTenantError, match="other"),
    ):
        await proxy.call(make_ctx(domain="other"), "faq", {"query": "entrega"})
    assert any("another domain" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"query": 42}, "query"),
        ({}, "query: Field required"),
        ({"query": "entrega", "domain": "other"}, "domain: Extra inputs are not permitted"),
        ({"query": "x" * 501}, "at most 500"),
        ({"query": "y" * 10_000}, "too long"),
    ],
)
async def test_bad_arguments_are_refused_with_the_problems(
    proxy: DataProxy, ctx: ToolContext, args: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ToolArgumentsError, match=fragment):
        await proxy.call(ctx, "faq", args)


async def test_arguments_must_be_an_object(proxy: DataProxy, ctx: ToolContext) -> None:
    with pytest.raises(ToolArgumentsError, match="object"):
        await proxy.call(ctx, "faq", ["entrega"])  # type: ignore[arg-type]


async def test_catalog_arguments_are_checked(proxy: DataProxy, ctx: ToolContext) -> None:
    with pytest.raises(ToolArgumentsError, match="max_price"):
        await proxy.call(ctx, "catalogo", {"max_price": "barato"})
    with pytest.raises(ToolArgumentsError, match="min_price must not exceed max_price"):
        await proxy.call(ctx, "catalogo", {"min_price": 100, "max_price": 10})


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Broken(Tool):
    kind: ClassVar[str] = "broken"
    args_model: ClassVar[type[BaseModel]] = _Args

    def __init__(self, store: Store, error: Exception) -> None:
        super().__init__("broken", "", store)
        self.error = error

    async def run(self, ctx: ToolContext, args: BaseModel) -> ToolResult:
        raise self.error


async def test_unexpected_exception_becomes_a_tool_error(
    store: Store, ctx: ToolContext, caplog: pytest.LogCaptureFixture
) -> None:
    tool = _Broken(store, KeyError("internal detail"))
    proxy = DataProxy("loja", {"broken": tool}, {"vendedor": frozenset({"broken"})})
    with (
        caplog.at_level(logging.ERROR, logger="chatwootai.tools"),
        pytest.raises(ToolError) as info,
    ):
        await proxy.call(ctx, "broken", {})
    assert type(info.value) is ToolError
    assert "failed" in str(info.value)
    assert "internal detail" not in str(info.value)
    assert info.value.__cause__ is None
    assert any(r.exc_info for r in caplog.records)  # the traceback goes to the log only


async def test_tool_error_propagates_unchanged(store: Store, ctx: ToolContext) -> None:
    tool = _Broken(store, ToolError("no data for that"))
    proxy = DataProxy("loja", {"broken": tool}, {"vendedor": frozenset({"broken"})})
    with pytest.raises(ToolError, match="no data for that"):
        await proxy.call(ctx, "broken", {})


async def test_same_tool_ids_in_two_domains_stay_apart(
    store: Store, make_domain: Any, make_ctx: Any
) -> None:
    other = make_domain("outra")
    other["data"] = {
        **other["data"],
        "knowledge": {"faq": [{"question": "Prazo de entrega?", "answer": "Só retirada."}]},
    }
    loja = DataProxy.for_domain(DomainConfig.model_validate(make_domain("loja")), store)
    outra = DataProxy.for_domain(DomainConfig.model_validate(other), store)
    assert (
        "Só retirada"
        in (await outra.call(make_ctx(domain="outra"), "faq", {"query": "entrega"})).text
    )
    assert "3 dias" in (await loja.call(make_ctx(domain="loja"), "faq", {"query": "entrega"})).text
    with pytest.raises(CrossTenantError):
        await outra.call(make_ctx(domain="loja"), "faq", {"query": "entrega"})
