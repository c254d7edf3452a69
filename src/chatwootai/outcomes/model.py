"""The outcome of one turn, and the report of a domain's outcomes over days."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

HandoffReason = str
"""A short fixed word: asked, agent, fallback, limit, budget, flood, out_of_hours, media,
non_text, failure, unavailable, other."""

ConversationOutcome = Literal["resolved_by_bot", "handed_off", "abandoned"]
"""How a conversation ended for the bot (see :func:`chatwootai.outcomes.record_conversation`)."""

CONVERSATION_OUTCOMES: tuple[ConversationOutcome, ...] = (
    "resolved_by_bot",
    "handed_off",
    "abandoned",
)

TURN_MS_BUCKETS: tuple[float, ...] = (
    5,
    10,
    25,
    50,
    100,
    250,
    500,
    750,
    1000,
    1500,
    2000,
    3000,
    4000,
    5000,
    7500,
    10000,
    15000,
    20000,
    30000,
    45000,
    60000,
    120000,
)
"""Upper bounds (ms) of the turn-time histogram kept per day; a last bucket holds the rest."""


class TurnOutcome(BaseModel):
    """What one turn did and cost: recorded by :func:`chatwootai.outcomes.record_turn`."""

    model_config = ConfigDict(frozen=True)

    domain: str
    crew: str
    route_method: str = Field(description="The routing layer that chose the crew.")
    handoff: bool = False
    handoff_reason: HandoffReason | None = None
    fallback: bool = False
    tool_calls: int = 0
    llm_requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    model: str = ""
    cost_usd: float | None = Field(default=0.0, description="None: the model's price is unknown.")
    turn_ms: float = 0.0
    messages: int = Field(default=1, description="Customer messages the turn answered.")
    conversation_key: str = ""
    conversation_outcome: ConversationOutcome | None = Field(
        default=None,
        description="How the turn ended its conversation (a handoff: handed_off), if it did.",
    )
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    timezone: str = Field(default="UTC", description="The domain's: its days and months.")


class ConversationCounts(BaseModel):
    """How many conversations ended each way."""

    resolved_by_bot: int = 0
    handed_off: int = 0
    abandoned: int = 0


class OutcomeTotals(BaseModel):
    """Counts of turns over a period (a day, or the whole report)."""

    messages: int = 0
    turns: int = 0
    handoffs: int = 0
    handoffs_by_reason: dict[str, int] = Field(default_factory=dict)
    fallbacks: int = 0
    tool_calls: int = 0
    llm_requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    turns_cost_unknown: int = Field(
        default=0, description="Turns whose model has no known price (not in cost_usd)."
    )
    turn_ms_p50: float | None = Field(default=None, description="Estimated from a histogram.")
    turn_ms_p95: float | None = None
    conversations: ConversationCounts = Field(default_factory=ConversationCounts)


class DayOutcomes(OutcomeTotals):
    """One day of a domain (in the domain's timezone)."""

    date: date


class OutcomeReport(BaseModel):
    """Body of ``GET /api/admin/outcomes``: a domain's days from `from` to `to`, and totals."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    domain: str
    from_: date = Field(alias="from")
    to: date
    days: list[DayOutcomes]
    totals: OutcomeTotals
