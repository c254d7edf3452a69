"""Cross-reference rules of a domain: every name used points at something that exists."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from chatwootai.config.agent_types import AgentTypeNotFound, resolve_agent_type
from chatwootai.config.errors import ConfigIssue, did_you_mean
from chatwootai.config.schema import DomainConfig
from chatwootai.config.source import Located, issue_at

Path_ = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """A rule broken at a YAML path of the effective configuration."""

    path: Path_
    message: str
    suggestion: str | None = None


def cross_references(config: DomainConfig) -> list[Problem]:
    """Every broken reference between agents, crews, workflow steps, tools, routing and labels."""
    problems: list[Problem] = []
    problems += _agents_and_tools(config)
    problems += _crews(config)
    problems += _routing(config)
    problems += _media_rules(config)
    if not config.abstract:
        problems += _budget(config)
        if config.routing is None:
            problems.append(Problem((), "a domain that is served needs a 'routing' section"))
        if not config.crews:
            problems.append(Problem((), "a domain that is served needs at least one crew"))
    return problems


def _missing(path: Path_, what: str, name: str, known: Iterable[str], where: str = "") -> Problem:
    names = sorted(known)
    listed = ", ".join(names) if names else "none"
    return Problem(
        path,
        f"unknown {what} {name!r}{where}; defined: {listed}",
        did_you_mean(name, names),
    )


def _agents_and_tools(config: DomainConfig) -> list[Problem]:
    problems: list[Problem] = []
    for agent_id, agent in config.agents.items():
        for index, tool_id in enumerate(agent.tools):
            path: Path_ = ("agents", agent_id, "tools", index)
            tool = config.tools.get(tool_id)
            if tool is None:
                problems.append(_missing(path, "tool", tool_id, config.tools))
            elif agent_id not in tool.grants:
                problems.append(
                    Problem(
                        path,
                        f"tool {tool_id!r} does not grant agent {agent_id!r}; add it to "
                        f"tools.{tool_id}.grants (grants: {', '.join(tool.grants) or 'none'})",
                    )
                )
    for tool_id, tool in config.tools.items():
        for index, agent_id in enumerate(tool.grants):
            if agent_id not in config.agents:
                problems.append(
                    _missing(("tools", tool_id, "grants", index), "agent", agent_id, config.agents)
                )
    return problems


def _crews(config: DomainConfig) -> list[Problem]:
    problems: list[Problem] = []
    for crew_id, crew in config.crews.items():
        base: Path_ = ("crews", crew_id)
        for index, agent_id in enumerate(crew.agents):
            if agent_id not in config.agents:
                problems.append(
                    _missing((*base, "agents", index), "agent", agent_id, config.agents)
                )
        if crew.manager is not None and crew.manager not in config.agents:
            problems.append(
                _missing((*base, "manager"), "manager agent", crew.manager, config.agents)
            )
        members = set(crew.agents) | ({crew.manager} if crew.manager else set())
        seen: set[str] = set()
        for index, step in enumerate(crew.workflow):
            path: Path_ = (*base, "workflow", index)
            if step.step in seen:
                problems.append(Problem((*path, "step"), f"duplicate step id {step.step!r}"))
            seen.add(step.step)
            agent = config.agents.get(step.agent)
            if agent is None:
                problems.append(_missing((*path, "agent"), "agent", step.agent, config.agents))
            elif step.agent not in members:
                problems.append(
                    _missing(
                        (*path, "agent"),
                        "crew member",
                        step.agent,
                        members,
                        f" (not an agent of crew {crew_id!r})",
                    )
                )
            for tool_index, tool_id in enumerate(step.tools or ()):
                tool_path: Path_ = (*path, "tools", tool_index)
                if tool_id not in config.tools:
                    problems.append(_missing(tool_path, "tool", tool_id, config.tools))
                elif agent is not None and tool_id not in agent.tools:
                    problems.append(
                        _missing(
                            tool_path,
                            "tool",
                            tool_id,
                            agent.tools,
                            f" for agent {step.agent!r} (a step may use only its agent's tools)",
                        )
                    )
    return problems


def _routing(config: DomainConfig) -> list[Problem]:
    problems: list[Problem] = []
    crews: Sequence[str] = list(config.crews)
    routing = config.routing
    if routing is not None:
        if routing.default_crew not in config.crews:
            problems.append(
                _missing(("routing", "default_crew"), "crew", routing.default_crew, crews)
            )
        for crew_id in routing.crews:
            if crew_id not in config.crews:
                problems.append(_missing(("routing", "crews", crew_id), "crew", crew_id, crews))
    for crew_id in config.chatwoot.crew_labels:
        if crew_id not in config.crews:
            problems.append(_missing(("chatwoot", "crew_labels", crew_id), "crew", crew_id, crews))
    return problems


# -- requirements a parent leaves to its children ---------------------------------------------

DATA_FILE_EXAMPLES = {
    "knowledge": ("files", "[faq.yaml]", "faq.yaml"),
    "catalog": ("file", "catalog.csv", "catalog.csv"),
    "calendar": ("file", "calendar.yaml", "calendar.yaml"),
    "orders": ("file", "orders.yaml", "orders.yaml"),
}
"""Per tool kind: the settings key naming its data, an example value and the file to write."""


def required_kinds(agent_type: str, agent_packages: Sequence[str] = ()) -> tuple[str, ...]:
    """Tool kinds an agent type needs one of (empty when the type is unknown)."""
    try:
        cls = resolve_agent_type(agent_type, agent_packages)
    except AgentTypeNotFound:
        return ()
    return tuple(getattr(cls, "required_tool_kinds", ()))


def removal_hint(config: DomainConfig, tool_id: str, agent_packages: Sequence[str] = ()) -> str:
    """How a domain can do without an inherited tool: `tools-`, or `crews-` of the crews whose
    agents cannot work without it ("" when only supplying its data will do)."""
    tool = config.tools[tool_id]
    needing = []
    for agent_id, agent in config.agents.items():
        needs = required_kinds(agent.type, agent_packages)
        if tool_id not in agent.tools or tool.kind not in needs:
            continue
        others = [t for t in agent.tools if t != tool_id and t in config.tools]
        if not any(config.tools[t].kind == tool.kind for t in others):
            needing.append(agent_id)
    if not needing:
        return f"tools-: [{tool_id}]"
    crews = sorted(
        crew_id
        for crew_id, crew in config.crews.items()
        if (set(crew.agents) | ({crew.manager} if crew.manager else set())) & set(needing)
    )
    default = config.routing.default_crew if config.routing else None
    if crews and default not in crews:
        return f"crews-: [{', '.join(crews)}]"
    return ""


def in_child(
    issue: ConfigIssue, domain: str, parents: Mapping[Path, str], own_file: Path
) -> ConfigIssue:
    """An issue found in a parent's file while loading `domain`, said as the child's to fix."""
    parent = parents.get(issue.file) if issue.file is not None else None
    if parent is None:
        return issue
    message = (
        f"{issue.message} (inherited by {domain!r} from {parent!r}: fix it in {own_file}, "
        "by setting or removing what the parent declares)"
    )
    return ConfigIssue(issue.file, issue.line, issue.column, issue.path, message, issue.suggestion)


def parent_requirement(
    config: DomainConfig,
    tool_id: str,
    issue: ConfigIssue,
    own: Located,
    parent: str,
    agent_packages: Sequence[str] = (),
) -> ConfigIssue:
    """A missing data setting of an inherited tool, said as what the child must supply.

    The issue is located in the child's domain.yaml (at its `extends:`), names the parent that
    declared the tool, what to add and, when the domain can do without it, how to remove it.
    """
    tool = config.tools[tool_id]
    key, example, file_name = DATA_FILE_EXAMPLES.get(tool.kind, ("file", "...", "..."))
    folder = own.file.parent
    where = f"{issue.file}:{issue.line}" if issue.file is not None else parent
    message = (
        f"domain {config.name!r} must supply the data of tool {tool_id!r} ({tool.kind}), "
        f"declared without data by its parent {parent!r} at {where}: add "
        f"`tools: {{{tool_id}: {{settings: {{{key}: {example}}}}}}}` to {own.file} and write "
        f"{folder / file_name}"
    )
    hint = removal_hint(config, tool_id, agent_packages)
    if hint:
        message += f"; or, to do without it, add `{hint}` to {own.file}"
    return issue_at(own, ["extends"], message, shown_path=f"tools.{tool_id}.settings.{key}")


def _media_rules(config: DomainConfig) -> list[Problem]:
    """Media rules naming a crew must name one of the domain's."""
    return [
        _missing(("media", "rules", index, "crew"), "crew", rule.crew, config.crews)
        for index, rule in enumerate(config.media.rules)
        if rule.crew is not None and rule.crew not in config.crews
    ]


def _budget(config: DomainConfig) -> list[Problem]:
    """An `over_budget` without a budget would never apply: said rather than ignored."""
    limits = config.limits
    if limits.over_budget is not None and limits.monthly_budget_usd is None:
        return [
            Problem(
                ("limits", "over_budget"),
                "limits.over_budget has no effect without limits.monthly_budget_usd",
            )
        ]
    return []
