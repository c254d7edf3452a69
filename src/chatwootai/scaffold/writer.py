"""Writing a new domain beside its parent: domain.yaml, data files and conversation tests.

What is written follows what the parent leaves to its children:

* a tool of the parent without data (an abstract base such as `_base` declares the tools and
  leaves their files to each business) gets a data file here, from the templates;
* the catalog is always the new domain's own (a unit of a chain sells at its own prices);
* a parent's FAQ is kept and the new domain's own questions are added to it (`files+`);
* a parent's calendar and orders are inherited as they are (a comment says how to replace them).

The tests exercise what the new domain supplies; the parent's inheritable tests run too. The
domain is validated once written, so `chatwootai new` never leaves a domain that does not load.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from chatwootai.config.checks import removal_hint
from chatwootai.config.errors import ConfigError, did_you_mean
from chatwootai.config.inheritance import is_domain_name
from chatwootai.config.jsonschema import domain_schema_json
from chatwootai.config.loader import DOMAIN_FILE, DomainLoader
from chatwootai.config.schema import DomainConfig
from chatwootai.convtest.jsonschema import tests_schema_json
from chatwootai.convtest.loader import TESTS_DIR

TEMPLATES = Path(__file__).resolve().parent / "template"
BASE = "_base"
SCHEMA_DIR = "schema"
DATA_FILES = {
    "knowledge": ("files", "faq.yaml", "faq.yaml"),
    "catalog": ("file", "catalog.csv", "catalog.csv"),
    "calendar": ("file", "calendar.yaml", "calendar.yaml"),
    "orders": ("file", "orders.yaml", "orders.yaml"),
}
"""Per tool kind: the settings key naming its data, the template file and the file written."""

COMMENTS = {
    "knowledge": "perguntas frequentes: TROQUE o conteúdo de {file}",
    "catalog": "produtos, preços e estoque: TROQUE o conteúdo de {file}",
    "calendar": "serviços com hora marcada, horários e feriados: TROQUE {file}",
    "orders": "pedidos de exemplo; em produção, os seus: TROQUE {file}",
}


class ScaffoldError(Exception):
    """The domain cannot be created (bad name, it exists, unknown or invalid parent)."""


@dataclass
class Scaffold:
    """A domain written by :func:`create_domain`: its directory, the files written, notes."""

    directory: Path
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def packaged_base() -> Path | None:
    """The `_base` domain shipped with chatwootai (in a wheel), or the source tree's."""
    shipped = Path(__file__).resolve().parent / "base"
    if (shipped / DOMAIN_FILE).is_file():
        return shipped
    source = Path(__file__).resolve().parents[3] / "domains" / BASE
    return source if (source / DOMAIN_FILE).is_file() else None


def _template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def _company(name: str) -> str:
    return " ".join(part.capitalize() for part in name.replace("_", "-").split("-") if part)


@dataclass
class _Plan:
    tools_yaml: list[str] = field(default_factory=list)
    data: dict[str, str] = field(default_factory=dict)
    """File name → template to copy."""
    tests: list[str] = field(default_factory=list)
    tool_ids: dict[str, str] = field(default_factory=dict)
    """Kind → the tool id the tests name."""
    hints: list[str] = field(default_factory=list)


def _plan(parent: DomainConfig) -> _Plan:
    plan = _Plan()
    data = parent.data
    supplied = {
        "knowledge": {k for k, v in data.knowledge.items() if v},
        "catalog": set(data.catalogs),
        "calendar": set(data.calendars),
        "orders": set(data.orders),
    }
    for tool_id, tool in parent.tools.items():
        if tool.kind not in DATA_FILES or tool.kind in plan.tool_ids:
            continue
        key, template, file_name = DATA_FILES[tool.kind]
        has_data = tool_id in supplied[tool.kind]
        hint = removal_hint(parent, tool_id)
        if hint and hint not in plan.hints:
            plan.hints.append(hint)
        comment = COMMENTS[tool.kind].format(file=file_name)
        if tool.kind == "knowledge" and has_data:
            plan.tools_yaml += [
                f"  {tool_id}:",
                "    settings:",
                f"      files+: [{file_name}]   # somadas às do pai; {comment}",
            ]
            plan.data[file_name] = "faq-extra.yaml"
            plan.tests.append("tests-knowledge-extra.yaml")
        elif tool.kind in ("calendar", "orders") and has_data:
            plan.tools_yaml += [
                f"  # {tool_id}: herdada como está. Para usar a sua, descomente e escreva",
                "  # o arquivo (os testes herdados da agenda ou dos pedidos do pai mudam junto):",
                f"  # {tool_id}: {{settings: {{{key}: {file_name}}}}}",
            ]
            continue
        else:
            value = f"[{file_name}]" if key == "files" else file_name
            plan.tools_yaml += [
                f"  {tool_id}:",
                "    settings:",
                f"      {key}: {value}   # {comment}",
            ]
            plan.data[file_name] = template
            plan.tests.append(f"tests-{tool.kind}.yaml")
        plan.tool_ids[tool.kind] = tool_id
    return plan


def _ensure_schemas(domains_dir: Path, scaffold: Scaffold) -> Path:
    """The schema directory beside `domains_dir`, with both schemas (written when absent)."""
    schema_dir = domains_dir.resolve().parent / SCHEMA_DIR
    for name, text in (
        ("domain.schema.json", domain_schema_json()),
        ("tests.schema.json", tests_schema_json()),
    ):
        target = schema_dir / name
        if not target.is_file():
            schema_dir.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            scaffold.files.append(target)
            scaffold.notes.append(f"wrote {target} (JSON Schema for editors)")
    return schema_dir


def create_domain(
    domains_dir: Path,
    name: str,
    parent: str = BASE,
    *,
    company: str | None = None,
    agent_packages: tuple[str, ...] = (),
) -> Scaffold:
    """Write domain `name` extending `parent` under `domains_dir`; raises ScaffoldError."""
    if not is_domain_name(name) or name.startswith("_"):
        raise ScaffoldError(
            f"{name!r} is not a domain name: use lowercase letters, digits, '-' and '_' "
            "(not starting with '_', which marks abstract bases)"
        )
    directory = domains_dir / name
    if directory.exists():
        raise ScaffoldError(f"{directory} already exists: choose another name or remove it")
    scaffold = Scaffold(directory)
    loader = DomainLoader(domains_dir, agent_packages=agent_packages)
    if parent not in loader.names():
        source = packaged_base() if parent == BASE else None
        if source is None:
            hint = did_you_mean(parent, loader.names())
            more = f" (did you mean {hint!r}?)" if hint else ""
            raise ScaffoldError(f"no domain {parent!r} in {domains_dir} to extend{more}")
        shutil.copytree(source, domains_dir / BASE, ignore=shutil.ignore_patterns("__pycache__"))
        scaffold.notes.append(f"wrote {domains_dir / BASE} (the shared base every domain extends)")
        loader = DomainLoader(domains_dir, agent_packages=agent_packages)
    try:
        parent_config = loader.load(parent)
    except ConfigError as exc:
        raise ScaffoldError(f"the parent {parent!r} does not validate:\n{exc}") from None
    plan = _plan(parent_config)
    schema_dir = _ensure_schemas(domains_dir, scaffold)
    company = company or _company(name)
    removals = ""
    if plan.hints:
        lines = [
            "# Não precisa de algo que o pai oferece? Uma linha remove, com o que só aquilo usa:",
            *(f"# {hint}" for hint in plan.hints),
        ]
        removals = "\n".join(lines) + "\n\n"
    tools = ""
    if plan.tools_yaml:
        head = "tools:   # o pai declara as ferramentas; aqui, de onde vêm os dados deste negócio"
        tools = "\n".join([head, *plan.tools_yaml]) + "\n\n"
    values = {
        "domain": name,
        "parent": parent,
        "company": company,
        "domain_schema": os.path.relpath(schema_dir / "domain.schema.json", directory),
        "tests_schema": os.path.relpath(schema_dir / "tests.schema.json", directory / TESTS_DIR),
        "tools": tools,
        "removals": removals,
        "handoff_phrase": "",
        **plan.tool_ids,
    }
    phrases = parent_config.routing.handoff_phrases if parent_config.routing else []
    if phrases:
        values["handoff_phrase"] = phrases[0]
        plan.tests.append("tests-handoff.yaml")
    written = {DOMAIN_FILE: Template(_template("domain.yaml")).substitute(values)}
    for file_name, template in plan.data.items():
        written[file_name] = _template(template)
    tests = [Template(_template("tests-header.yaml")).substitute(values)]
    tests += [Template(_template(t)).substitute(values) for t in plan.tests]
    written[f"{TESTS_DIR}/basics.yaml"] = "".join(tests).rstrip("\n") + "\n"
    (directory / TESTS_DIR).mkdir(parents=True)
    for relative, text in written.items():
        target = directory / relative
        target.write_text(text, encoding="utf-8")
        scaffold.files.append(target)
    try:
        DomainLoader(domains_dir, agent_packages=agent_packages).load(name)
    except ConfigError as exc:  # a template bug: say so rather than leave a broken domain
        shutil.rmtree(directory, ignore_errors=True)
        raise ScaffoldError(
            f"the new domain {name!r} would not validate, so it was not written:\n{exc}"
        ) from None
    return scaffold
