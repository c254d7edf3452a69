"""A domain config as the store keeps it: the domain's own fields, its sections by content key.

Thousands of tenants share their parent's agents, crews, tools, routing and parsed data; storing
each tenant's whole config would repeat the same ~36 KB per tenant in Redis. The config key
(``domain:config:<domain>``) holds the domain's own fields (name, business facts, Chatwoot
options...) and, for each section of :data:`chatwootai.config.sharing.SECTIONS`, the content key
of its JSON; each section is stored once under ``domain:section:<key>`` (immutable: its key is
its content). A process that already holds a section (:data:`chatwootai.artefacts.SHARED`)
neither fetches nor validates it again. A config stored whole (the earlier format) is still read.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from chatwootai.artefacts import SHARED
from chatwootai.config.schema import DomainConfig
from chatwootai.config.sharing import (
    SECTION_KIND,
    SECTIONS,
    section_adapter,
    section_json,
    section_key,
)
from chatwootai.store import keys

FORMAT = 2
"""Format of a stored config that names its sections by key (a whole config has no "format")."""

SECTION_TTL_S = 30 * 86400
"""Least lifetime of a stored section (renewed whenever a domain using it is stored); a section
outlives the configs naming it, and one found missing sends the reader to the files."""

Fetch = Callable[[Sequence[str]], Awaitable[list[str | None]]]


class StoredConfigError(ValueError):
    """A stored config that cannot be read (damaged, or a section gone): read the files."""


def encode(config: DomainConfig) -> tuple[str, dict[str, str]]:
    """The config's stored JSON and the sections to store with it, by store key."""
    refs: dict[str, str | None] = {}
    sections: dict[str, str] = {}
    for name in SECTIONS:
        value = getattr(config, name)
        if value is None:
            refs[name] = None
            continue
        data = section_json(name, value)
        key = section_key(name, value, data)
        refs[name] = key
        sections[keys.config_section(key)] = data.decode()
    own = config.model_dump(mode="json", exclude=set(SECTIONS))
    return json.dumps({"format": FORMAT, "own": own, "sections": refs}), sections


def section_ttl(config_ttl: int | None) -> int:
    """How long sections stored with a config of `config_ttl` seconds live."""
    return max(SECTION_TTL_S, config_ttl or 0)


async def decode(raw: str, fetch: Fetch) -> DomainConfig:
    """The config stored as `raw`, its sections from memory or `fetch` (the store's ``mget``).

    Sections fetched here are new objects: :func:`~chatwootai.config.sharing.shared_sections`
    (which the registry applies) offers them to the process, their parsed data tool by tool.

    Raises StoredConfigError (unreadable, a section missing) or pydantic's ValidationError.
    """
    try:
        document = json.loads(raw)
    except ValueError:
        raise StoredConfigError("not JSON") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return DomainConfig.model_validate_json(raw)  # a config stored whole
    own, refs = document.get("own"), document.get("sections")
    if not isinstance(own, dict) or not isinstance(refs, dict):
        raise StoredConfigError("own fields or sections missing")
    values: dict[str, Any] = {}
    missing: list[tuple[str, str]] = []
    for name in SECTIONS:
        key = refs.get(name)
        if key is None:
            values[name] = None
            continue
        found = SHARED.peek(SECTION_KIND, str(key))
        if found is None:
            missing.append((name, str(key)))
        else:
            values[name] = found
    if missing:
        texts = await fetch([keys.config_section(key) for _, key in missing])
        for (name, key), text in zip(missing, texts, strict=True):
            if text is None:
                raise StoredConfigError(f"section {name} ({key[:12]}) is no longer stored")
            values[name] = section_adapter(name).validate_json(text)  # shared by the registry
    return DomainConfig.model_validate({**own, **values})
