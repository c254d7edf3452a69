"""Another bot answering in an inbox the service serves: counted, and warned about once an hour.

Chatwoot runs both Captain (its own AI) and an Agent Bot when both are connected to an inbox
(``hook_execution_service.rb``): the customer then gets two answers to each message. The service
cannot stop Captain; it tells the operator. Each Captain message in a served inbox, and each
customer message in a conversation assigned to Captain, counts in
``chatwootai_other_bot_messages_total{kind}`` (``captain_message`` or ``captain_assigned``), and a
warning is logged at most once per inbox per :data:`WARN_EVERY_S` in each process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from chatwootai.chatwoot.filters import Decision
from chatwootai.chatwoot.payloads import Event, MessageEvent
from chatwootai.service.metrics import Metrics

log = logging.getLogger(__name__)

WARN_EVERY_S = 3600.0
"""Shortest time between two warnings about the same inbox (per process)."""
MAX_INBOXES = 10_000
"""Inboxes remembered at most (the oldest warnings are forgotten past this)."""
KINDS = {"other_bot": "captain_message", "captain_owner": "captain_assigned"}
"""Decision label → the ``kind`` label of the metric (a fixed set)."""


class OtherBotWatch:
    """Counts and warns about another bot answering in the inboxes the service serves."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        every_s: float = WARN_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metrics = metrics
        self.every_s = every_s
        self.clock = clock
        self._warned: dict[tuple[int | None, int | None], float] = {}

    def observe(self, event: Event, decision: Decision) -> bool:
        """Count a delivery showing another bot; True when a warning was logged for it."""
        kind = KINDS.get(decision.label)
        if kind is None or not isinstance(event, MessageEvent):
            return False
        self.metrics.other_bots.labels(kind).inc()
        inbox = (event.account_id, event.inbox_id)
        now = self.clock()
        last = self._warned.get(inbox)
        if last is not None and now - last < self.every_s:
            return False
        if len(self._warned) >= MAX_INBOXES:
            oldest = min(self._warned, key=self._warned.__getitem__)
            del self._warned[oldest]
        self._warned[inbox] = now
        name = f" ({event.inbox.name})" if event.inbox is not None and event.inbox.name else ""
        log.warning(
            "another bot answers in inbox %s%s of account %s: %s; the customer gets two "
            "answers. Disconnect Captain from this inbox (or this bot). Logged at most once "
            "an hour per inbox; counted by chatwootai_other_bot_messages_total",
            event.inbox_id,
            name,
            event.account_id,
            decision.reason,
        )
        return True
