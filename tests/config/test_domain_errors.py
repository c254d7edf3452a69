"""Clear errors at file:line for a domain that extends itself, a parent listed twice, an invalid
folder name, folders that are not domains, and files that cannot be read."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from chatwootai.config.cache import FileCache
from chatwootai.config.errors import ConfigError
from chatwootai.config.inheritance import DOMAIN_NAME_RULE, domain_name_for
from chatwootai.config.source import parse_yaml_bytes

if TYPE_CHECKING:
    from conftest import Tree


def _issues(tree: Tree, name: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        tree.loader().load(name)
    return [str(issue) for issue in caught.value.issues]


def test_a_domain_extending_itself_is_an_error_at_its_extends_entry(tree: Tree) -> None:
    tree.base()
    tree.domain("petshop", "description: pets\nextends: [_base, petshop]\n")
    file = tree.root / "petshop" / "domain.yaml"
    assert _issues(tree, "petshop") == [
        f"{file}:2:18: extends: domain 'petshop' extends itself: a domain cannot be its own "
        "parent; remove 'petshop' from 'extends'"
    ]


def test_a_base_extending_itself_does_not_stop_its_children_from_being_checked(
    tree: Tree,
) -> None:
    tree.base("_base", "abstract: true\nextends: _base\n")
    tree.domain("shop", "extends: [_base]\n")
    issues = _issues(tree, "shop")
    assert len(issues) == 1 and "domain '_base' extends itself" in issues[0]
    assert issues[0].startswith(f"{tree.root / '_base' / 'domain.yaml'}:2:")


def test_a_parent_listed_twice_is_an_error_at_the_second_entry(tree: Tree) -> None:
    tree.base()
    tree.domain("shop", "extends:\n  - _base\n  - _base\n")
    assert _issues(tree, "shop") == [
        f"{tree.root / 'shop' / 'domain.yaml'}:3:5: extends: parent '_base' is listed twice "
        "(first at line 2, column 5): list each parent once"
    ]


def test_every_missing_parent_and_bad_entry_is_reported_at_once(tree: Tree) -> None:
    tree.base()
    tree.domain("shop", "extends: [_bsae, nope]\n")
    issues = _issues(tree, "shop")
    assert [i.split(": ", 1)[1] for i in issues] == [
        "extends: parent domain '_bsae' does not exist (did you mean '_base'?)",
        "extends: parent domain 'nope' does not exist",
    ]
    tree.domain("shop", "extends: [_base, 3, {x: 1}]\n")
    assert [i.split(": ", 1)[1] for i in _issues(tree, "shop")] == [
        "extends[1]: must be a domain name, not a number",
        "extends[2]: must be a domain name, not a mapping",
    ]


def test_a_cycle_through_two_domains_names_the_chain(tree: Tree) -> None:
    tree.domain("a", "abstract: true\nextends: [b]\n")
    tree.domain("b", "abstract: true\nextends: [a]\n")
    assert "inheritance cycle: b -> a -> b" in _issues(tree, "b")[0]


def test_an_invalid_folder_name_names_the_rule_and_never_suggests_itself(tree: Tree) -> None:
    tree.base()
    tree.domain("Pet_Shop", "extends: [_base]\n")
    loader = tree.loader()
    assert "Pet_Shop" in loader.names()  # listed, so that checking it reports it
    (issue,) = _issues(tree, "Pet_Shop")
    assert issue == (
        f"{tree.root / 'Pet_Shop' / 'domain.yaml'}:1:1: folder 'Pet_Shop' is not a valid domain "
        f"name: {DOMAIN_NAME_RULE}; rename the folder, for example to 'pet_shop'"
    )
    assert "did you mean" not in issue


def test_a_missing_domain_never_suggests_an_invalid_folder(tree: Tree) -> None:
    tree.domain("Shop", "abstract: true\n")
    with pytest.raises(ConfigError) as caught:
        tree.loader().load("shop")
    assert caught.value.issues[0].suggestion is None


@pytest.mark.parametrize(
    ("folder", "suggested"),
    [("Pet Shop", "pet-shop"), ("Loja Ção", "loja-cao"), ("_Base", "_base"), ("ok", None)],
)
def test_invalid_folder_names_get_a_valid_suggestion(folder: str, suggested: str | None) -> None:
    assert domain_name_for(folder) == suggested


def test_folders_without_a_domain_file_are_warnings(tree: Tree) -> None:
    tree.base()
    (tree.root / "shop").mkdir()
    (tree.root / "shop" / "domain.yml").write_text("extends: [_base]\n")
    (tree.root / "empty").mkdir()
    (tree.root / ".git").mkdir()
    warnings = [str(w) for w in tree.loader().stray_folders()]
    assert warnings == [
        f"{tree.root / 'empty'}: folder 'empty' has no domain.yaml, so it is not a domain and is "
        "ignored",
        f"{tree.root / 'shop'}: folder 'shop' has no domain.yaml, so it is not a domain and is "
        "ignored: rename 'domain.yml' to 'domain.yaml'",
    ]


def test_a_domain_file_that_is_not_a_mapping_is_an_error(tree: Tree) -> None:
    tree.domain("shop", "- a\n- b\n")
    assert f"{tree.root / 'shop' / 'domain.yaml'}:1:1: a domain file must be a mapping" in (
        _issues(tree, "shop")
    )


def test_bytes_that_are_not_utf8_or_yaml_are_located() -> None:
    file = Path("domain.yaml")
    for content, expected in (
        (b"a: 1\nb: caf\xe9\n", "domain.yaml:2:7: not UTF-8 text: byte 0xe9 cannot be read"),
        (b"a: 1\nb: \x00\n", "domain.yaml:2:4: character U+0000 is not allowed in YAML"),
    ):
        with pytest.raises(ConfigError) as caught:
            parse_yaml_bytes(content, file)
        assert str(caught.value.issues[0]).startswith(expected)


def test_an_unreadable_file_is_an_error_not_a_crash(
    tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree.base()
    tree.domain("shop", "extends: [_base]\n")
    real = Path.read_bytes

    def refuse(path: Path) -> bytes:
        if path.name == "domain.yaml" and path.parent.name == "shop":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    (issue,) = _issues(tree, "shop")
    assert "cannot read file" in issue and "Permission denied" in issue


def test_a_cached_error_is_raised_afresh_each_time(tmp_path: Path) -> None:
    """Re-raising one exception object would grow its traceback on every read."""
    file = tmp_path / "domain.yaml"
    file.write_text("a: [\n")
    cache = FileCache()
    raised = []
    for _ in range(3):
        with pytest.raises(ConfigError) as caught:
            cache.get(file, "yaml", parse_yaml_bytes)
        raised.append(caught.value)
    assert len({id(error) for error in raised}) == 3
    assert raised[1].issues == raised[2].issues and cache.hits == 2


def test_tenants_naming_bad_domains_are_read_and_reported_separately(tree: Tree) -> None:
    tree.base()
    tree.domain("shop", "extends: [_base]\n")
    (tree.root / "tenants.yaml").write_text(
        "accounts:\n  '1': shop\n  '2': bakery\n  '3': _base\n", encoding="utf-8"
    )
    loader = tree.loader()
    tenants = loader.read_tenants()
    assert sorted(tenants.accounts) == ["1", "2", "3"]
    issues = [str(i) for i in loader.tenant_issues(tenants)]
    file = tree.root / "tenants.yaml"
    assert issues == [
        f"{file}:3:3: accounts.2.domain: unknown domain 'bakery'; domains: _base, shop",
        f"{file}:4:3: accounts.3.domain: domain '_base' is abstract: never served",
    ]
    with pytest.raises(ConfigError):
        loader.load_tenants()  # `validate` still fails on them
