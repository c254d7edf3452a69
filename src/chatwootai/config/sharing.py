"""Sections of domain configs shared in memory by every domain whose section is the same.

A tenant that extends a brand and overrides only its business facts has, once validated, the
same agents, crews, tools, routing and parsed data as its parent: equal values, but separate
objects (a config read from the store is parsed anew for each domain). :func:`shared_sections`
swaps each such section for the one object of that content the process already holds
(:data:`chatwootai.artefacts.SHARED`, keyed by a hash of the section's JSON), so a tenant costs
its own facts and a few references. Config models are frozen, so sharing them is safe; a section
that differs (an overridden catalog, a parent that changed) has another key and its own object.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, TypeAdapter

from chatwootai.artefacts import SHARED, artefact_key
from chatwootai.config.data import DomainData
from chatwootai.config.schema import DomainConfig

SECTION_KIND = "config-section"
SECTION_VERSION = 1
"""Format of the shared sections (their JSON); bump if a section's meaning changes."""

SECTIONS = (
    "llm",
    "limits",
    "ttl",
    "agents",
    "crews",
    "tools",
    "routing",
    "knowledge",
    "media",
    "resolution",
    "hours",
    "data",
)
"""The sections a tenant often inherits whole (its own `business`, `chatwoot` and names are its
facts, rarely equal to another domain's, so they are not looked up)."""


def _json(value: Any) -> bytes:
    if isinstance(value, BaseModel):
        return value.__pydantic_serializer__.to_json(value)
    parts = []
    if isinstance(value, list):  # parsed data: FAQ entries, products, orders
        for item in value:
            parts += [_json(item), b"\x1e"]
        return b"".join(parts)
    for key, item in value.items():  # a dict of models (agents, crews, tools)
        parts += [key.encode(), b"\x1f", _json(item), b"\x1e"]
    return b"".join(parts)


DATA_PARTS = ("knowledge", "catalogs", "calendars", "orders")


def _shared_data(data: DomainData) -> DomainData:
    """`data` with each tool's parsed data shared (a tenant with its own catalog still shares
    its parent's FAQ, calendar and orders)."""
    parts: dict[str, dict[str, Any]] = {}
    changed = False
    for part in DATA_PARTS:
        mapping: dict[str, Any] = getattr(data, part)
        shared = {}
        for tool_id, value in mapping.items():
            key = section_key(f"data.{part}", value)
            shared[tool_id] = SHARED.get_or_build(SECTION_KIND, key, same(value))
            changed = changed or shared[tool_id] is not value
        parts[part] = shared
    if not changed:
        return data
    return DomainData.model_construct(
        knowledge=parts["knowledge"],
        catalogs=parts["catalogs"],
        calendars=parts["calendars"],
        orders=parts["orders"],
    )


@functools.cache
def section_adapter(name: str) -> TypeAdapter[Any]:
    """Validates and serialises config section `name` (built on first use: not at import)."""
    annotation = DomainConfig.model_fields[name].annotation
    assert annotation is not None
    return TypeAdapter(annotation)


def section_json(name: str, value: Any) -> bytes:
    """Config section `name` holding `value` as JSON (what its key is the hash of)."""
    return section_adapter(name).dump_json(value)


def section_key(name: str, value: Any, data: bytes | None = None) -> str:
    """The content key of config section `name` holding `value` (its JSON `data` if known)."""
    if name not in SECTIONS:  # a part of the parsed data: hashed, never stored alone
        return artefact_key(SECTION_KIND, SECTION_VERSION, name, _json(value))
    return artefact_key(SECTION_KIND, SECTION_VERSION, name, data or section_json(name, value))


def same(value: Any) -> Callable[[], Any]:
    """A build function returning `value` (to offer an object to :data:`SHARED`)."""
    return lambda: value


def shared_sections(config: DomainConfig) -> DomainConfig:
    """`config` with each inherited section replaced by the process's shared equal one."""
    update: dict[str, Any] = {}
    for name in SECTIONS:
        value = getattr(config, name)
        if value is None:
            continue
        if name == "data":
            value = _shared_data(value)
        shared: Any = SHARED.get_or_build(SECTION_KIND, section_key(name, value), same(value))
        if shared is not getattr(config, name):
            update[name] = shared
    return config.model_copy(update=update) if update else config
