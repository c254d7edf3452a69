"""Which of a calendar's services a message names, variants included."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chatwootai.offline.services import ServiceInfo, candidates, find_service


def _services(*pairs: tuple[str, str]) -> list[ServiceInfo]:
    return [ServiceInfo(i, n, 30, Decimal("10")) for i, n in pairs]


STUDIO = _services(
    ("limpeza-de-pele", "Limpeza de pele profunda"),
    ("design-sobrancelha", "Design de sobrancelhas"),
    ("design-sobrancelha-henna", "Design de sobrancelhas com henna"),
    ("maquiagem-social", "Maquiagem social"),
    ("prova-maquiagem-noiva", "Prova de maquiagem de noiva"),
)
CLINIC = _services(
    ("consulta-cardiologia", "Consulta com cardiologista"),
    ("consulta-dermatologia", "Consulta com dermatologista"),
    ("consulta-pediatria", "Consulta com pediatra"),
    ("eletrocardiograma", "Eletrocardiograma"),
)
ASSEMBLY = _services(
    ("montagem-movel-pequeno", "Montagem de móvel pequeno"),
    ("montagem-guarda-roupa", "Montagem de guarda-roupa"),
    ("montagem-cozinha", "Montagem de cozinha"),
    ("entrega-manha", "Entrega - período da manhã (8h às 12h)"),
    ("entrega-tarde", "Entrega - período da tarde (13h às 18h)"),
)


@pytest.mark.parametrize(
    ("services", "text", "expected"),
    [
        (STUDIO, "quero design com henna", "design-sobrancelha-henna"),
        (STUDIO, "design de sobrancelha com henna", "design-sobrancelha-henna"),
        (STUDIO, "design de sobrancelha", "design-sobrancelha"),
        (STUDIO, "henna", "design-sobrancelha-henna"),
        (STUDIO, "sobrancelha", "design-sobrancelha"),  # the plain variant
        (STUDIO, "limpeza", "limpeza-de-pele"),
        (STUDIO, "maquiagem", None),  # social or bride: ask
        (STUDIO, "quero marcar", None),
        (CLINIC, "consulta com o cardio", "consulta-cardiologia"),
        (CLINIC, "dermato", "consulta-dermatologia"),
        (CLINIC, "eletro", "eletrocardiograma"),
        (CLINIC, "consulta", None),  # "consulta" alone names no one
        (ASSEMBLY, "montar a cozinha", "montagem-cozinha"),
        (ASSEMBLY, "montagem do guarda roupa", "montagem-guarda-roupa"),
        (ASSEMBLY, "montagem", None),
        (ASSEMBLY, "entrega de manhã", "entrega-manha"),
        (ASSEMBLY, "sábado de manhã", None),  # a period is not a service
    ],
)
def test_find_service(services: list[ServiceInfo], text: str, expected: str | None) -> None:
    found = find_service(text, services)
    assert (found.id if found else None) == expected


def test_candidates_narrow_the_question() -> None:
    assert [s.id for s in candidates("maquiagem", STUDIO)] == [
        "maquiagem-social",
        "prova-maquiagem-noiva",
    ]
    assert {s.id for s in candidates("uma consulta", CLINIC)} == {
        "consulta-cardiologia",
        "consulta-dermatologia",
        "consulta-pediatria",
    }
    assert candidates("quero marcar", CLINIC) == CLINIC


def test_describe() -> None:
    assert ServiceInfo("x", "Consultoria", 40, Decimal("0")).describe() == (
        "Consultoria (40 min, gratuito)"
    )
    assert ServiceInfo("x", "Limpeza", 90, Decimal("180")).describe() == (
        "Limpeza (90 min, R$ 180,00)"
    )
