"""YAML anchors and aliases: reuse works, a value containing itself or a blow-up is an issue."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatwootai.config.errors import ConfigError, ConfigIssue
from chatwootai.config.source import MAX_NODES, parse_yaml

FILE = Path("domains/x/domain.yaml")


def _issues(text: str) -> list[ConfigIssue]:
    with pytest.raises(ConfigError) as caught:
        parse_yaml(text, FILE)
    return caught.value.issues


def test_aliases_reuse_a_value() -> None:
    root = parse_yaml("a: &h {x: 1}\nb: *h\nc: {<<: *h, y: 2}\n", FILE)
    assert root.plain() == {"a": {"x": 1}, "b": {"x": 1}, "c": {"x": 1, "y": 2}}


def test_a_mapping_containing_itself_is_a_recursive_alias() -> None:
    [issue] = _issues("description: ok\nbusiness:\n  facts: &x {a: *x}\n")
    assert issue.file == FILE and issue.line == 3
    assert issue.path == "business.facts.a" and "recursive alias" in issue.message


def test_a_list_containing_itself_and_a_merge_of_itself_are_recursive() -> None:
    assert "recursive alias" in _issues("l: &l [1, *l]\n")[0].message
    assert "recursive alias" in _issues("m: &m {a: 1, <<: *m}\n")[0].message


def test_nested_aliases_expanding_past_the_limit_are_refused() -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 6):  # 10**5 leaves once expanded
        below = ", ".join([f"*a{level - 1}"] * 10)
        levels.append(f"a{level}: &a{level} [{below}]")
    [issue] = _issues("\n".join(levels) + "\n")
    assert f"more than {MAX_NODES}" in issue.message and issue.line is not None


def test_values_nested_too_deeply_are_an_issue_not_a_crash() -> None:
    [issue] = _issues("a: " + "[" * 900 + "]" * 900 + "\n")  # within libyaml's own limit
    assert "nested too deeply" in issue.message
