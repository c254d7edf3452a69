"""DomainLoader: domain YAML read, inherited, validated and checked, every error in one pass."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from chatwootai.config import datafiles
from chatwootai.config.agent_types import AgentTypeNotFound, resolve_agent_type
from chatwootai.config.cache import FileCache
from chatwootai.config.checks import cross_references, in_child, parent_requirement
from chatwootai.config.data import Calendar, DomainData, FaqEntry, Order, Product
from chatwootai.config.errors import ConfigError, ConfigIssue, did_you_mean, format_path
from chatwootai.config.explain import Explanation, origins_of
from chatwootai.config.inheritance import (
    DOMAIN_NAME_RULE,
    Resolution,
    domain_name_for,
    is_domain_name,
    resolve,
)
from chatwootai.config.model_errors import issues_from_validation
from chatwootai.config.pruning import prune
from chatwootai.config.schema import (
    KNOWLEDGE_DOCUMENT_SUFFIXES,
    SETTINGS_BY_KIND,
    CalendarSettings,
    CatalogSettings,
    DomainConfig,
    FilesSettings,
    KnowledgeSettings,
    OrdersSettings,
    Tenants,
)
from chatwootai.config.source import Located, issue_at, parse_yaml_bytes

logger = logging.getLogger("chatwootai.config")

DOMAIN_FILE = "domain.yaml"
TENANTS_FILE = "tenants.yaml"
DATA_PATH_KEYS = ("file", "files")
"""Keys of tool settings holding data file paths, relative to the YAML file that wrote them."""

_ABSTRACT = TypeAdapter(bool)
"""How the schema reads `abstract:` (:attr:`DomainConfig.abstract` is a lax `bool`)."""

_DOMAIN_FILE_TYPOS = frozenset({"domain.yml", "domain.yaml", "domains.yaml", "domain.yaml.txt"})
"""Names a domain file is mistyped as (compared in lower case)."""

DataPath = tuple[str | int, ...]
"""Where a data file path is in the merged tree, e.g. ('tools', 'faq', 'settings', 'file')."""


@dataclass(frozen=True)
class Loaded:
    """A validated domain with the warnings found while loading it."""

    config: DomainConfig
    warnings: list[ConfigIssue] = field(default_factory=list)
    order: list[str] = field(default_factory=list)


class DomainLoader:
    """Loads domains from `domains_dir/<name>/domain.yaml`, reusing files parsed before."""

    def __init__(self, domains_dir: Path, *, agent_packages: Sequence[str] = ()) -> None:
        self.domains_dir = Path(domains_dir)
        self.agent_packages = tuple(agent_packages)
        self.files = FileCache()

    def domain_file(self, name: str) -> Path:
        """Path of a domain's domain.yaml."""
        return self.domains_dir / name / DOMAIN_FILE

    def names(self) -> list[str]:
        """Every domain directory holding a domain.yaml, sorted."""
        try:
            entries = list(os.scandir(self.domains_dir))
        except OSError:
            return []
        return sorted(
            e.name for e in entries if e.is_dir() and os.path.isfile(Path(e.path) / DOMAIN_FILE)
        )

    def has(self, name: str) -> bool:
        """True when `name` is a domain directory holding a domain.yaml (one stat, no listing)."""
        if not name or name in (os.curdir, os.pardir) or os.sep in name or "/" in name:
            return False
        return os.path.isfile(self.domains_dir / name / DOMAIN_FILE)

    def load(self, name: str) -> DomainConfig:
        """The resolved, validated config of `name`, data included; raises ConfigError."""
        return self.load_checked(name).config

    def load_checked(self, name: str) -> Loaded:
        """Like :meth:`load`, also returning the warnings (e.g. parents in conflict)."""
        loaded, _ = self._load(name)
        return loaded

    def explain(self, name: str) -> Explanation:
        """The effective config of `name` with the file:line of every leaf; raises ConfigError."""
        loaded, tree = self._load(name)
        effective = loaded.config.model_dump(mode="json", exclude={"data"})
        files = [self.domain_file(domain) for domain in loaded.order]
        return Explanation(name, loaded.order, files, effective, origins_of(tree), loaded.warnings)

    def resolve(self, name: str) -> Resolution:
        """`extends` resolved for `name` (order and merged tree); raises ConfigError."""
        if self._read(name) is None:
            known = self.names()
            if name in known:  # a folder holding a domain.yaml, but not named as a domain
                raise ConfigError([self._folder_name_issue(name)])
            raise ConfigError(
                [
                    ConfigIssue(
                        self.domain_file(name),
                        None,
                        None,
                        "",
                        f"no domain {name!r} in {self.domains_dir} "
                        f"(domains: {', '.join(known) or 'none'})",
                        did_you_mean(name, [k for k in known if k != name and is_domain_name(k)]),
                    )
                ]
            )
        return resolve(name, self._read, self.names)

    def _folder_name_issue(self, name: str) -> ConfigIssue:
        """The error of a domain folder whose name breaks the rule for domain names."""
        fixed = domain_name_for(name)
        hint = f", for example to {fixed!r}" if fixed and fixed not in self.names() else ""
        return ConfigIssue(
            self.domain_file(name),
            1,
            1,
            "",
            f"folder {name!r} is not a valid domain name: {DOMAIN_NAME_RULE}; "
            f"rename the folder{hint}",
        )

    def stray_folders(self) -> list[ConfigIssue]:
        """Folders of the domains directory that are not domains (no domain.yaml), as warnings."""
        try:
            entries = sorted(os.scandir(self.domains_dir), key=lambda e: e.name)
        except OSError:
            return []
        warnings = []
        for entry in entries:
            if entry.name.startswith((".", "__")) or not entry.is_dir():
                continue
            folder = Path(entry.path)
            if (folder / DOMAIN_FILE).is_file():
                continue
            near = sorted(f.name for f in _files(folder) if f.name.lower() in _DOMAIN_FILE_TYPOS)
            hint = f": rename {near[0]!r} to {DOMAIN_FILE!r}" if near else ""
            warnings.append(
                ConfigIssue(
                    folder,
                    None,
                    None,
                    "",
                    f"folder {entry.name!r} has no {DOMAIN_FILE}, so it is not a domain and is "
                    f"ignored{hint}",
                )
            )
        return warnings

    def is_abstract(self, name: str) -> bool:
        """Whether a domain is abstract (`abstract: true`, or a name starting with `_`).

        A domain whose file cannot be read is judged by its name (validating it reports why).
        """
        try:
            root = self._read(name)
        except ConfigError:
            root = None
        own = (
            root.value.get("abstract")
            if root is not None and isinstance(root.value, dict)
            else None
        )
        if own is not None:
            try:  # read as the schema reads it ('yes', 1 and 'true' are true)
                return _ABSTRACT.validate_python(own.value)
            except ValidationError:
                pass  # not a boolean: validating the domain reports it
        return name.startswith("_")

    def load_tenants(self) -> Tenants:
        """`tenants.yaml` validated, its domains existing and served; empty when absent."""
        tenants = self.read_tenants()
        issues = self.tenant_issues(tenants)
        if issues:
            raise ConfigError(issues)
        return tenants

    def read_tenants(self) -> Tenants:
        """`tenants.yaml` validated against its schema only; empty when absent.

        Entries naming a domain that does not exist or is abstract are kept (their
        conversations are refused by that domain, never answered by another one): see
        :meth:`tenant_issues`. Raises ConfigError when the file cannot be read or validated.
        """
        file = self.domains_dir / TENANTS_FILE
        if not file.is_file():
            return Tenants()
        root = self.files.get(file, "yaml", parse_yaml_bytes)
        try:
            return Tenants.model_validate(root.plain() or {})
        except ValidationError as exc:
            raise ConfigError(issues_from_validation(exc, root, Tenants)) from None

    def tenant_issues(self, tenants: Tenants) -> list[ConfigIssue]:
        """The entries of `tenants` naming a domain that does not exist or is abstract."""
        file = self.domains_dir / TENANTS_FILE
        try:
            root: Located = self.files.get(file, "yaml", parse_yaml_bytes)
        except ConfigError:  # changed or removed since it was read: locate the entry by name only
            root = Located({}, file, 1, 1)
        known = self.names()
        servable = [name for name in known if is_domain_name(name)]
        issues = []
        for section, entries in (("accounts", tenants.accounts), ("inboxes", tenants.inboxes)):
            for key, entry in entries.items():
                path = [section, key, "domain"]
                if entry.domain not in known:
                    issues.append(
                        issue_at(
                            root,
                            path,
                            f"unknown domain {entry.domain!r}; domains: {', '.join(servable)}",
                            suggestion=did_you_mean(entry.domain, servable),
                        )
                    )
                elif self.is_abstract(entry.domain):
                    issues.append(
                        issue_at(root, path, f"domain {entry.domain!r} is abstract: never served")
                    )
        return issues

    # -- internals ---------------------------------------------------------------------------

    def _read(self, name: str) -> Located | None:
        if not is_domain_name(name):  # a path such as '../x' names no domain of this directory
            return None
        file = self.domain_file(name)
        if not file.is_file():
            return None
        root: Located = self.files.get(file, "yaml", parse_yaml_bytes)
        return root

    def _load(self, name: str) -> tuple[Loaded, Located]:
        resolution = self.resolve(name)
        issues = list(resolution.issues)
        warnings = list(resolution.warnings)
        tree = _with_own_keys(resolution, issues)
        tree, _ = prune(tree, [self._read(d) for d in resolution.order[1:]], name)
        tree, refused = _with_data_paths(tree, issues)
        document = tree.plain()
        if "data" in document:
            issues.append(
                issue_at(tree, ["data"], "'data' is filled from the tools' data files; remove it")
            )
            del document["data"]
        try:
            config = DomainConfig.model_validate(document)
        except ValidationError as exc:
            issues += issues_from_validation(exc, tree, DomainConfig)
            raise ConfigError(issues, warnings) from None
        for problem in cross_references(config):
            issues.append(
                issue_at(tree, problem.path, problem.message, suggestion=problem.suggestion)
            )
        data = self._data(config, tree, issues, refused)
        config = config.model_copy(update={"data": data})
        self._agent_types(config, tree, issues)
        if issues:
            parents = {self.domain_file(d): d for d in resolution.order[1:]}
            issues = [in_child(i, name, parents, self.domain_file(name)) for i in issues]
            raise ConfigError(issues, warnings)
        for warning in warnings:
            logger.warning("%s", warning)
        return Loaded(config, warnings, resolution.order), tree

    def _data(
        self,
        config: DomainConfig,
        tree: Located,
        issues: list[ConfigIssue],
        refused: set[DataPath],
    ) -> DomainData:
        knowledge: dict[str, list[FaqEntry]] = {}
        catalogs: dict[str, list[Product]] = {}
        calendars: dict[str, Calendar] = {}
        orders: dict[str, list[Order]] = {}
        for tool_id, tool in config.tools.items():
            base = ["tools", tool_id, "settings"]
            try:
                settings = tool.typed_settings()
            except ValidationError as exc:
                found = issues_from_validation(exc, tree, SETTINGS_BY_KIND[tool.kind], base)
                if config.abstract:  # a base may leave settings (data files) to its children
                    found = [i for i in found if not i.message.startswith("missing required")]
                found = [self._parent_requirement(config, tool_id, i) for i in found]
                issues += found
                continue
            if isinstance(settings, KnowledgeSettings):
                entries: list[FaqEntry] = []
                for index, name in enumerate(settings.files):
                    if is_document(name):  # extracted and indexed by chatwootai.knowledge
                        self._document_file(name, [*base, "files", index], tree, issues, refused)
                        continue
                    found = self._data_file(
                        name, [*base, "files", index], tree, datafiles.parse_faq, issues, refused
                    )
                    entries += found or []
                knowledge[tool_id] = entries
            elif isinstance(settings, CatalogSettings):
                products = self._data_file(
                    settings.file, [*base, "file"], tree, datafiles.parse_catalog, issues, refused
                )
                if products is not None:
                    catalogs[tool_id] = products
            elif isinstance(settings, CalendarSettings):
                calendar = self._data_file(
                    settings.file, [*base, "file"], tree, datafiles.parse_calendar, issues, refused
                )
                if calendar is not None:
                    calendars[tool_id] = calendar
            elif isinstance(settings, OrdersSettings):
                found_orders = self._data_file(
                    settings.file, [*base, "file"], tree, datafiles.parse_orders, issues, refused
                )
                if found_orders is not None:
                    orders[tool_id] = found_orders
            elif isinstance(settings, FilesSettings):  # sent with replies, read when sent
                for index, name in enumerate(settings.files):
                    if "://" not in name:
                        self._document_file(name, [*base, "files", index], tree, issues, refused)
        return DomainData(
            knowledge=knowledge, catalogs=catalogs, calendars=calendars, orders=orders
        )

    def _data_file(
        self,
        name: str,
        path: list[str | int],
        tree: Located,
        parse: Callable[[bytes, Path], Any],
        issues: list[ConfigIssue],
        refused: set[DataPath],
    ) -> Any:
        if tuple(path) in refused:  # outside its domain's directory: never read
            return None
        file = Path(name)
        if not file.is_file():
            issues.append(issue_at(tree, path, f"data file not found: {file}", at_key=False))
            return None
        try:
            return self.files.get(file, parse.__name__, parse)
        except ConfigError as exc:
            issues += exc.issues
            return None

    def _parent_requirement(
        self, config: DomainConfig, tool_id: str, issue: ConfigIssue
    ) -> ConfigIssue:
        """A missing data file of a tool declared by a parent, said as the child's to supply."""
        own = self._read(config.name)
        files = {self.domain_file(d): d for d in self.resolve(config.name).order[1:]}
        parent = files.get(issue.file) if issue.file is not None else None
        if own is None or parent is None or not issue.message.startswith("missing required"):
            return issue
        return parent_requirement(config, tool_id, issue, own, parent, self.agent_packages)

    def _document_file(
        self,
        name: str,
        path: list[str | int],
        tree: Located,
        issues: list[ConfigIssue],
        refused: set[DataPath],
    ) -> None:
        """A knowledge document must exist; its content is read by knowledge sync, not here."""
        if tuple(path) not in refused and not Path(name).is_file():
            issues.append(issue_at(tree, path, f"data file not found: {name}", at_key=False))

    def _agent_types(self, config: DomainConfig, tree: Located, issues: list[ConfigIssue]) -> None:
        for agent_id, agent in config.agents.items():
            path = ["agents", agent_id, "type"]
            try:
                agent_type = resolve_agent_type(agent.type, self.agent_packages)
            except AgentTypeNotFound as exc:
                issues.append(issue_at(tree, path, exc.message, suggestion=exc.suggestion))
                continue
            try:
                agent_type.config_model.model_validate(agent.config)
            except ValidationError as exc:
                model: type[BaseModel] = agent_type.config_model
                prefixed = issues_from_validation(exc, tree, model, ["agents", agent_id, "config"])
                issues += prefixed
                continue
            for problem in agent_type.check_config(agent_id, agent, config):
                issues.append(issue_at(tree, ["agents", agent_id], problem))


def is_document(name: str) -> bool:
    """True for knowledge files indexed as documents (PDF, HTML, DOCX, text, CSV), not as FAQ."""
    return Path(name).suffix.lower() in KNOWLEDGE_DOCUMENT_SUFFIXES


def _with_own_keys(resolution: Resolution, issues: list[ConfigIssue]) -> Located:
    """The merged tree plus the domain's own `name`, `extends` and `abstract`."""
    own, tree, name = resolution.own, resolution.tree, resolution.name
    own_keys = own.value if isinstance(own.value, dict) else {}
    body = dict(tree.value) if isinstance(tree.value, dict) else {}
    written = own_keys.get("name")
    if written is not None and written.value != name:
        issues.append(
            issue_at(
                own,
                ["name"],
                f"name {written.plain()!r} differs from the directory name {name!r}",
                suggestion=name,
            )
        )
    body["name"] = Located(name, own.file, *(written.anchor if written else (1, 1)))
    for key in ("extends", "abstract"):
        if key in own_keys:
            body[key] = own_keys[key]
    if "abstract" not in body and name.startswith("_"):
        body["abstract"] = Located(True, own.file, 1, 1)
    return Located(body, tree.file, tree.line, tree.column)


def _with_data_paths(tree: Located, issues: list[ConfigIssue]) -> tuple[Located, set[DataPath]]:
    """Data file paths made relative to the file that wrote them; those leaving its directory."""
    refused: set[DataPath] = set()
    tools = tree.value.get("tools") if isinstance(tree.value, dict) else None
    if tools is None or not isinstance(tools.value, dict):
        return tree, refused

    def relocated(node: Located, path: DataPath) -> Located:
        problem = _escape(node)
        if problem is None:
            return _relocated(node)
        issues.append(ConfigIssue(node.file, node.line, node.column, format_path(path), problem))
        refused.add(path)
        return node

    new_tools = {}
    for tool_id, tool in tools.value.items():
        settings = tool.value.get("settings") if isinstance(tool.value, dict) else None
        if settings is None or not isinstance(settings.value, dict):
            new_tools[tool_id] = tool
            continue
        new_settings = dict(settings.value)
        base = ("tools", tool_id, "settings")
        for key in DATA_PATH_KEYS:
            node = new_settings.get(key)
            if node is None:
                continue
            if isinstance(node.value, str):
                new_settings[key] = relocated(node, (*base, key))
            elif isinstance(node.value, list):
                items = [
                    relocated(item, (*base, key, index))
                    if isinstance(item.value, str) and "://" not in item.value  # URLs stay
                    else item
                    for index, item in enumerate(node.value)
                ]
                new_settings[key] = _replace(node, items)
        new_tool = dict(tool.value)
        new_tool["settings"] = _replace(settings, new_settings)
        new_tools[tool_id] = _replace(tool, new_tool)
    body = dict(tree.value)
    body["tools"] = _replace(tools, new_tools)
    return _replace(tree, body), refused


def _escape(node: Located) -> str | None:
    """Why a data path may not be read (absolute, or leaving the writer's directory), or None."""
    written = str(node.value)
    if Path(written).is_absolute():
        return (
            f"data file path {written!r} is absolute: write it relative to "
            f"{node.file.parent.name}/ (the directory of {node.file.name})"
        )
    normal = os.path.normpath(written)
    if normal == os.pardir or normal.startswith(os.pardir + os.sep):
        return (
            f"data file path {written!r} points outside {node.file.parent.name}/ "
            f"(the directory of {node.file.name}): a domain reads only its own files"
        )
    return None


def _relocated(node: Located) -> Located:
    path = Path(os.path.normpath(node.file.parent / Path(node.value)))
    return _replace(node, str(path))


def _replace(node: Located, value: Any) -> Located:
    return Located(value, node.file, node.line, node.column, node.key_line, node.key_column)


def _files(folder: Path) -> list[Path]:
    """The files directly inside `folder` (none when it cannot be read)."""
    try:
        return [Path(e.path) for e in os.scandir(folder) if e.is_file()]
    except OSError:
        return []
