"""Hot reload: a saved file reloads its domain and the domains inheriting from it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from chatwootai.config.errors import ConfigError, ConfigIssue
from chatwootai.config.registry import DomainRegistry
from chatwootai.config.schema import DomainConfig
from chatwootai.store.base import Store
from chatwootai.watcher import affected_domains, changed_domains, reload_domains, watch_domains


class FileLoader:
    """Reads `<dir>/<name>/domain.yaml`; a child without a description inherits its base's."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def names(self) -> list[str]:
        return sorted(p.parent.name for p in self.root.glob("*/domain.yaml"))

    def _raw(self, name: str) -> dict[str, Any]:
        path = self.root / name / "domain.yaml"
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise ConfigError([ConfigIssue(path, None, None, "", str(exc))]) from None
        if not isinstance(data, dict):
            raise ConfigError([ConfigIssue(path, 1, 1, "", "a mapping is expected")])
        return data

    def load(self, name: str) -> DomainConfig:
        data = self._raw(name)
        for base in data.get("extends", []):
            data.setdefault("description", self.load(base).description)
        try:
            return DomainConfig.model_validate(data)
        except ValidationError as exc:
            path = self.root / name / "domain.yaml"
            raise ConfigError([ConfigIssue(path, None, None, "", str(exc))]) from None


def write(root: Path, name: str, text: str) -> None:
    (root / name).mkdir(parents=True, exist_ok=True)
    (root / name / "domain.yaml").write_text(text)


def make_tree(root: Path) -> None:
    write(root, "base", "name: base\nabstract: true\ndescription: base v1\n")
    write(root, "shop", "name: shop\nextends: [base]\n")
    write(root, "branch", "name: branch\nextends: [shop]\n")
    write(root, "other", "name: other\ndescription: alone\n")


def test_changed_domains_from_paths(tmp_path: Path) -> None:
    paths = [
        tmp_path / "shop" / "faq.yaml",
        tmp_path / "shop" / "domain.yaml",
        tmp_path / "base" / "data" / "catalog.csv",
        tmp_path / "tenants.yaml",
        Path("/elsewhere/x/domain.yaml"),
    ]
    assert changed_domains(tmp_path, paths) == {"shop", "base"}


async def test_affected_domains_follow_inheritance(tmp_path: Path, store: Store) -> None:
    make_tree(tmp_path)
    registry = DomainRegistry(FileLoader(tmp_path), store)
    assert await affected_domains(registry, {"base"}) == ["base", "branch", "shop"]
    assert await affected_domains(registry, {"shop"}) == ["branch", "shop"]
    assert await affected_domains(registry, {"other", "gone"}) == ["other"]


async def test_reload_keeps_last_good_config_on_broken_yaml(tmp_path: Path, store: Store) -> None:
    make_tree(tmp_path)
    registry = DomainRegistry(FileLoader(tmp_path), store)
    assert (await registry.get_domain_config("shop")).description == "base v1"
    write(tmp_path, "shop", "name: shop\nextends: [base\n")  # broken YAML
    failed = await reload_domains(registry, ["shop"])
    assert list(failed) == ["shop"] and "domain.yaml" in failed["shop"][0]
    assert (await registry.get_domain_config("shop")).description == "base v1"
    write(tmp_path, "shop", "name: shop\nextends: [base]\nagents: 3\n")  # fails validation
    assert list(await reload_domains(registry, ["shop"])) == ["shop"]
    assert (await registry.get_domain_config("shop")).description == "base v1"


async def wait_for_description(registry: DomainRegistry, name: str, expected: str) -> None:
    for _ in range(200):
        if (await registry.get_domain_config(name)).description == expected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{name} was not reloaded with description {expected!r}")


async def test_watch_domains_reloads_saved_domain_and_its_children(
    tmp_path: Path, store: Store
) -> None:
    make_tree(tmp_path)
    registry = DomainRegistry(FileLoader(tmp_path), store)
    for name in ("base", "shop", "branch", "other"):
        await registry.get_domain_config(name, abstract_ok=True)
    tenants_reloads: list[int] = []
    stop = asyncio.Event()
    task = asyncio.create_task(
        watch_domains(
            tmp_path,
            registry,
            stop_event=stop,
            on_tenants=lambda: tenants_reloads.append(1),
            debounce_ms=50,
        )
    )
    try:
        await asyncio.sleep(0.3)  # the watcher is set up
        write(tmp_path, "base", "name: base\nabstract: true\ndescription: base v2\n")
        await wait_for_description(registry, "branch", "base v2")
        await wait_for_description(registry, "shop", "base v2")  # reloaded one after the other
        assert registry.version("other") == 0

        write(tmp_path, "shop", "name: shop\nextends: [base]\ndescription: [oops\n")
        (tmp_path / "tenants.yaml").write_text("accounts: {}\n")
        for _ in range(200):
            if tenants_reloads:
                break
            await asyncio.sleep(0.05)
        assert tenants_reloads
        assert (await registry.get_domain_config("shop")).description == "base v2"
        write(tmp_path, "shop", "name: shop\nextends: [base]\ndescription: fixed\n")
        await wait_for_description(registry, "shop", "fixed")
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


async def test_a_change_to_a_base_reaches_children_through_an_abstract_middle(
    tmp_path: Path, store: Store
) -> None:
    make_tree(tmp_path)
    write(tmp_path, "mid", "name: mid\nextends: [base]\nabstract: true\n")
    write(tmp_path, "leaf", "name: leaf\nextends: [mid]\n")
    registry = DomainRegistry(FileLoader(tmp_path), store)
    assert await affected_domains(registry, {"base"}) == ["base", "branch", "leaf", "mid", "shop"]


async def test_a_domain_folder_gone_is_a_reload_error_without_a_traceback(
    tmp_path: Path, store: Store, caplog: Any
) -> None:
    make_tree(tmp_path)
    registry = DomainRegistry(FileLoader(tmp_path), store)
    assert (await registry.get_domain_config("other")).description == "alone"
    (tmp_path / "other" / "domain.yaml").unlink()
    failed = await reload_domains(registry, ["other"])
    assert "'other' does not exist" in failed["other"][0]
    assert all(record.exc_info is None for record in caplog.records)
    assert (await registry.get_domain_config("other")).description == "alone"
