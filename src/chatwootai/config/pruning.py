"""Removing a capability in one step: what a removed crew, agent or tool leaves behind goes too.

A domain drops an inherited capability with `crews-: [scheduling]` (or `agents-`, `tools-`).
Without this module the child would also have to remove, one by one, everything that pointed at
it: the crew's routing entry and label, the agents only that crew used, the tools only those
agents were granted, and each reference to them. Here those follow the removal, in order:

1. a removed crew takes its `routing.crews` entry and its `chatwoot.crew_labels` entry;
2. an agent of a removed crew that no remaining crew uses is removed;
3. a removed agent leaves every tool's `grants`; a tool it was granted that no remaining agent
   is granted is removed;
4. a removed tool leaves every agent's `tools` and every workflow step's `tools`.

Only names an ancestor defined and the merged result lacks count as removed, so a mistake in a
domain's own YAML is still reported, never silently pruned. `routing.default_crew` naming a
removed crew stays an error: the domain must choose another default.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from chatwootai.config.source import Located

logger = logging.getLogger("chatwootai.config")


@dataclass
class Pruned:
    """What a domain removed, and what went with it."""

    crews: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)
    tools: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.crews or self.agents or self.tools)


def _map(node: Located | None) -> dict[str, Located]:
    return dict(node.value) if node is not None and isinstance(node.value, dict) else {}


def _strings(node: Located | None) -> list[str]:
    if node is None or not isinstance(node.value, list):
        return []
    return [item.value for item in node.value if isinstance(item.value, str)]


def _with(node: Located, value: Any) -> Located:
    return Located(value, node.file, node.line, node.column, node.key_line, node.key_column)


def _without(node: Located, names: set[str]) -> Located:
    """A list node without the string items in `names`."""
    items = [i for i in node.value if not (isinstance(i.value, str) and i.value in names)]
    return _with(node, items)


def defined(ancestors: Iterable[Located | None], section: str) -> set[str]:
    """Keys of `section` (crews, agents, tools) written in the ancestors' files."""
    names: set[str] = set()
    for root in ancestors:
        for key in (section, f"{section}+"):
            names |= set(_map(_map(root).get(key)))
    return names


def _crew_members(crew: Located) -> set[str]:
    body = _map(crew)
    members = set(_strings(body.get("agents")))
    manager = body.get("manager")
    if manager is not None and isinstance(manager.value, str):
        members.add(manager.value)
    workflow = body.get("workflow")
    for step in workflow.value if workflow is not None and _is_list(workflow) else ():
        agent = _map(step).get("agent")
        if agent is not None and isinstance(agent.value, str):
            members.add(agent.value)
    return members


def _is_list(node: Located | None) -> bool:
    return node is not None and isinstance(node.value, list)


def prune(
    tree: Located, ancestors: list[Located | None], domain: str = ""
) -> tuple[Located, Pruned]:
    """`tree` (a merged domain) without what the removals it inherits leave behind."""
    body = _map(tree)
    crews, agents = _map(body.get("crews")), _map(body.get("agents"))
    tools = _map(body.get("tools"))
    pruned = Pruned(
        crews=defined(ancestors, "crews") - set(crews),
        agents=defined(ancestors, "agents") - set(agents),
        tools=defined(ancestors, "tools") - set(tools),
    )
    if not pruned:
        return tree, pruned
    explicit = Pruned(set(pruned.crews), set(pruned.agents), set(pruned.tools))
    used = set().union(*(_crew_members(c) for c in crews.values())) if crews else set()
    for root in ancestors:
        for name, crew in _map(_map(root).get("crews")).items():
            if name in pruned.crews:
                pruned.agents |= {a for a in _crew_members(crew) if a in agents and a not in used}
    for name in pruned.agents & set(agents):
        del agents[name]
    for name, tool in list(tools.items()):
        settings = _map(tool)
        grants = settings.get("grants")
        if grants is None or not _is_list(grants):
            continue
        before = set(_strings(grants))
        after = before - pruned.agents
        if before and not after and before & pruned.agents:
            pruned.tools.add(name)
            del tools[name]
        elif after != before:
            settings["grants"] = _without(grants, pruned.agents)
            tools[name] = _with(tool, settings)
    for name, agent in list(agents.items()):
        settings = _map(agent)
        listed = settings.get("tools")
        if _is_list(listed) and set(_strings(listed)) & pruned.tools:
            assert listed is not None
            settings["tools"] = _without(listed, pruned.tools)
            agents[name] = _with(agent, settings)
    for name, crew in list(crews.items()):
        crews[name] = _prune_crew(crew, pruned)
    body = dict(body)
    for section, value in (("crews", crews), ("agents", agents), ("tools", tools)):
        if section in body:
            body[section] = _with(body[section], value)
    body = _prune_mentions(body, pruned.crews)
    followed = Pruned(
        pruned.crews - explicit.crews,
        pruned.agents - explicit.agents,
        pruned.tools - explicit.tools,
    )
    if followed:
        logger.info(
            "domain %r: removing %s also removed %s",
            domain,
            _names(explicit),
            _names(followed),
        )
    return _with(tree, body), pruned


def _prune_crew(crew: Located, pruned: Pruned) -> Located:
    body = _map(crew)
    changed = False
    agents = body.get("agents")
    if _is_list(agents) and set(_strings(agents)) & pruned.agents:
        assert agents is not None
        body["agents"] = _without(agents, pruned.agents)
        changed = True
    workflow = body.get("workflow")
    if _is_list(workflow):
        assert workflow is not None
        steps = []
        for step in workflow.value:
            step_body = _map(step)
            step_tools = step_body.get("tools")
            if _is_list(step_tools) and set(_strings(step_tools)) & pruned.tools:
                assert step_tools is not None
                step_body["tools"] = _without(step_tools, pruned.tools)
                step = _with(step, step_body)
                changed = True
            steps.append(step)
        body["workflow"] = _with(workflow, steps)
    return _with(crew, body) if changed else crew


def _prune_mentions(body: dict[str, Located], crews: set[str]) -> dict[str, Located]:
    """Routing entries and labels of removed crews."""
    if not crews:
        return body
    routing = body.get("routing")
    if routing is not None and isinstance(routing.value, dict):
        routing_body = dict(routing.value)
        routes = routing_body.get("crews")
        if routes is not None and isinstance(routes.value, dict):
            kept = {k: v for k, v in routes.value.items() if k not in crews}
            routing_body["crews"] = _with(routes, kept)
            body["routing"] = _with(routing, routing_body)
    chatwoot = body.get("chatwoot")
    if chatwoot is not None and isinstance(chatwoot.value, dict):
        chatwoot_body = dict(chatwoot.value)
        labels = chatwoot_body.get("crew_labels")
        if labels is not None and isinstance(labels.value, dict):
            kept = {k: v for k, v in labels.value.items() if k not in crews}
            chatwoot_body["crew_labels"] = _with(labels, kept)
            body["chatwoot"] = _with(chatwoot, chatwoot_body)
    return body


def _names(pruned: Pruned) -> str:
    parts = []
    for what, names in (("crew", pruned.crews), ("agent", pruned.agents), ("tool", pruned.tools)):
        if names:
            parts.append(f"{what}{'s' if len(names) > 1 else ''} {', '.join(sorted(names))}")
    return "; ".join(parts) or "nothing"
