"""Building crews from a validated domain config: agent types, models, tools, processes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from pydantic_ai import Agent, RunContext, ToolOutput
from pydantic_ai import Tool as AITool
from pydantic_ai.output import OutputSpec

from chatwootai.agents.base import BaseAgent, local_today
from chatwootai.agents.crew import Crew, Step
from chatwootai.agents.delegation import delegate_tool, relay_output
from chatwootai.agents.deps import ToolProxy, TurnDeps
from chatwootai.agents.handoff import ENDS_RUN_KINDS, handoff_output
from chatwootai.agents.toolkit import domain_tool
from chatwootai.agents.types import agent_class
from chatwootai.config.schema import DomainConfig, WorkflowStep
from chatwootai.hours import Schedule
from chatwootai.knowledge.context import ContextBuilder
from chatwootai.llm import ModelResolver
from chatwootai.settings import Settings

logger = logging.getLogger(__name__)


class CrewBuildError(Exception):
    """A crew cannot be built from the domain config (unknown crew, agent or step tool)."""


class CrewFactory:
    """Builds the crews of one domain; each crew once, then reused by every conversation."""

    def __init__(self, config: DomainConfig, proxy: ToolProxy, models: ModelResolver) -> None:
        self.config = config
        self.proxy = proxy
        self.models = models

    def build(self, crew_id: str) -> Crew:
        """The crew `crew_id` of the domain, with its agents, tools and models."""
        config = self.config
        crew = config.crews.get(crew_id)
        if crew is None:
            known = ", ".join(sorted(config.crews)) or "none"
            raise CrewBuildError(f"domain {config.name!r} has no crew {crew_id!r} (crews: {known})")
        for agent_id in [*crew.agents, *([crew.manager] if crew.manager else [])]:
            if agent_id not in config.agents:
                raise CrewBuildError(f"crew {crew_id!r} names unknown agent {agent_id!r}")
        if crew.process == "hierarchical":
            assert crew.manager is not None
            members = [self._step(a, a, None, None) for a in crew.agents if a != crew.manager]
            manager = self._step(crew.manager, crew.manager, None, members)
            built = Crew(
                crew_id,
                crew,
                config,
                self.proxy,
                [manager],
                members,
                breaker=self.models.breaker,
                context=ContextBuilder(config.knowledge.context),
            )
        else:
            workflow = list(crew.workflow) or [
                WorkflowStep(step=crew.agents[0], agent=crew.agents[0], description="")
            ]
            steps = [self._step(s.step, s.agent, s, None) for s in workflow]
            built = Crew(
                crew_id,
                crew,
                config,
                self.proxy,
                steps,
                breaker=self.models.breaker,
                context=ContextBuilder(config.knowledge.context),
            )
        if built.offline:
            logger.info(
                "crew %s/%s uses the offline model (no LLM configured)", config.name, crew_id
            )
        return built

    def _step(
        self,
        step_id: str,
        agent_id: str,
        workflow: WorkflowStep | None,
        members: Sequence[Step] | None,
    ) -> Step:
        config = self.config
        agent_config = config.agents.get(agent_id)
        if agent_config is None:
            raise CrewBuildError(f"step {step_id!r} names unknown agent {agent_id!r}")
        cls = agent_class(agent_config.type, self.models.settings.agent_packages)
        agent = cls(agent_id, agent_config, config)
        granted = self.proxy.tools_for(agent_id)
        if workflow is not None and workflow.tools is not None:
            unknown = set(workflow.tools) - {t.id for t in granted}
            if unknown:
                raise CrewBuildError(
                    f"step {step_id!r}: tools {sorted(unknown)} are not granted to {agent_id!r}"
                )
            granted = [t for t in granted if t.id in workflow.tools]
        model = self.models.resolve(config.llm, agent_config.llm)
        offline = self.models.is_offline(model)
        # With an LLM, a handoff ends the run (one request); the offline model calls it as a tool.
        ending = [] if offline else [t for t in granted if t.kind in ENDS_RUN_KINDS]
        tools: list[AITool[TurnDeps]] = [
            domain_tool(t, agent_id) for t in granted if t not in ending
        ]
        outputs: list[ToolOutput[str]] = [
            handoff_output(t, agent_id, config.chatwoot.texts.handoff) for t in ending
        ]
        tools.extend(agent.extra_tools())
        if members:
            limit = getattr(agent.settings, "max_delegations", None)
            context = ContextBuilder(config.knowledge.context)
            tools.extend(delegate_tool(m, config, limit, context) for m in members)
            if not offline and getattr(agent.settings, "direct_replies", False):
                outputs.extend(relay_output(m, config, limit, context) for m in members)
        output_type: OutputSpec[str] = [str, *outputs] if outputs else str
        runner: Agent[TurnDeps, str] = Agent(
            model,
            deps_type=TurnDeps,
            output_type=output_type,
            instructions=_instructions(agent, workflow),
            tools=tools,
            model_settings=self.models.model_settings(config.llm, agent_config.llm),
            name=f"{config.name}.{agent_id}",
        )
        kinds = tuple(sorted({t.kind for t in granted}))
        breaker_key = self.models.breaker_key(config.llm, agent_config.llm)
        only = (
            frozenset(workflow.tools)
            if workflow is not None and workflow.tools is not None
            else None
        )
        return Step(step_id, agent_id, agent, runner, offline, kinds, breaker_key, only)


def _instructions(
    agent: BaseAgent, workflow: WorkflowStep | None
) -> list[str | Callable[[RunContext[TurnDeps]], Awaitable[str]]]:
    prompt = agent.system_prompt()
    static = prompt.rsplit("\n", 1)[0]  # the last line carries today's date: rebuilt per run
    if workflow is not None and workflow.description:
        static += f"\nTarefa desta etapa: {workflow.description}"
        if workflow.expected_output:
            static += f"\nResultado esperado: {workflow.expected_output}"
    domain = agent.domain
    schedule = Schedule.of(domain)
    if schedule is not None:
        static += f"\nHorário da equipe humana: {schedule.describe()}."

    async def today(ctx: RunContext[TurnDeps]) -> str:
        now = ctx.deps.context.now  # the turn's moment (None: the clock)
        line = (
            f"Responda sempre no idioma {domain.language}, de forma breve e cordial. "
            f"Hoje é {local_today(domain.timezone, now, with_time=True)} "
            f"(fuso {domain.timezone})."
        )
        if schedule is not None:  # whether people are at work now, and when they are back
            line += "\n" + schedule.status_line(now)
        return line

    async def knowledge(ctx: RunContext[TurnDeps]) -> str:
        return ctx.deps.knowledge_context  # empty unless retrieved for this message

    async def briefing(ctx: RunContext[TurnDeps]) -> str:
        return ctx.deps.briefing  # set for a member answering the customer directly

    return [static, today, knowledge, briefing]


def dry_run(
    config: DomainConfig, proxy: ToolProxy | None = None, models: ModelResolver | None = None
) -> list[str]:
    """Build every agent, crew and tool of `config` without serving or calling an LLM."""
    if proxy is None:
        from chatwootai.store.embedded import EmbeddedStore
        from chatwootai.tools.proxy import DataProxy

        proxy = DataProxy.for_domain(config, EmbeddedStore(":memory:"))
    factory = CrewFactory(config, proxy, models or ModelResolver(Settings()))
    lines: list[str] = []
    for agent_id, agent in config.agents.items():
        tools = ", ".join(t.id for t in proxy.tools_for(agent_id)) or "no tools"
        lines.append(f"agent {agent_id}: {agent.type} ({tools})")
    for crew_id in config.crews:
        crew = factory.build(crew_id)
        steps = " → ".join(f"{s.step_id}[{s.agent_id}]" for s in crew.steps)
        model = "offline" if crew.offline else "LLM"
        lines.append(f"crew {crew_id}: {crew.config.process}, {steps}, model {model}")
    return lines
