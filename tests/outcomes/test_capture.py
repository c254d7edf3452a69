"""A pipeline turn as the outcome counted: reason words, the resolution, the cost, the moment."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chatwootai.outcomes.capture import outcome_of
from chatwootai.outcomes.pricing import estimate_cost_usd
from chatwootai.outcomes.reasons import handoff_reason
from chatwootai.settings import ModelPrice
from chatwootai.tools.base import HandoffRequest
from chatwootai.turn import IncomingMessage, TurnOutcome

NOW = datetime(2026, 11, 14, 13, 0, tzinfo=UTC)


def pipeline_turn(**changes: object) -> TurnOutcome:
    """A sales turn of cosmetics with `changes`."""
    turn = TurnOutcome(reply="ok", domain="cosmetics", crew="sales", route_method="rules",
                       route_score=1.0, llm_requests=1, input_tokens=1000, output_tokens=100,
                       model="openai:gpt-4o-mini")  # fmt: skip
    for name, value in changes.items():
        setattr(turn, name, value)
    return turn


def test_a_resolving_turn_ends_its_conversation_resolved_by_the_bot() -> None:
    message = IncomingMessage(text="obrigado, era isso", message_ids=("5",), now=NOW)
    outcome = outcome_of(pipeline_turn(resolved=True), message, "1:1", turn_ms=12, timezone="UTC")
    assert outcome.conversation_outcome == "resolved_by_bot"
    assert outcome.time == NOW and outcome.messages == 1 and not outcome.handoff
    assert outcome.cost_usd == pytest.approx((1000 * 0.15 + 100 * 0.6) / 1e6)


def test_handoff_reasons_are_a_few_fixed_words() -> None:
    asked = HandoffRequest(reason="o cliente pediu", requested_by="customer")
    assert handoff_reason(asked, "handoff", False) == "asked"
    assert handoff_reason(asked, "classifier", False) == "asked"
    assert handoff_reason(HandoffRequest(reason="x", kind="out_of_hours"), "rules", False) == (
        "out_of_hours"
    )
    assert handoff_reason(HandoffRequest(reason="x", requested_by="agent"), "rules", False) == (
        "agent"
    )
    runtime = HandoffRequest(reason="falha do modelo", requested_by="runtime")
    assert handoff_reason(runtime, "rules", True) == "fallback"
    assert handoff_reason(
        HandoffRequest(reason="x", requested_by="system"), "media_rule", False
    ) == ("media")
    assert handoff_reason(None, "rules", False) is None


def test_prices_come_from_the_table_or_the_overrides() -> None:
    assert estimate_cost_usd("offline", 5000, 500) == 0.0
    assert estimate_cost_usd("anthropic:claude-3-5-haiku-latest", 1000, 500) == pytest.approx(
        0.0028
    )
    assert estimate_cost_usd("ollama:llama3.1", 1000, 100) is None
    overrides = {"llama3.1": ModelPrice(input_per_mtok=1.0, output_per_mtok=2.0)}
    assert estimate_cost_usd("ollama:llama3.1", 1_000_000, 500_000, overrides) == 2.0
    assert estimate_cost_usd("openai:gpt-4o-mini", 0, 0) == 0.0
