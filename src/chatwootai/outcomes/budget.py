"""A domain's monthly LLM budget: whether the month's spend reached it, and the 80 % alert."""

from __future__ import annotations

import logging

from chatwootai.config.schema import DomainConfig, OverBudget

log = logging.getLogger(__name__)

ALERT_SHARES = (0.8, 1.0)
"""Shares of the budget whose crossing is logged and counted (once each per month)."""


def over_budget(config: DomainConfig, spend_usd: float | None) -> OverBudget | None:
    """The rule in force when the month's spend reached the budget; None while under it."""
    budget = config.limits.monthly_budget_usd
    if budget is None or spend_usd is None or spend_usd < budget:
        return None
    return config.limits.over_budget or OverBudget()


def crossed(budget_usd: float | None, before_usd: float, after_usd: float) -> float | None:
    """The largest share of the budget that a turn's cost crossed (0.8, 1.0), if any.

    Spend is added atomically, so exactly one turn of the deployment crosses each share.
    """
    if budget_usd is None or after_usd <= before_usd:
        return None
    hit = [share for share in ALERT_SHARES if before_usd < share * budget_usd <= after_usd]
    return hit[-1] if hit else None


def alert(domain: str, share: float, spend_usd: float, budget_usd: float) -> None:
    """Log a crossed share of the budget."""
    log.warning(
        "domain %s has spent %.2f USD of its %.2f USD monthly LLM budget (%d %%)%s",
        domain,
        spend_usd,
        budget_usd,
        round(100 * spend_usd / budget_usd),
        ": limits.over_budget applies from now on" if share >= 1.0 else "",
    )
