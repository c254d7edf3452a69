"""A domain as the console shows it: validation state from its files, its parts, its provenance.

The state is read from the files (as ``chatwootai validate`` reads them), so a broken file is
seen at once, with every error at its ``file:line``, while the service keeps serving the last
valid config; a domain that cannot be loaded at all is listed with its error, never raised.
"""

from __future__ import annotations

import asyncio
from typing import Any

from chatwootai.config.errors import ConfigError
from chatwootai.config.registry import DomainRegistry
from chatwootai.config.schema import DomainConfig
from chatwootai.settings import Settings


def _parts(config: DomainConfig, settings: Settings) -> dict[str, Any]:
    return {
        "parents": list(config.extends),
        "abstract": config.abstract,
        "description": config.description,
        "model": (settings.model_override or config.llm.model or "offline").strip(),
        "crews": [
            {
                "id": crew_id,
                "name": crew.name,
                "process": crew.process,
                "agents": list(crew.agents),
                "manager": crew.manager,
            }
            for crew_id, crew in config.crews.items()
        ],
        "agents": [
            {"id": agent_id, "role": agent.role, "tools": list(agent.tools)}
            for agent_id, agent in config.agents.items()
        ],
        "tools": [{"id": tool_id, "kind": tool.kind} for tool_id, tool in config.tools.items()],
    }


def _check(loader: Any, name: str, explain: bool) -> dict[str, Any]:
    """Load `name` from its files; its state, parts, errors, warnings (and provenance)."""
    entry: dict[str, Any] = {"name": name, "errors": [], "warnings": []}
    try:
        if explain and hasattr(loader, "explain"):
            explanation = loader.explain(name)
            entry["explain"] = explanation.render()
            entry["warnings"] = [str(w) for w in explanation.warnings]
            config = loader.load(name)
        elif hasattr(loader, "load_checked"):
            loaded = loader.load_checked(name)
            config = loaded.config
            entry["warnings"] = [str(w) for w in loaded.warnings]
        else:  # a loader that only loads (the registry's protocol)
            config = loader.load(name)
    except ConfigError as exc:
        entry.update(status="invalid", errors=[str(i) for i in exc.issues])
        entry["warnings"] = [str(w) for w in exc.warnings]
        return entry
    except Exception as exc:  # a bug of the loader: said on the page, the others still listed
        entry.update(
            status="invalid", errors=[f"could not be checked: {type(exc).__name__}: {exc}"]
        )
        return entry
    entry["status"] = "valid"
    entry["config"] = config
    return entry


async def domain_states(
    registry: DomainRegistry, settings: Settings, names: list[str], *, explain: bool = False
) -> list[dict[str, Any]]:
    """Each of `names` checked from its files, with what the service serves now."""
    loader = registry.loader
    checked = await asyncio.to_thread(lambda: [_check(loader, n, explain) for n in names])
    result: list[dict[str, Any]] = []
    for entry in checked:
        name = entry["name"]
        config = entry.pop("config", None)
        served = registry.cached(name)
        if config is not None:
            entry.update(_parts(config, settings))
        elif served is not None:  # broken files: what is still served
            entry.update(_parts(served, settings))
        entry["served_version"] = registry.version(name) if served is not None else None
        entry["serving_previous"] = entry["status"] == "invalid" and served is not None
        result.append(entry)
    return result
