"""A crew: agents run in sequence (workflow steps) or under a manager, for one message.

A Crew is built once per (domain, crew) and serves every conversation concurrently: it holds
no per-conversation state. History and slots come in with `run` and go out in the result.

Processes:

* ``sequential``: the workflow steps run in order; each step's output is given to the next as
  context, and the last step's output is the reply. A crew with no workflow runs only its first
  agent (one step), so a simple crew costs exactly one LLM request when no tool is needed.
  With the offline model only one step runs, the first that may call domain tools (the offline
  model answers from tools and cannot reason across steps).
* ``hierarchical``: the manager runs with one ``delegate_to_<agent>`` tool per member; a
  delegate runs the member with the same deps and usage (members keep no history of their own).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pydantic_ai import Agent
from pydantic_ai.exceptions import AgentRunError, UsageLimitExceeded
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    TextPart,
    ToolReturnPart,
)
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import RunUsage, UsageLimits

from chatwootai.agents.base import BaseAgent
from chatwootai.agents.deps import ToolProxy, TurnDeps
from chatwootai.agents.history import bound_dumped, dump_messages, load_messages
from chatwootai.agents.limits import usage_limits
from chatwootai.agents.state import AgentState
from chatwootai.breaker import BreakerOpenError, CircuitBreaker, is_outage, model_key
from chatwootai.config.schema import CrewConfig, DomainConfig
from chatwootai.knowledge.context import ContextBuilder
from chatwootai.media.attachments import MediaPart
from chatwootai.media.prompt import user_prompt
from chatwootai.offline import NO_ANSWER
from chatwootai.tools.base import HandoffRequest, ToolCallRecord, ToolContext

logger = logging.getLogger(__name__)


@dataclass
class CrewResult:
    """What a crew produced for one message."""

    reply: str
    states: dict[str, AgentState]
    handoff: HandoffRequest | None = None
    fallback: bool = False
    in_flow: bool = False
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    offline: bool = False
    resolved: bool = False
    """An agent's resolve tool ended the conversation (the reply is its closing text)."""


@dataclass(frozen=True)
class Step:
    """One step of a crew: an agent type instance and the pydantic-ai agent that runs it."""

    step_id: str
    agent_id: str
    agent: BaseAgent
    runner: Agent[TurnDeps, str]
    offline: bool
    kinds: tuple[str, ...] = ()
    """Kinds of the domain tools this step may call."""
    breaker_key: str | None = None
    """The breaker key of the step's model (with its API key's identity); None: from the model."""
    tools: frozenset[str] | None = None
    """The domain tools a workflow step restricts its agent to (None: all the agent's grants)."""


@dataclass
class _Progress:
    """The breaker key of the model call under way (None between steps), and if it is the trial."""

    key: str | None = None
    trial: bool = False


class Crew:
    """A team of agents answering one kind of request; reusable across conversations."""

    def __init__(
        self,
        crew_id: str,
        config: CrewConfig,
        domain: DomainConfig,
        proxy: ToolProxy,
        steps: list[Step],
        members: list[Step] | None = None,
        *,
        breaker: CircuitBreaker | None = None,
        context: ContextBuilder | None = None,
    ) -> None:
        self.id = crew_id
        self.config = config
        self.domain = domain
        self.proxy = proxy
        self.steps = steps
        self.members = members or []
        self.offline = all(s.offline for s in [*steps, *self.members])
        self._offline_step = next((i for i, s in enumerate(steps) if s.kinds), 0)
        self.limits: UsageLimits = usage_limits(domain.limits)
        self.breaker = breaker
        """Shared by the crews of a process; None runs without one."""
        self.context = context
        """Retrieves passages and products for a message before an LLM step (None: off)."""

    async def run(
        self,
        message: str,
        states: Mapping[str, AgentState],
        context: ToolContext,
        *,
        timeout_s: float | None = None,
        media: Sequence[MediaPart] = (),
    ) -> CrewResult:
        """Answer `message` given each agent's state; never raises for LLM or limit failures.

        The run is cut after `timeout_s` (default: the domain's per-turn ``limits.timeout_s``).
        `media` (images, documents' text) goes with the message to every step of a real model.
        """
        deps = TurnDeps(proxy=self.proxy, context=context, message=message)
        for member in self.members:  # a member's slots come back for its delegated tasks
            state = states.get(member.agent_id)
            if state is not None and state.slots:
                deps.member_slots[member.agent_id] = dict(state.slots)
        usage = RunUsage()
        progress = _Progress()
        try:
            deadline_s = self.domain.limits.timeout_s if timeout_s is None else timeout_s
            async with asyncio.timeout(deadline_s):
                reply, new_states = await self._run_steps(
                    message, states, deps, usage, progress, media
                )
        except BreakerOpenError as exc:
            logger.warning("crew %s/%s: %s", self.domain.name, self.id, exc)
            return self._fallback(states, deps, usage, "modelo indisponível (circuito aberto)")
        except UsageLimitExceeded as exc:
            return self._fallback(states, deps, usage, f"limite do turno atingido: {exc}", "limit")
        except TimeoutError:
            if deps.interrupted_tool is None:
                await self._model_failed(progress)  # the model itself was too slow
            else:
                logger.warning(
                    "crew %s/%s: turn timed out in tool %s",
                    self.domain.name,
                    self.id,
                    deps.interrupted_tool,
                )
            return self._fallback(states, deps, usage, "tempo limite do turno esgotado")
        except AgentRunError as exc:
            if is_outage(exc):
                await self._model_failed(progress)
            hint = ""
            if getattr(exc, "status_code", None) in (401, 403):
                hint = " (the API key was refused: check the variable named by llm.api_key_env)"
            logger.warning("crew %s/%s: model failed: %s%s", self.domain.name, self.id, exc, hint)
            return self._fallback(states, deps, usage, f"falha do modelo: {type(exc).__name__}")
        except Exception as exc:  # a turn never ends in a traceback for the customer
            logger.exception("crew %s/%s: unexpected error", self.domain.name, self.id)
            return self._fallback(states, deps, usage, f"erro inesperado: {type(exc).__name__}")
        finally:
            if progress.key is not None and self.breaker is not None:
                # neither success nor an outage
                await self.breaker.release(progress.key, trial=progress.trial)
        if self.offline and (NO_ANSWER in reply or not reply.strip()):  # it found nothing
            logger.info("crew %s/%s: offline model found no answer", self.domain.name, self.id)
            return self._fallback(states, deps, usage, "modelo offline sem resposta")
        in_flow = any(
            s.agent.in_flow(new_states[s.agent_id].slots, deps.records)
            for s in [*self.steps, *self.members]
            if s.agent_id in new_states
        )
        return CrewResult(
            reply=reply,
            states=new_states,
            handoff=deps.handoff,
            fallback=False,
            in_flow=in_flow,
            tool_calls=deps.records,
            requests=usage.requests,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            offline=self.offline,
            resolved=deps.resolved and deps.handoff is None,
        )

    async def _run_steps(
        self,
        message: str,
        states: Mapping[str, AgentState],
        deps: TurnDeps,
        usage: RunUsage,
        progress: _Progress,
        media: Sequence[MediaPart] = (),
    ) -> tuple[str, dict[str, AgentState]]:
        out: dict[str, AgentState] = dict(states)
        output = ""
        previous: Step | None = None
        max_state = self.domain.limits.max_state_messages
        sent = self.domain.limits.history_messages  # whole earlier turns sent to the LLM
        for step in self.steps if not self.offline else self.steps[self._offline_step :][:1]:
            state = out.get(step.agent_id) or AgentState()
            history = load_messages(bound_dumped(state.messages, sent))
            prompt = message
            if previous is not None:
                prompt = f"{message}\n\nResultado da etapa anterior ({previous.step_id}):\n{output}"
            deps.slots = dict(state.slots)
            deps.knowledge_context = ""
            if self.context is not None and not step.offline and step.agent.wants_context():
                deps.knowledge_context = await self.context.for_message(
                    message, step.agent_id, deps.proxy, deps.context, only=step.tools
                )
            key = None
            if not step.offline and self.breaker is not None:
                key = step.breaker_key or model_key(step.runner.model)
            if key is not None and self.breaker is not None:
                progress.trial = await self.breaker.check(key)
                progress.key = key
            result = await step.runner.run(
                prompt if step.offline else user_prompt(prompt, media),
                message_history=history,
                deps=deps,
                usage=usage,
                usage_limits=self.limits,
                # the half-open trial is one HTTP request: no retries by the provider's SDK
                model_settings=ModelSettings(max_retries=0) if progress.trial else None,
            )
            if key is not None and self.breaker is not None:
                await self.breaker.success(key)
                progress.key = None
            output = result.output
            new = result.new_messages()
            _record_unknown_tools(new, step.agent_id, deps)
            if new and isinstance(new[-1], ModelRequest):
                # the run ended in an output tool (a handoff, a member's direct reply): keep what
                # the customer was told, so the next turn knows it
                new = [*new, ModelResponse(parts=[TextPart(output)])]
            kept = bound_dumped([*state.messages, *dump_messages(new)], max_state)
            slots = {k: v for k, v in deps.slots.items() if v not in (None, "")}
            slots = step.agent.kept_slots(slots, deps.records)
            out[step.agent_id] = AgentState(messages=kept, slots=slots, updated_at=time.time())
            previous = step
            if deps.handed_off:  # a handoff ends the crew's turn: later steps do not run
                output = self.domain.chatwoot.texts.handoff
                break
            if deps.resolved:  # so does the end of the conversation
                break
        for member in self.members:  # hierarchical: members keep their slots, not history
            if member.agent_id not in deps.member_slots:
                continue
            before = out.get(member.agent_id) or AgentState()
            filled = {
                k: v for k, v in deps.member_slots[member.agent_id].items() if v not in (None, "")
            }
            filled = member.agent.kept_slots(filled, deps.records)
            if filled != before.slots:
                out[member.agent_id] = AgentState(
                    messages=before.messages, slots=filled, updated_at=time.time()
                )
        return output, out

    async def _model_failed(self, progress: _Progress) -> None:
        """Count an outage against the breaker of the model that was called."""
        if progress.key is not None and self.breaker is not None:
            await self.breaker.failure(progress.key, trial=progress.trial)
            progress.key = None

    def _fallback(
        self,
        states: Mapping[str, AgentState],
        deps: TurnDeps,
        usage: RunUsage,
        reason: str,
        kind: str = "fallback",
    ) -> CrewResult:
        handoff = deps.handoff or HandoffRequest(
            reason=reason, requested_by="runtime", summary=f"crew {self.id}", kind=kind
        )
        return CrewResult(
            reply=self.domain.chatwoot.texts.fallback,
            states=dict(states),
            handoff=handoff,
            fallback=True,
            in_flow=False,
            tool_calls=deps.records,
            requests=usage.requests,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            offline=self.offline,
        )


def _record_unknown_tools(messages: list[ModelMessage], agent_id: str, deps: TurnDeps) -> None:
    """Record, and log, calls the model made to tools this agent does not have.

    pydantic-ai refuses such calls itself (they never reach the DataProxy); recording them keeps
    every refused call visible in the turn's tool calls, logs and metrics.
    """
    for message in messages:
        if not isinstance(message, ModelRequest):
            continue
        for part in message.parts:
            if (
                isinstance(part, RetryPromptPart | ToolReturnPart)
                and part.tool_name
                and isinstance(part.content, str)
                and part.content.startswith("Unknown tool name")
            ):
                logger.warning(
                    "refused call to unknown or ungranted tool %r by agent %s in domain %s",
                    part.tool_name,
                    agent_id,
                    deps.context.domain,
                )
                deps.records.append(
                    ToolCallRecord(
                        agent_id=agent_id,
                        tool_id=part.tool_name,
                        args={},
                        ok=False,
                        error="unknown tool or not granted to this agent",
                    )
                )
