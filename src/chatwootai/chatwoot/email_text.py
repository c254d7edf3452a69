"""An e-mail's new text: what the customer wrote now, without the quoted thread below it.

Chatwoot (4.x, ``app/presenters/mail_presenter.rb``) puts the whole plain text of an e-mail,
quoted history included, in the message's ``content``. Beside it,
``content_attributes.email.text_content`` (and ``html_content`` for an HTML part) holds
``full`` and ``reply`` (both the whole text) and ``quoted``, which despite its name is the text
*trimmed* of the quoted history and the signature by EmailReplyTrimmer, Discourse's maintained
gem that knows the reply headers of many mail clients and languages (Portuguese included). Older
Chatwoot releases did the reverse: ``reply`` (and so ``content``) was already trimmed and
``quoted`` held the history. So Chatwoot's trimmed text is used only when it is the head of the
message's text, which holds for the current layout and never for the old one.

When Chatwoot gave no trimmed text (older releases, an e-mail posted through an API inbox), the
history is cut here: lines quoted with ``>``, and everything from the first reply header on
(``Em ... escreveu:`` / ``On ... wrote:``, ``-----Mensagem original-----`` /
``-----Original Message-----``, an Outlook ``De:``/``From:`` block of headers with
``Enviado:``/``Sent:`` or a date), a ``-- `` signature and "Enviado do meu iPhone"-style
footers. A forwarded message is kept: it is what the customer sends. No Python library does
this for Portuguese (``email-reply-parser`` is English-only and unmaintained since 2020;
``mail-parser-reply`` has no Portuguese and takes new languages only by changing its module's
globals), and the common case is already served by Chatwoot's own trimmer.

The full text is never lost: it stays in Chatwoot's conversation, where the agents read it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

HEAD_CHARS = 80
"""How much of Chatwoot's trimmed text must start the message's text for it to be used."""

_REPLY_HEADER_START = re.compile(r"^\s*(?:em|on|no dia)\b", re.IGNORECASE)
_REPLY_HEADER_END = re.compile(r"(?:escreveu|wrote)\s*:\s*$", re.IGNORECASE)
_ADDRESS_WROTE = re.compile(r"<[^<>\s]+@[^<>\s]+>.*(?:escreveu|wrote)\s*:\s*$", re.IGNORECASE)
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(?:mensagem original|original message)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_FROM_LINE = re.compile(r"^\s*\*?(?:de|from)\s*:\*?\s*\S", re.IGNORECASE)
_HEADER_LINE = re.compile(
    r"^\s*\*?(?:enviad[oa](?: em)?|sent|data|date|para|to|assunto|subject|cc)"
    r"\s*:\*?",
    re.IGNORECASE,
)
_WHEN_LINE = re.compile(r"^\s*\*?(?:enviad[oa](?: em)?|sent|data|date)\s*:", re.IGNORECASE)
_SEPARATOR = re.compile(r"^\s*_{10,}\s*$")
_SIGNATURE = re.compile(r"^-- ?$")
_QUOTED = re.compile(r"^\s*>")
_FOOTER = re.compile(
    r"^\s*(?:enviad[oa] (?:do|de|pelo|a partir do) (?:meu|minha|o|a)\b|sent from my\b"
    r"|get outlook for\b|obter o outlook para\b|baixe o outlook para\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class EmailText:
    """An e-mail's new text, its whole text, and where the new text came from."""

    text: str
    """What the customer wrote now (the whole text when no history could be told apart)."""
    full: str
    """The whole text as Chatwoot gave it (``content``)."""
    source: str
    """``chatwoot`` (Chatwoot's trimmer), ``stripped`` (cut here) or ``full`` (nothing cut)."""

    @property
    def trimmed(self) -> bool:
        """Whether quoted history (or a signature) was left out of :attr:`text`."""
        return self.text != self.full


def new_email_text(content: str | None, email: Mapping[str, Any] | None) -> EmailText:
    """The customer's new text of an e-mail (from ``content`` and ``content_attributes.email``)."""
    full = (content or "").strip()
    trimmed = _chatwoot_trimmed(full, email or {})
    if trimmed:
        return EmailText(trimmed, full or trimmed, "chatwoot")
    own = strip_quoted(full)
    if own and own != full:
        return EmailText(own, full, "stripped")
    return EmailText(full, full, "full")


def _chatwoot_trimmed(full: str, email: Mapping[str, Any]) -> str | None:
    """Chatwoot's trimmed text (``*_content.quoted``) when it is the head of the whole text."""
    for name in ("text_content", "html_content"):
        part = email.get(name)
        if not isinstance(part, Mapping):
            continue
        candidate = part.get("quoted")
        if not isinstance(candidate, str) or not candidate.strip():
            continue
        candidate = candidate.strip()
        if not full or _is_head_of(candidate, full):
            return candidate
    return None


def _is_head_of(head: str, text: str) -> bool:
    """Whether `head` starts `text`, whitespace aside."""
    h, t = " ".join(head.split()), " ".join(text.split())
    return len(h) <= len(t) and t.startswith(h[:HEAD_CHARS])


def strip_quoted(text: str) -> str:
    """`text` without quoted lines, reply headers and what follows them, signature or footers."""
    lines = text.splitlines()
    cut = _history_start(lines)
    kept = [line for line in lines[:cut] if not _QUOTED.match(line) and not _FOOTER.match(line)]
    joined = "\n".join(line.rstrip() for line in kept)
    return re.sub(r"\n{3,}", "\n\n", joined).strip()


def _history_start(lines: list[str]) -> int:
    """Index of the first line of the quoted history or signature (``len(lines)`` if none)."""
    for index, line in enumerate(lines):
        if _SIGNATURE.match(line) or _ORIGINAL_MESSAGE.match(line):
            return index
        if _reply_header_at(lines, index) or _from_block_at(lines, index):
            return index
        if _SEPARATOR.match(line) and _from_block_at(lines, _next_filled(lines, index + 1)):
            return index
    return len(lines)


def _reply_header_at(lines: list[str], index: int) -> bool:
    """``Em <data>, <nome> escreveu:`` (or ``On ... wrote:``), wrapped over up to three lines."""
    line = lines[index]
    if _ADDRESS_WROTE.search(line) and len(line) < 300:
        return True
    if not _REPLY_HEADER_START.match(line):
        return False
    joined = ""
    for part in lines[index : index + 3]:
        joined = f"{joined} {part.strip()}"
        if _REPLY_HEADER_END.search(joined):
            return len(joined) < 400
    return False


def _from_block_at(lines: list[str], index: int) -> bool:
    """An Outlook-style header block: ``De:``/``From:``, then two headers, one of them a date."""
    if index >= len(lines) or not _FROM_LINE.match(lines[index]):
        return False
    following = [line for line in lines[index + 1 : index + 6] if line.strip()]
    headers = [line for line in following[:4] if _HEADER_LINE.match(line)]
    return len(headers) >= 2 and any(_WHEN_LINE.match(line) for line in headers)


def _next_filled(lines: list[str], start: int) -> int:
    """The index of the first non-blank line from `start` (``len(lines)`` if none)."""
    for index in range(start, len(lines)):
        if lines[index].strip():
            return index
    return len(lines)
