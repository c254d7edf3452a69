"""Data files: FAQ, catalog CSV, calendar and orders parsed, errors at the data file's line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from chatwootai.config import datafiles
from chatwootai.config.errors import ConfigError, ConfigIssue

if TYPE_CHECKING:
    from conftest import Tree

FILE = Path("domains/x/data")


def _issues(parse: object, text: str, name: str) -> list[ConfigIssue]:
    assert callable(parse)
    with pytest.raises(ConfigError) as caught:
        parse(text.encode(), FILE.with_name(name))
    return caught.value.issues


def test_catalog_rows_parse_with_brazilian_prices_and_tags() -> None:
    text = 'sku,name,category,price,stock,description,tags\nA,Batom,m,"1.234,50",2,d,a; b\n'
    [product] = datafiles.parse_catalog(text.encode(), FILE.with_name("c.csv"))
    assert str(product.price) == "1234.50" and product.tags == ["a", "b"]


def test_catalog_missing_and_unknown_columns() -> None:
    [missing, unknown] = _issues(datafiles.parse_catalog, "sku,name,prize\n", "c.csv")
    assert missing.line == 1 and "category, price, stock, description" in missing.message
    assert "unknown catalog column(s): prize" in unknown.message


def test_catalog_bad_rows_reported_by_line() -> None:
    text = (
        "sku,name,category,price,stock,description\n"
        "A,Ok,c,1,1,d\n"
        'B,"Two\nlines",c,abc,1,d\n'
        "C,Neg,c,1,-1,d\n"
        "A,Dup,c,1,1,d\n"
    )
    issues = _issues(datafiles.parse_catalog, text, "c.csv")
    assert [(i.line, i.file) for i in issues] == [(3, FILE.with_name("c.csv"))] * 1 + [
        (5, FILE.with_name("c.csv")),
        (6, FILE.with_name("c.csv")),
    ]
    assert "column 'price'" in issues[0].message
    assert "column 'stock'" in issues[1].message
    assert "duplicate sku 'A' (first: line 2)" in issues[2].message


def test_faq_errors_point_at_the_entry() -> None:
    text = "- question: Q\n  answer: A\n- question: Q2\n  anwser: A2\n"
    issues = _issues(datafiles.parse_faq, text, "faq.yaml")
    paths = {(i.path, i.line, i.suggestion) for i in issues}
    assert ("[1].anwser", 4, "answer") in paths
    assert ("[1].answer", 3, None) in paths


def test_faq_must_be_a_list() -> None:
    [issue] = _issues(datafiles.parse_faq, "question: Q\n", "faq.yaml")
    assert "must be a YAML list" in issue.message


def test_markdown_knowledge_headings_become_entries() -> None:
    text = "# Horário\nDas 9h às 18h.\n\n## Entrega\nTodo o Brasil.\n"
    entries = datafiles.parse_faq(text.encode(), FILE.with_name("faq.md"))
    assert [(e.question, e.answer) for e in entries] == [
        ("Horário", "Das 9h às 18h."),
        ("Entrega", "Todo o Brasil."),
    ]


def test_calendar_parses_and_reports_bad_windows() -> None:
    good = (
        "services:\n  - {id: corte, name: Corte, duration_minutes: 30}\n"
        "week:\n  - {weekday: 0, start: '09:00', end: '18:00'}\n"
        "closed_dates: [2025-12-25]\n"
    )
    calendar = datafiles.parse_calendar(good.encode(), FILE.with_name("calendar.yaml"))
    assert calendar.services[0].id == "corte" and str(calendar.closed_dates[0]) == "2025-12-25"
    bad = good.replace("'18:00'", "'08:00'")
    [issue] = _issues(datafiles.parse_calendar, bad, "calendar.yaml")
    assert (
        issue.path == "week[0]" and issue.line == 4 and "end must be after start" in issue.message
    )


def test_orders_parse_and_report_by_line() -> None:
    text = (
        "- id: '1001'\n  status: enviado\n  created: 2025-01-10\n"
        "- id: '1002'\n  status: pago\n  created: ontem\n"
    )
    [issue] = _issues(datafiles.parse_orders, text, "orders.yaml")
    assert issue.path == "[1].created" and issue.line == 6
    orders = datafiles.parse_orders(text.split("- id: '1002'")[0].encode(), FILE)
    assert orders[0].status == "enviado"


def test_bad_data_file_fails_the_domain_with_the_data_files_line(tree: Tree) -> None:
    tree.base()
    tree.domain(
        "shop",
        "extends: [_base]\ntools:\n  catalog:\n    settings: {file: catalog.csv}\n",
        catalog__csv="sku,name,category,price,stock,description\nA,x,c,-1,1,d\n",
    )
    with pytest.raises(ConfigError) as caught:
        tree.loader().load("shop")
    [issue] = caught.value.issues
    assert issue.file == tree.root / "shop" / "catalog.csv" and issue.line == 2
