"""ToolRegistry: which class implements each tool kind, and building a domain's tools from YAML."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, TypeVar

from pydantic import ValidationError

from chatwootai.config.data import Calendar
from chatwootai.config.schema import (
    CalendarSettings,
    CatalogSettings,
    DomainConfig,
    FilesSettings,
    HandoffSettings,
    HttpSettings,
    KnowledgeSettings,
    OrdersSettings,
    ResolveSettings,
    ToolConfig,
)
from chatwootai.store.base import Store
from chatwootai.tools.base import Tool, ToolError
from chatwootai.tools.calendar import CalendarTool
from chatwootai.tools.catalog import CatalogTool
from chatwootai.tools.files import FilesTool
from chatwootai.tools.handoff import HandoffTool
from chatwootai.tools.http import HttpTool
from chatwootai.tools.knowledge import KnowledgeTool
from chatwootai.tools.orders import OrdersTool
from chatwootai.tools.resolve import ResolveTool


class ToolConfigError(ToolError):
    """A tool of the domain's YAML cannot be built (bad settings or missing data)."""


S = TypeVar("S")

Builder = Callable[[str, ToolConfig, DomainConfig, Store], Tool]


def _settings(model: type[S], tool_id: str, config: ToolConfig) -> S:
    try:
        settings = config.typed_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise ToolConfigError(f"tool {tool_id!r} ({config.kind}): {problems}") from None
    if not isinstance(settings, model):
        raise ToolConfigError(f"tool {tool_id!r}: settings are not those of kind {config.kind!r}")
    return settings


def _build_knowledge(tool_id: str, config: ToolConfig, domain: DomainConfig, store: Store) -> Tool:
    settings = _settings(KnowledgeSettings, tool_id, config)
    entries = domain.data.knowledge.get(tool_id, [])
    return KnowledgeTool(tool_id, config.description, store, settings, entries)


def _build_catalog(tool_id: str, config: ToolConfig, domain: DomainConfig, store: Store) -> Tool:
    settings = _settings(CatalogSettings, tool_id, config)
    products = domain.data.catalogs.get(tool_id, [])
    return CatalogTool(tool_id, config.description, store, settings, products)


def _build_calendar(tool_id: str, config: ToolConfig, domain: DomainConfig, store: Store) -> Tool:
    settings = _settings(CalendarSettings, tool_id, config)
    calendar: Calendar | None = domain.data.calendars.get(tool_id)
    if calendar is None:
        raise ToolConfigError(
            f"tool {tool_id!r} (calendar): no calendar data loaded from {settings.file!r}"
        )
    return CalendarTool(tool_id, config.description, store, settings, calendar)


def _build_orders(tool_id: str, config: ToolConfig, domain: DomainConfig, store: Store) -> Tool:
    settings = _settings(OrdersSettings, tool_id, config)
    orders = domain.data.orders.get(tool_id, [])
    return OrdersTool(tool_id, config.description, store, settings, orders)


def _build_http(tool_id: str, config: ToolConfig, domain: DomainConfig, store: Store) -> Tool:
    settings = _settings(HttpSettings, tool_id, config)
    try:
        return HttpTool(tool_id, config.description, store, settings)
    except ToolError as exc:
        raise ToolConfigError(str(exc)) from None


def _build_handoff(tool_id: str, config: ToolConfig, domain: DomainConfig, store: Store) -> Tool:
    settings = _settings(HandoffSettings, tool_id, config)
    return HandoffTool(tool_id, config.description, store, settings)


def _build_files(tool_id: str, config: ToolConfig, domain: DomainConfig, store: Store) -> Tool:
    settings = _settings(FilesSettings, tool_id, config)
    return FilesTool(tool_id, config.description, store, settings)


def _build_resolve(tool_id: str, config: ToolConfig, domain: DomainConfig, store: Store) -> Tool:
    settings = _settings(ResolveSettings, tool_id, config)
    return ResolveTool(tool_id, config.description, store, settings)


class ToolRegistry:
    """Maps each tool kind to its class and builds the tools a domain declares."""

    classes: ClassVar[dict[str, type[Tool]]] = {
        "knowledge": KnowledgeTool,
        "catalog": CatalogTool,
        "calendar": CalendarTool,
        "orders": OrdersTool,
        "http": HttpTool,
        "handoff": HandoffTool,
        "files": FilesTool,
        "resolve": ResolveTool,
    }
    builders: ClassVar[dict[str, Builder]] = {
        "knowledge": _build_knowledge,
        "catalog": _build_catalog,
        "calendar": _build_calendar,
        "orders": _build_orders,
        "http": _build_http,
        "handoff": _build_handoff,
        "files": _build_files,
        "resolve": _build_resolve,
    }

    @classmethod
    def tool_class(cls, kind: str) -> type[Tool]:
        """The class implementing `kind`."""
        try:
            return cls.classes[kind]
        except KeyError:
            known = ", ".join(sorted(cls.classes))
            raise ToolConfigError(f"unknown tool kind {kind!r}; known kinds: {known}") from None

    @classmethod
    def build(cls, config: DomainConfig, store: Store) -> dict[str, Tool]:
        """The tools of a domain, by id, built from its config and parsed data."""
        tools: dict[str, Tool] = {}
        for tool_id, tool_config in config.tools.items():
            cls.tool_class(tool_config.kind)
            tools[tool_id] = cls.builders[tool_config.kind](tool_id, tool_config, config, store)
        return tools
