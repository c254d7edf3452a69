"""What stands between a customer's turn and the LLM: the monthly budget and the flood limit.

Both are decided from what the turn has already loaded (the domain's month spend as this
process last saw it, the conversation's routing state), so neither costs a store command of its
own on the way in. See :mod:`chatwootai.outcomes.budget` and :mod:`chatwootai.flood`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from chatwootai.agents.crew import Crew
from chatwootai.agents.deps import ToolProxy
from chatwootai.agents.factory import CrewFactory
from chatwootai.config.schema import DomainConfig
from chatwootai.conversation import ConversationState, ConversationStore
from chatwootai.flood import flood_check
from chatwootai.llm import ModelResolver
from chatwootai.outcomes import OutcomeRecorder
from chatwootai.outcomes.budget import alert as budget_alert
from chatwootai.outcomes.budget import crossed, over_budget
from chatwootai.outcomes.capture import outcome_of
from chatwootai.settings import Settings
from chatwootai.store.base import StoreError
from chatwootai.tools.base import HandoffRequest
from chatwootai.turn import IncomingMessage, TurnOutcome

log = logging.getLogger(__name__)

HANDOFF_CREW = "handoff"


@dataclass(frozen=True, slots=True)
class Guard:
    """A turn decided without the LLM (`outcome`), or the way on (`conversation`, `model`)."""

    conversation: ConversationState
    outcome: TurnOutcome | None = None
    model: str | None = None
    """The cheaper model the crew runs on past the budget (None: the configured one)."""
    save: bool = False
    """The conversation's state changed and must be saved (a held turn that struck)."""


def moment(message: IncomingMessage) -> datetime:
    """The turn's moment: the message's clock, or now."""
    return message.now or datetime.now(UTC)


def guard_turn(
    config: DomainConfig,
    conversation: ConversationState,
    message: IncomingMessage,
    spend_usd: float | None,
) -> Guard:
    """Over the budget: hand off or switch model. Over the flood limit: hold or hand off.

    The flood limit counts Chatwoot's messages (with ids), not `chat`'s or a conversation
    test's, whose clock may stand still over many turns.
    """
    texts = config.chatwoot.texts
    rule = over_budget(config, spend_usd)
    model = None
    if rule is not None and rule.action == "handoff":
        return Guard(
            conversation,
            _handoff(
                config,
                rule.text or texts.handoff,
                "budget",
                "orçamento mensal de LLM do domínio atingido",
                f"O orçamento mensal de LLM ({config.limits.monthly_budget_usd:g} USD) foi "
                "atingido; o bot não responde até o próximo mês ou até o limite ser aumentado.",
                message,
            ),
        )
    if rule is not None:
        model = rule.model
    if not message.message_ids:  # `chat` and conversation tests: a person or a script typing
        return Guard(conversation, model=model)
    flood = config.limits.flood
    verdict = flood_check(
        conversation, flood, max(1, len(message.message_ids)), moment(message).timestamp()
    )
    if verdict.action == "handoff":
        return Guard(
            verdict.state,
            _handoff(
                config,
                texts.handoff,
                "flood",
                "mensagens em excesso",
                f"O cliente enviou mais de {flood.messages_per_minute} mensagens por minuto em "
                f"{flood.handoff_after} minutos seguidos.",
                message,
            ),
            save=True,
        )
    if verdict.action == "hold":
        held = TurnOutcome(
            reply="",
            domain=config.name,
            crew="held",
            route_method="flood",
            route_score=1.0,
            held_until=verdict.until,
        )
        return Guard(verdict.state, held, save=verdict.changed)
    return Guard(verdict.state, model=model)


def _handoff(
    config: DomainConfig, reply: str, code: str, reason: str, note: str, message: IncomingMessage
) -> TurnOutcome:
    excerpt = message.text if len(message.text) <= 300 else message.text[:297] + "..."
    return TurnOutcome(
        reply=reply,
        domain=config.name,
        crew=HANDOFF_CREW,
        route_method=code,
        route_score=1.0,
        handoff=HandoffRequest(
            reason=reason,
            requested_by="system",
            summary=f"{note}\nÚltima mensagem do cliente: {excerpt}",
            kind=code,
        ),
    )


class TurnLimits:
    """The guards before a turn and the outcome's record after it, for one system."""

    def __init__(
        self,
        settings: Settings,
        outcomes: OutcomeRecorder,
        conversations: ConversationStore,
        models: ModelResolver,
    ) -> None:
        self.settings = settings
        self.outcomes = outcomes
        self.conversations = conversations
        self.models = models
        self._cheaper: dict[tuple[str, int, str, str], Crew] = {}

    async def guard(
        self,
        config: DomainConfig,
        conversation: ConversationState,
        message: IncomingMessage,
        conversation_key: str,
        conversation_ttl: int | None,
    ) -> Guard:
        """The budget and flood guards of a turn; a held turn that struck saves its count."""
        when = moment(message)
        spend = self.outcomes.spend(config.name, when, config.timezone)
        if spend is None and config.limits.monthly_budget_usd is not None:
            # not seen this month by this process: read once; later turns learn it from their
            # own record's reply
            try:
                spend = await self.outcomes.load_spend(config.name, when, config.timezone)
            except StoreError as exc:
                log.warning("month spend of %s not read: %s", config.name, exc)
        guard = guard_turn(config, conversation, message, spend)
        if guard.save:
            await self.conversations.save(
                conversation_key, guard.conversation, ttl=conversation_ttl
            )
        return guard

    async def record(
        self,
        outcome: TurnOutcome,
        message: IncomingMessage,
        conversation_key: str,
        config: DomainConfig,
        turn_ms: float,
    ) -> None:
        """Count the turn's outcome (one store call; a store failure loses only the count) and
        alert when its cost crossed a share of the domain's budget."""
        recorded = outcome_of(
            outcome,
            message,
            conversation_key,
            turn_ms=turn_ms,
            timezone=config.timezone,
            prices=self.settings.prices,
            base_url=self.models.effective(config.llm).base_url,
        )
        try:
            spent = await self.outcomes.record(recorded)
        except StoreError as exc:
            log.warning("outcome of a turn of %s not counted: %s", conversation_key, exc)
            return
        outcome.recorded = recorded
        budget = config.limits.monthly_budget_usd
        share = crossed(budget, spent - (recorded.cost_usd or 0.0), spent)
        if share is not None and budget is not None:
            budget_alert(config.name, share, spent, budget)
            outcome.budget_alert = share

    def cheaper_crew(
        self, config: DomainConfig, version: int, proxy: ToolProxy, crew_id: str, model: str
    ) -> Crew:
        """The crew built on the domain's `llm` with `model` (agents' own `llm` dropped), once
        per config version."""
        key = (config.name, version, crew_id, model)
        crew = self._cheaper.get(key)
        if crew is None:
            cheaper = config.model_copy(
                update={
                    "llm": config.llm.model_copy(update={"model": model}),
                    "agents": {
                        agent_id: agent.model_copy(update={"llm": None})
                        for agent_id, agent in config.agents.items()
                    },
                }
            )
            crew = CrewFactory(cheaper, proxy, self.models).build(crew_id)
            self._cheaper = {  # crews of the domain's older versions go
                k: v for k, v in self._cheaper.items() if k[0] != config.name or k[1] == version
            }
            self._cheaper[key] = crew
        return crew
