"""Text folding for matching Portuguese (and English) customer messages: accents, case, plurals."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+")
_SPACE = re.compile(r"\s+")

# Longest first: the first suffix that leaves a stem of at least 3 letters is stripped, then a
# final vowel, so singular and plural share a stem ("pedido", "pedidos" → "pedid").
_SUFFIXES = (
    "amentos",
    "imentos",
    "amento",
    "imento",
    "mente",
    "coes",
    "soes",
    "cao",
    "sao",
    "oes",
    "aes",
    "ais",
    "eis",
    "ois",
    "ing",
    "es",
    "s",
)
_VOWELS = ("a", "o", "e")


def fold(text: str) -> str:
    """Lowercase `text`, strip accents and collapse whitespace ("Olá,  Pão" → "ola, pao")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACE.sub(" ", stripped).strip()


def words(text: str) -> list[str]:
    """The folded word tokens of `text` (letters and digits)."""
    return _WORD.findall(fold(text))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light stem of a folded word: plural and common suffixes removed ("batons" → "baton")."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if word.endswith(_VOWELS) and len(word) > 3:
        word = word[:-1]
    return word


def stems(text: str) -> list[str]:
    """The stems of the words of `text`."""
    return [stem(w) for w in words(text)]
