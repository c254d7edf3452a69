"""Rejected webhook deliveries: counted by a fixed set of reasons, logged at most once a minute
per source.

A client sending garbage would otherwise write one log line per request; the counter keeps the
exact numbers, and the next line logged for a source says how many were not.
"""

from __future__ import annotations

import logging
import time
from typing import Literal, get_args

from prometheus_client import Counter

log = logging.getLogger("chatwootai.service.webhook")

RejectionLabel = Literal[
    "too_large",
    "payload",
    "unsigned",
    "malformed",
    "stale",
    "mismatch",
    "no_secret",
    "bad_token",
    "wrong_tenant",
]
"""Every ``reason`` label of ``chatwootai_webhooks_rejected_total``."""

LABELS: frozenset[str] = frozenset(get_args(RejectionLabel))

LOG_EVERY_S = 60.0
"""At most one log line per source in this many seconds."""
MAX_SOURCES = 4096
"""Sources remembered at once (memory stays bounded under a flood from many addresses)."""


class RejectionLog:
    """Counts every rejection; logs the first per source (client address) each minute."""

    def __init__(
        self, counter: Counter, *, every_s: float = LOG_EVERY_S, max_sources: int = MAX_SOURCES
    ) -> None:
        self.counter = counter
        self.every_s = every_s
        self.max_sources = max_sources
        self._sources: dict[str, tuple[float, int]] = {}
        """Source → (when its last line was logged, rejections not logged since)."""

    def reject(
        self,
        source: str,
        label: RejectionLabel,
        code: int,
        reason: str,
        *,
        level: int = logging.INFO,
    ) -> None:
        """Count a rejection, and log it unless this source was logged within the minute."""
        self.counter.labels(label).inc()
        now = time.monotonic()
        last, unlogged = self._sources.get(source, (-self.every_s, 0))
        if now - last < self.every_s:
            self._sources[source] = (last, unlogged + 1)
            return
        if len(self._sources) >= self.max_sources:
            self._forget(now)
        self._sources[source] = (now, 0)
        more = f" ({unlogged} more from this source not logged)" if unlogged else ""
        log.log(level, "webhook rejected (%s) from %s: %s%s", code, source, reason, more)

    def _forget(self, now: float) -> None:
        """Drop sources whose minute is over; all of them if that is not enough."""
        self._sources = {
            s: entry for s, entry in self._sources.items() if now - entry[0] < self.every_s
        }
        if len(self._sources) >= self.max_sources:
            self._sources.clear()
