"""Whether a domain is abstract is decided by the schema's reading of `abstract:` everywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chatwootai.config.errors import ConfigError

if TYPE_CHECKING:
    from conftest import Tree


@pytest.mark.parametrize(
    ("written", "expected"), [("'yes'", True), ("'true'", True), ("1", True), ("'no'", False)]
)
def test_the_loader_reads_abstract_as_the_schema_does(
    tree: Tree, written: str, expected: bool
) -> None:
    tree.base()
    tree.domain("shop", f"extends: [_base]\nabstract: {written}\n")
    loader = tree.loader()
    assert loader.load("shop").abstract is expected
    assert loader.is_abstract("shop") is expected


def test_tenants_cannot_map_a_domain_abstract_by_a_quoted_yes(tree: Tree) -> None:
    tree.base()
    tree.domain("shop", "extends: [_base]\nabstract: 'yes'\n")
    (tree.root / "tenants.yaml").write_text("accounts:\n  '1': shop\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'shop' is abstract"):
        tree.loader().load_tenants()


def test_a_base_named_with_underscore_is_abstract_unless_it_says_otherwise(tree: Tree) -> None:
    tree.base()
    assert tree.loader().is_abstract("_base")
    tree.domain("_plain", "abstract: false\n")
    assert not tree.loader().is_abstract("_plain")
