"""Hot reload: when a domain's files are saved, reload it and every domain inheriting from it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from watchfiles import awatch

from chatwootai.config.errors import ConfigError
from chatwootai.config.registry import DomainNotFoundError, DomainRegistry

log = logging.getLogger(__name__)

TENANTS_FILE = "tenants.yaml"


def changed_domains(domains_dir: Path, paths: Iterable[str | Path]) -> set[str]:
    """Names of the domain directories the changed `paths` belong to."""
    root = domains_dir.resolve()
    names: set[str] = set()
    for path in paths:
        try:
            relative = Path(path).resolve().relative_to(root)
        except ValueError:
            continue
        if len(relative.parts) >= 2:
            names.add(relative.parts[0])
    return names


async def affected_domains(registry: DomainRegistry, changed: set[str]) -> list[str]:
    """`changed` and every known domain that extends one of them, directly or not."""
    known = registry.names()
    parents: dict[str, list[str]] = {}
    for name in known:
        config = registry.cached(name)
        if config is None:
            try:
                config = await registry.get_domain_config(name, abstract_ok=True)
            except Exception:  # a broken domain: its own reload reports the issue
                continue
        parents[name] = list(config.extends)
    affected = {name for name in changed if name in known}
    grew = True
    while grew:
        grew = False
        for name, bases in parents.items():
            if name not in affected and affected.intersection(bases):
                affected.add(name)
                grew = True
    return sorted(affected)


async def reload_domains(registry: DomainRegistry, names: Iterable[str]) -> dict[str, list[str]]:
    """Reload each domain; the issues (as text) of those that kept their last good config."""
    failed: dict[str, list[str]] = {}
    for name in names:
        try:
            issues = await registry.update_domain_configuration(name)
        except DomainNotFoundError as exc:  # its folder went away (or was renamed): said, no trace
            log.error("hot reload of %s failed; the last good config is kept: %s", name, exc)
            failed[name] = [str(exc)]
            continue
        except Exception as exc:
            log.exception("hot reload of %s failed; the last good config is kept", name)
            failed[name] = [str(exc)]
            continue
        if issues:
            failed[name] = [str(issue) for issue in issues]
            log.error(
                "hot reload of %s kept the last good config:\n  %s", name, "\n  ".join(failed[name])
            )
    return failed


async def watch_domains(
    domains_dir: Path,
    registry: DomainRegistry,
    *,
    stop_event: asyncio.Event,
    on_tenants: Callable[[], None] | None = None,
    debounce_ms: int = 200,
) -> None:
    """Reload domains whose files are saved until `stop_event` is set; errors are only logged."""
    domains_dir = Path(domains_dir)
    async for changes in awatch(
        domains_dir, stop_event=stop_event, debounce=debounce_ms, recursive=True
    ):
        paths = [path for _, path in changes]
        if on_tenants is not None and any(Path(p).name == TENANTS_FILE for p in paths):
            try:
                on_tenants()
            except ConfigError as exc:  # the file's own errors, located: no traceback
                log.error("tenants.yaml not reloaded; the last good mapping is kept:\n%s", exc)
            except Exception:
                log.exception("tenants.yaml not reloaded; the last good mapping is kept")
        changed = changed_domains(domains_dir, paths)
        if not changed:
            continue
        names = await affected_domains(registry, changed)
        log.info("files changed in %s; reloading %s", sorted(changed), names)
        await reload_domains(registry, names)
