"""Conversation test files: found beside each domain, inherited like it, errors at file:line."""

from __future__ import annotations

import pytest

from chatwootai.convtest.loader import ConversationTestLoader, TestFileError

from .conftest import Project


def _ids(project: Project, domain: str) -> dict[str, str]:
    """Test id -> the domain that defines it, or 'skip: reason'."""
    loader = project.loader()
    tests = ConversationTestLoader(loader).tests_for(domain, loader.load(domain))
    return {t.id: (f"skip: {t.skip}" if t.skip else t.origin) for t in tests}


def test_a_child_runs_its_own_and_its_parents_tests(project: Project) -> None:
    ids = _ids(project, "loja")
    assert ids["preco-de-produto"] == "loja"
    assert ids["pede-atendente"] == "_base"  # from domains/_base/tests/basics.yaml


def test_tests_minus_removes_and_same_id_overrides(project: Project) -> None:
    project.tests(
        "loja",
        "ajustes.yaml",
        """\
        tests-: [reclamacao]
        tests:
          audio:
            description: this domain's own version
            turns:
              - say: ""
                attachment: image
                expect: {crew: non_text}
        """,
    )
    ids = _ids(project, "loja")
    assert "reclamacao" not in ids
    assert ids["audio"] == "loja"


def test_inherit_false_keeps_tests_to_their_domain(project: Project) -> None:
    project.tests(
        "_base",
        "only-base.yaml",
        """\
        inherit: false
        tests:
          so-na-base:
            turns: [{say: oi}]
        """,
    )
    project.tests(
        "loja",
        "one.yaml",
        """\
        tests:
          propria:
            inherit: false
            turns: [{say: oi}]
        """,
    )
    project.domain("filial", "extends: [loja]\n")
    assert "so-na-base" not in _ids(project, "loja")
    ids = _ids(project, "filial")
    assert "propria" not in ids and "preco-de-produto" in ids


def test_an_inherited_test_naming_a_removed_crew_is_skipped(project: Project) -> None:
    project.tests(
        "_base",
        "agenda.yaml",
        """\
        tests:
          agenda-da-base:
            turns:
              - say: quero agendar
                expect: {crew: scheduling}
        """,
    )
    project.domain("sem-agenda", "extends: [loja]\ncrews-: [scheduling]\n")
    ids = _ids(project, "sem-agenda")
    assert ids["agenda-da-base"].startswith("skip: not applicable here: domain 'sem-agenda'")
    assert "no crew 'scheduling'" in ids["agenda-da-base"]


def test_own_tests_naming_unknown_crews_or_tools_are_errors_at_their_line(
    project: Project,
) -> None:
    path = project.tests(
        "loja",
        "erros.yaml",
        """\
        tests:
          errado:
            turns:
              - say: oi
              - say: quanto custa?
                expect:
                  crew: vendas
                  tools: [{tool: catalgo}]
        """,
    )
    with pytest.raises(TestFileError) as caught:
        _ids(project, "loja")
    issues = {(i.file, i.line, i.path): i for i in caught.value.issues}
    crew = issues[(path, 5, "tests.errado.turns[1].expect.crew")]
    assert crew.suggestion is None and "has no crew 'vendas'" in crew.message
    tool = issues[(path, 5, "tests.errado.turns[1].expect.tools")]
    assert tool.suggestion == "catalogo"


def test_schema_errors_have_file_line_and_suggestions(project: Project) -> None:
    path = project.tests(
        "loja",
        "ruim.yaml",
        """\
        tests:
          x:
            turns:
              - say: oi
                expect: {replycontains: oi}
          Y_mau:
            turns: []
        """,
    )
    with pytest.raises(TestFileError) as caught:
        _ids(project, "loja")
    found = {(i.line, i.path, i.suggestion) for i in caught.value.issues if i.file == path}
    assert (5, "tests.x.turns[0].expect.replycontains", "reply_contains") in found
    assert any(line == 6 and "Y_mau" in where for line, where, _ in found)


def test_removing_a_test_that_is_not_inherited_is_an_error(project: Project) -> None:
    project.tests("loja", "rm.yaml", "tests-: [pede-atendent]\n")
    with pytest.raises(TestFileError) as caught:
        _ids(project, "loja")
    [issue] = caught.value.issues
    assert issue.path == "tests-[0]" and issue.suggestion == "pede-atendente"


def test_duplicate_ids_in_one_domain_are_errors(project: Project) -> None:
    project.tests("loja", "z.yaml", "tests:\n  preco-de-produto:\n    turns: [{say: oi}]\n")
    with pytest.raises(TestFileError, match=r"already used at .*basics\.yaml"):
        _ids(project, "loja")


def test_a_yaml_syntax_error_is_reported_with_its_line(project: Project) -> None:
    path = project.tests("loja", "quebrado.yaml", "tests:\n  a: [\n")
    with pytest.raises(TestFileError) as caught:
        _ids(project, "loja")
    assert caught.value.issues[0].file == path and "YAML syntax error" in str(caught.value)
