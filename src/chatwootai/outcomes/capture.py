"""A pipeline turn (:class:`chatwootai.turn.TurnOutcome`) as the outcome the store counts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from chatwootai.outcomes.model import TurnOutcome
from chatwootai.outcomes.pricing import PerMillionTokens, estimate_cost_usd
from chatwootai.outcomes.reasons import handoff_reason
from chatwootai.turn import IncomingMessage
from chatwootai.turn import TurnOutcome as PipelineTurn


def outcome_of(
    turn: PipelineTurn,
    message: IncomingMessage,
    conversation_key: str,
    *,
    turn_ms: float,
    timezone: str,
    prices: Mapping[str, PerMillionTokens] | None = None,
    base_url: str | None = None,
) -> TurnOutcome:
    """What `turn` did and cost, at the message's moment (its clock, or now)."""
    model = turn.model or "offline"
    return TurnOutcome(
        domain=turn.domain,
        crew=turn.crew,
        route_method=turn.route_method,
        handoff=turn.handoff is not None,
        handoff_reason=handoff_reason(turn.handoff, turn.route_method, turn.fallback),
        fallback=turn.fallback,
        tool_calls=len(turn.tool_calls),
        llm_requests=turn.llm_requests,
        input_tokens=turn.input_tokens,
        output_tokens=turn.output_tokens,
        model=model,
        cost_usd=estimate_cost_usd(
            model, turn.input_tokens, turn.output_tokens, prices, base_url=base_url
        ),
        turn_ms=turn_ms,
        messages=max(1, len(message.message_ids)),
        conversation_key=conversation_key,
        conversation_outcome="resolved_by_bot" if turn.resolved else None,
        time=message.now or datetime.now(UTC),
        timezone=timezone,
    )
