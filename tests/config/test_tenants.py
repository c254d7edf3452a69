"""tenants.yaml: accounts and inboxes mapped to existing, served domains."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chatwootai.config.errors import ConfigError

if TYPE_CHECKING:
    from conftest import Tree


def test_absent_tenants_file_is_empty(tree: Tree) -> None:
    tenants = tree.loader().load_tenants()
    assert tenants.accounts == {} and tenants.inboxes == {}


def test_tenants_map_accounts_and_inboxes(tree: Tree) -> None:
    tree.base()
    tree.domain("shop", "extends: [_base]\n")
    (tree.root / "tenants.yaml").write_text(
        "accounts:\n  3: shop\ninboxes:\n  12: {domain: shop, webhook_secret_env: SHOP_SECRET}\n"
    )
    tenants = tree.loader().load_tenants()
    assert tenants.accounts["3"].domain == "shop"
    entry = tenants.entry_for(3, 12)
    assert entry is not None and entry.webhook_secret_env == "SHOP_SECRET"


def test_tenants_name_existing_served_domains(tree: Tree) -> None:
    tree.base()
    tree.domain("shop", "extends: [_base]\n")
    (tree.root / "tenants.yaml").write_text(
        "accounts:\n  3: shp\n  4: _base\ninboxes:\n  9: {domain: shop, api_token_env: lower}\n"
    )
    with pytest.raises(ConfigError) as caught:
        tree.loader().load_tenants()
    [issue] = caught.value.issues
    assert issue.path == "inboxes.9.api_token_env" and issue.line == 5
    (tree.root / "tenants.yaml").write_text("accounts:\n  3: shp\n  4: _base\n")
    with pytest.raises(ConfigError) as caught:
        tree.loader().load_tenants()
    unknown, abstract = caught.value.issues
    assert unknown.line == 2 and unknown.suggestion == "shop"
    assert abstract.line == 3 and "is abstract" in abstract.message


def test_tenants_unknown_key(tree: Tree) -> None:
    (tree.root / "tenants.yaml").write_text("acounts: {}\n")
    with pytest.raises(ConfigError) as caught:
        tree.loader().load_tenants()
    assert caught.value.issues[0].suggestion == "accounts"
