"""ToolRegistry builds a domain's tools from its YAML config and parsed data."""

from __future__ import annotations

from typing import Any

import pytest

from chatwootai.config.schema import DomainConfig
from chatwootai.store.base import Store
from chatwootai.tools.calendar import CalendarTool
from chatwootai.tools.catalog import CatalogTool
from chatwootai.tools.handoff import HandoffTool
from chatwootai.tools.knowledge import KnowledgeTool
from chatwootai.tools.orders import OrdersTool
from chatwootai.tools.registry import ToolConfigError, ToolRegistry


def test_builds_every_tool_of_the_domain(config: DomainConfig, store: Store) -> None:
    tools = ToolRegistry.build(config, store)
    assert list(tools) == ["faq", "catalogo", "agenda", "pedidos", "handoff"]
    expected = [KnowledgeTool, CatalogTool, CalendarTool, OrdersTool, HandoffTool]
    assert [type(t) for t in tools.values()] == expected
    assert tools["faq"].id == "faq"
    catalog = tools["catalogo"]
    assert isinstance(catalog, CatalogTool)
    assert len(catalog.products) == 4
    assert catalog.settings.max_results == 5


def test_kind_to_class(store: Store) -> None:
    assert ToolRegistry.tool_class("orders") is OrdersTool
    with pytest.raises(ToolConfigError, match="known kinds"):
        ToolRegistry.tool_class("teleport")


def test_bad_settings_name_the_tool(make_domain: Any, store: Store) -> None:
    domain = make_domain()
    domain["tools"]["catalogo"]["settings"] = {"file": "c.csv", "max_results": 0}
    with pytest.raises(ToolConfigError, match=r"'catalogo' \(catalog\): max_results"):
        ToolRegistry.build(DomainConfig.model_validate(domain), store)


def test_calendar_without_data_is_an_error(make_domain: Any, store: Store) -> None:
    domain = make_domain()
    domain["data"] = {**domain["data"], "calendars": {}}
    with pytest.raises(ToolConfigError, match=r"'agenda'.*calendar.yaml"):
        ToolRegistry.build(DomainConfig.model_validate(domain), store)
