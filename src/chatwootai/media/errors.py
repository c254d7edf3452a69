"""Why a customer's attachment could not be used: each failure is a metric outcome (fixed set)."""

from __future__ import annotations

from typing import Literal

Outcome = Literal[
    "transcribed",
    "heard_by_chatwoot",
    "seen",
    "read",
    "skipped",
    "too_large",
    "too_long",
    "wrong_type",
    "not_found",
    "timeout",
    "download_failed",
    "host_refused",
    "provider_failed",
    "no_text",
]
"""Outcomes of an attachment (``chatwootai_media_total{kind,outcome}``)."""

OUTCOMES: tuple[Outcome, ...] = (
    "transcribed",
    "heard_by_chatwoot",
    "seen",
    "read",
    "skipped",
    "too_large",
    "too_long",
    "wrong_type",
    "not_found",
    "timeout",
    "download_failed",
    "host_refused",
    "provider_failed",
    "no_text",
)


class MediaError(Exception):
    """An attachment could not be used; ``outcome`` says why (a metric label)."""

    outcome: Outcome = "download_failed"

    def __init__(self, reason: str, outcome: Outcome | None = None) -> None:
        super().__init__(reason)
        if outcome is not None:
            self.outcome = outcome


class HostRefusedError(MediaError):
    """The URL (or a redirect) leads to a host the deployment does not allow, or to a private
    network."""

    outcome: Outcome = "host_refused"


class TooLargeError(MediaError):
    """The file is larger than allowed (told by its length, or found while streaming)."""

    outcome: Outcome = "too_large"


class TooLongError(MediaError):
    """The recording lasts longer than the domain allows."""

    outcome: Outcome = "too_long"


class WrongTypeError(MediaError):
    """The file is not of a type the service accepts for its kind."""

    outcome: Outcome = "wrong_type"


class NotFoundError(MediaError):
    """Chatwoot (or its storage) answered 404/410: the file is gone."""

    outcome: Outcome = "not_found"


class DownloadTimeoutError(MediaError):
    """The download did not end in time."""

    outcome: Outcome = "timeout"


class ProviderError(MediaError):
    """The transcription provider failed (an error status, a timeout, an empty answer)."""

    outcome: Outcome = "provider_failed"


class NoTextError(MediaError):
    """A document has no text to read (a scanned image, an empty file)."""

    outcome: Outcome = "no_text"
