"""DataProxy: the only door from agents to tools and data, with per-agent grants from the YAML.

Every call is checked, in order: the context is of this proxy's domain, the tool exists, it is
granted to the calling agent, and the LLM-chosen arguments validate against the tool's schema
(unknown keys forbidden, sizes bounded). Tenant context comes only from the :class:`ToolContext`.
A tool's unexpected exception becomes a :class:`ToolError` without a traceback for the customer.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from chatwootai.config.schema import DomainConfig
from chatwootai.store.base import Store
from chatwootai.tools.base import (
    Tool,
    ToolArgumentsError,
    ToolContext,
    ToolError,
    ToolNotGrantedError,
    ToolResult,
    UnknownToolError,
)
from chatwootai.tools.registry import ToolRegistry

logger = logging.getLogger("chatwootai.tools")

MAX_ARGS_CHARS = 4000
"""Largest accepted size of a call's arguments, as JSON."""


class CrossTenantError(ToolError):
    """A tool call's context belongs to another domain than the proxy's."""


def grants_for(config: DomainConfig) -> dict[str, frozenset[str]]:
    """Agent id -> tools it may call: those it lists that also grant it (both sides must agree)."""
    return {
        agent_id: frozenset(
            tool_id
            for tool_id in agent.tools
            if tool_id in config.tools and agent_id in config.tools[tool_id].grants
        )
        for agent_id, agent in config.agents.items()
    }


def _problems(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in error["loc"]) or "arguments"
        lines.append(f"{where}: {error['msg']}")
    return "; ".join(lines)


class DataProxy:
    """Checks and runs the tool calls of one domain's agents."""

    def __init__(
        self, domain: str, tools: Mapping[str, Tool], grants: Mapping[str, frozenset[str]]
    ) -> None:
        self.domain = domain
        self.tools = dict(tools)
        self.grants = {agent: frozenset(ids) for agent, ids in grants.items()}

    @classmethod
    def for_domain(cls, config: DomainConfig, store: Store) -> DataProxy:
        """The proxy of a domain, its tools built from the config."""
        return cls(config.name, ToolRegistry.build(config, store), grants_for(config))

    async def aclose(self) -> None:
        """Close every tool's open resources (HTTP clients)."""
        for tool in self.tools.values():
            await tool.aclose()

    def tools_for(self, agent_id: str) -> list[Tool]:
        """The tools granted to `agent_id`, in the domain's declaration order."""
        granted = self.grants.get(agent_id, frozenset())
        return [tool for tool_id, tool in self.tools.items() if tool_id in granted]

    def is_granted(self, agent_id: str, tool_id: str) -> bool:
        """True when `agent_id` may call `tool_id`."""
        return tool_id in self.grants.get(agent_id, frozenset())

    async def call(self, ctx: ToolContext, tool_id: str, args: Mapping[str, Any]) -> ToolResult:
        """Run `tool_id` for the agent and tenant in `ctx` with LLM-chosen `args`, after checks."""
        if ctx.domain != self.domain:
            logger.warning(
                "tool call refused: context of another domain",
                extra={"domain": self.domain, "ctx_domain": ctx.domain, "tool": tool_id},
            )
            raise CrossTenantError(
                f"a call for domain {ctx.domain!r} cannot use the tools of domain {self.domain!r}"
            )
        tool = self.tools.get(tool_id)
        if tool is None:
            raise UnknownToolError(f"no tool {tool_id!r} in domain {self.domain!r}")
        if not self.is_granted(ctx.agent_id, tool_id):
            logger.warning(
                "tool call refused: not granted",
                extra={
                    "domain": self.domain,
                    "agent": ctx.agent_id,
                    "tool": tool_id,
                    "conversation": ctx.conversation_key,
                },
            )
            raise ToolNotGrantedError(
                f"agent {ctx.agent_id!r} is not granted tool {tool_id!r} in domain {self.domain!r}"
            )
        parsed = self._validate(tool, args)
        try:
            return await tool.run(ctx, parsed)
        except ToolError:
            raise
        except Exception:
            logger.exception(
                "tool failed",
                extra={"domain": self.domain, "agent": ctx.agent_id, "tool": tool_id},
            )
            raise ToolError(f"the tool {tool_id!r} failed; try again later or hand off") from None

    def _validate(self, tool: Tool, args: Mapping[str, Any]) -> Any:
        if not isinstance(args, Mapping):
            raise ToolArgumentsError(f"arguments of {tool.id!r} must be an object")
        try:
            size = len(json.dumps(args, default=str))
        except (TypeError, ValueError):
            raise ToolArgumentsError(f"arguments of {tool.id!r} are not plain JSON") from None
        if size > MAX_ARGS_CHARS:
            raise ToolArgumentsError(
                f"arguments of {tool.id!r} are too long ({size} characters, at most "
                f"{MAX_ARGS_CHARS})"
            )
        try:
            return tool.args_model.model_validate(dict(args))
        except ValidationError as exc:
            raise ToolArgumentsError(
                f"invalid arguments for {tool.id!r}: {_problems(exc)}"
            ) from None
