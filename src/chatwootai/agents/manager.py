"""ManagerAgent: leads a hierarchical crew by delegating to its members."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel

from chatwootai.agents.base import AgentTypeConfig, BaseAgent


class ManagerConfig(AgentTypeConfig):
    """`config:` of a ManagerAgent."""

    max_delegations: int = 3
    direct_replies: bool = True
    """A single member may answer the customer directly (`reply_via_<member>`), saving the
    manager's last LLM request; false: the manager always writes the final answer."""


class ManagerAgent(BaseAgent):
    """Reads the request, delegates to the right member agents and writes the final answer."""

    config_model: ClassVar[type[BaseModel]] = ManagerConfig

    def type_instructions(self) -> str:
        """Delegate to members through the delegate tools; never invent their answers."""
        settings = self.settings
        assert isinstance(settings, ManagerConfig)
        if not settings.direct_replies:
            return (
                "Você coordena uma equipe. Use as ferramentas `delegate_to_<agente>` para pedir "
                "a cada especialista o que ele sabe; depois escreva a resposta final ao cliente "
                "com base nas respostas deles, sem inventar informações."
            )
        return (
            "Você coordena uma equipe. Quando um só especialista pode responder a mensagem "
            "inteira, use `reply_via_<agente>`: a resposta dele vai direto ao cliente. Quando "
            "for preciso juntar o que vários especialistas sabem, use `delegate_to_<agente>` "
            "com cada um e escreva a resposta final com base nas respostas deles, sem inventar "
            "informações."
        )
