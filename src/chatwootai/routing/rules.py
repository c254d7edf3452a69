"""Keyword and regular-expression rules of each crew (`routing.crews.<id>.keywords/patterns`)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from chatwootai.config.schema import CrewRoute
from chatwootai.routing.tokens import tokens
from chatwootai.text import fold, stem, stems

PATTERN_STRENGTH = 2.0
"""A regular expression is a deliberate, precise rule: it counts as much as two keywords."""

STRONG = 2.0
"""Strength at which a crew's match beats weaker matches of other crews."""


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """Strength of every crew's rule matches, and the crew they decide on, if any."""

    strengths: Mapping[str, float] = field(default_factory=dict)
    crew: str | None = None
    score: float = 0.0


class RuleMatcher:
    """Matches messages against keywords (stem-aware, whole words) and patterns of each crew."""

    def __init__(self, crews: Mapping[str, CrewRoute]) -> None:
        self._keywords: dict[str, list[tuple[str, tuple[str, ...]]]] = defaultdict(list)
        self._patterns: list[tuple[str, re.Pattern[str]]] = []
        for crew, route in crews.items():
            for keyword in route.keywords:
                sequence = tuple(stems(keyword))
                if sequence:
                    self._keywords[sequence[0]].append((crew, sequence))
            for pattern in route.patterns:
                self._patterns.append((crew, re.compile(pattern, re.IGNORECASE)))

    def strengths(self, message: str) -> dict[str, float]:
        """Each matching crew's strength: one per keyword word matched, two per pattern."""
        found: dict[str, float] = defaultdict(float)
        sequence = [stem(word) for word in tokens(message)]
        seen: set[tuple[str, tuple[str, ...]]] = set()
        for at, first in enumerate(sequence):
            for crew, keyword in self._keywords.get(first, ()):
                if (crew, keyword) in seen:
                    continue
                if tuple(sequence[at : at + len(keyword)]) == keyword:
                    seen.add((crew, keyword))
                    found[crew] += len(keyword)
        if self._patterns:
            folded = fold(message)
            for crew, pattern in self._patterns:
                if pattern.search(message) or pattern.search(folded):
                    found[crew] += PATTERN_STRENGTH
        return dict(found)

    def decide(self, message: str) -> RuleOutcome:
        """The crew the rules decide on: the only one matching, or the only strong one."""
        found = self.strengths(message)
        if not found:
            return RuleOutcome()
        ranked = sorted(found.items(), key=lambda item: item[1], reverse=True)
        crew, strength = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        decisive = runner_up == 0.0 or (strength >= STRONG and strength >= 2 * runner_up)
        if not decisive:
            return RuleOutcome(found)
        score = min(1.0, 0.7 + 0.1 * strength) - (0.1 if runner_up else 0.0)
        return RuleOutcome(found, crew, round(score, 3))
