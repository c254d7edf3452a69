"""ManagerAgent: leads a hierarchical crew by delegating to its members."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel

from chatwootai.agents.base import AgentTypeConfig, BaseAgent


class ManagerConfig(AgentTypeConfig):
    """`config:` of a ManagerAgent."""

    max_delegations: int = 3


class ManagerAgent(BaseAgent):
    """Reads the request, delegates to the right member agents and writes the final answer."""

    config_model: ClassVar[type[BaseModel]] = ManagerConfig

    def type_instructions(self) -> str:
        """Delegate to members through the delegate tools; never invent their answers."""
        return (
            "Você coordena uma equipe. Use as ferramentas `delegate_to_<agente>` para pedir a "
            "cada especialista o que ele sabe; depois escreva a resposta final ao cliente com "
            "base nas respostas deles, sem inventar informações."
        )
