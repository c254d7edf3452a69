"""Outcomes of turns and conversations per domain and day: counts, tokens, cost, spend.

* :mod:`.pricing`: a turn's cost from the genai-prices table (overridable per model).
* :mod:`.model`: :class:`TurnOutcome` and the report's shape (:class:`OutcomeReport`).
* :mod:`.record`: :func:`record_turn` (one store call per turn), :func:`record_conversation`.
* :mod:`.report`: :func:`read_report`, a domain's days (``GET /api/admin/outcomes``).
"""

from chatwootai.outcomes.model import (
    ConversationOutcome,
    DayOutcomes,
    OutcomeReport,
    OutcomeTotals,
    TurnOutcome,
)
from chatwootai.outcomes.pricing import estimate_cost_usd
from chatwootai.outcomes.reasons import handoff_reason
from chatwootai.outcomes.record import (
    OutcomeRecorder,
    record_conversation,
    record_handoff,
    record_turn,
)
from chatwootai.outcomes.report import MAX_REPORT_DAYS, OutcomeRangeError, read_report

__all__ = [
    "MAX_REPORT_DAYS",
    "ConversationOutcome",
    "DayOutcomes",
    "OutcomeRangeError",
    "OutcomeRecorder",
    "OutcomeReport",
    "OutcomeTotals",
    "TurnOutcome",
    "estimate_cost_usd",
    "handoff_reason",
    "read_report",
    "record_conversation",
    "record_handoff",
    "record_turn",
]
