"""SalesAgent: answers about products, quoting only catalog prices and stock."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel

from chatwootai.agents.base import AgentTypeConfig, BaseAgent


class SalesConfig(AgentTypeConfig):
    """`config:` of a SalesAgent."""

    currency: str = "BRL"
    upsell: bool = False


class SalesAgent(BaseAgent):
    """Sells from the catalog: never invents a price, a product or stock."""

    config_model: ClassVar[type[BaseModel]] = SalesConfig
    required_tool_kinds: ClassVar[tuple[str, ...]] = ("catalog",)

    def type_instructions(self) -> str:
        """Quote only catalog prices and stock, in the configured currency."""
        settings = self.settings
        assert isinstance(settings, SalesConfig)
        text = (
            "Consulte sempre o catálogo antes de falar de produtos. Cite apenas preços e estoque "
            f"retornados pelo catálogo, na moeda {settings.currency}; nunca invente produtos, "
            "preços ou disponibilidade. Se o produto não estiver no catálogo, diga isso."
        )
        if settings.upsell:
            text += " Quando fizer sentido, sugira um produto complementar do catálogo."
        return text
