"""The estimated cost of a turn's tokens, from the outcomes package's price table when present."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

PRICING_MODULE = "chatwootai.outcomes.pricing"


def _estimator() -> Callable[..., Any] | None:
    try:
        module = importlib.import_module(PRICING_MODULE)
    except ImportError:
        return None
    found = getattr(module, "estimate_cost_usd", None)
    return found if callable(found) else None


def estimate_cost_usd(model: str, input_tokens: int, output_tokens: int) -> float | None:
    """The price of these tokens in US dollars; None when the model's price is not known."""
    if model == "offline":
        return 0.0
    estimate = _estimator()
    if estimate is None:
        return None
    try:
        value = estimate(model, input_tokens, output_tokens)
    except Exception as exc:  # a price table's bug must not break a page
        log.warning("no cost estimate for %s: %s", model, exc)
        return None
    return float(value) if isinstance(value, int | float) else None
