"""Recognising requests for a human from `routing.handoff_phrases`, despite typos and word order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from chatwootai.routing.fuzzy import keys
from chatwootai.routing.tokens import tokens as folded_words
from chatwootai.text import words

_FILLER_TEXT = """
    a o as os um uma uns umas de do da dos das com por para pra pro em no na nos nas e ou que
    me eu voce vc se ao aos favor pf pfv quero queria gostaria preciso posso pode poderia
    the to an with of for please i my want would like need can could some
"""
FILLER = frozenset(_FILLER_TEXT.split())
"""Words a phrase may omit or a customer may vary ("quero"/"preciso"): not required to match."""

NEGATIONS = frozenset({"nao", "nem", "nunca", "not", "dont", "never", "no"})
"""A negation just before the phrase cancels it ("não quero falar com atendente")."""

_BRIDGE_TEXT = """
    precisa precisar precisamos necessario vou vai vamos mais
    need needs needed have has more
"""
BRIDGES = frozenset(_BRIDGE_TEXT.split())
"""Words that carry a negation over to the phrase after them ("não precisa chamar o gerente")."""

SLACK = 3
"""Extra words allowed between the matched words of one phrase."""


@dataclass(frozen=True, slots=True)
class HandoffMatch:
    """Which configured phrase matched and how closely (1.0: every word exact)."""

    phrase: str
    score: float
    negated: bool = False
    """The phrase is there but negated ("não quero falar com atendente"): not a request."""


class HandoffMatcher:
    """Finds, in a message, any configured phrase asking for a human."""

    def __init__(self, phrases: Sequence[str]) -> None:
        self._phrases: list[tuple[str, tuple[str, ...]]] = []
        self._index: dict[str, set[tuple[int, int]]] = defaultdict(set)
        for phrase in phrases:
            tokens = words(phrase)
            content = tuple(t for t in tokens if t not in FILLER) or tuple(tokens)
            if not content:
                continue
            number = len(self._phrases)
            self._phrases.append((phrase, content))
            for position, token in enumerate(content):
                for key in keys(token):
                    self._index[key].add((number, position))

    def __bool__(self) -> bool:
        return bool(self._phrases)

    def match(self, message: str) -> HandoffMatch | None:
        """The best phrase found in `message` (a plain match before a negated one), or None."""
        tokens = folded_words(message)
        # phrase number -> {(message position, phrase token position): matched exactly?}
        hits: dict[int, dict[tuple[int, int], bool]] = defaultdict(dict)
        for at, token in enumerate(tokens):
            for key in keys(token):
                for number, position in self._index.get(key, ()):
                    found = hits[number]
                    found[at, position] = found.get((at, position), False) or key[0] == "="
        spans: list[tuple[int, int, str, float, bool]] = []  # start, end, phrase, score, negated
        for number, found in hits.items():
            phrase, content = self._phrases[number]
            window = _smallest_window(found, len(content))
            if window is None:
                continue
            start, end, exact = window
            negated = NEGATIONS.isdisjoint(content) and _negated(tokens, start)
            spans.append((start, end, phrase, 1.0 if exact else 0.9, negated))
        # A phrase found inside a negated one is negated too: in "não quero falar com atendente",
        # "atendente" alone is part of the refusal, not a request of its own.
        refused = [(start, end) for start, end, _, _, negated in spans if negated]
        best: HandoffMatch | None = None
        for start, _, phrase, score, negated in spans:
            negated = negated or any(a <= start <= b for a, b in refused)
            if (
                best is None
                or (best.negated, best.score) > (negated, score)
                or (best.negated == negated and score > best.score)
            ):
                best = HandoffMatch(phrase, score, negated)
        return best


def _negated(tokens: tuple[str, ...], start: int) -> bool:
    """True when a negation precedes `start`, with only filler or bridge words between."""
    for token in reversed(tokens[:start]):
        if token in NEGATIONS:
            return True
        if token not in FILLER and token not in BRIDGES:
            return False
    return False


def _smallest_window(found: dict[tuple[int, int], bool], size: int) -> tuple[int, int, bool] | None:
    """First and last word of a span covering every phrase token within `size + SLACK` words,
    and whether every token matched exactly."""
    ordered = sorted(found.items())
    for i, ((start, _), _) in enumerate(ordered):
        best_exact: dict[int, bool] = {}
        for (at, position), exact in ordered[i:]:
            if at - start >= size + SLACK:
                break
            best_exact[position] = best_exact.get(position, False) or exact
            if len(best_exact) == size:
                return start, at, all(best_exact.values())
    return None
