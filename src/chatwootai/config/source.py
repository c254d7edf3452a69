"""YAML read with the position of every key and value, into a tree of :class:`Located` nodes."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chatwootai.config.errors import ConfigError, ConfigIssue, format_path

try:
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"

Scalar = str | int | float | bool | None | datetime.date | datetime.datetime

MAX_NODES = 100_000
"""Most values a YAML file may hold once its aliases are expanded (stops "billion laughs")."""


class _TooManyNodes(Exception):
    """Raised inside the builder when aliases expand past :data:`MAX_NODES`."""

    def __init__(self, mark: yaml.Mark, path: str) -> None:
        self.mark = mark
        self.path = path


@dataclass(frozen=True, slots=True)
class Located:
    """A YAML value with where it was written: `value` is a dict or list of nodes, or a scalar."""

    value: Any
    file: Path
    line: int
    column: int
    key_line: int | None = None
    key_column: int | None = None

    def plain(self) -> Any:
        """The value as plain Python data (dicts, lists, scalars)."""
        return to_plain(self)

    @property
    def anchor(self) -> tuple[int, int]:
        """Line and column of the key naming this value, else of the value itself."""
        if self.key_line is not None and self.key_column is not None:
            return self.key_line, self.key_column
        return self.line, self.column


def to_plain(node: Located) -> Any:
    """Plain Python data of a node tree."""
    value = node.value
    if isinstance(value, dict):
        return {key: to_plain(child) for key, child in value.items()}
    if isinstance(value, list):
        return [to_plain(child) for child in value]
    return value


def locate(root: Located, path: Sequence[str | int]) -> tuple[Located, int]:
    """The deepest node along `path` and how many parts of the path it matched."""
    node, depth = root, 0
    for part in path:
        value = node.value
        child: Located | None = None
        if isinstance(value, dict) and isinstance(part, str):
            child = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            child = value[part]
        if child is None:
            break
        node, depth = child, depth + 1
    return node, depth


def issue_at(
    root: Located,
    path: Sequence[str | int],
    message: str,
    *,
    suggestion: str | None = None,
    shown_path: str | None = None,
    at_key: bool = True,
) -> ConfigIssue:
    """An issue located at the deepest node of `root` along `path`."""
    node, _ = locate(root, path)
    line, column = node.anchor if at_key else (node.line, node.column)
    return ConfigIssue(
        file=node.file,
        line=line,
        column=column,
        path=format_path(path) if shown_path is None else shown_path,
        message=message,
        suggestion=suggestion,
    )


_RECURSIVE = "recursive alias: this value contains itself (an alias to an enclosing anchor)"


class _Builder:
    """Turns composed YAML nodes into :class:`Located` trees, rejecting duplicate keys."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.constructor = yaml.constructor.SafeConstructor()
        self.issues: list[ConfigIssue] = []
        self._open: set[int] = set()
        """Ids of the collection nodes being built (an alias to one of them is a cycle)."""
        self._count = 0

    def build(self, node: yaml.Node, key: yaml.Node | None = None, path: str = "") -> Located:
        mark = node.start_mark
        key_line = key.start_mark.line + 1 if key is not None else None
        key_column = key.start_mark.column + 1 if key is not None else None
        self._count += 1
        if self._count > MAX_NODES:
            raise _TooManyNodes(key.start_mark if key is not None else mark, path)
        value: Any
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and id(node) in self._open:
            where = key.start_mark if key is not None else mark
            self.issues.append(self._issue(where, path, _RECURSIVE))
            value = None
        elif isinstance(node, yaml.MappingNode):
            value = self._mapping(node, path)
        elif isinstance(node, yaml.SequenceNode):
            self._open.add(id(node))
            value = [
                self.build(item, None, f"{path}[{index}]") for index, item in enumerate(node.value)
            ]
            self._open.discard(id(node))
        elif node.tag == _STR_TAG:
            value = node.value
        else:
            try:
                value = self.constructor.construct_object(node, deep=True)
            except yaml.YAMLError as exc:
                self.issues.append(self._issue(mark, path, f"invalid value: {exc}"))
                value = node.value
        return Located(value, self.file, mark.line + 1, mark.column + 1, key_line, key_column)

    def _mapping(self, node: yaml.MappingNode, path: str) -> dict[str, Located]:
        self._open.add(id(node))
        try:
            return self._mapping_items(node, path)
        finally:
            self._open.discard(id(node))

    def _mapping_items(self, node: yaml.MappingNode, path: str) -> dict[str, Located]:
        result: dict[str, Located] = {}
        merged: dict[str, Located] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                for source in self._merge_sources(value_node, path):
                    for name, child in source.items():
                        merged.setdefault(name, child)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.issues.append(
                    self._issue(key_node.start_mark, path, "mapping keys must be plain text")
                )
                continue
            name = str(key_node.value)
            child_path = f"{path}.{name}" if path else name
            if name in result:
                first = result[name].anchor[0]
                self.issues.append(
                    self._issue(
                        key_node.start_mark,
                        child_path,
                        f"duplicate key {name!r} (first written on line {first})",
                    )
                )
                continue
            result[name] = self.build(value_node, key_node, child_path)
        for name, child in merged.items():
            result.setdefault(name, child)
        return result

    def _merge_sources(self, node: yaml.Node, path: str) -> list[dict[str, Located]]:
        nodes = node.value if isinstance(node, yaml.SequenceNode) else [node]
        sources = []
        for item in nodes:
            if isinstance(item, yaml.MappingNode) and id(item) in self._open:
                self.issues.append(self._issue(node.start_mark, path, _RECURSIVE))
            elif isinstance(item, yaml.MappingNode):
                sources.append(self._mapping(item, path))
            else:
                self.issues.append(self._issue(item.start_mark, path, "'<<' needs a mapping"))
        return sources

    def _issue(self, mark: yaml.Mark, path: str, message: str) -> ConfigIssue:
        return ConfigIssue(self.file, mark.line + 1, mark.column + 1, path, message)


def parse_yaml(text: str, file: Path) -> Located:
    """Parse YAML text into a :class:`Located` tree; raises ConfigError on any syntax problem."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = f"{exc.context}, {problem}"
        issue = ConfigIssue(
            file,
            mark.line + 1 if mark else None,
            mark.column + 1 if mark else None,
            "",
            f"YAML syntax error: {problem}",
        )
        raise ConfigError([issue]) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, at a position
        line, column = position_of(text, exc.position)
        code = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or " ")
        problem = f"character U+{code:04X} is not allowed in YAML ({exc.reason}); remove it"
        raise ConfigError([ConfigIssue(file, line, column, "", problem)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigIssue(file, 1, 1, "", f"YAML error: {exc}")]) from None
    except RecursionError:
        issue = ConfigIssue(file, 1, 1, "", "values nested too deeply; flatten the file")
        raise ConfigError([issue]) from None
    if node is None:
        return Located({}, file, 1, 1)
    builder = _Builder(file)
    try:
        root = builder.build(node)
    except RecursionError:
        issue = ConfigIssue(file, 1, 1, "", "values nested too deeply; flatten the file")
        raise ConfigError([issue]) from None
    except _TooManyNodes as exc:
        issue = ConfigIssue(
            file,
            exc.mark.line + 1,
            exc.mark.column + 1,
            exc.path,
            f"aliases expand to more than {MAX_NODES} values; write the data out or use fewer "
            "nested aliases",
        )
        raise ConfigError([issue]) from None
    if builder.issues:
        raise ConfigError(builder.issues)
    return root


def parse_yaml_bytes(content: bytes, file: Path) -> Located:
    """Parse UTF-8 YAML bytes (the :class:`~chatwootai.config.cache.FileCache` parse signature)."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([not_utf8(file, content, exc)]) from None
    return parse_yaml(text, file)


def position_of(text: str, index: int) -> tuple[int, int]:
    """Line and column (from 1) of the character at `index` of `text`."""
    before = text[: max(0, index)]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


def not_utf8(file: Path, content: bytes, exc: UnicodeDecodeError) -> ConfigIssue:
    """The issue of a file that is not UTF-8, at the first byte that is not."""
    line = content[: exc.start].count(b"\n") + 1
    column = exc.start - (content.rfind(b"\n", 0, exc.start) + 1) + 1
    message = (
        f"not UTF-8 text: byte 0x{content[exc.start]:02x} cannot be read; save the file as UTF-8"
    )
    return ConfigIssue(file, line, column, "", message)
