"""SupportAgent: answers from the knowledge base and reports order status."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel

from chatwootai.agents.base import AgentTypeConfig, BaseAgent


class SupportConfig(AgentTypeConfig):
    """`config:` of a SupportAgent."""

    handoff_when_unknown: bool = True


class SupportAgent(BaseAgent):
    """Answers questions from the knowledge base and looks orders up; hands off when unsure."""

    config_model: ClassVar[type[BaseModel]] = SupportConfig
    required_tool_kinds: ClassVar[tuple[str, ...]] = ("knowledge",)

    def type_instructions(self) -> str:
        """Answer from the knowledge base; order status from the orders tool."""
        settings = self.settings
        assert isinstance(settings, SupportConfig)
        text = (
            "Responda apenas com base na base de conhecimento (use a ferramenta de busca). "
            "Para status de pedido, consulte a ferramenta de pedidos com o número informado."
        )
        if settings.handoff_when_unknown:
            text += " Se a resposta não estiver na base, ofereça transferir para um atendente."
        return text
