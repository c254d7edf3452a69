"""The folded words of a message, computed once per message however many layers read them."""

from __future__ import annotations

from functools import lru_cache

from chatwootai.text import words


@lru_cache(maxsize=8)
def tokens(text: str) -> tuple[str, ...]:
    """The folded word tokens of `text` (the last few are cached: every routing layer asks)."""
    return tuple(words(text))
