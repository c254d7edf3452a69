"""Errors caused by a parent's requirement name the child that must satisfy it."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatwootai.config.errors import ConfigError
from chatwootai.config.loader import DomainLoader

DOMAINS = Path(__file__).resolve().parents[2] / "domains"


@pytest.fixture
def domains(tmp_path: Path) -> Path:
    root = tmp_path / "domains"
    (root / "_base").mkdir(parents=True)
    (root / "_base" / "domain.yaml").write_bytes((DOMAINS / "_base" / "domain.yaml").read_bytes())
    (root / "petshop").mkdir()
    return root


def _issues(domains: Path, text: str) -> dict[str, str]:
    (domains / "petshop" / "domain.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        DomainLoader(domains).load("petshop")
    own = domains / "petshop" / "domain.yaml"
    found = {}
    for issue in caught.value.issues:
        found[issue.path] = issue.message
        if issue.path.startswith("tools."):
            assert issue.file == own and issue.line == 1  # at the child's `extends:`
    return found


def test_a_child_of_base_is_told_which_data_it_must_supply(domains: Path) -> None:
    issues = _issues(domains, "extends: [_base]\n")
    calendar = issues["tools.agenda.settings.file"]
    assert calendar.startswith(
        "domain 'petshop' must supply the data of tool 'agenda' (calendar), declared without "
        "data by its parent '_base' at "
    )
    assert "`tools: {agenda: {settings: {file: calendar.yaml}}}`" in calendar
    assert calendar.endswith(
        "add `crews-: [scheduling]` to " + str(domains / "petshop" / "domain.yaml")
    )
    assert "`tools-: [pedidos]`" in issues["tools.pedidos.settings.file"]
    assert "`crews-: [sales]`" in issues["tools.catalogo.settings.file"]
    # the support crew (the default) cannot do without its knowledge base: no removal offered
    assert "to do without it" not in issues["tools.faq.settings.files"]


def test_a_requirement_broken_by_the_child_names_it(domains: Path) -> None:
    (domains / "petshop" / "faq.yaml").write_text("- {question: a, answer: b}\n", encoding="utf-8")
    (domains / "petshop" / "c.csv").write_text(
        "sku,name,category,price,stock,description\nA,B,C,1,1,D\n", encoding="utf-8"
    )
    issues = _issues(
        domains,
        "extends: [_base]\ntools-: [agenda, pedidos]\n"
        "tools:\n  faq: {settings: {files: [faq.yaml]}}\n  catalogo: {settings: {file: c.csv}}\n",
    )
    message = issues["agents.agendador"]
    assert "a SchedulingAgent needs a tool of kind calendar" in message
    assert "(inherited by 'petshop' from '_base': fix it in " in message
