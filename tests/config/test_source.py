"""YAML is read with the line and column of every key and value; bad YAML gives issues."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatwootai.config.errors import ConfigError
from chatwootai.config.source import locate, parse_yaml

FILE = Path("domains/x/domain.yaml")


def test_positions_of_keys_values_and_list_items() -> None:
    root = parse_yaml("a: 1\nagents:\n  sales:\n    tools: [x, y]\n    goal: sell\n", FILE)
    node, depth = locate(root, ["agents", "sales", "tools", 1])
    assert depth == 4
    assert (node.line, node.column) == (4, 16)
    goal, _ = locate(root, ["agents", "sales", "goal"])
    assert goal.anchor == (5, 5)
    assert root.plain() == {"a": 1, "agents": {"sales": {"tools": ["x", "y"], "goal": "sell"}}}


def test_scalars_are_typed_and_keys_stay_text() -> None:
    root = parse_yaml("3: on\nn: null\nf: 1.5\nd: 2025-01-02\ns: '10'\n", FILE)
    plain = root.plain()
    assert plain["3"] is True and plain["n"] is None and plain["f"] == 1.5
    assert str(plain["d"]) == "2025-01-02" and plain["s"] == "10"


def test_syntax_error_gives_file_line_and_column() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml("agents:\n  sales: [a, b\n  other: 1\n", FILE)
    issue = caught.value.issues[0]
    assert issue.file == FILE and issue.line is not None and issue.line >= 2
    assert issue.column is not None
    assert "YAML syntax error" in issue.message
    assert str(issue).startswith(f"{FILE}:{issue.line}:{issue.column}: ")


def test_duplicate_keys_are_errors_naming_both_lines() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml("agents:\n  sales: 1\n  sales: 2\nx: 1\nx: 2\n", FILE)
    issues = caught.value.issues
    assert [(i.line, i.path) for i in issues] == [(3, "agents.sales"), (5, "x")]
    assert "duplicate key 'sales' (first written on line 2)" in issues[0].message


def test_empty_file_is_an_empty_map() -> None:
    assert parse_yaml("# only a comment\n", FILE).plain() == {}


def test_merge_keys_fill_missing_entries() -> None:
    text = "common: &c {a: 1, b: 2}\nthing:\n  <<: *c\n  b: 3\n"
    assert parse_yaml(text, FILE).plain()["thing"] == {"a": 1, "b": 3}
