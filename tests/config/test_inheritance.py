"""`extends:`: C3 order, map merge, list replace/append/remove, conflicts, cycles, parents."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest

from chatwootai.config.errors import ConfigError

if TYPE_CHECKING:
    from conftest import Tree


def _abstract(tree: Tree, name: str, extends: str = "", body: str = "") -> None:
    text = "abstract: true\n" + (f"extends: [{extends}]\n" if extends else "") + body
    tree.domain(name, text)


def test_c3_order_of_a_diamond(tree: Tree) -> None:
    _abstract(tree, "root")
    _abstract(tree, "left", "root")
    _abstract(tree, "right", "root")
    _abstract(tree, "child", "left, right")
    assert tree.loader().resolve("child").order == ["child", "left", "right", "root"]


def test_c3_inconsistent_hierarchy_is_an_error(tree: Tree) -> None:
    _abstract(tree, "a")
    _abstract(tree, "b", "a")
    tree.domain("c", "abstract: true\nextends: [a, b]\n")
    with pytest.raises(ConfigError) as caught:
        tree.loader().resolve("c")
    issue = caught.value.issues[0]
    assert issue.line == 2 and "cannot order the ancestors" in issue.message


def test_cycle_is_an_error_with_the_chain(tree: Tree) -> None:
    _abstract(tree, "a", "b")
    _abstract(tree, "b", "a")
    with pytest.raises(ConfigError) as caught:
        tree.loader().resolve("a")
    issue = caught.value.issues[0]
    assert "inheritance cycle: a -> b -> a" in issue.message
    assert issue.file == tree.root / "b" / "domain.yaml" and issue.line == 2


def test_missing_parent_is_an_error_with_did_you_mean(tree: Tree) -> None:
    _abstract(tree, "_base")
    tree.domain("shop", "abstract: true\nextends:\n  - _bsae\n")
    with pytest.raises(ConfigError) as caught:
        tree.loader().load("shop")
    issue = caught.value.issues[0]
    assert (issue.line, issue.column) == (3, 5)
    assert "parent domain '_bsae' does not exist" in issue.message
    assert issue.suggestion == "_base"


def test_maps_merge_recursively_and_child_wins(tree: Tree) -> None:
    _abstract(tree, "p", body="business:\n  company_name: P\n  facts: {a: '1', b: '2'}\n")
    _abstract(tree, "c", "p", "business:\n  facts: {b: '3', c: '4'}\n")
    business = tree.loader().load("c").business
    assert business.company_name == "P"
    assert business.facts == {"a": "1", "b": "3", "c": "4"}


def test_lists_replace_by_default(tree: Tree) -> None:
    _abstract(tree, "p", body="routing:\n  default_crew: x\n  handoff_phrases: [a, b]\n")
    _abstract(tree, "c", "p", "routing:\n  handoff_phrases: [z]\n")
    merged = tree.loader().resolve("c").tree.plain()
    assert merged["routing"] == {"default_crew": "x", "handoff_phrases": ["z"]}


def test_plus_appends_skipping_items_already_there(tree: Tree) -> None:
    _abstract(tree, "p", body="routing:\n  default_crew: x\n  handoff_phrases: [a, b]\n")
    _abstract(tree, "c", "p", "routing:\n  handoff_phrases+: [b, c]\n")
    merged = tree.loader().resolve("c").tree.plain()
    assert merged["routing"]["handoff_phrases"] == ["a", "b", "c"]


def test_minus_removes_list_items_and_map_entries(tree: Tree) -> None:
    body = f"agents:\n  a: {{{_flow()}}}\n  b: {{{_flow()}}}\n"
    body += "routing:\n  default_crew: x\n  handoff_phrases: [a, b, c]\n"
    _abstract(tree, "p", body=body)
    _abstract(tree, "c", "p", "agents-: [b]\nrouting:\n  handoff_phrases-: [b]\n")
    merged = tree.loader().resolve("c").tree.plain()
    assert list(merged["agents"]) == ["a"]
    assert merged["routing"]["handoff_phrases"] == ["a", "c"]


def _flow() -> str:
    return "type: SupportAgent, role: r, goal: g"


def test_removing_what_is_not_inherited_is_an_error_with_did_you_mean(tree: Tree) -> None:
    _abstract(tree, "p", body="agents:\n  seller: {" + _flow() + "}\n")
    _abstract(tree, "c", "p", "agents-: [selller]\n")
    with pytest.raises(ConfigError) as caught:
        tree.loader().load("c")
    issue = caught.value.issues[0]
    assert issue.path == "agents-" and issue.line == 3
    assert "cannot remove 'selller'" in issue.message and issue.suggestion == "seller"


def test_left_most_parent_wins_a_conflict_with_a_warning(tree: Tree) -> None:
    _abstract(tree, "root", body="description: root\n")
    _abstract(tree, "left", "root", "description: from left\n")
    _abstract(tree, "right", "root", "description: from right\n")
    _abstract(tree, "child", "left, right")
    loaded = tree.loader().load_checked("child")
    assert loaded.config.description == "from left"
    [warning] = loaded.warnings
    assert warning.path == "description" and warning.file == tree.root / "left" / "domain.yaml"
    assert "'left' and 'right' both set this differently; 'left' wins" in warning.message


def test_a_child_setting_the_leaf_settles_the_conflict(tree: Tree) -> None:
    _abstract(tree, "left", body="description: from left\n")
    _abstract(tree, "right", body="description: from right\n")
    _abstract(tree, "child", "left, right", "description: mine\n")
    loaded = tree.loader().load_checked("child")
    assert loaded.config.description == "mine" and loaded.warnings == []


def test_descendant_overriding_an_ancestor_is_not_a_conflict(tree: Tree) -> None:
    _abstract(tree, "root", body="description: root\n")
    _abstract(tree, "left", "root", "description: left\n")
    _abstract(tree, "right", "root")
    _abstract(tree, "child", "left, right")
    loaded = tree.loader().load_checked("child")
    assert loaded.config.description == "left" and loaded.warnings == []


def test_name_extends_abstract_are_not_inherited(tree: Tree) -> None:
    tree.base()
    tree.domain("shop", "extends: [_base]\n")
    config = tree.loader().load("shop")
    assert config.name == "shop" and config.extends == ["_base"] and config.abstract is False
    assert tree.loader().load("_base").abstract is True  # a leading '_' means abstract


def test_data_paths_are_relative_to_the_file_that_wrote_them(tree: Tree) -> None:
    tree.base()
    tree.domain(
        "shop",
        "extends: [_base]\ntools:\n  faq:\n    settings:\n      files: [faq.yaml]\n",
        faq__yaml="- {question: Onde fica?, answer: No centro.}\n",
    )
    config = tree.loader().load("shop")
    assert config.tools["catalog"].settings["file"] == str(tree.root / "_base" / "catalog.csv")
    assert [p.sku for p in config.data.catalogs["catalog"]] == ["A1", "A2"]
    assert config.data.knowledge["faq"][0].answer == "No centro."


def test_resolution_is_logged_at_debug(tree: Tree, caplog: pytest.LogCaptureFixture) -> None:
    _abstract(tree, "p", body="description: p\n")
    _abstract(tree, "c", "p", "description: c\n")
    with caplog.at_level(logging.DEBUG, logger="chatwootai.config"):
        tree.loader().load("c")
    text = caplog.text
    assert "resolution order c -> p" in text and "'c' overrides description" in text


def test_appending_a_data_file_of_the_same_name_keeps_both(tree: Tree) -> None:
    tree.base()
    tree.domain(
        "shop",
        "extends: [_base]\ntools:\n  faq:\n    settings:\n      files+: [faq.yaml]\n",
        faq__yaml="- {question: Entrega?, answer: Sim.}\n",
    )
    config = tree.loader().load("shop")
    assert config.tools["faq"].settings["files"] == [
        str(tree.root / "_base" / "faq.yaml"),
        str(tree.root / "shop" / "faq.yaml"),
    ]
    assert [e.answer for e in config.data.knowledge["faq"]] == ["Das 9h às 18h.", "Sim."]
    tree.domain(
        "shop",
        "extends: [_base]\ntools:\n  faq:\n    settings:\n"
        "      files-: [faq.yaml]\n      files+: [mine.yaml]\n",
        mine__yaml="- {question: Troca?, answer: Em 7 dias.}\n",
    )
    config = tree.loader().load("shop")  # '-' removes by the name as written
    assert [e.answer for e in config.data.knowledge["faq"]] == ["Em 7 dias."]
