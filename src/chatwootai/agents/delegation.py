"""How the manager of a hierarchical crew hands tasks to its members.

Two ways, both counted against the manager's ``max_delegations``:

* ``delegate_to_<member>`` (a function tool): the member's answer comes back to the manager,
  which may ask other members and then writes the final answer (one more LLM request).
* ``reply_via_<member>`` (an output tool, unless the manager's ``direct_replies`` is off): the
  member answers the customer directly and its answer ends the run, for the common case where
  one member can answer the whole message. The member is told its answer goes to the customer
  and sees the customer's message. This saves the manager's last request.

A member runs with the turn's deps and usage (so limits count every request), on its own slots,
with the context retrieved for its task through its own grants.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic_ai import ModelRetry, RunContext, ToolOutput
from pydantic_ai import Tool as AITool
from pydantic_ai.usage import RunUsage, UsageLimits

from chatwootai.agents.crew import Step
from chatwootai.agents.deps import TurnDeps
from chatwootai.agents.limits import usage_limits
from chatwootai.config.schema import DomainConfig
from chatwootai.knowledge.context import ContextBuilder

DIRECT_BRIEFING = (
    "Sua resposta será enviada diretamente ao cliente, sem revisão do gerente: escreva-a para "
    "o cliente. Mensagem do cliente: «{message}»"
)
HANDED_OFF = (
    "O especialista transferiu a conversa para um atendente humano e o cliente já foi avisado: "
    "não delegue mais."
)


def limit_text(max_delegations: int) -> str:
    """What the manager is told past its delegation limit."""
    return (
        f"Limite de delegações neste atendimento ({max_delegations}) atingido: "
        "responda ao cliente com o que já sabe, sem delegar de novo."
    )


@dataclass(frozen=True)
class Delegation:
    """Running one member for a manager: limits, context and slots handled alike for both ways."""

    member: Step
    limits: UsageLimits
    max_delegations: int | None = None
    context: ContextBuilder | None = None

    def exhausted(self, deps: TurnDeps) -> bool:
        """True when the manager has used all its delegations in this run."""
        return self.max_delegations is not None and deps.delegations >= self.max_delegations

    async def run(self, deps: TurnDeps, usage: RunUsage, task: str, *, direct: bool) -> str:
        """The member's answer to `task` (`direct`: written for the customer)."""
        member = self.member
        deps.delegations += 1
        own = deps.slots, deps.knowledge_context, deps.briefing
        deps.slots = deps.member_slots.setdefault(member.agent_id, {})
        deps.knowledge_context = ""
        if self.context is not None and not member.offline and member.agent.wants_context():
            deps.knowledge_context = await self.context.for_message(  # its own grants apply
                task, member.agent_id, deps.proxy, deps.context
            )
        deps.briefing = DIRECT_BRIEFING.format(message=deps.message[:2000]) if direct else ""
        try:
            result = await member.runner.run(task, deps=deps, usage=usage, usage_limits=self.limits)
        finally:
            deps.slots, deps.knowledge_context, deps.briefing = own
        return result.output


def _delegation(
    member: Step,
    domain: DomainConfig,
    max_delegations: int | None,
    context: ContextBuilder | None,
) -> Delegation:
    return Delegation(member, usage_limits(domain.limits), max_delegations, context)


def delegate_tool(
    member: Step,
    domain: DomainConfig,
    max_delegations: int | None = None,
    context: ContextBuilder | None = None,
) -> AITool[TurnDeps]:
    """A manager's tool that hands a task to `member` and gives its answer back to the manager.

    The member works on its own slots (kept in ``deps.member_slots``), so a booking it collects
    keeps the crew in flow; past `max_delegations` in one run, the manager is told to answer.
    """
    delegation = _delegation(member, domain, max_delegations, context)

    async def delegate(ctx: RunContext[TurnDeps], task: str) -> str:
        deps = ctx.deps
        if delegation.exhausted(deps):
            return limit_text(max_delegations or 0)
        output = await delegation.run(deps, ctx.usage, task, direct=False)
        return HANDED_OFF if deps.handed_off else output

    tool: AITool[TurnDeps] = AITool(
        delegate,
        takes_ctx=True,
        name=f"delegate_to_{member.agent_id}",
        description=f"Pede a {member.agent.agent.role} ({member.agent_id}) que faça a tarefa "
        f"descrita em `task` e devolve a resposta a você. Objetivo: {member.agent.agent.goal}",
    )
    tool.metadata = {"kinds": list(member.kinds), "delegate": member.agent_id}
    return tool


def relay_output(
    member: Step,
    domain: DomainConfig,
    max_delegations: int | None = None,
    context: ContextBuilder | None = None,
) -> ToolOutput[str]:
    """A manager's output tool: `member` answers the customer directly, ending the run."""
    delegation = _delegation(member, domain, max_delegations, context)

    async def reply_via(ctx: RunContext[TurnDeps], task: str) -> str:
        deps = ctx.deps
        if delegation.exhausted(deps):
            raise ModelRetry(limit_text(max_delegations or 0))
        return await delegation.run(deps, ctx.usage, task, direct=True)

    return ToolOutput(
        reply_via,
        name=f"reply_via_{member.agent_id}",
        description=f"Pede a {member.agent.agent.role} ({member.agent_id}) que responda ao "
        "cliente a tarefa descrita em `task`: a resposta dele vai direto ao cliente, sem passar "
        "de novo por você. Use quando um só especialista responde a mensagem inteira. "
        f"Objetivo dele: {member.agent.agent.goal}",
    )
