"""The offline model: deterministic answers from the agent's own tools, with no LLM behind it.

See :mod:`chatwootai.offline.model` for what it does; :mod:`~chatwootai.offline.parse` reads
days, times, phones, e-mails and order numbers; :mod:`~chatwootai.offline.scheduling` books,
reschedules and cancels through the calendar tool; :mod:`~chatwootai.offline.lookup` answers
from the catalog, the knowledge base and the orders.
"""

from __future__ import annotations

from chatwootai.offline.lookup import NO_ANSWER
from chatwootai.offline.model import OfflineModel, decide, intent_kinds, respond

__all__ = ["NO_ANSWER", "OfflineModel", "decide", "intent_kinds", "respond"]
