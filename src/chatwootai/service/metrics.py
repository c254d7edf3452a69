"""Prometheus metrics of the service, each app or worker with its own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    """Counters and histograms of webhooks, turns, handoffs, routing and LLM use."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
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

    def render(self) -> bytes:
        """The metrics in the Prometheus text format."""
        return generate_latest(self.registry)
