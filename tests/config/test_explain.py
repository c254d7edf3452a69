"""explain: the effective config with the file:line of every leaf, and the warnings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from conftest import Tree


def test_explain_names_the_origin_of_each_leaf(tree: Tree) -> None:
    tree.base()
    tree.domain(
        "shop", "extends: [_base]\ndescription: Minha loja\nagents:\n  seller:\n    tools-: [faq]\n"
    )
    explanation = tree.loader().explain("shop")
    shop, base = tree.root / "shop" / "domain.yaml", tree.root / "_base" / "domain.yaml"
    assert explanation.order == ["shop", "_base"]
    assert explanation.origin("description") == f"{shop}:2"
    assert explanation.origin("agents.seller.role") == f"{base}:5"
    assert explanation.origin("agents.seller.tools[0]") == f"{base}:7"
    assert explanation.origin("language") == "default"
    text = explanation.render()
    assert f"description: Minha loja  # {shop}:2" in text
    assert f"- catalog  # {base}:7" in text
    assert yaml.safe_load(text)["agents"]["seller"]["tools"] == ["catalog"]


def test_explain_shows_conflict_warnings(tree: Tree) -> None:
    tree.domain("left", "abstract: true\ndescription: L\n")
    tree.domain("right", "abstract: true\ndescription: R\n")
    tree.domain("child", "abstract: true\nextends: [left, right]\n")
    text = tree.loader().explain("child").render()
    assert "# warning: " in text and "'left' wins" in text
