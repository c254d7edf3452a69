"""A turn's trace as the console shows it: routing, crew, tool calls, LLM usage, time, handoff."""

from __future__ import annotations

import json
from typing import Any

from chatwootai.outcomes.pricing import estimate_cost_usd
from chatwootai.turn import TurnOutcome

RESULT_CHARS = 2000
"""A tool result longer than this is cut (the page and the store keep a readable excerpt)."""


def _plain(value: Any) -> Any:
    """`value` as JSON-ready data (anything else as its text)."""
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return str(value)


def _cut(text: str, limit: int = RESULT_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def trace_of(
    outcome: TurnOutcome,
    *,
    customer: str,
    channel: str,
    at: float,
    turn_ms: float,
) -> dict[str, Any]:
    """One turn as plain data: what the customer said, the reply, and how it was reached.

    The model and cost are those the outcomes store counted for the turn (its price table and
    the deployment's price overrides); a turn not counted is priced from the table alone.
    """
    recorded = outcome.recorded
    model = (recorded.model if recorded is not None else outcome.model) or "offline"
    if recorded is not None:
        cost_usd = recorded.cost_usd
    else:
        cost_usd = estimate_cost_usd(model, outcome.input_tokens, outcome.output_tokens)
    calls = [
        {
            "agent": call.agent_id,
            "tool": call.tool_id,
            "args": _plain(call.args),
            "ok": call.ok,
            "error": call.error,
            "result": _cut(call.result.text) if call.result is not None else None,
        }
        for call in outcome.tool_calls
    ]
    handoff = outcome.handoff
    return {
        "at": at,
        "customer": customer,
        "channel": channel,
        "reply": outcome.reply,
        "domain": outcome.domain,
        "crew": outcome.crew,
        "route_method": outcome.route_method,
        "route_score": round(float(outcome.route_score), 4),
        "tool_calls": calls,
        "llm_requests": outcome.llm_requests,
        "input_tokens": outcome.input_tokens,
        "output_tokens": outcome.output_tokens,
        "model": model,
        "cost_usd": cost_usd,
        "turn_ms": round(turn_ms, 1),
        "offline": outcome.offline,
        "fallback": outcome.fallback,
        "handoff": None
        if handoff is None
        else {"reason": handoff.reason, "requested_by": handoff.requested_by},
    }
