"""Typo-tolerant word matching: about one edit apart (symmetric deletes), or the same stem."""

from __future__ import annotations

from functools import lru_cache

from chatwootai.text import stem

MIN_FUZZY_LENGTH = 5
"""Words shorter than this must match exactly (after stemming): short words collide too easily."""


def deletes(word: str) -> set[str]:
    """The word and every string made by deleting one of its characters."""
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


@lru_cache(maxsize=65536)
def keys(word: str) -> frozenset[str]:
    """Lookup keys of a folded word: its stem, plus its one-deletion variants when long enough."""
    found = {"=" + stem(word)}
    if len(word) >= MIN_FUZZY_LENGTH:
        found |= {"~" + d for d in deletes(word)}
    elif len(word) == MIN_FUZZY_LENGTH - 1:
        found.add("~" + word)  # may be a long word missing one letter
    return frozenset(found)
