"""What a turn's tokens cost: the genai-prices table, overridden per model in settings.

The table is the maintained one pydantic-ai itself uses (the genai-prices package, shipped with
its data). A self-hosted or unlisted model has no price there: ``CHATWOOTAI_PRICES`` gives one
(per million tokens), or its cost is unknown (None) and the outcomes count it as such.
The offline model costs nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Protocol

from genai_prices import Usage, calc_price
from genai_prices.types import ModelPrice

log = logging.getLogger(__name__)

OFFLINE_MODELS = frozenset({"", "offline"})
"""Model names of the deterministic offline model (no provider, no cost)."""

_PROVIDERS = {
    "openai-chat": "openai",
    "openai-responses": "openai",
    "google-gla": "google",
    "google-vertex": "google",
    "gemini": "google",
    "bedrock": "aws",
    "grok": "x-ai",
}
"""pydantic-ai provider prefixes whose genai-prices provider id is spelled otherwise."""


class PerMillionTokens(Protocol):
    """A price per million input and output tokens (``settings.ModelPrice``)."""

    @property
    def input_per_mtok(self) -> float:
        """USD per million input tokens."""
        ...

    @property
    def output_per_mtok(self) -> float:
        """USD per million output tokens."""
        ...


def estimate_cost_usd(
    model: str,
    input_tokens: int,
    output_tokens: int,
    overrides: Mapping[str, PerMillionTokens] | None = None,
    *,
    base_url: str | None = None,
) -> float | None:
    """The USD cost of `input_tokens` and `output_tokens` of `model` (``provider:name`` as
    `llm.model` names it); None when no price is known. The offline model costs 0 (unless
    an override prices it: a demonstration, or a test of the budget).

    An override is looked up by the full name, then by the name without its provider. A
    `base_url` (an OpenAI-compatible server) is matched against the table's provider URLs.
    """
    name = model.strip()
    provider, _, bare = name.partition(":") if ":" in name else ("", "", name)
    if overrides:
        price = overrides.get(name) or overrides.get(bare)
        if price is not None:
            return (
                input_tokens * price.input_per_mtok + output_tokens * price.output_per_mtok
            ) / 1_000_000
    if name in OFFLINE_MODELS:
        return 0.0
    if input_tokens <= 0 and output_tokens <= 0:
        return 0.0
    return _from_table(bare, provider, base_url, input_tokens, output_tokens)


def _from_table(
    name: str, provider: str, base_url: str | None, input_tokens: int, output_tokens: int
) -> float | None:
    price = _price(name, provider, base_url)
    if price is None:
        return None
    if isinstance(price, tuple):  # flat prices: plain arithmetic, about a microsecond
        return (input_tokens * price[0] + output_tokens * price[1]) / 1_000_000
    usage = Usage(input_tokens=input_tokens, output_tokens=output_tokens)
    return float(price.calc_price(usage)["total_price"])  # tiers by prompt size


@lru_cache(maxsize=256)
def _price(
    name: str, provider: str, base_url: str | None
) -> tuple[float, float] | ModelPrice | None:
    """The table's price of a model, looked up once (the lookup costs ~0.1 ms; a miss logs)."""
    try:
        if base_url:
            found = calc_price(Usage(input_tokens=1), name, provider_api_url=base_url)
        else:
            found = calc_price(
                Usage(input_tokens=1), name, provider_id=_PROVIDERS.get(provider, provider) or None
            )
    except LookupError:
        log.warning(
            "no price known for model %s%s: its cost is counted as unknown; set "
            "CHATWOOTAI_PRICES to give one",
            f"{provider}:" if provider else "",
            name,
        )
        return None
    price = found.model_price
    if isinstance(price.input_mtok, Decimal | None) and isinstance(
        price.output_mtok, Decimal | None
    ):
        return float(price.input_mtok or 0), float(price.output_mtok or 0)
    return price
