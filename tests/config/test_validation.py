"""Validation: every error in one pass, at its file:line, with did-you-means; cross-references."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from chatwootai.config.errors import ConfigError, ConfigIssue

if TYPE_CHECKING:
    from conftest import Tree


def _errors(tree: Tree, name: str = "shop", packages: tuple[str, ...] = ()) -> list[ConfigIssue]:
    with pytest.raises(ConfigError) as caught:
        tree.loader(packages).load(name)
    return caught.value.issues


def _shop(tree: Tree, body: str) -> Path:
    tree.base()
    return tree.domain("shop", "extends: [_base]\n" + textwrap.dedent(body))


def test_a_valid_domain_loads_with_its_data(tree: Tree) -> None:
    _shop(tree, "business:\n  company_name: Loja\n")
    config = tree.loader().load("shop")
    assert config.business.company_name == "Loja"
    assert [str(p.price) for p in config.data.catalogs["catalog"]] == ["49.90", "89.00"]
    assert config.data.knowledge["faq"][0].tags == ["horario"]


def test_every_error_is_reported_in_one_pass_at_its_line(tree: Tree) -> None:
    _shop(
        tree,
        """\
        llm:
          temperature: 5
        limits:
          max_requestz: 3
        agents:
          seller:
            role: 7
        """,
    )
    issues = _errors(tree)
    by_path = {issue.path: issue for issue in issues}
    assert set(by_path) == {"llm.temperature", "limits.max_requestz", "agents.seller.role"}
    assert by_path["llm.temperature"].line == 3
    assert by_path["limits.max_requestz"].line == 5
    assert by_path["limits.max_requestz"].suggestion == "max_requests"
    assert by_path["agents.seller.role"].line == 8
    assert all(i.file == tree.root / "shop" / "domain.yaml" for i in issues)


def test_unknown_key_did_you_mean_in_nested_models(tree: Tree) -> None:
    _shop(tree, "agents:\n  seller:\n    tols: [faq]\n")
    [issue] = _errors(tree)
    assert issue.message == "unknown key 'tols'" and issue.suggestion == "tools"
    assert str(issue).endswith(
        "shop/domain.yaml:4:5: agents.seller.tols: unknown key 'tols' (did you mean 'tools'?)"
    )


def test_missing_required_field_points_at_the_entry(tree: Tree) -> None:
    _shop(tree, "agents:\n  extra:\n    type: SupportAgent\n    goal: g\n    tools: [faq]\n")
    issues = _errors(tree)
    assert any(i.path == "agents.extra.role" and i.line == 3 for i in issues)


def test_crew_agent_must_exist(tree: Tree) -> None:
    _shop(tree, "crews:\n  sales:\n    agents: [sellr]\n    workflow: []\n")
    [issue] = _errors(tree)
    assert issue.path == "crews.sales.agents[0]" and issue.line == 4
    assert issue.suggestion == "seller"


def test_workflow_step_agent_must_exist_and_belong_to_the_crew(tree: Tree) -> None:
    _shop(
        tree,
        """\
        crews:
          sales:
            workflow:
              - {step: a, agent: selr, description: d}
              - {step: b, agent: helper, description: d}
        """,
    )
    issues = _errors(tree)
    assert [(i.path, i.line) for i in issues] == [
        ("crews.sales.workflow[0].agent", 5),
        ("crews.sales.workflow[1].agent", 6),
    ]
    assert issues[0].suggestion == "seller"
    assert "not an agent of crew 'sales'" in issues[1].message


def test_step_tools_must_be_among_the_agents_tools(tree: Tree) -> None:
    _shop(
        tree,
        """\
        tools:
          handoff: {kind: handoff, grants: [helper]}
        agents:
          helper:
            tools+: [handoff]
        crews:
          sales:
            workflow:
              - {step: a, agent: seller, description: d, tools: [handoff, catalgo]}
        """,
    )
    issues = _errors(tree)
    assert [i.path for i in issues] == [
        "crews.sales.workflow[0].tools[0]",
        "crews.sales.workflow[0].tools[1]",
    ]
    assert "for agent 'seller'" in issues[0].message
    assert issues[1].suggestion == "catalog"


def test_agent_tools_must_exist_and_grant_the_agent(tree: Tree) -> None:
    _shop(tree, "agents:\n  helper:\n    tools: [faq, catalog, catalgo]\n")
    issues = _errors(tree)
    assert [i.path for i in issues] == ["agents.helper.tools[1]", "agents.helper.tools[2]"]
    assert "tool 'catalog' does not grant agent 'helper'" in issues[0].message
    assert issues[1].message.startswith("unknown tool 'catalgo'")
    assert issues[1].suggestion == "catalog"
    assert str(issues[1]).endswith("(did you mean 'catalog'?)")


def test_grants_must_name_agents(tree: Tree) -> None:
    _shop(tree, "tools:\n  faq:\n    grants+: [helpr]\n")
    [issue] = _errors(tree)
    assert issue.path == "tools.faq.grants[2]" and issue.suggestion == "helper"


def test_routing_and_labels_must_name_crews(tree: Tree) -> None:
    _shop(
        tree,
        """\
        routing:
          default_crew: suport
          crews:
            sale: {keywords: [x]}
        chatwoot:
          crew_labels: {salse: vendas}
        """,
    )
    issues = _errors(tree)
    assert [(i.path, i.suggestion) for i in issues] == [
        ("routing.default_crew", "support"),
        ("routing.crews.sale", "sales"),
        ("chatwoot.crew_labels.salse", "sales"),
    ]


def test_hierarchical_crew_needs_an_existing_manager(tree: Tree) -> None:
    _shop(tree, "crews:\n  sales:\n    process: hierarchical\n")
    [issue] = _errors(tree)
    assert issue.path == "crews.sales" and "needs a 'manager'" in issue.message
    tree.domain(
        "shop", "extends: [_base]\ncrews:\n  sales:\n    process: hierarchical\n    manager: bos\n"
    )
    [issue] = _errors(tree)
    assert issue.path == "crews.sales.manager" and issue.line == 5


def test_manager_beside_the_crew_is_accepted(tree: Tree) -> None:
    _shop(
        tree,
        """\
        agents:
          boss: {type: ManagerAgent, role: Boss, goal: Delegate}
        crews:
          sales: {process: hierarchical, manager: boss}
        """,
    )
    assert tree.loader().load("shop").crews["sales"].manager == "boss"


def test_served_domain_needs_routing_and_a_crew(tree: Tree) -> None:
    tree.domain("bare", "agents: {}\n")
    messages = [i.message for i in _errors(tree, "bare")]
    assert messages == [
        "a domain that is served needs a 'routing' section",
        "a domain that is served needs at least one crew",
    ]


def test_name_must_match_the_directory(tree: Tree) -> None:
    _shop(tree, "name: shopp\n")
    [issue] = _errors(tree)
    assert issue.path == "name" and issue.suggestion == "shop"


def test_data_is_not_written_in_yaml(tree: Tree) -> None:
    _shop(tree, "data: {}\n")
    [issue] = _errors(tree)
    assert issue.path == "data"


def test_unknown_agent_type_has_did_you_mean(tree: Tree) -> None:
    _shop(tree, "agents:\n  seller:\n    type: SalesAgnt\n")
    [issue] = _errors(tree)
    assert issue.path == "agents.seller.type" and issue.line == 4
    assert issue.suggestion == "SalesAgent"


def test_agent_type_outside_allowed_packages_is_refused(tree: Tree) -> None:
    _shop(tree, "agents:\n  seller:\n    type: os.path.join\n")
    [issue] = _errors(tree)
    assert "outside the allowed packages" in issue.message


def test_type_specific_check_reported_at_the_agent(tree: Tree) -> None:
    _shop(tree, "agents:\n  seller:\n    tools: [faq]\ncrews:\n  sales:\n    workflow: []\n")
    [issue] = _errors(tree)
    assert issue.path == "agents.seller" and issue.line == 3
    assert "needs a tool of kind catalog" in issue.message


def test_agent_type_config_is_validated(tree: Tree) -> None:
    _shop(tree, "agents:\n  seller:\n    config: {upsel: true}\n")
    [issue] = _errors(tree)
    assert issue.path == "agents.seller.config.upsel" and issue.suggestion == "upsell"


def test_agent_type_from_an_allowed_package(
    tree: Tree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "pkgs" / "acme_agents"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "kinds.py").write_text(
        textwrap.dedent(
            """\
            from pydantic import BaseModel, ConfigDict

            class Conf(BaseModel):
                model_config = ConfigDict(extra="forbid")
                level: int = 1

            class Picky:
                config_model = Conf

                @classmethod
                def check_config(cls, agent_id, agent, domain):
                    return [] if agent.config.get("level", 1) < 5 else ["level too high"]
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path / "pkgs"))
    _shop(tree, "agents:\n  helper:\n    type: acme_agents.kinds.Picky\n    config: {level: 9}\n")
    assert "outside the allowed packages" in _errors(tree)[0].message
    [issue] = _errors(tree, packages=("acme_agents",))
    assert issue.path == "agents.helper" and issue.message == "level too high"
    tree.domain("shop", "extends: [_base]\nagents:\n  helper:\n    type: acme_agents.kinds.Pciky\n")
    [issue] = _errors(tree, packages=("acme_agents",))
    assert issue.suggestion == "acme_agents.kinds.Picky"


def test_tool_settings_are_checked_for_the_kind(tree: Tree) -> None:
    _shop(tree, "tools:\n  catalog:\n    settings:\n      max_results: 0\n      fiel: x\n")
    issues = _errors(tree)
    assert {(i.path, i.line) for i in issues} == {
        ("tools.catalog.settings.max_results", 5),
        ("tools.catalog.settings.fiel", 6),
    }
    assert next(i for i in issues if i.path.endswith("fiel")).suggestion == "file"


def test_an_abstract_base_may_leave_data_files_to_children(tree: Tree) -> None:
    tree.base(text=tree.BASE.replace("      file: catalog.csv\n", "      currency: BRL\n"))
    tree.loader().load("_base")
    tree.domain("shop", "extends: [_base]\n")
    [issue] = _errors(tree)
    assert issue.path == "tools.catalog.settings.file"
    # the error names the child that must supply the data, in the child's own file
    assert issue.file is not None and issue.file.parent.name == "shop"
    assert "domain 'shop' must supply" in issue.message and "parent '_base'" in issue.message


def test_missing_data_file_points_at_the_setting(tree: Tree) -> None:
    _shop(tree, "tools:\n  catalog:\n    settings: {file: nope.csv}\n")
    [issue] = _errors(tree)
    assert issue.path == "tools.catalog.settings.file" and issue.line == 4
    assert "data file not found" in issue.message


def test_unknown_domain_has_did_you_mean(tree: Tree) -> None:
    _shop(tree, "")
    [issue] = _errors(tree, "shoop")
    assert issue.suggestion == "shop"


def test_names_lists_domain_directories(tree: Tree) -> None:
    _shop(tree, "")
    (tree.root / "empty").mkdir()
    assert tree.loader().names() == ["_base", "shop"]


def test_load_sees_a_changed_file(tree: Tree) -> None:
    path = _shop(tree, "description: one\n")
    loader = tree.loader()
    assert loader.load("shop").description == "one"
    path.write_text("extends: [_base]\ndescription: two, longer\n")
    assert loader.load("shop").description == "two, longer"
    path.write_text("extends: [_base]\ndescription: six\n")  # same size, maybe same mtime tick
    assert loader.load("shop").description == "six"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - 10**10))  # old mtime: trusted
    assert loader.load("shop").description == "six"


def test_parsed_files_are_reused(tree: Tree) -> None:
    tree.base()
    for name in ("a", "b", "c"):
        tree.domain(name, "extends: [_base]\n")
    loader = tree.loader()
    for name in ("a", "b", "c"):
        loader.load(name)
    assert loader.files.misses == 3 + 3  # three leaves, plus the base and its two data files
