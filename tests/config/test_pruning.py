"""Removing an inherited capability is one step; what only it used goes with it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from chatwootai.config.errors import ConfigError
from chatwootai.config.loader import DomainLoader

DOMAINS = Path(__file__).resolve().parents[2] / "domains"
DATA = (
    "tools:\n  faq: {settings: {files: [faq.yaml]}}\n  catalogo: {settings: {file: catalog.csv}}\n"
)


@pytest.fixture
def domains(tmp_path: Path) -> Path:
    """The repo's _base and retail (with its data) beside an empty `shop`."""
    root = tmp_path / "domains"
    root.mkdir()
    for name in ("_base", "retail"):
        source = DOMAINS / name
        (root / name).mkdir()
        for file in source.iterdir():
            if file.is_file():
                (root / name / file.name).write_bytes(file.read_bytes())
    shop = root / "shop"
    shop.mkdir()
    (shop / "faq.yaml").write_text("- {question: Abre domingo?, answer: Não.}\n", encoding="utf-8")
    (shop / "catalog.csv").write_text(
        "sku,name,category,price,stock,description\nA,Arroz,mercado,5,1,Arroz\n", encoding="utf-8"
    )
    return root


def _write(domains: Path, text: str, name: str = "shop") -> None:
    (domains / name / "domain.yaml").write_text(text, encoding="utf-8")


def test_removing_scheduling_takes_its_agent_tool_route_and_label(
    domains: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "chatwootai.config")
    _write(domains, "extends: [_base]\ncrews-: [scheduling]\ntools-: [pedidos]\n" + DATA)
    config = DomainLoader(domains).load("shop")
    assert set(config.crews) == {"sales", "support"}
    assert "agendador" not in config.agents and "agenda" not in config.tools
    assert config.routing is not None and "scheduling" not in config.routing.crews
    assert "scheduling" not in config.chatwoot.crew_labels
    assert "agendador" not in config.tools["faq"].grants
    assert "pedidos" not in config.agents["atendente"].tools
    support_step = config.crews["support"].workflow[0]
    assert support_step.tools is not None and "pedidos" not in support_step.tools
    assert "removing crew scheduling; tool pedidos also removed agent agendador; tool agenda" in (
        caplog.text
    )


def test_an_agent_another_crew_still_uses_is_kept(domains: Path) -> None:
    # retail's hierarchical sales crew has agendador as a member: the agenda stays
    _write(domains, "extends: [retail]\ncrews-: [scheduling]\n")
    config = DomainLoader(domains).load("shop")
    assert "agendador" in config.agents and "agenda" in config.tools
    assert "scheduling" not in config.crews


def test_the_default_crew_must_still_be_chosen(domains: Path) -> None:
    _write(
        domains,
        "extends: [_base]\ncrews-: [support]\n" + DATA + "  agenda: {settings: {file: x}}\n",
    )
    with pytest.raises(ConfigError) as caught:
        DomainLoader(domains).load("shop")
    assert any(
        i.path == "routing.default_crew" and "unknown crew 'support'" in i.message
        for i in caught.value.issues
    )


def test_a_domains_own_mistakes_are_not_pruned(domains: Path) -> None:
    _write(
        domains,
        "extends: [_base]\ncrews-: [scheduling]\ntools-: [pedidos]\n"
        + DATA
        + "agents:\n  vendedor:\n    tools+: [catalgo]\n",
    )
    with pytest.raises(ConfigError, match="unknown tool 'catalgo'"):
        DomainLoader(domains).load("shop")
