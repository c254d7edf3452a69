"""Random small edits to a valid domain tree never give a traceback: only located ConfigErrors.

Each example copies a small valid tree (an abstract base, two served domains, tenants.yaml),
applies one to three random edits (a value replaced or removed anywhere in a YAML file,
`extends` rewritten with itself, twice, missing or path-like parents, a folder renamed to an
invalid name, a domain.yaml removed or made a folder, a file truncated or filled with garbage,
a stray folder) and then runs the loader, the registry, `validate`, `route` and the start-up
report. Hypothesis runs without deadlines (timing on a shared machine is not a property).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from chatwootai.cli.app import app
from chatwootai.config.errors import ConfigError, ConfigIssue
from chatwootai.config.loader import DomainLoader
from chatwootai.config.registry import DomainNotFoundError, DomainRegistry
from chatwootai.service.credentials import Credentials
from chatwootai.service.startup_report import startup_report
from chatwootai.settings import Settings
from chatwootai.store.embedded import EmbeddedStore

if TYPE_CHECKING:
    from conftest import Tree

SHOP = """\
extends: [_base]
description: A shop
routing:
  default_crew: sales
  crews:
    support:
      keywords: [horário]
"""
OTHER = """\
extends: [_base]
tools:
  faq:
    settings:
      files: [faq.yaml]
"""
TENANTS = """\
accounts:
  "1": shop
  "2":
    domain: other
    webhook_secret_env: OTHER_SECRET
    api_token_env: OTHER_TOKEN
inboxes:
  "7": shop
"""

DOMAINS = ("_base", "shop", "other")
NAMES = ("_base", "shop", "other", "missing", "Pet_Shop", "../shop", "", "_base ", "shop/x")
FOLDER_NAMES = ("Pet_Shop", "pet shop", "x" * 70, "ção", "_Base", "-shop", "shop.old")

Edit = Callable[[Path], None]

BROKEN = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,  # the template tree is only read
    ],
)

yaml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-5, max_value=10**20)
    | st.sampled_from(NAMES)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["name", "kind", "file", "agents", "x+", "x-"]), children, max_size=3
        )
    ),
    max_leaves=6,
)


def write_tree(tree: Tree) -> Path:
    """The valid tree every example starts from (a copy of it)."""
    tree.base()
    tree.domain("shop", SHOP)
    tree.domain("other", OTHER, catalog__csv=(tree.root / "_base" / "catalog.csv").read_text())
    shutil.copy(tree.root / "_base" / "faq.yaml", tree.root / "other" / "faq.yaml")
    (tree.root / "tenants.yaml").write_text(TENANTS, encoding="utf-8")
    return tree.root


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside parsed YAML."""
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


def _yaml_file(domain: str) -> str:
    return "tenants.yaml" if domain == "tenants" else f"{domain}/domain.yaml"


@st.composite
def value_edits(draw: st.DrawFn) -> Edit:
    """Replace or remove one value anywhere in a domain.yaml or tenants.yaml."""
    target = _yaml_file(draw(st.sampled_from([*DOMAINS, "tenants"])))
    choice = draw(st.integers(min_value=0, max_value=10**6))
    remove = draw(st.booleans())
    value = draw(yaml_values)

    def edit(root: Path) -> None:
        file = root / target
        if not file.is_file():
            return
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            return
        paths = _paths(data)
        if not paths:
            data = value
        else:
            path = paths[choice % len(paths)]
            parent = data
            for part in path[:-1]:
                parent = parent[part]
            if remove:
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
        file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    return edit


@st.composite
def extends_edits(draw: st.DrawFn) -> Edit:
    """Rewrite a domain's `extends` (itself, a parent twice, missing or path-like parents)."""
    domain = draw(st.sampled_from(DOMAINS))
    parents = draw(st.lists(st.sampled_from([domain, *NAMES]), max_size=3))

    def edit(root: Path) -> None:
        file = root / domain / "domain.yaml"
        if file.is_file():
            text = file.read_text(encoding="utf-8", errors="replace")
            lines = [line for line in text.splitlines() if not line.startswith("extends")]
            file.write_text("\n".join([f"extends: {parents!r}", *lines]) + "\n", encoding="utf-8")

    return edit


@st.composite
def file_edits(draw: st.DrawFn) -> Edit:
    """Rename, remove, truncate or garble files and folders; add a stray folder."""
    domain = draw(st.sampled_from(DOMAINS))
    kind = draw(
        st.sampled_from(["rename", "remove", "folder", "truncate", "garbage", "data", "stray"])
    )
    new_name = draw(st.sampled_from(FOLDER_NAMES))
    cut = draw(st.integers(min_value=0, max_value=4000))
    garbage = draw(st.binary(max_size=40))
    data_file = draw(st.sampled_from(["catalog.csv", "faq.yaml"]))

    def edit(root: Path) -> None:
        folder = root / domain
        file = folder / "domain.yaml"
        if kind == "rename" and folder.is_dir() and not (root / new_name).exists():
            folder.rename(root / new_name)
        elif kind == "remove" and file.is_file():
            file.unlink()
        elif kind == "folder" and file.is_file():
            file.unlink()
            file.mkdir()
        elif kind == "truncate" and file.is_file():
            file.write_bytes(file.read_bytes()[:cut])
        elif kind == "garbage" and file.is_file():
            file.write_bytes(file.read_bytes()[:cut] + garbage)
        elif kind == "data" and (folder / data_file).is_file():
            content = (folder / data_file).read_bytes()
            (folder / data_file).write_bytes(content[: cut % (len(content) + 1)] + garbage)
        elif kind == "stray":
            (root / new_name.replace("/", "")).mkdir(exist_ok=True)

    return edit


edits = st.lists(st.one_of(value_edits(), extends_edits(), file_edits()), min_size=1, max_size=3)


def _located(issues: list[ConfigIssue]) -> None:
    for issue in issues:
        assert issue.file is not None, issue
        assert issue.line is not None, issue


def _check_loader(root: Path) -> None:
    loader = DomainLoader(root)
    for name in loader.names():
        try:
            loader.load(name)
        except ConfigError as exc:
            assert exc.issues
            _located(exc.issues)
        try:
            loader.explain(name)
        except ConfigError as exc:
            _located(exc.issues)
    try:
        tenants = loader.read_tenants()
    except ConfigError as exc:
        _located(exc.issues)
    else:
        _located(loader.tenant_issues(tenants))


async def _check_registry(root: Path) -> None:
    loader = DomainLoader(root)
    store = EmbeddedStore(":memory:")
    registry = DomainRegistry(loader, store)
    try:
        for name in [*registry.names(), "missing", "Pet_Shop", "../shop"]:
            with contextlib.suppress(ConfigError, DomainNotFoundError):
                await registry.get_domain_config(name, abstract_ok=True)
        try:
            tenants = loader.read_tenants()
        except ConfigError:
            return
        settings = Settings(CHATWOOTAI_DOMAINS_DIR=root)  # type: ignore[call-arg]
        report = await startup_report(registry, Credentials(settings, tenants, environ={}))
        assert all(line.strip() for line in report.lines())
    finally:
        await store.close()


def _check_cli(root: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["validate", "--domains-dir", str(root)])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output and "bug of chatwootai" not in result.output
    for name in [*DomainLoader(root).names(), "Pet_Shop", "missing"]:
        args = ["route", "--domains-dir", str(root), "--", name, "quanto custa?"]
        result = runner.invoke(app, args)
        assert result.exit_code in (0, 1), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output


@BROKEN
@given(changes=edits)
def test_random_edits_give_located_config_errors_never_a_traceback(
    tree: Tree, changes: list[Edit]
) -> None:
    template = write_tree(tree) if not (tree.root / "shop").is_dir() else tree.root
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "domains"
        shutil.copytree(template, root)
        for change in changes:
            change(root)
        _check_loader(root)
        asyncio.run(_check_registry(root))
        _check_cli(root)


def test_the_starting_tree_is_valid(tree: Tree) -> None:
    loader = DomainLoader(write_tree(tree))
    assert [loader.load(name).name for name in ("shop", "other")] == ["shop", "other"]
    assert loader.tenant_issues(loader.load_tenants()) == []
