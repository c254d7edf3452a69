"""Fixtures of the routing tests: a small shop-and-salon domain built in Python."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chatwootai.config.schema import DomainConfig
from chatwootai.hub import Hub


def domain_dict() -> dict[str, Any]:
    """The domain as YAML would hold it: three crews with examples, keywords and patterns."""
    agent = {"type": "SupportAgent", "role": "r", "goal": "g"}
    return {
        "name": "demo",
        "agents": {"seller": agent, "helper": agent, "booker": agent},
        "crews": {
            "sales": {"name": "Vendas", "agents": ["seller"]},
            "support": {"name": "Suporte", "agents": ["helper"]},
            "scheduling": {"name": "Agenda", "agents": ["booker"]},
        },
        "routing": {
            "default_crew": "support",
            "handoff_phrases": [
                "quero falar com um atendente",
                "atendente humano",
                "falar com uma pessoa",
            ],
            "crews": {
                "sales": {
                    "description": "Produtos, preços, estoque e compras",
                    "keywords": ["preço", "comprar", "batom", "promoção"],
                    "examples": [
                        "quanto custa o batom vermelho?",
                        "vocês têm protetor solar?",
                        "quero comprar um perfume",
                        "tem desconto para pagamento no pix?",
                        "qual o valor do shampoo",
                        "tem esse creme em estoque?",
                    ],
                },
                "support": {
                    "description": "Pedidos, entregas, trocas e problemas",
                    "keywords": ["pedido", "entrega", "troca", "rastreio"],
                    "patterns": [r"\b(ped|pedido)\s*#?\d{4,}\b"],
                    "examples": [
                        "meu pedido não chegou",
                        "cadê minha encomenda",
                        "o produto veio quebrado",
                        "quero devolver o que comprei",
                        "qual o código de rastreamento",
                        "minha compra está atrasada",
                    ],
                },
                "scheduling": {
                    "description": "Agendamento de horários e consultas",
                    "keywords": ["agendar", "horário", "marcar consulta"],
                    "examples": [
                        "quero marcar uma limpeza de pele",
                        "tem vaga amanhã de tarde?",
                        "preciso remarcar minha consulta",
                        "quais dias vocês atendem para design de sobrancelha",
                        "posso ir sábado às 10h?",
                        "cancelar meu atendimento de quinta",
                    ],
                },
            },
        },
    }


def demo_domain(**routing: Any) -> DomainConfig:
    """The demo domain, with `routing` keys overridden."""
    data = domain_dict()
    data["routing"].update(routing)
    return DomainConfig.model_validate(data)


@pytest.fixture
def make_domain() -> Callable[..., DomainConfig]:
    """Builds the demo domain with some `routing` keys overridden."""
    return demo_domain


@pytest.fixture(scope="module")
def hub() -> Hub:
    """The demo domain's hub, built once per test module."""
    return Hub.build(demo_domain())
