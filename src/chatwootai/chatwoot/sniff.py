"""The account and inbox ids of a raw webhook body, found without parsing it.

The webhook picks the secret a delivery must be signed with from its account and inbox, *before*
spending anything on the body: parsing and validating a 1 MiB body costs tens of milliseconds,
so an unsigned flood would starve genuine deliveries. This reads the ids with a few byte
searches over the first and last 32 KiB, where Chatwoot's serializers put them:

* message events start with ``{"account":{"id":…`` and end with ``"inbox":{"id":…}``, then the
  message type, the sender and the event name;
* conversation events carry ``"inbox_id"`` near the start (``contact_inbox``) and, since
  Chatwoot 4.14.2, ``"account":{"id":…}`` near the end (before it, only in
  ``messages[].account_id``);
* ``webwidget_triggered`` starts with the contact (whose ``account`` comes first), then
  ``"inbox":{"id":…}``.

The result is only a hint: the webhook verifies the signature with the secret these ids pick,
then parses, then checks that the parsed ids pick the same secret. A body whose ids are not where
Chatwoot puts them fails that check (401); it never borrows another tenant's secret. The cost is
bounded whatever the body: at most ``MAX_TRIES`` searches per id, each within a window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WINDOW = 32 * 1024
"""Bytes searched at each end of the body."""
MAX_TRIES = 16
"""Candidate positions examined per search (bounds the cost of a body crafted with many)."""

_ID = rb'\s*:\s*(?:"(\d{1,18})"|(\d{1,18})(?:\.0+)?(?![\d.eE]))'
_ACCOUNT = re.compile(rb'"account"\s*:\s*\{\s*"id"' + _ID)
_ACCOUNT_ID = re.compile(rb'"account_id"' + _ID)
_INBOX = re.compile(rb'"inbox"\s*:\s*\{\s*"id"' + _ID)
_INBOX_ID = re.compile(rb'"inbox_id"' + _ID)


@dataclass(frozen=True, slots=True)
class SniffedIds:
    """Account and inbox ids as a raw body seems to carry them (None when not found)."""

    account_id: int | None = None
    inbox_id: int | None = None


def _value(match: re.Match[bytes]) -> int:
    return int(match.group(1) or match.group(2))


def _first(raw: bytes, literal: bytes, pattern: re.Pattern[bytes], end: int) -> int | None:
    position = 0
    for _ in range(MAX_TRIES):
        at = raw.find(literal, position, end)
        if at < 0:
            return None
        match = pattern.match(raw, at)
        if match is not None:
            return _value(match)
        position = at + 1
    return None


def _last(raw: bytes, literal: bytes, pattern: re.Pattern[bytes], start: int) -> int | None:
    end = len(raw)
    for _ in range(MAX_TRIES):
        at = raw.rfind(literal, start, end)
        if at < 0:
            return None
        match = pattern.match(raw, at)
        if match is not None:
            return _value(match)
        end = at + len(literal) - 1
    return None


def sniff_ids(raw: bytes, *, account: bool = True, inbox: bool = True) -> SniffedIds:
    """The account and inbox ids `raw` seems to be about (skip either when it is not needed)."""
    head = min(len(raw), WINDOW)
    tail = max(0, len(raw) - WINDOW)
    account_id = inbox_id = None
    if account:
        account_id = _first(raw, b'"account"', _ACCOUNT, head)
        if account_id is None:
            account_id = _last(raw, b'"account"', _ACCOUNT, tail)
        if account_id is None:
            account_id = _first(raw, b'"account_id"', _ACCOUNT_ID, head)
    if inbox:
        inbox_id = _last(raw, b'"inbox"', _INBOX, tail)
        if inbox_id is None:
            inbox_id = _first(raw, b'"inbox"', _INBOX, head)
        if inbox_id is None:
            inbox_id = _first(raw, b'"inbox_id"', _INBOX_ID, head)
    return SniffedIds(account_id, inbox_id)
