"""The example domains shipped in domains/ validate cleanly, tenants.yaml included."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatwootai.config.loader import DomainLoader

DOMAINS = Path(__file__).resolve().parents[2] / "domains"
LOADER = DomainLoader(DOMAINS)


@pytest.mark.parametrize("name", LOADER.names())
def test_example_domain_is_valid(name: str) -> None:
    loaded = LOADER.load_checked(name)
    assert loaded.config.name == name
    if not loaded.config.abstract:
        assert loaded.config.routing is not None and loaded.config.crews


def test_example_tenants_are_valid() -> None:
    tenants = LOADER.load_tenants()
    for entry in [*tenants.accounts.values(), *tenants.inboxes.values()]:
        assert entry.domain in LOADER.names()
