"""Fixtures of the tools tests: a store on the real test Redis and a small domain with data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from chatwootai.config.schema import DomainConfig
from chatwootai.store.redis import RedisStore
from chatwootai.tools.base import ToolContext

FAQ = [
    {
        "question": "Qual o prazo de entrega?",
        "answer": "Entregamos em até 3 dias úteis nas capitais e 7 dias no interior.",
        "tags": ["entrega", "frete", "prazo"],
    },
    {
        "question": "Como faço um agendamento?",
        "answer": "Você pode marcar horário aqui pelo WhatsApp, de segunda a sexta.",
        "tags": ["agenda", "horário"],
    },
    {
        "question": "Vocês aceitam cartão de crédito?",
        "answer": "Aceitamos Pix, cartões de crédito e débito. Parcelamos em até 3x sem juros.",
        "tags": ["pagamento", "parcelamento"],
    },
    {
        "question": "Posso trocar um produto?",
        "answer": "Trocas em até 30 dias com a nota fiscal e o produto lacrado.",
        "tags": ["troca", "devolução"],
    },
    {
        "question": "Qual protetor solar indicam para pele oleosa?",
        "answer": "O protetor solar toque seco FPS 60 é o mais indicado para pele oleosa.",
        "tags": ["protetor", "solar", "pele oleosa"],
    },
    {
        "question": "O hidratante serve para pele sensível?",
        "answer": "Sim, o hidratante facial calmante é hipoalergênico.",
        "tags": ["hidratante", "pele sensível"],
    },
]

PRODUCTS = [
    {
        "sku": "PS60",
        "name": "Protetor Solar Toque Seco FPS 60",
        "category": "Proteção solar",
        "price": "59.90",
        "stock": 12,
        "description": "Protetor facial com toque seco para pele oleosa.",
        "brand": "SolBem",
        "tags": ["fps", "rosto"],
    },
    {
        "sku": "PS30K",
        "name": "Protetor Solar Infantil FPS 30",
        "category": "Proteção solar",
        "price": "45.00",
        "stock": 0,
        "description": "Para crianças, resistente à água.",
        "brand": "SolBem",
    },
    {
        "sku": "HID01",
        "name": "Hidratante Facial Calmante",
        "category": "Hidratantes",
        "price": "1249.5",
        "stock": 3,
        "description": "Hidratação para pele sensível.",
        "brand": "DermaCare",
    },
    {
        "sku": "BAT01",
        "name": "Batom Matte Vermelho",
        "category": "Maquiagem",
        "price": "29.90",
        "stock": 40,
        "description": "Longa duração.",
        "brand": "Cor&Cia",
    },
]

CALENDAR = {
    "services": [
        {"id": "corte", "name": "Corte de cabelo", "duration_minutes": 30, "price": "50"},
        {"id": "coloracao", "name": "Coloração", "duration_minutes": 90},
    ],
    "week": [{"weekday": d, "start": "09:00", "end": "12:00"} for d in range(5)]
    + [{"weekday": d, "start": "14:00", "end": "18:00"} for d in range(5)],
    "closed_dates": ["2030-03-06"],
    "capacity": 2,
}

ORDERS = [
    {
        "id": "1001",
        "customer_phone": "+55 (11) 98765-4321",
        "customer_email": "ana@example.com",
        "status": "enviado",
        "status_detail": "Saiu para entrega",
        "created": "2030-03-01",
        "eta": "2030-03-05",
        "tracking_code": "BR123456789",
        "items": [{"sku": "PS60", "name": "Protetor Solar", "quantity": 2, "price": "59.90"}],
    },
    {
        "id": "1002",
        "status": "em separação",
        "created": "2030-03-02",
    },
]


def domain_dict(name: str = "loja", **overrides: Any) -> dict[str, Any]:
    """A domain config as the loader would produce it (data included)."""
    config: dict[str, Any] = {
        "name": name,
        "agents": {
            "vendedor": {
                "type": "SalesAgent",
                "role": "Vendedor",
                "goal": "Vender",
                "tools": ["faq", "catalogo", "handoff"],
            },
            "atendente": {
                "type": "SupportAgent",
                "role": "Atendente",
                "goal": "Ajudar",
                "tools": ["faq", "pedidos", "handoff", "agenda"],
            },
        },
        "tools": {
            "faq": {
                "kind": "knowledge",
                "settings": {"files": ["faq.yaml"], "max_results": 3},
                "grants": ["vendedor", "atendente"],
            },
            "catalogo": {
                "kind": "catalog",
                "settings": {"file": "catalog.csv", "max_results": 5},
                "grants": ["vendedor"],
            },
            "agenda": {
                "kind": "calendar",
                "settings": {"file": "calendar.yaml", "slot_minutes": 30, "horizon_days": 14},
                "grants": ["vendedor"],
            },
            "pedidos": {
                "kind": "orders",
                "settings": {"file": "orders.yaml"},
                "grants": ["atendente"],
            },
            "handoff": {
                "kind": "handoff",
                "grants": ["vendedor", "atendente"],
            },
        },
        "data": {
            "knowledge": {"faq": FAQ},
            "catalogs": {"catalogo": PRODUCTS},
            "calendars": {"agenda": CALENDAR},
            "orders": {"pedidos": ORDERS},
        },
    }
    config.update(overrides)
    return config


@pytest.fixture
def config() -> DomainConfig:
    """The test domain `loja`."""
    return DomainConfig.model_validate(domain_dict())


@pytest.fixture
async def store(redis_url: str, key_prefix: str) -> AsyncIterator[RedisStore]:
    """A store on the test Redis under this test's prefix."""
    store = RedisStore.from_url(redis_url, prefix=key_prefix)
    yield store
    await store.close()


def context(agent_id: str = "vendedor", **fields: Any) -> ToolContext:
    """A tool context of the `loja` domain."""
    values: dict[str, Any] = {
        "domain": "loja",
        "conversation_key": "1:100",
        "agent_id": agent_id,
    }
    values.update(fields)
    return ToolContext(**values)


@pytest.fixture
def ctx() -> ToolContext:
    """The context of agent `vendedor` in conversation 1:100 of domain `loja`."""
    return context()


@pytest.fixture
def make_ctx() -> Any:
    """A factory of tool contexts (keyword arguments override the defaults)."""
    return context


@pytest.fixture
def make_domain() -> Any:
    """A factory of domain config dicts: `make_domain(name, **overrides)`."""
    return domain_dict
