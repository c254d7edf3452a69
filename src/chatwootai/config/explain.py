"""The effective configuration of a domain with, for each leaf, the file and line it came from."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chatwootai.config.errors import ConfigIssue, format_path
from chatwootai.config.source import Located

DEFAULT = "default"
"""Origin shown for values no file sets (the schema's defaults)."""


@dataclass(frozen=True)
class Explanation:
    """A domain's effective config (plain data), the origin of each leaf, and its warnings."""

    name: str
    order: list[str]
    files: list[Path]
    config: dict[str, Any]
    origins: dict[str, str]
    warnings: list[ConfigIssue] = field(default_factory=list)

    def origin(self, path: str) -> str:
        """`file:line` that set the leaf at `path` (like `agents.sales.tools[1]`), or 'default'."""
        return self.origins.get(path, DEFAULT)

    def render(self) -> str:
        """The effective config as YAML, each leaf followed by a comment naming its origin."""
        lines = [
            f"# effective configuration of domain {self.name!r}",
            f"# resolution order: {' -> '.join(self.order)}",
        ]
        lines += [f"# warning: {warning}" for warning in self.warnings]
        _render_map(self.config, (), 0, lines, self)
        return "\n".join(lines) + "\n"


def origins_of(tree: Located) -> dict[str, str]:
    """`path -> file:line` for every leaf (and empty container) of a located tree."""
    result: dict[str, str] = {}

    def walk(node: Located, path: tuple[str | int, ...]) -> None:
        value = node.value
        children: list[tuple[str | int, Located]] = []
        if isinstance(value, dict):
            children = list(value.items())
        elif isinstance(value, list):
            children = list(enumerate(value))
        if path:
            result[format_path(path)] = f"{node.file}:{node.anchor[0]}"
        for key, child in children:
            walk(child, (*path, key))

    walk(tree, ())
    return result


_PLAIN = re.compile(r"^[\w][\w ./@:+-]*$", re.UNICODE)


def scalar(value: Any) -> str:
    """A scalar written as YAML (quoted as JSON when plain text would read differently)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if _PLAIN.match(text) and not text.endswith(":") and ": " not in text:
        try:
            if yaml.safe_load(text) == text:
                return text
        except yaml.YAMLError:
            pass
    return json.dumps(text, ensure_ascii=False)


def _comment(explanation: Explanation, path: tuple[str | int, ...]) -> str:
    return f"  # {explanation.origin(format_path(path))}"


def _render_map(
    data: dict[str, Any],
    path: tuple[str | int, ...],
    indent: int,
    lines: list[str],
    ex: Explanation,
) -> None:
    pad = "  " * indent
    for key, value in data.items():
        child = (*path, key)
        shown = scalar(key)
        if isinstance(value, dict) and value:
            lines.append(f"{pad}{shown}:")
            _render_map(value, child, indent + 1, lines, ex)
        elif isinstance(value, list) and value:
            lines.append(f"{pad}{shown}:")
            _render_list(value, child, indent + 1, lines, ex)
        else:
            empty = "{}" if isinstance(value, dict) else "[]" if isinstance(value, list) else None
            lines.append(f"{pad}{shown}: {empty or scalar(value)}{_comment(ex, child)}")


def _render_list(
    items: list[Any], path: tuple[str | int, ...], indent: int, lines: list[str], ex: Explanation
) -> None:
    pad = "  " * indent
    for index, item in enumerate(items):
        child = (*path, index)
        if isinstance(item, dict) and item:
            lines.append(f"{pad}-{_comment(ex, child)}")
            _render_map(item, child, indent + 1, lines, ex)
        elif isinstance(item, list) and item:
            lines.append(f"{pad}-{_comment(ex, child)}")
            _render_list(item, child, indent + 1, lines, ex)
        else:
            lines.append(f"{pad}- {scalar(item)}{_comment(ex, child)}")
