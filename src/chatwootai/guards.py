"""What stands between a customer's turn and the LLM: the monthly budget and the flood limit.

Both are decided from what the turn has already loaded (the domain's month spend as this
process last saw it, the conversation's routing state), so neither costs a store command of its
own on the way in. See :mod:`chatwootai.outcomes.budget` and :mod:`chatwootai.flood`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from chatwootai.config.schema import DomainConfig
from chatwootai.conversation import ConversationState
from chatwootai.flood import flood_check
from chatwootai.outcomes.budget import over_budget
from chatwootai.tools.base import HandoffRequest
from chatwootai.turn import IncomingMessage, TurnOutcome

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
