"""The catalog tool: ranked search, filters, prices in BRL and stock."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from chatwootai.config.schema import DomainConfig
from chatwootai.store.base import Store
from chatwootai.tools.base import ToolContext
from chatwootai.tools.catalog import CatalogArgs, CatalogTool
from chatwootai.tools.money import format_money
from chatwootai.tools.registry import ToolRegistry


@pytest.fixture
def catalog(config: DomainConfig, store: Store) -> CatalogTool:
    tool = ToolRegistry.build(config, store)["catalogo"]
    assert isinstance(tool, CatalogTool)
    return tool


async def search(tool: CatalogTool, ctx: ToolContext, **args: Any) -> list[str]:
    result = await tool.run(ctx, CatalogArgs(**args))
    return [row["sku"] for row in result.data]


def test_format_money() -> None:
    assert format_money(Decimal("49.9")) == "R$ 49,90"
    assert format_money(Decimal("1249.5")) == "R$ 1.249,50"
    assert format_money(0) == "R$ 0,00"
    assert format_money(Decimal("10"), "usd") == "USD 10,00"


async def test_ranked_search_with_price_and_stock(catalog: CatalogTool, ctx: ToolContext) -> None:
    result = await catalog.run(ctx, CatalogArgs(query="protetores solares"))
    assert result.found
    assert {row["sku"] for row in result.data} == {"PS60", "PS30K"}
    assert "R$ 59,90" in result.text
    assert "em estoque: 12" in result.text
    assert "esgotado" in result.text
    assert result.data[0]["price_text"].startswith("R$ ")


@pytest.mark.parametrize(
    ("query", "sku"),
    [
        ("hidratnte", "HID01"),
        ("derma care", "HID01"),
        ("batom vermelho", "BAT01"),
        ("maquiagem", "BAT01"),
        ("protetor para pele oleosa", "PS60"),
        ("protetor para criança", "PS30K"),
    ],
)
async def test_matches_name_brand_category_and_description(
    catalog: CatalogTool, ctx: ToolContext, query: str, sku: str
) -> None:
    assert (await search(catalog, ctx, query=query))[0] == sku


async def test_filters(catalog: CatalogTool, ctx: ToolContext) -> None:
    assert await search(catalog, ctx, query="protetor solar", in_stock_only=True) == ["PS60"]
    assert await search(catalog, ctx, query="protetor", max_price=50) == ["PS30K"]
    assert await search(catalog, ctx, query="protetor", min_price=50) == ["PS60"]
    assert await search(catalog, ctx, category="proteçao solar") == ["PS60", "PS30K"]
    assert await search(catalog, ctx, category="hidratante") == ["HID01"]
    assert await search(catalog, ctx, sku="hid01") == ["HID01"]


async def test_empty_query_lists_in_stock_first(catalog: CatalogTool, ctx: ToolContext) -> None:
    skus = await search(catalog, ctx)
    assert skus[-1] == "PS30K"
    assert len(skus) == 4


async def test_nothing_found(catalog: CatalogTool, ctx: ToolContext) -> None:
    result = await catalog.run(ctx, CatalogArgs(query="pneu de caminhão"))
    assert not result.found
    result = await catalog.run(ctx, CatalogArgs(query="batom", max_price=1))
    assert not result.found
