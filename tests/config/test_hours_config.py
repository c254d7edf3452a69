"""`hours:`, `resolution:` and the resolve tool in domain YAML: validated at file:line,
inherited like the rest (maps by key, lists replaced, `holidays+` appends)."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import pytest

from chatwootai.config.errors import ConfigError

if TYPE_CHECKING:
    from conftest import Tree


def _issues(tree: Tree, name: str = "shop") -> list[str]:
    with pytest.raises(ConfigError) as caught:
        tree.loader().load(name)
    return [str(issue) for issue in caught.value.issues]


def _shop(tree: Tree, body: str) -> str:
    tree.base()
    return str(tree.domain("shop", "extends: [_base]\n" + textwrap.dedent(body)))


def test_hours_and_resolution_load(tree: Tree) -> None:
    _shop(
        tree,
        """\
        timezone: America/Recife
        hours:
          monday: ["08:00-12:00", "14:00-18:00"]
          saturday: [09:00-13:00]
          holidays:
            - {date: 2026-12-25, name: Natal}
            - {date: "12-24", hours: ["08:00-12:00"]}
          outside_handoff: bot_until_open
        resolution:
          inactivity_hours: 12
          closing_message: Até logo!
        """,
    )
    config = tree.loader().load("shop")
    assert config.hours is not None
    assert config.hours.monday == ["08:00-12:00", "14:00-18:00"]
    assert config.hours.saturday == ["09:00-13:00"]
    assert [h.date for h in config.hours.holidays] == ["2026-12-25", "12-24"]
    assert config.hours_timezone() == "America/Recife"
    assert config.resolution.inactivity_hours == 12
    assert config.resolution.closing_message == "Até logo!"


def test_bad_hours_are_errors_at_their_lines(tree: Tree) -> None:
    path = _shop(
        tree,
        """\
        hours:
          timezone: America/Sao Paulo
          monday: ["08:00-12:00", "11:00-14:00"]
          tuesday: ["18:00-02:00"]
          holidays:
            - {date: 25/12}
          outside_handoff: later
        resolution:
          inactivity_hours: 0
        """,
    )
    issues = _issues(tree)
    assert any(i.startswith(f"{path}:3:3:") and "unknown timezone" in i for i in issues), issues
    assert any(i.startswith(f"{path}:4:3:") and "overlap" in i for i in issues), issues
    assert any(
        i.startswith(f"{path}:5:3:") and "ends before it starts" in i and "24:00" in i
        for i in issues
    ), issues
    assert any(i.startswith(f"{path}:7:8:") and "is not a date" in i for i in issues), issues
    assert any(i.startswith(f"{path}:8:3:") and "outside_handoff" in i for i in issues), issues
    assert any(i.startswith(f"{path}:10:3:") and "inactivity_hours" in i for i in issues), issues


def test_a_domain_timezone_must_be_known(tree: Tree) -> None:
    path = _shop(tree, "timezone: Mars/Olympus\n")
    [issue] = _issues(tree)
    assert issue.startswith(f"{path}:2:") and "unknown timezone 'Mars/Olympus'" in issue


def test_hours_without_a_shift_are_an_error(tree: Tree) -> None:
    path = _shop(tree, "hours:\n  holidays: [{date: '12-25'}]\n")
    [issue] = _issues(tree)
    assert issue.startswith(f"{path}:2:1: hours: no shift on any day"), issue


def test_hours_are_inherited_day_by_day_and_holidays_appended(tree: Tree) -> None:
    tree.base()
    tree.domain(
        "_hours",
        """\
        abstract: true
        extends: [_base]
        hours:
          monday: ["08:00-18:00"]
          friday: ["08:00-18:00"]
          holidays: [{date: "12-25", name: Natal}]
        """,
    )
    tree.domain(
        "shop",
        """\
        extends: [_hours]
        hours:
          friday: ["08:00-12:00"]
          holidays+: [{date: "2027-03-26", name: Sexta-feira Santa}]
        """,
    )
    config = tree.loader().load("shop")
    assert config.hours is not None
    assert config.hours.monday == ["08:00-18:00"]
    assert config.hours.friday == ["08:00-12:00"]
    assert [h.name for h in config.hours.holidays] == ["Natal", "Sexta-feira Santa"]


def test_the_resolve_tool_is_granted_like_the_others(tree: Tree) -> None:
    path = _shop(
        tree,
        """\
        tools:
          encerrar:
            kind: resolve
            settings:
              closing_message: ""
            grants: [helper]
        agents:
          helper:
            tools+: [encerrar]
        """,
    )
    issues = _issues(tree)
    assert len(issues) == 1 and "closing_message" in issues[0], issues
    assert issues[0].startswith(f"{path}:")


def test_an_out_of_hours_text_must_say_when_the_team_is_back(tree: Tree) -> None:
    path = _shop(
        tree,
        """\
        hours:
          monday: ["08:00-18:00"]
          texts:
            open_now: Estamos fora do horário.
        """,
    )
    [issue] = _issues(tree)
    assert issue.startswith(f"{path}:5:5: hours.texts.open_now: write '{{back}}'"), issue
