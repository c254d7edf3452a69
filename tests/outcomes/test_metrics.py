"""The domain label of the metrics stays bounded: the first domains by name, the rest 'other'."""

from __future__ import annotations

from chatwootai.outcomes import TurnOutcome
from chatwootai.service.metrics import Metrics


def samples(metrics: Metrics, name: str) -> dict[tuple[str, ...], float]:
    """The `_total` samples of a counter, keyed by their label values."""
    return {
        tuple(sample.labels.values()): sample.value
        for metric in metrics.registry.collect()
        if metric.name == name
        for sample in metric.samples
        if sample.name.endswith("_total")
    }


def test_domains_past_the_cap_are_labelled_other() -> None:
    metrics = Metrics(domains_labelled=2)
    for index in range(5):
        outcome = TurnOutcome(
            domain=f"d{index}",
            crew="sales",
            route_method="rules",
            handoff=True,
            handoff_reason="made-up-reason" if index else "budget",
            llm_requests=2,
            input_tokens=100,
            output_tokens=10,
            cost_usd=0.5,
        )
        metrics.observe_outcome(outcome, 0.8 if index == 0 else None)
    assert samples(metrics, "chatwootai_outcome_turns") == {("d0",): 1, ("d1",): 1, ("other",): 3}
    assert samples(metrics, "chatwootai_outcome_handoffs") == {
        ("d0", "budget"): 1,
        ("d1", "other"): 1,
        ("other", "other"): 3,
    }
    assert samples(metrics, "chatwootai_outcome_llm_requests")[("other",)] == 6
    assert samples(metrics, "chatwootai_outcome_tokens")[("other", "input")] == 300
    assert samples(metrics, "chatwootai_outcome_cost_usd")[("d1",)] == 0.5
    assert samples(metrics, "chatwootai_budget_alerts") == {("d0", "0.8"): 1}
    assert metrics.domain("d0") == "d0" and metrics.domain("d9") == "other"
