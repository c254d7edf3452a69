"""Which of a calendar's services a message names ("design com henna", "consulta com o cardio")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from chatwootai.offline.parse import word_set
from chatwootai.text import fold, stem
from chatwootai.tools.money import format_money

_STOP = word_set(
    """
    a o as os de da do das dos com e em para pra pro no na nos nas um uma meu minha ao
    """
)
WEAK = frozenset(
    stem(w)
    for w in word_set(
        "manha tarde noite periodo consulta vacina exame servico sessao horario teste"
    )
)
"""Words that name a kind of service, not one service: they rank services but never pick one."""

SYNONYMS = {
    "make": "maquiagem",
    "maquiar": "maquiagem",
    "injecao": "injetavel",
    "injecoes": "injetavel",
    "furar": "perfuracao",
    "fura": "perfuracao",
    "armario": "guarda",
    "cardio": "cardiologista",
    "derma": "dermatologista",
    "dermato": "dermatologista",
    "gineco": "ginecologista",
    "pediatria": "pediatra",
    "nutri": "nutricionista",
    "clinico": "clinico",
    "eletro": "eletrocardiograma",
    "ecg": "eletrocardiograma",
    "ultrassonografia": "ultrassom",
    "usg": "ultrassom",
    "ergometrico": "ergometrico",
    "esteira": "ergometrico",
    "pressao": "pressao",
    "glicose": "glicemia",
    "diabetes": "glicemia",
    "montar": "montagem",
    "desmontar": "desmontagem",
}
"""Words customers write for the words services are named with."""

MIN_PREFIX = 5
"""Two words match when one starts with the other and the shorter has at least this many letters."""


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """A bookable service as the calendar tool describes it."""

    id: str
    name: str
    duration_minutes: int
    price: Decimal | None

    def describe(self) -> str:
        """ "Limpeza de pele profunda (90 min, R$ 180,00)"."""
        price = ""
        if self.price is not None:
            price = ", gratuito" if self.price == 0 else f", {format_money(self.price)}"
        return f"{self.name} ({self.duration_minutes} min{price})"


def services_of(metadata: dict[str, Any] | None) -> list[ServiceInfo]:
    """The services listed in a calendar tool's metadata."""
    found = []
    for item in (metadata or {}).get("services", ()):
        price = item.get("price")
        found.append(
            ServiceInfo(
                id=str(item["id"]),
                name=str(item["name"]),
                duration_minutes=int(item.get("duration_minutes") or 0),
                price=Decimal(str(price)) if price is not None else None,
            )
        )
    return found


def _stems(text: str) -> list[str]:
    words = re.findall(r"[a-z]+", fold(text))
    return [stem(SYNONYMS.get(w, w)) for w in words if w not in _STOP and len(w) > 1]


def _matches(asked: str, word: str) -> bool:
    if asked == word:
        return True
    short, long = sorted((asked, word), key=len)
    return len(short) >= MIN_PREFIX and long.startswith(short)


@dataclass(frozen=True, slots=True)
class _Match:
    score: float
    matched: frozenset[str]
    unmatched: frozenset[str]
    service: ServiceInfo


def _rank(text: str, services: list[ServiceInfo], *, weak: bool = False) -> list[_Match]:
    """Services matching `text`, best first; with `weak`, also those matching only WEAK words."""
    asked = set(_stems(text))
    ranked: list[_Match] = []
    for service in services:
        own = set(_stems(f"{service.name} {service.id.replace('-', ' ')}"))
        matched = frozenset(w for w in own if any(_matches(a, w) for a in asked))
        if not (matched if weak else matched - WEAK):
            continue
        score = len(matched) / max(len(own), 1)
        ranked.append(_Match(score, matched, frozenset(own - matched), service))
    ranked.sort(key=lambda m: (-m.score, -len(m.matched)))
    return ranked


def rank_services(text: str, services: list[ServiceInfo]) -> list[tuple[float, ServiceInfo]]:
    """Services `text` names, best first, with a score (the share of the service's words named).

    A service needs at least one matched word that is not a :data:`WEAK` word.
    """
    return [(m.score, m.service) for m in _rank(text, services)]


def find_service(text: str, services: list[ServiceInfo]) -> ServiceInfo | None:
    """The one service `text` names; None when it names none, or several as well as each other.

    Services named by the same words are told apart only when one is the plain variant of the
    others ("sobrancelha": design de sobrancelhas, not the one "com henna").
    """
    ranked = _rank(text, services)
    if not ranked:
        return None
    best = ranked[0]
    rivals = [m for m in ranked[1:] if m.matched >= best.matched]
    if any(m.score == best.score for m in rivals):
        return None
    if all(m.unmatched > best.unmatched for m in rivals):
        return best.service
    return None


def candidates(text: str, services: list[ServiceInfo]) -> list[ServiceInfo]:
    """The services `text` could mean when it names none for sure (all of them if it names none)."""
    ranked = _rank(text, services) or _rank(text, services, weak=True)
    if not ranked:
        return list(services)
    best = ranked[0].matched
    return [m.service for m in ranked if m.matched >= best]


def service_by_id(value: str | None, services: list[ServiceInfo]) -> ServiceInfo | None:
    """The service whose id (or name) is `value`."""
    if not value:
        return None
    wanted = fold(value)
    for service in services:
        if fold(service.id) == wanted or fold(service.name) == wanted:
            return service
    return find_service(value, services)
