"""One turn of a conversation: the customer's message in, the team's answer out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chatwootai.media.attachments import AttachmentInfo, MediaPart
from chatwootai.outcomes.model import TurnOutcome as RecordedTurn
from chatwootai.tools.base import HandoffRequest, ToolCallRecord


@dataclass(frozen=True, slots=True)
class Customer:
    """Who wrote, as Chatwoot describes the contact (all optional)."""

    id: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    verified: bool = False
    """Chatwoot verified who the contact is (identity validation: ``hmac_verified``)."""


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A customer message the bot must answer (several burst messages are joined into one)."""

    text: str
    message_ids: tuple[str, ...] = ()
    customer: Customer = field(default_factory=Customer)
    account_id: str | None = None
    inbox_id: str | None = None
    channel: str = "api"
    content_kind: str = "text"
    """`text`, or the attachment kind (audio, image, location...) when there is no text."""
    now: datetime | None = None
    """The moment the turn happens at (timezone-aware); None: the clock. Dates such as "amanhã"
    and the calendar's free slots are reckoned from it (replays, `chat --now`, tests)."""
    attachments: tuple[AttachmentInfo, ...] = ()
    """The customer's attachments in this turn (file type and extension only)."""
    media: tuple[MediaPart, ...] = ()
    """Images and documents' text given to the model with `text` (see chatwootai.media)."""
    heard: str = ""
    """Transcripts of the turn's voice notes (already part of `text`), for the human's note."""
    notes: tuple[str, ...] = ()
    """Private notes for the agents, posted before the reply (a voice note's transcript)."""


@dataclass(slots=True)
class TurnOutcome:
    """What one turn produced: the reply, the crew that gave it, and any handoff."""

    reply: str
    domain: str
    crew: str
    route_method: str
    route_score: float
    handoff: HandoffRequest | None = None
    fallback: bool = False
    offline: bool = False
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    llm_requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    resolved: bool = False
    """The conversation ends with this turn's reply (an agent's resolve tool)."""
    model: str = ""
    """The model the crew ran on (``provider:name`` as configured; empty: none or offline)."""
    recorded: RecordedTurn | None = None
    """The outcome counted for this turn (None: not recorded), for the metrics."""
    held_until: float | None = None
    """Not answered now: the flood limit holds the turn until then (epoch seconds); its
    messages stay pending and are answered together then."""
    budget_alert: float | None = None
    """The share of the monthly budget this turn's spend crossed (0.8, 1.0), if it did."""
