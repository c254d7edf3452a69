"""The budget and flood limits of a domain: validated with file:line like the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chatwootai.config.errors import ConfigError

if TYPE_CHECKING:
    from conftest import Tree


def _issues(tree: Tree, name: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        tree.loader().load(name)
    return [str(issue) for issue in caught.value.issues]


def test_a_budget_with_its_rule_and_a_flood_limit_load(tree: Tree) -> None:
    tree.base()
    tree.domain(
        "shop",
        "extends: [_base]\nlimits:\n  monthly_budget_usd: 25.5\n  over_budget:\n"
        "    action: model\n    model: openai:gpt-4o-mini\n  flood:\n"
        "    messages_per_minute: 6\n",
    )
    limits = tree.loader().load("shop").limits
    assert limits.monthly_budget_usd == 25.5
    assert limits.over_budget is not None and limits.over_budget.model == "openai:gpt-4o-mini"
    assert limits.flood.messages_per_minute == 6 and limits.flood.handoff_after == 3


def test_a_switch_to_a_model_names_it_at_its_line(tree: Tree) -> None:
    tree.base()
    tree.domain(
        "shop",
        "extends: [_base]\nlimits:\n  monthly_budget_usd: 10\n  over_budget:\n    action: model\n",
    )
    issues = _issues(tree, "shop")
    file = tree.root / "shop" / "domain.yaml"
    assert len(issues) == 1 and issues[0].startswith(f"{file}:4:3: limits.over_budget: ")
    assert "needs 'model'" in issues[0]


def test_bad_values_are_errors_at_their_lines(tree: Tree) -> None:
    tree.base()
    tree.domain(
        "shop",
        "extends: [_base]\nlimits:\n  monthly_budget_usd: -3\n  flood:\n"
        "    messages_per_minute: 0\n  over_budget:\n    action: refuse\n",
    )
    issues = _issues(tree, "shop")
    file = tree.root / "shop" / "domain.yaml"
    assert {issue.split(": ", 1)[0].rsplit(":", 1)[0] for issue in issues} == {
        f"{file}:3",
        f"{file}:5",
        f"{file}:7",
    }, issues


def test_a_rule_without_a_budget_is_an_error(tree: Tree) -> None:
    tree.base()
    tree.domain("shop", "extends: [_base]\nlimits:\n  over_budget:\n    action: handoff\n")
    issues = _issues(tree, "shop")
    assert len(issues) == 1
    assert "over_budget has no effect without limits.monthly_budget_usd" in issues[0]
    assert issues[0].startswith(f"{tree.root / 'shop' / 'domain.yaml'}:")
