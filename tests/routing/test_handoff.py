"""Handoff phrases: fuzzy on typos, accents and word order; cancelled by a negation."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatwootai.config.loader import DomainLoader
from chatwootai.hub import HANDOFF, Hub
from chatwootai.routing.handoff import HandoffMatcher

PHRASES = ["quero falar com um atendente", "atendente humano", "nao quero falar com robo"]


@pytest.mark.parametrize(
    ("message", "score"),
    [
        ("quero falar com atendente", 1.0),
        ("Falar com ATENDENTE", 1.0),
        ("atendentes humanos", 1.0),  # plural
        ("falr com atendente", 0.9),  # one letter missing
        ("falar com atednente", 0.9),  # two letters swapped
        ("humano atendente", 1.0),  # word order
        ("não quero falar com robô", 1.0),  # the phrase's own negation
    ],
)
def test_matches(message: str, score: float) -> None:
    found = HandoffMatcher(PHRASES).match(message)
    assert found is not None
    assert found.score == score


@pytest.mark.parametrize(
    "message",
    [
        "quero falar sobre meu pedido",
        "atender",  # too far from "atendente"
        "falar com o dono da loja, que atendeu muito bem o meu pedido de ontem, atendente",
    ],
)
def test_does_not_match(message: str) -> None:
    assert HandoffMatcher(PHRASES).match(message) is None


def test_a_negated_phrase_is_reported_as_negated() -> None:
    found = HandoffMatcher(PHRASES).match("nao quero falar com atendente")
    assert found is not None and found.negated
    plain = HandoffMatcher(PHRASES).match("não quero falar com robô, quero um atendente humano")
    assert plain is not None and not plain.negated


def test_no_phrases_no_match() -> None:
    matcher = HandoffMatcher([])
    assert not matcher
    assert matcher.match("quero falar com um atendente") is None


DOMAINS = Path(__file__).resolve().parents[2] / "domains"
EXAMPLES = ["cosmetics", "health", "retail", "farmacia"]


@pytest.mark.parametrize("domain", EXAMPLES)
@pytest.mark.parametrize(
    "message",
    [
        "não quero falar com atendente, só saber o preço",
        "não precisa chamar o gerente",
        "nao quero mais falar com um atendente",
    ],
)
def test_a_refused_human_does_not_route_to_handoff(domain: str, message: str) -> None:
    hub = Hub.build(DomainLoader(DOMAINS).load(domain))
    decision = hub.route(message)
    assert not decision.handoff, decision
    assert decision.crew != HANDOFF


@pytest.mark.parametrize("domain", EXAMPLES)
@pytest.mark.parametrize(
    "message",
    [
        "não entendi, quero falar com um atendente",
        "não entendi quero atendente",
        "nao consegui resolver, chama o gerente",
        "não quero robô, quero atendente humano",
    ],
)
def test_a_request_after_another_negation_still_routes_to_handoff(
    domain: str, message: str
) -> None:
    hub = Hub.build(DomainLoader(DOMAINS).load(domain))
    decision = hub.route(message)
    assert decision.handoff and decision.crew == HANDOFF, decision


def test_a_short_phrase_inside_a_negated_one_is_negated_too() -> None:
    matcher = HandoffMatcher(["quero falar com um atendente", "atendente por favor"])
    found = matcher.match("não quero falar com atendente, só saber o preço")
    assert found is not None and found.negated
