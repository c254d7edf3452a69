"""A domain reads only files inside its own directory; parents are domain names, not paths."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chatwootai.config.errors import ConfigError, ConfigIssue

if TYPE_CHECKING:
    from conftest import Tree

ORDERS = """\
- id: "1001"
  status: enviado
  created: 2026-11-20
"""

SECRET = ORDERS.replace("1001", "9999")


def _child(orders_file: str) -> str:
    return f"""\
extends: [_base]
tools:
  orders:
    kind: orders
    settings:
      file: {orders_file}
"""


def _issues(tree: Tree, name: str) -> list[ConfigIssue]:
    with pytest.raises(ConfigError) as caught:
        tree.loader().load(name)
    return caught.value.issues


def _other_business(tree: Tree) -> str:
    tree.base()
    tree.domain("other", "extends: [_base]\n", orders__yaml=SECRET)
    return str(tree.root / "other" / "orders.yaml")


def test_a_data_path_climbing_out_of_the_domain_directory_is_refused(tree: Tree) -> None:
    _other_business(tree)
    tree.domain("shop", _child("../other/orders.yaml"))
    [issue] = _issues(tree, "shop")
    assert issue.file == tree.root / "shop" / "domain.yaml" and issue.line == 6
    assert issue.path == "tools.orders.settings.file"
    assert "outside" in issue.message and "../other/orders.yaml" in issue.message


def test_an_absolute_data_path_is_refused(tree: Tree) -> None:
    secret = _other_business(tree)
    tree.domain("shop", _child(secret))
    [issue] = _issues(tree, "shop")
    assert issue.line == 6 and "absolute" in issue.message


def test_a_knowledge_file_out_of_bounds_is_refused_at_its_item(tree: Tree) -> None:
    _other_business(tree)
    text = """\
    extends: [_base]
    tools:
      faq:
        settings:
          files: [faq.yaml, ../_base/faq.yaml]
    """
    tree.domain("shop", text, faq__yaml="- question: Q\n  answer: A\n")
    [issue] = _issues(tree, "shop")
    assert issue.path == "tools.faq.settings.files[1]" and issue.line == 5


def test_inherited_data_files_are_read_from_the_parents_directory(tree: Tree) -> None:
    tree.base()
    tree.domain("shop", "extends: [_base]\n")
    config = tree.loader().load("shop")
    assert [p.sku for p in config.data.catalogs["catalog"]] == ["A1", "A2"]


def test_a_subdirectory_of_the_domain_is_fine(tree: Tree) -> None:
    tree.base()
    tree.domain("shop", _child("data/../data/orders.yaml"))
    (tree.root / "shop" / "data").mkdir()
    (tree.root / "shop" / "data" / "orders.yaml").write_text(ORDERS, encoding="utf-8")
    config = tree.loader().load("shop")
    assert [o.id for o in config.data.orders["orders"]] == ["1001"]


@pytest.mark.parametrize("parent", ["../outside", "other/../_base", "/tmp/x"])
def test_a_parent_must_be_a_domain_name(tree: Tree, parent: str) -> None:
    tree.base()
    (tree.root.parent / "outside").mkdir()
    (tree.root.parent / "outside" / "domain.yaml").write_text("abstract: true\n", encoding="utf-8")
    tree.domain("shop", f"extends: ['{parent}']\n")
    [issue] = _issues(tree, "shop")
    assert issue.line == 1 and "domain name" in issue.message


def test_a_domain_name_that_is_a_path_is_unknown(tree: Tree) -> None:
    tree.base()
    (tree.root.parent / "outside").mkdir()
    (tree.root.parent / "outside" / "domain.yaml").write_text("abstract: true\n", encoding="utf-8")
    [issue] = _issues(tree, "../outside")
    assert "no domain" in issue.message
