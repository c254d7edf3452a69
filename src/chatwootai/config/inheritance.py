"""`extends:` resolved: C3 order of a domain's ancestors and the merge of their YAML trees.

Rules (documented in docs/configuration.md): maps merge by key, recursively; lists replace;
`KEY+` appends to an inherited list (skipping items already there); `KEY-` removes items from an
inherited list or entries from an inherited map. When two parents unrelated to each other set the
same leaf differently and the child does not, the one earlier in the C3 order wins, with a warning.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatwootai.config.errors import ConfigError, ConfigIssue, did_you_mean, format_path
from chatwootai.config.schema import DOMAIN_NAME
from chatwootai.config.source import Located, issue_at, to_plain

logger = logging.getLogger("chatwootai.config")

NOT_INHERITED = ("name", "extends", "abstract")
"""Top-level keys that belong to one domain file only."""

DomainReader = Callable[[str], Located | None]
"""Returns the parsed domain.yaml of a domain, or None when no such domain exists."""


@dataclass(slots=True)
class Resolution:
    """A domain's ancestors in C3 order and its merged YAML tree, with merge issues and warnings."""

    name: str
    order: list[str]
    tree: Located
    own: Located
    issues: list[ConfigIssue] = field(default_factory=list)
    warnings: list[ConfigIssue] = field(default_factory=list)


def parents_of(root: Located) -> list[tuple[str, Located]]:
    """The parent names written in a domain file's `extends:`, with their nodes."""
    if not isinstance(root.value, dict):
        return []
    node = root.value.get("extends")
    if node is None or node.value is None:
        return []
    if isinstance(node.value, str):
        return [(node.value, node)]
    if not isinstance(node.value, list):
        raise ConfigError([issue_at(root, ["extends"], "must be a list of domain names")])
    issues = [
        _issue(item, f"extends[{index}]", f"must be a domain name, not {_kind(item.value)}")
        for index, item in enumerate(node.value)
        if not isinstance(item.value, str)
    ]
    if issues:
        raise ConfigError(issues)
    return [(item.value, item) for item in node.value]


def check_parent_names(parents: list[tuple[str, Located]], current: str = "") -> None:
    """Raise ConfigError unless every parent is a plain domain name, listed once, not `current`."""
    issues: list[ConfigIssue] = []
    first: dict[str, tuple[int, int]] = {}
    for parent, node in parents:
        if not is_domain_name(parent):
            issues.append(
                _issue(
                    node,
                    "extends",
                    f"parent {parent!r} is not a domain name: name a directory of the domains "
                    "directory (lowercase letters, digits, '_' and '-'), not a path",
                )
            )
        elif parent == current:
            issues.append(
                _issue(
                    node,
                    "extends",
                    f"domain {current!r} extends itself: a domain cannot be its own parent; "
                    f"remove {parent!r} from 'extends'",
                )
            )
        elif parent in first:
            line, column = first[parent]
            issues.append(
                _issue(
                    node,
                    "extends",
                    f"parent {parent!r} is listed twice (first at line {line}, column {column}): "
                    "list each parent once",
                )
            )
        else:
            first[parent] = (node.line, node.column)
    if issues:
        raise ConfigError(issues)


def _kind(value: Any) -> str:
    """How a YAML value that should be text reads in a message."""
    if value is None:
        return "an empty value"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return f"a {type(value).__name__}"


DOMAIN_NAME_RULE = (
    "a domain name has lowercase letters, digits, '_' and '-', starts with a letter or a digit "
    "(or with '_' for an abstract base such as '_base'), and has at most 64 characters"
)
"""The rule for domain names, as error messages state it."""


def is_domain_name(name: str) -> bool:
    """Whether `name` is a valid domain name (so it cannot point outside the domains directory)."""
    return len(name) <= 64 and re.fullmatch(DOMAIN_NAME, name) is not None


def domain_name_for(name: str) -> str | None:
    """A valid domain name close to `name` (`Pet Shop` gives `pet-shop`), or None."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9_\-]+", "-", folded.strip())
    prefix = "_" if text.startswith("_") else ""
    text = prefix + text.lstrip("_-").rstrip("-")[:63]
    return text if is_domain_name(text) and text != name else None


def linearize_all(
    name: str, read: DomainReader, known: Callable[[], Sequence[str]]
) -> dict[str, list[str]]:
    """C3 linearizations of `name` and of every one of its ancestors; raises ConfigError."""
    memo: dict[str, list[str]] = {}

    def mro(current: str, stack: list[str]) -> list[str]:
        if current in memo:
            return memo[current]
        root = read(current)
        assert root is not None
        parents = parents_of(root)
        check_parent_names(parents, current)
        missing: list[ConfigIssue] = []
        for parent, node in parents:
            if parent in stack:
                chain = " -> ".join([*stack[stack.index(parent) :], current, parent])
                raise ConfigError([_issue(node, "extends", f"inheritance cycle: {chain}")])
            if read(parent) is None:
                others = [k for k in known() if k != current and is_domain_name(k)]
                missing.append(
                    _issue(
                        node,
                        "extends",
                        f"parent domain {parent!r} does not exist",
                        did_you_mean(parent, others),
                    )
                )
        if missing:
            raise ConfigError(missing)
        sequences = [mro(parent, [*stack, current]) for parent, _ in parents]
        names = [parent for parent, _ in parents]
        merged = _c3_merge([*sequences, names])
        if merged is None:
            node = root.value["extends"]
            raise ConfigError(
                [
                    _issue(
                        node,
                        "extends",
                        f"cannot order the ancestors of {current!r} consistently (C3): "
                        f"parents {names} conflict with the order their own ancestors impose",
                    )
                ]
            )
        memo[current] = [current, *merged]
        return memo[current]

    mro(name, [])
    return memo


def _c3_merge(sequences: list[list[str]]) -> list[str] | None:
    seqs = [list(seq) for seq in sequences if seq]
    result: list[str] = []
    while seqs:
        for seq in seqs:
            head = seq[0]
            if not any(head in other[1:] for other in seqs):
                break
        else:
            return None
        result.append(head)
        for seq in seqs:
            if seq[0] == head:
                del seq[0]
        seqs = [seq for seq in seqs if seq]
    return result


def _issue(node: Located, path: str, message: str, suggestion: str | None = None) -> ConfigIssue:
    line, column = node.line, node.column
    return ConfigIssue(node.file, line, column, path, message, suggestion)


def resolve(name: str, read: DomainReader, known: Callable[[], Sequence[str]]) -> Resolution:
    """Resolve `extends` for `name`: C3 order, then merge from the farthest ancestor down."""
    orders = linearize_all(name, read, known)
    order = orders[name]
    roots = {domain: read(domain) for domain in order}
    ancestors = {domain: set(orders[domain]) for domain in order}
    files = [str(root.file) for root in roots.values() if root is not None]
    logger.debug("domain %r: resolution order %s (files: %s)", name, " -> ".join(order), files)
    merger = _Merger({root.file: d for d, root in roots.items() if root is not None}, ancestors)
    own = roots[name]
    assert own is not None
    tree: Located | None = None
    for domain in reversed(order):
        root = roots[domain]
        assert root is not None
        if not isinstance(root.value, dict):
            merger.issues.append(
                ConfigIssue(
                    root.file, root.line, root.column, "", "a domain file must be a mapping"
                )
            )
            continue
        body = {k: v for k, v in root.value.items() if k not in NOT_INHERITED}
        merger.domain = domain
        merger.overridden = []
        tree = merger.merge(tree, Located(body, root.file, root.line, root.column), ())
        if merger.overridden:
            logger.debug("domain %r: %r overrides %s", name, domain, ", ".join(merger.overridden))
    if tree is None:
        tree = Located({}, own.file, own.line, own.column)
    warnings = merger.conflict_warnings(tree)
    return Resolution(name, order, tree, own, merger.issues, warnings)


class _Merger:
    def __init__(self, file_domain: dict[Path, str], ancestors: dict[str, set[str]]) -> None:
        self.file_domain = file_domain
        self.ancestors = ancestors
        self.domain = ""
        self.issues: list[ConfigIssue] = []
        self.overridden: list[str] = []
        self.conflicts: dict[tuple[str | int, ...], tuple[str, str, Located]] = {}

    def merge(self, base: Located | None, over: Located, path: tuple[str | int, ...]) -> Located:
        if not isinstance(over.value, dict):
            self._set_leaf(base, over, path)
            return over
        if base is not None and not isinstance(base.value, dict):
            self._set_leaf(base, over, path)
            base = None
        result: dict[str, Located] = dict(base.value) if base is not None else {}
        plain, plus, minus = [], [], []
        for key, node in over.value.items():
            if len(key) > 1 and key.endswith("+"):
                plus.append((key[:-1], node))
            elif len(key) > 1 and key.endswith("-"):
                minus.append((key[:-1], node))
            else:
                plain.append((key, node))
        for key, node in plain:
            result[key] = self.merge(result.get(key), node, (*path, key))
        for key, node in plus:
            appended = self._append(result.get(key), node, (*path, key))
            if appended is not None:
                result[key] = appended
        for key, node in minus:
            self._remove(result, key, node, (*path, key))
        return Located(result, over.file, over.line, over.column, over.key_line, over.key_column)

    def _set_leaf(self, base: Located | None, over: Located, path: tuple[str | int, ...]) -> None:
        if base is None:
            return
        old, new = to_plain(base), to_plain(over)
        if old == new:
            return
        setter = self.file_domain.get(base.file, "")
        self.overridden.append(format_path(path))
        if setter and setter != self.domain and setter not in self.ancestors[self.domain]:
            self.conflicts[path] = (self.domain, setter, base)
        elif path in self.conflicts:
            del self.conflicts[path]

    def _append(
        self, base: Located | None, node: Located, path: tuple[str | int, ...]
    ) -> Located | None:
        shown = format_path(path) + "+"
        if not isinstance(node.value, list):
            self.issues.append(_node_issue(node, shown, "'+' appends a list: give a list"))
            return None
        if base is None:
            return self.merge(None, node, path)
        if not isinstance(base.value, list):
            self.issues.append(
                _node_issue(
                    node, shown, "'+' appends to a list, but the inherited value is not one"
                )
            )
            return None
        items = list(base.value)
        identity = _data_path_identity if _is_data_path(path) else to_plain
        present = [identity(item) for item in items]
        for item in node.value:
            plain = identity(item)
            if plain not in present:
                items.append(item)
                present.append(plain)
        return Located(items, base.file, base.line, base.column, base.key_line, base.key_column)

    def _remove(
        self, target: dict[str, Located], key: str, node: Located, path: tuple[str | int, ...]
    ) -> None:
        shown = format_path(path) + "-"
        base = target.get(key)
        if not isinstance(node.value, list):
            self.issues.append(_node_issue(node, shown, "'-' removes items: give a list"))
            return
        if base is None:
            self.issues.append(
                _node_issue(node, shown, f"nothing named {format_path(path)!r} is inherited")
            )
            return
        if isinstance(base.value, dict):
            entries = dict(base.value)
            for item in node.value:
                name = to_plain(item)
                if isinstance(name, str) and name in entries:
                    del entries[name]
                    self._drop_conflicts((*path, name))
                else:
                    self.issues.append(
                        _node_issue(
                            item,
                            shown,
                            f"cannot remove {name!r}: it is not inherited",
                            did_you_mean(str(name), entries),
                        )
                    )
            target[key] = Located(entries, base.file, base.line, base.column, *_key(base))
            return
        if isinstance(base.value, list):
            items = list(base.value)
            for item in node.value:
                wanted = to_plain(item)
                kept = [i for i in items if to_plain(i) != wanted]
                if len(kept) == len(items):
                    choices = [str(to_plain(i)) for i in items]
                    self.issues.append(
                        _node_issue(
                            item,
                            shown,
                            f"cannot remove {wanted!r}: it is not in the inherited list",
                            did_you_mean(str(wanted), choices),
                        )
                    )
                items = kept
            target[key] = Located(items, base.file, base.line, base.column, *_key(base))
            return
        self.issues.append(
            _node_issue(
                node, shown, "'-' removes from a list or a map; the inherited value is neither"
            )
        )

    def _drop_conflicts(self, prefix: tuple[str | int, ...]) -> None:
        for path in [p for p in self.conflicts if p[: len(prefix)] == prefix]:
            del self.conflicts[path]

    def conflict_warnings(self, tree: Located) -> list[ConfigIssue]:
        warnings = []
        for path, (winner, loser, lost) in self.conflicts.items():
            node = tree
            for part in path:
                children = node.value
                if isinstance(children, dict) and isinstance(part, str) and part in children:
                    node = children[part]
                else:
                    break
            else:
                if self.file_domain.get(node.file) != winner:
                    continue
                line, column = node.anchor
                warnings.append(
                    ConfigIssue(
                        node.file,
                        line,
                        column,
                        format_path(path),
                        f"parents {winner!r} and {loser!r} both set this differently; "
                        f"{winner!r} wins (earlier in the resolution order), "
                        f"{loser!r} set {_short(to_plain(lost))} at {lost.file}:{lost.anchor[0]}",
                    )
                )
        return warnings


def _is_data_path(path: tuple[str | int, ...]) -> bool:
    """Whether `path` is `tools.<id>.settings.file(s)`: paths relative to their YAML file."""
    return len(path) == 4 and path[0] == "tools" and path[2] == "settings"


def _data_path_identity(node: Located) -> Any:
    """A data file path as the file it names (the same name in two folders is two files)."""
    if isinstance(node.value, str) and not os.path.isabs(node.value):
        return os.path.normpath(node.file.parent / node.value)
    return to_plain(node)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _key(node: Located) -> tuple[int | None, int | None]:
    return node.key_line, node.key_column


def _node_issue(
    node: Located, path: str, message: str, suggestion: str | None = None
) -> ConfigIssue:
    line, column = node.anchor
    return ConfigIssue(node.file, line, column, path, message, suggestion)
