"""The pipeline of one customer message: domain → config → route → crew → states → run → reply.

:class:`ChatwootAISystem` composes tenancy, the config registry, the hub, the crews and the state
managers. The HTTP service, the workers and the `chat` command all answer through
:meth:`ChatwootAISystem.process_message`, so a conversation behaves the same everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

from chatwootai.agents.crew import Crew
from chatwootai.agents.factory import CrewFactory
from chatwootai.agents.registry import CrewRegistry
from chatwootai.agents.state import AgentStateManager, fresh_states
from chatwootai.config.errors import ConfigError
from chatwootai.config.loader import DomainLoader
from chatwootai.config.registry import DomainNotFoundError, DomainRegistry
from chatwootai.config.schema import DomainConfig
from chatwootai.conversation import ConversationState, ConversationStore
from chatwootai.guards import Guard, TurnLimits
from chatwootai.hours import outside_handoff
from chatwootai.hub import Hub, RouteDecision, RoutingContext
from chatwootai.knowledge.library import Library
from chatwootai.knowledge.schedule import KnowledgeSchedule, served_configs
from chatwootai.llm import ModelResolver
from chatwootai.media.admission import admit, rule_handoff
from chatwootai.outcomes import OutcomeRecorder
from chatwootai.routing.llm_router import pydantic_ai_router
from chatwootai.settings import Settings
from chatwootai.stopping import stop_task
from chatwootai.store.base import Store
from chatwootai.store.connection import open_store, store_ready
from chatwootai.store.ttl import deployment_ttls, effective_ttls
from chatwootai.tenancy import DomainManager
from chatwootai.tools.base import HandoffRequest, ToolContext
from chatwootai.tools.proxy import DataProxy
from chatwootai.turn import IncomingMessage, TurnOutcome
from chatwootai.watcher import watch_domains

log = logging.getLogger(__name__)

HANDOFF_CREW = "handoff"
"""The pseudo-crew of turns that hand the conversation to a human without running a crew."""


@dataclass(frozen=True, slots=True)
class DomainRuntime:
    """What a domain needs at run time, built once per config version and shared by turns."""

    config: DomainConfig
    version: int
    hub: Hub
    proxy: DataProxy
    factory: CrewFactory


class ChatwootAISystem:
    """Answers customer messages for every domain of a deployment."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        loader: DomainLoader,
        registry: DomainRegistry,
        domains: DomainManager,
        models: ModelResolver,
    ) -> None:
        self.settings = settings
        self.store = store
        self.loader = loader
        self.registry = registry
        self.domains = domains
        self.models = models
        ttls = deployment_ttls(settings)
        self.conversations = ConversationStore(store, ttl=ttls.conversation)
        self.states = AgentStateManager(store, ttl=ttls.agent_state)
        self._ttls = ttls
        self.outcomes = OutcomeRecorder(
            store,
            retention_days=settings.outcomes_retention_days,
            abandoned_after_s=settings.abandoned_after_s,
        )
        """Counts every turn's outcome per domain and day (chatwootai.outcomes)."""
        self.limits = TurnLimits(settings, self.outcomes, self.conversations, models)
        """The budget and flood guards before a turn, the outcome's record after it."""
        self._runtimes: dict[str, DomainRuntime] = {}
        self._runtime_locks: dict[str, asyncio.Lock] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._watcher: asyncio.Task[None] | None = None
        self._watch_stop = asyncio.Event()
        self.crews: CrewRegistry[Crew] = CrewRegistry(self._build_crew, registry)
        registry.on_change(self._forget_runtime)
        self.knowledge = Library(
            settings.data_dir,
            store if settings.redis_configured else None,
            allow_private_networks=settings.knowledge_allow_private_networks,
        )
        """Knowledge sources and indexes; attached to each domain's knowledge tools."""
        self.knowledge_domains = partial(served_configs, registry, loader)
        self._knowledge_task: asyncio.Task[None] | None = None

    @classmethod
    async def create(
        cls,
        settings: Settings,
        *,
        store: Store | None = None,
        models: ModelResolver | None = None,
    ) -> ChatwootAISystem:
        """A system for `settings`: loads tenants, opens the store (unless given)."""
        loader = DomainLoader(settings.domains_dir, agent_packages=settings.agent_packages)
        tenants = await asyncio.to_thread(loader.read_tenants)  # bad entries: start-up report
        store = store or open_store(settings)
        ttls = deployment_ttls(settings)
        registry = DomainRegistry(loader, store, ttl=ttls.config)
        domains = DomainManager(
            store,
            registry,
            tenants,
            default_domain=settings.default_domain,
            ttl=ttls.conversation,
        )
        models = models or ModelResolver(settings, store=store)  # the breaker is shared via store
        return cls(settings, store, loader, registry, domains, models)

    async def start(self) -> None:
        """Check CHATWOOT_DOMAIN; listen for config changes; watch the files if asked to."""
        await self.domains.check_default_domain()
        await self.registry.start()
        if self.settings.watch and self._watcher is None:
            self._watch_stop = asyncio.Event()
            self._watcher = asyncio.create_task(
                watch_domains(
                    self.settings.domains_dir,
                    self.registry,
                    stop_event=self._watch_stop,
                    on_tenants=self.reload_tenants,
                )
            )
            log.info("watching %s for changes (hot reload)", self.settings.domains_dir)
        if self._knowledge_task is None:
            schedule = KnowledgeSchedule(
                self.knowledge, self.knowledge_domains, sync=not self.settings.redis_configured
            )
            self._knowledge_task = asyncio.create_task(schedule.run_forever())

    def reload_tenants(self) -> None:
        """Re-read tenants.yaml; a broken file keeps the last good mapping (ConfigError)."""
        self.domains.set_tenants(self.loader.load_tenants())
        log.info("tenants.yaml reloaded")

    async def close(self) -> None:
        """Stop the watcher and listeners, and close the store."""
        if self._knowledge_task is not None:
            with contextlib.suppress(Exception):  # its errors were logged; closing goes on
                await stop_task(self._knowledge_task)
            self._knowledge_task = None
        await self.knowledge.aclose()
        if self._watcher is not None:
            self._watch_stop.set()
            await asyncio.gather(self._watcher, return_exceptions=True)
            self._watcher = None
        await self.registry.stop()
        for task in self._closing:
            task.cancel()
        for runtime in self._runtimes.values():
            await runtime.proxy.aclose()
        self._runtimes.clear()
        await self.store.close()

    async def ready(self) -> tuple[bool, dict[str, str]]:
        """Readiness and its reasons: the store answers and at least one domain is loadable."""
        checks: dict[str, str] = {}
        store_ok = await store_ready(self.store)
        checks["store"] = "ok" if store_ok else "unreachable"
        names = self.registry.names()
        checks["domains"] = f"{len(names)} found" if names else "none found"
        return store_ok and bool(names), checks

    # -- runtime per domain --------------------------------------------------------------------

    def _forget_runtime(self, domain: str) -> None:
        self.knowledge.forget(domain)
        runtime = self._runtimes.pop(domain, None)
        if runtime is not None:
            self._close_later(runtime)

    def _close_later(self, runtime: DomainRuntime) -> None:
        """Close a replaced runtime's tool clients once turns still using it had time to end."""

        async def close() -> None:
            await asyncio.sleep(runtime.config.limits.timeout_s)
            await runtime.proxy.aclose()

        try:
            task = asyncio.get_running_loop().create_task(close())
        except RuntimeError:  # no loop (a config change seen outside one): nothing to close on
            return
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def runtime(self, domain: str) -> DomainRuntime:
        """The hub, proxy and crew factory of `domain` for its current config version."""
        config = await self.registry.get_domain_config(domain)
        version = self.registry.version(domain)
        runtime = self._runtimes.get(domain)
        if runtime is not None and runtime.version == version and runtime.config is config:
            return runtime
        async with self._runtime_locks.setdefault(domain, asyncio.Lock()):
            runtime = self._runtimes.get(domain)  # built meanwhile by a concurrent turn?
            if runtime is not None and runtime.version == version and runtime.config is config:
                return runtime
            runtime = await self._build_runtime(config, version)
            self._runtimes[domain] = runtime
        log.info("domain %s ready (version %d)", domain, version)
        return runtime

    async def _build_runtime(self, config: DomainConfig, version: int) -> DomainRuntime:
        proxy = DataProxy.for_domain(config, self.store)
        router = None
        model = self.models.resolve(config.llm)
        if not self.models.is_offline(model):
            router = pydantic_ai_router(
                model,
                breaker=self.models.breaker,
                timeout_s=config.limits.timeout_s / 4,
                breaker_key=self.models.breaker_key(config.llm),
            )
        hub = await asyncio.to_thread(Hub.build, config, llm_router=router)
        await self.knowledge.attach(config, proxy.tools)  # document indexes (built once per hash)
        return DomainRuntime(config, version, hub, proxy, CrewFactory(config, proxy, self.models))

    async def _build_crew(self, config: DomainConfig, crew_id: str) -> Crew:
        runtime = await self.runtime(config.name)
        return runtime.factory.build(crew_id)

    # -- one turn ------------------------------------------------------------------------------

    async def process_message(
        self, message: IncomingMessage, conversation_key: str, channel: str
    ) -> TurnOutcome:
        """Answer one (possibly merged) customer message of a conversation."""
        started = time.perf_counter()
        domain = await self.domains.get_domain_for_conversation(
            conversation_key, account_id=message.account_id, inbox_id=message.inbox_id
        )
        runtime = await self.runtime(domain)
        config = runtime.config
        texts = config.chatwoot.texts
        conversation = await self.conversations.load(conversation_key)
        rule = None
        if message.media or message.attachments:  # what of the media its model gets; rules
            model = self.models.resolve(config.llm)
            admitted = await admit(
                config,
                message,
                model,
                offline=self.models.is_offline(model),
                override=self.settings.model_override,
            )
            message, rule = admitted.message, admitted.rule

        if rule is not None and rule.rule.handoff:
            outcome = rule_handoff(config, rule, message)
        elif not message.text.strip() and not message.media:
            outcome = non_text_outcome(config, message)
        elif (guard := await self._guard(config, conversation, message, conversation_key)).outcome:
            outcome = guard.outcome
            if outcome.held_until is not None:  # held by the flood limit: not a turn yet
                return outcome
        else:
            conversation = guard.conversation
            routing_started = time.monotonic()
            context = RoutingContext(conversation.crew, conversation.in_flow)
            if rule is not None and rule.rule.crew is not None:
                decision = RouteDecision(rule.rule.crew, "media_rule", 1.0)
            elif not message.text.strip():  # media alone: no LLM routing on an empty text
                decision = runtime.hub.route(message.text, context)
            else:
                decision = await runtime.hub.aroute(message.text, context)
            if decision.handoff:
                outcome = TurnOutcome(
                    reply=texts.handoff,
                    domain=domain,
                    crew=HANDOFF_CREW,
                    route_method=decision.method,
                    route_score=decision.score,
                    handoff=HandoffRequest(
                        reason="o cliente pediu um atendente humano",
                        requested_by="customer",
                        summary=_summary(message.text, None),
                    ),
                )
            else:
                left_s = config.limits.timeout_s - (time.monotonic() - routing_started)
                outcome = await self._run_crew(
                    runtime,
                    decision,
                    message,
                    conversation_key,
                    channel,
                    conversation,
                    left_s,
                    guard.model,
                )
        outcome = outside_handoff(config, outcome, message.now)  # the team is away: say when back
        turn_ms = (time.perf_counter() - started) * 1000
        log.info(
            "turn %s domain=%s crew=%s method=%s handoff=%s fallback=%s in %.1f ms",
            conversation_key,
            outcome.domain,
            outcome.crew,
            outcome.route_method,
            outcome.handoff is not None,
            outcome.fallback,
            turn_ms,
        )
        await self.limits.record(outcome, message, conversation_key, config, turn_ms)
        return outcome

    async def _guard(
        self,
        config: DomainConfig,
        conversation: ConversationState,
        message: IncomingMessage,
        conversation_key: str,
    ) -> Guard:
        """The budget and flood guards of the turn (see chatwootai.guards)."""
        ttl = effective_ttls(self._ttls, config.ttl).conversation
        return await self.limits.guard(config, conversation, message, conversation_key, ttl)

    async def _run_crew(
        self,
        runtime: DomainRuntime,
        decision: RouteDecision,
        message: IncomingMessage,
        conversation_key: str,
        channel: str,
        conversation: ConversationState,
        left_s: float,
        model: str | None = None,
    ) -> TurnOutcome:
        """Run the routed crew within what is left of the turn's deadline (`left_s`), on the
        cheaper `model` past the budget."""
        config = runtime.config
        domain = config.name
        if model is None:
            crew = await self.crews.get_crew(decision.crew, domain)
        else:
            crew = self.limits.cheaper_crew(
                config, runtime.version, runtime.proxy, decision.crew, model
            )
        agent_ids = list(dict.fromkeys([*crew.config.agents, *_manager(crew)]))
        ttls = effective_ttls(self._ttls, config.ttl)
        states = await self.states.load_many(domain, agent_ids, conversation_key)
        customer = message.customer
        context = ToolContext(
            domain=domain,
            conversation_key=conversation_key,
            agent_id="",
            contact_id=customer.id,
            contact_phone=customer.phone,
            contact_email=customer.email,
            contact_name=customer.name,
            identity_verified=customer.verified,
            channel=channel,
            timezone=config.timezone,
            now=message.now,
        )
        result = await crew.run(
            message.text, states, context, timeout_s=max(0.05, left_s), media=message.media
        )
        handoff = result.handoff
        if handoff is not None and not handoff.summary:
            handoff.summary = _summary(message.text, decision.crew)
        if result.resolved:  # the next message starts afresh: no crew, no slots, history kept
            result.states = fresh_states(result.states)
        if result.states:
            await self.states.save_many(
                domain,
                result.states,
                conversation_key,
                ttl=ttls.agent_state,
                max_messages=config.limits.max_state_messages,
            )
        await self.conversations.save(
            conversation_key,
            conversation.model_copy(
                update={
                    "crew": None if result.resolved else decision.crew,
                    "in_flow": result.in_flow and not result.resolved,
                    "inbox_id": message.inbox_id,
                }
            ),
            ttl=ttls.conversation,
        )
        return TurnOutcome(
            reply=result.reply,
            domain=domain,
            crew=decision.crew,
            route_method=decision.method,
            route_score=decision.score,
            handoff=handoff,
            fallback=result.fallback,
            offline=result.offline,
            tool_calls=result.tool_calls,
            llm_requests=result.requests,
            input_tokens=result.input_tokens,
            output_tokens=result.output_tokens,
            model=model or self.models.effective(config.llm).model or "offline",
            resolved=result.resolved,
        )

    # -- admin ---------------------------------------------------------------------------------

    async def conversation_summary(self, conversation_key: str) -> dict[str, Any]:
        """Domain, current crew and a state summary of a conversation (for the admin API)."""
        summary: dict[str, Any] = {"conversation_id": conversation_key}
        try:
            conversation = await self.conversations.load(conversation_key)
            domain = await self.domains.get_domain_for_conversation(
                conversation_key, inbox_id=conversation.inbox_id
            )
        except Exception as exc:  # NoDomainError and store errors are reported, not raised
            summary["domain"] = None
            summary["error"] = str(exc)
            return summary
        summary.update(
            domain=domain,
            crew=conversation.crew,
            in_flow=conversation.in_flow,
            paused=conversation.paused,
            paused_reason=conversation.paused_reason,
        )
        try:
            config = await self.registry.get_domain_config(domain)
        except (ConfigError, DomainNotFoundError) as exc:  # a broken domain: said, not raised
            summary["error"] = str(exc)
            return summary
        states = await self.states.load_many(domain, list(config.agents), conversation_key)
        summary["agents"] = {
            agent_id: {"messages": len(state.messages), "slots": state.slots}
            for agent_id, state in states.items()
            if state.messages or state.slots
        }
        return summary


def non_text_outcome(config: DomainConfig, message: IncomingMessage) -> TurnOutcome:
    """The answer to a message without text: the domain's non-text reply, or a handoff."""
    texts = config.chatwoot.texts
    handoff = None
    reply = texts.non_text
    if config.chatwoot.non_text == "handoff":
        reply = texts.handoff
        handoff = HandoffRequest(
            reason=f"mensagem não textual ({message.content_kind})",
            requested_by="system",
            summary=f"O cliente enviou uma mensagem do tipo {message.content_kind}.",
        )
    return TurnOutcome(
        reply=reply,
        domain=config.name,
        crew=HANDOFF_CREW if handoff else "non_text",
        route_method="non_text",
        route_score=1.0,
        handoff=handoff,
    )


def _manager(crew: Crew) -> list[str]:
    return [crew.config.manager] if crew.config.manager else []


def _summary(text: str, crew: str | None) -> str:
    """A short private summary of the turn for the human who takes over."""
    excerpt = text if len(text) <= 300 else text[:297] + "..."
    lines = [f"Última mensagem do cliente: {excerpt}"]
    if crew:
        lines.append(f"Equipe que atendia: {crew}")
    return "\n".join(lines)
