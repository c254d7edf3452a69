"""Small domain trees written to tmp_path, and a loader over them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from chatwootai.config.loader import DomainLoader

BASE = """\
abstract: true
agents:
  seller:
    type: SalesAgent
    role: Seller
    goal: Sell from the catalog
    tools: [catalog, faq]
  helper:
    type: SupportAgent
    role: Helper
    goal: Answer questions
    tools: [faq]
crews:
  sales:
    name: Sales
    agents: [seller]
    workflow:
      - step: answer
        agent: seller
        description: Answer the customer
        tools: [catalog]
  support:
    name: Support
    agents: [helper]
tools:
  catalog:
    kind: catalog
    settings:
      file: catalog.csv
    grants: [seller]
  faq:
    kind: knowledge
    settings:
      files: [faq.yaml]
    grants: [seller, helper]
routing:
  default_crew: support
  crews:
    sales:
      keywords: [preço, comprar]
"""

CATALOG = """\
sku,name,category,price,stock,description
A1,Batom,maquiagem,"49,90",3,Batom vermelho
A2,Creme,pele,89.00,0,Creme hidratante
"""

FAQ = """\
- question: Qual o horário?
  answer: Das 9h às 18h.
  tags: [horario]
"""


class Tree:
    """Writes domains under a temporary domains directory."""

    BASE = BASE

    def __init__(self, root: Path) -> None:
        self.root = root

    def domain(self, name: str, text: str, **files: str) -> Path:
        """Write `<name>/domain.yaml` (dedented) and data files given as name=text."""
        directory = self.root / name
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "domain.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        for file_name, content in files.items():
            (directory / file_name.replace("__", ".")).write_text(
                textwrap.dedent(content), encoding="utf-8"
            )
        return path

    def base(self, name: str = "_base", text: str = BASE) -> Path:
        """A complete abstract base with its data files."""
        return self.domain(name, text, catalog__csv=CATALOG, faq__yaml=FAQ)

    def loader(self, packages: tuple[str, ...] = ()) -> DomainLoader:
        """A fresh loader over the tree."""
        return DomainLoader(self.root, agent_packages=packages)


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    """An empty domains directory."""
    root = tmp_path / "domains"
    root.mkdir()
    return Tree(root)
