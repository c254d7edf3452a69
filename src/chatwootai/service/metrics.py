"""Prometheus metrics of the service, each app or worker with its own registry."""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from chatwootai.outcomes.model import TurnOutcome

__all__ = ["CONTENT_TYPE_LATEST", "OTHER_DOMAINS", "DomainLabels", "Metrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

OTHER_DOMAINS = "other"
"""The label of every domain past the cap (``CHATWOOTAI_METRICS_DOMAINS``)."""

HANDOFF_REASONS = frozenset(
    {
        "asked",
        "agent",
        "fallback",
        "limit",
        "budget",
        "flood",
        "out_of_hours",
        "media",
        "non_text",
        "failure",
        "unavailable",
    }
)
"""Handoff reasons labelled by name; any other is labelled ``other``."""


class DomainLabels:
    """The domain label of metrics: the first `cap` domains seen by name, the rest ``other``."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._named: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, domain: str) -> str:
        """The label value for `domain`."""
        if domain in self._named:
            return domain
        with self._lock:
            if len(self._named) < self.cap:
                self._named.add(domain)
                return domain
        return OTHER_DOMAINS


class Metrics:
    """Counters and histograms of webhooks, turns, handoffs, routing and LLM use."""

    def __init__(
        self, registry: CollectorRegistry | None = None, *, domains_labelled: int = 50
    ) -> None:
        self.registry = registry or CollectorRegistry()
        self.domain = DomainLabels(domains_labelled)
        """Every ``domain`` label goes through it (bounded cardinality)."""
        r = self.registry
        self.received = Counter(
            "chatwootai_messages_received", "Webhook deliveries received.", registry=r
        )
        self.queued = Counter(
            "chatwootai_messages_queued", "Customer messages queued for a turn.", registry=r
        )
        self.ignored = Counter(
            "chatwootai_messages_ignored",
            "Deliveries the bot does not answer.",
            ["reason"],
            registry=r,
        )
        self.deduplicated = Counter(
            "chatwootai_messages_deduplicated", "Duplicate deliveries dropped.", registry=r
        )
        self.rejected = Counter(
            "chatwootai_webhooks_rejected", "Deliveries rejected.", ["reason"], registry=r
        )
        self.spooled = Counter(
            "chatwootai_messages_spooled",
            "Messages and ownership changes kept in the local spool.",
            registry=r,
        )
        self.spool_superseded = Counter(
            "chatwootai_spool_superseded",
            "Spooled messages dropped on replay: a human took the conversation over after them.",
            registry=r,
        )
        self.journal_entries = Gauge(
            "chatwootai_journal_entries",
            "Accepted messages held in this process's journal until their turn ends.",
            registry=r,
        )
        self.journal_replayed = Counter(
            "chatwootai_journal_replayed",
            "Journaled messages stored again after the store lost its data.",
            registry=r,
        )
        self.store_data_lost = Counter(
            "chatwootai_store_data_lost",
            "Times the store was found without its data (its epoch changed or vanished).",
            registry=r,
        )
        self.answered = Counter(
            "chatwootai_messages_answered", "Turns answered.", ["domain"], registry=r
        )
        self.handoffs = Counter(
            "chatwootai_handoffs", "Conversations handed to humans.", ["domain"], registry=r
        )
        self.notices = Counter(
            "chatwootai_notices",
            "Notices to humans (customer wrote to a human's conversation, bot reply not "
            "delivered), by kind and outcome (queued, duplicate, done, dropped).",
            ["kind", "outcome"],
            registry=r,
        )
        self.other_bots = Counter(
            "chatwootai_other_bot_messages",
            "Deliveries showing another bot (Captain) answering in an inbox the service serves.",
            ["kind"],
            registry=r,
        )
        self.routed = Counter(
            "chatwootai_routing", "Turns per crew.", ["domain", "crew", "method"], registry=r
        )
        self.domain_unavailable = Counter(
            "chatwootai_domain_unavailable",
            "Turns handed to a human because their domain cannot answer (invalid or missing).",
            ["domain"],
            registry=r,
        )
        self.turn_errors = Counter(
            "chatwootai_turn_errors", "Turns that failed and will be retried.", registry=r
        )
        self.llm_latency = Histogram(
            "chatwootai_llm_seconds",
            "Time spent in the pipeline (LLM and tools) per turn.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.llm_tokens = Counter(
            "chatwootai_llm_tokens", "LLM tokens used.", ["direction"], registry=r
        )
        self.turn_latency = Histogram(
            "chatwootai_turn_seconds",
            "From the first message received to the reply sent.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.queue_depth = Gauge(
            "chatwootai_queue_depth", "Turn jobs waiting in the queue.", registry=r
        )
        # Turn leases and deferred deliveries (service/lease.py, service/delivery.py)
        self.turn_jobs = Counter(
            "chatwootai_turn_jobs",
            "Turn jobs run, by outcome (busy: the conversation's turn was running elsewhere).",
            ["outcome"],
            registry=r,
        )
        self.takeovers = Counter(
            "chatwootai_turn_takeovers",
            "Turns taken over because their worker stopped renewing the lease.",
            registry=r,
        )
        self.leases_lost = Counter(
            "chatwootai_turn_leases_lost",
            "Turns stopped because their lease could not be renewed in time.",
            registry=r,
        )
        self.deliveries_deferred = Counter(
            "chatwootai_deliveries_deferred",
            "Reply deliveries Chatwoot did not take and that are tried again later.",
            ["reason"],
            registry=r,
        )
        self.undelivered = Gauge(
            "chatwootai_undelivered_conversations",
            "Conversations whose reply waits for Chatwoot (deployment-wide, read from the store).",
            registry=r,
        )
        self.undelivered_past_horizon = Gauge(
            "chatwootai_undelivered_past_horizon",
            "Conversations whose reply has waited past CHATWOOTAI_DELIVERY_HORIZON.",
            registry=r,
        )
        self.replies_unconfirmed = Counter(
            "chatwootai_replies_unconfirmed",
            "Lost posts neither seen nor provably absent (another message came after): not "
            "posted again.",
            registry=r,
        )

        # Customer media (service/turn_media.py) and reply attachments (service/replies.py)
        self.media = Counter(
            "chatwootai_media",
            "Customer attachments of turns, by kind (audio, image, document, other) and outcome "
            "(transcribed, seen, read, skipped, or why it failed).",
            ["kind", "outcome"],
            registry=r,
        )
        self.media_seconds = Histogram(
            "chatwootai_media_seconds",
            "Time to download an attachment, and to transcribe a voice note.",
            ["step"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.reply_attachments = Counter(
            "chatwootai_reply_attachments",
            "Files carried by replies, by outcome (sent, or failed: not loadable, not sent).",
            ["outcome"],
            registry=r,
        )

        # Outcomes, spend (chatwootai.outcomes): per domain, the label capped
        self.outcome_turns = Counter(
            "chatwootai_outcome_turns", "Turns thought, per domain.", ["domain"], registry=r
        )
        self.outcome_handoffs = Counter(
            "chatwootai_outcome_handoffs",
            "Turns that handed off, per domain and reason (asked, agent, fallback, limit, budget, "
            "flood, out_of_hours, media, non_text, failure, unavailable, other).",
            ["domain", "reason"],
            registry=r,
        )
        self.outcome_llm_requests = Counter(
            "chatwootai_outcome_llm_requests", "LLM requests, per domain.", ["domain"], registry=r
        )
        self.outcome_tokens = Counter(
            "chatwootai_outcome_tokens",
            "LLM tokens, per domain and direction (input, output).",
            ["domain", "direction"],
            registry=r,
        )
        self.outcome_cost = Counter(
            "chatwootai_outcome_cost_usd",
            "Estimated LLM cost in USD, per domain (turns of a model without a price: none).",
            ["domain"],
            registry=r,
        )
        self.budget_alerts = Counter(
            "chatwootai_budget_alerts",
            "Domains whose month spend crossed a share of limits.monthly_budget_usd (0.8, 1).",
            ["domain", "share"],
            registry=r,
        )

    def observe_outcome(self, outcome: TurnOutcome | None, budget_alert: float | None) -> None:
        """Count a recorded turn's outcome (and a budget share it crossed)."""
        if outcome is None:
            return
        domain = self.domain(outcome.domain)
        self.outcome_turns.labels(domain).inc()
        if outcome.handoff:
            reason = outcome.handoff_reason or "other"
            reason = reason if reason in HANDOFF_REASONS else "other"
            self.outcome_handoffs.labels(domain, reason).inc()
        if outcome.llm_requests:
            self.outcome_llm_requests.labels(domain).inc(outcome.llm_requests)
        if outcome.input_tokens:
            self.outcome_tokens.labels(domain, "input").inc(outcome.input_tokens)
        if outcome.output_tokens:
            self.outcome_tokens.labels(domain, "output").inc(outcome.output_tokens)
        if outcome.cost_usd:
            self.outcome_cost.labels(domain).inc(outcome.cost_usd)
        if budget_alert is not None:
            self.budget_alerts.labels(domain, f"{budget_alert:g}").inc()

    def render(self) -> bytes:
        """The metrics in the Prometheus text format."""
        return generate_latest(self.registry)
