"""Why a turn handed off, as one short word the outcomes count by."""

from __future__ import annotations

from chatwootai.tools.base import HandoffRequest

_BY_ROUTE = {
    "handoff": "asked",
    "media_rule": "media",
    "non_text": "non_text",
    "failure": "failure",
    "unavailable": "unavailable",
}
"""Routing layers (``route_method``) that hand off for a reason of their own."""


def handoff_reason(handoff: HandoffRequest | None, route_method: str, fallback: bool) -> str | None:
    """The handoff's reason word: its own ``kind``, else told from the turn; None: no handoff.

    asked (the customer asked for a human), agent (an agent's handoff tool), fallback and
    limit (the crew failed or hit the turn's limits), media, non_text, failure (the service
    gave up), unavailable (the domain cannot answer), budget, flood, out_of_hours, other.
    """
    if handoff is None:
        return None
    if handoff.kind:
        return handoff.kind
    if route_method in _BY_ROUTE:
        return _BY_ROUTE[route_method]
    if handoff.requested_by == "customer":
        return "asked"
    if fallback:
        return "fallback"
    if handoff.requested_by == "agent":
        return "agent"
    return "other"
