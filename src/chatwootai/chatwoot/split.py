"""Splitting a long reply into messages that fit the channel's length limit.

Splits on paragraphs first, then lines, sentences and words; a single word longer than the
limit is cut. No word is lost or reordered. Lengths are counted in characters (code points).
"""

from __future__ import annotations

import re

DEFAULT_LIMIT = 10_000
CHANNEL_LIMITS: dict[str, int] = {
    "whatsapp": 4096,  # WhatsApp Cloud API text body
    "twiliosms": 1600,  # Twilio SMS and Twilio WhatsApp
    "sms": 1600,
    "facebookpage": 2000,  # Messenger
    "facebook": 2000,
    "instagram": 1000,  # Instagram Messaging API
    "telegram": 4096,
    "line": 5000,
    "tiktok": 1000,
}
"""Largest message per channel, keyed by the channel name as :func:`channel_limit` folds it."""

_PARAGRAPH = re.compile(r"\n\s*\n")
_LINE = re.compile(r"\n")
_SENTENCE = re.compile(r"(?<=[.!?…;:])\s+")
_WORD = re.compile(r"\s+")
_LEVELS: tuple[tuple[re.Pattern[str], str], ...] = (
    (_PARAGRAPH, "\n\n"),
    (_LINE, "\n"),
    (_SENTENCE, " "),
    (_WORD, " "),
)


def channel_limit(channel: str) -> int:
    """The message length limit of a channel (``Channel::Whatsapp``, ``whatsapp``...)."""
    name = channel.lower().removeprefix("channel::").replace("_", "").replace(" ", "")
    return CHANNEL_LIMITS.get(name, DEFAULT_LIMIT)


def split_reply(text: str, channel: str = "api", *, limit: int | None = None) -> list[str]:
    """Split ``text`` into messages no longer than the channel's limit (or ``limit``)."""
    size = channel_limit(channel) if limit is None else limit
    if size < 1:
        raise ValueError(f"limit must be at least 1, not {size}")
    text = text.strip()
    if not text:
        return []
    return _split(text, size, 0)


def _split(text: str, limit: int, level: int) -> list[str]:
    if len(text) <= limit:
        return [text]
    if level >= len(_LEVELS):
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    pattern, joiner = _LEVELS[level]
    parts: list[str] = []
    current = ""
    for raw_unit in pattern.split(text):
        unit = raw_unit.strip()
        if not unit:
            continue
        if len(unit) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.extend(_split(unit, limit, level + 1))
            continue
        candidate = f"{current}{joiner}{unit}" if current else unit
        if len(candidate) <= limit:
            current = candidate
        else:
            parts.append(current)
            current = unit
    if current:
        parts.append(current)
    return parts
