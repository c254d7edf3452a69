"""Chatwoot webhook payloads: tolerant models of the fields the bot uses, and the parser.

Chatwoot adds fields between releases, so every model ignores what it does not know; only the
fields the bot relies on are typed. The conversation id in every payload is the *display id*,
unique per account only, so conversations are keyed by ``"{account_id}:{display_id}"``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from chatwootai.chatwoot.email_text import new_email_text

MESSAGE_EVENTS = frozenset({"message_created", "message_updated"})
CONVERSATION_EVENTS = frozenset(
    {
        "conversation_created",
        "conversation_status_changed",
        "conversation_updated",
        "conversation_opened",
        "conversation_resolved",
    }
)
MAX_BODY_BYTES = 1024 * 1024
"""Default largest webhook body accepted by :func:`parse_event`."""
MAX_CONTENT_CHARS = 150_000
"""Chatwoot's own limit on a message's content."""

_SECRET_KEYS = frozenset({"pubsub_token"})
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"
"""What an unencodable character (invalid UTF-8, a lone surrogate) becomes."""


class PayloadError(ValueError):
    """A webhook body that is not a Chatwoot event the bot can read; the message says why."""


class _Model(BaseModel):
    """Base of the payload models: unknown fields are ignored, values are immutable."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def _none_to_empty_dict(value: Any) -> Any:
    return {} if value is None else value


def _none_to_empty_list(value: Any) -> Any:
    return [] if value is None else value


class Account(_Model):
    """A Chatwoot account (the tenant side of Chatwoot)."""

    id: int
    name: str | None = None


class Inbox(_Model):
    """The inbox a message arrived in."""

    id: int
    name: str | None = None


class Sender(_Model):
    """Who wrote a message: a contact has no ``type``; users, bots and Captain do."""

    id: int | None = None
    name: str | None = None
    type: str | None = None
    email: str | None = None
    phone_number: str | None = None
    identifier: str | None = None

    @property
    def kind(self) -> str:
        """``contact``, ``user``, ``agent_bot``, ``captain_assistant`` (or a newer type)."""
        return self.type or "contact"


class Assignee(_Model):
    """The agent, bot or Captain assistant a conversation is assigned to."""

    id: int | None = None
    name: str | None = None
    type: str | None = None


class Team(_Model):
    """A Chatwoot team."""

    id: int
    name: str | None = None


class ConversationMeta(_Model):
    """``conversation.meta``: the contact, the assignee and the team."""

    sender: Sender | None = None
    assignee: Assignee | None = None
    assignee_type: str | None = None
    team: Team | None = None
    hmac_verified: bool | None = None


_ASSIGNEE_TYPES = {
    "user": "User",
    "agent_bot": "AgentBot",
    "captain_assistant": "Captain::Assistant",
}
"""``meta.assignee.type`` → ``meta.assignee_type``, for payloads that carry only the former."""


class ContactInbox(_Model):
    """The contact's address in the inbox (``source_id``: WhatsApp number or widget UUID)."""

    contact_id: int | None = None
    source_id: str | None = None
    hmac_verified: bool | None = None


class Attachment(_Model):
    """A file attached to a message (image, audio, location...)."""

    id: int | None = None
    file_type: str | None = None
    extension: str | None = None
    data_url: str | None = None
    thumb_url: str | None = None
    file_size: int | None = None
    transcribed_text: str | None = None


class ConversationMessage(_Model):
    """A message inside ``conversation.messages`` (``message_type`` is an integer there)."""

    id: int
    account_id: int | None = None
    message_type: int | None = None
    content: str | None = None
    private: bool = False


class Contact(_Model):
    """The customer of a conversation, as far as the payload tells."""

    id: int | None = None
    name: str | None = None
    phone_number: str | None = None
    email: str | None = None


class Conversation(_Model):
    """A conversation as webhooks carry it; ``id`` is the per-account display id."""

    id: int
    inbox_id: int | None = None
    status: str | None = None
    channel: str | None = None
    can_reply: bool | None = None
    labels: list[str] = Field(default_factory=list)
    custom_attributes: dict[str, Any] = Field(default_factory=dict)
    meta: ConversationMeta = Field(default_factory=ConversationMeta)
    account: Account | None = None
    contact_inbox: ContactInbox | None = None
    messages: list[ConversationMessage] = Field(default_factory=list)

    _empty_dicts = field_validator("custom_attributes", "meta", mode="before")(_none_to_empty_dict)
    _empty_lists = field_validator("labels", "messages", mode="before")(_none_to_empty_list)

    @property
    def identity_verified(self) -> bool:
        """True when Chatwoot verified the contact (website identity validation, HMAC)."""
        inbox = self.contact_inbox
        return self.meta.hmac_verified is True or (
            inbox is not None and inbox.hmac_verified is True
        )

    @property
    def assignee_type(self) -> str | None:
        """``User``, ``AgentBot``, ``Captain::Assistant``... or None when nobody is assigned."""
        meta = self.meta
        if meta.assignee_type:
            return meta.assignee_type
        kind = meta.assignee.type if meta.assignee is not None else None
        return _ASSIGNEE_TYPES.get(kind or "")

    @property
    def human_assigned(self) -> bool:
        """Whether a human agent owns the conversation."""
        return self.assignee_type == "User"

    @property
    def bot_assigned(self) -> bool:
        """Whether the conversation is assigned to an Agent Bot (Chatwoot 4.8+): the bot's."""
        return self.assignee_type == "AgentBot"

    @property
    def captain_assigned(self) -> bool:
        """Whether Chatwoot's own AI (a Captain assistant) owns the conversation."""
        return "captain" in (self.assignee_type or "").lower()

    @property
    def assignee_name(self) -> str | None:
        """The assignee's name, when the payload gives it."""
        assignee = self.meta.assignee
        return assignee.name if assignee is not None else None

    @property
    def contact(self) -> Contact:
        """The conversation's contact, from ``meta.sender``."""
        sender = self.meta.sender
        if sender is None:
            return Contact()
        return Contact(
            id=sender.id, name=sender.name, phone_number=sender.phone_number, email=sender.email
        )

    @property
    def account_id(self) -> int | None:
        """The account, from ``account`` (v4.14.2+) or from the last message."""
        if self.account is not None:
            return self.account.id
        for message in self.messages:
            if message.account_id is not None:
                return message.account_id
        return None


class WebhookEvent(_Model):
    """Any Chatwoot webhook delivery: at least an ``event`` name."""

    event: str


class MessageEvent(WebhookEvent):
    """``message_created`` / ``message_updated``: one message and its conversation."""

    id: int
    content: str | None = None
    message_type: str
    """``incoming``, ``outgoing`` or ``template`` (a string at the top level)."""
    private: bool = False
    content_type: str = "text"
    content_attributes: dict[str, Any] = Field(default_factory=dict)
    sender: Sender | None = None
    account: Account | None = None
    inbox: Inbox | None = None
    conversation: Conversation
    attachments: list[Attachment] = Field(default_factory=list)
    source_id: str | None = None
    created_at: str | None = None

    _empty_dicts = field_validator("content_attributes", mode="before")(_none_to_empty_dict)
    _empty_lists = field_validator("attachments", mode="before")(_none_to_empty_list)

    @field_validator("content")
    @classmethod
    def _content_size(cls, value: str | None) -> str | None:
        if value is not None and len(value) > MAX_CONTENT_CHARS:
            raise ValueError(
                f"content has {len(value)} characters, above Chatwoot's {MAX_CONTENT_CHARS}"
            )
        return value

    @model_validator(mode="after")
    def _has_account(self) -> MessageEvent:
        if self.account_id_or_none is None:
            raise ValueError("no account id in account.id, conversation.account.id or messages")
        return self

    @property
    def account_id_or_none(self) -> int | None:
        """The account id wherever the payload carries it."""
        if self.account is not None:
            return self.account.id
        return self.conversation.account_id

    @property
    def account_id(self) -> int:
        """The account id (always present in message events)."""
        account_id = self.account_id_or_none
        assert account_id is not None  # guaranteed by the validator
        return account_id

    @property
    def inbox_id(self) -> int | None:
        """The inbox id, from ``inbox.id`` or ``conversation.inbox_id``."""
        return self.inbox.id if self.inbox is not None else self.conversation.inbox_id

    @property
    def display_id(self) -> int:
        """The conversation's per-account display id (the id of every REST path)."""
        return self.conversation.id

    @property
    def conversation_key(self) -> str:
        """Unique conversation key across accounts: ``"{account_id}:{display_id}"``."""
        return f"{self.account_id}:{self.conversation.id}"

    @property
    def contact(self) -> Contact:
        """The customer: the sender of an incoming message, else the conversation's contact."""
        if self.message_type == "incoming" and self.sender is not None:
            sender = self.sender
            return Contact(
                id=sender.id, name=sender.name, phone_number=sender.phone_number, email=sender.email
            )
        return self.conversation.contact

    @property
    def external_echo(self) -> bool:
        """Whether the message was sent from the channel's native app (a human reply)."""
        return bool(self.content_attributes.get("external_echo"))

    @property
    def external_error(self) -> str | None:
        """Why the channel refused the message (``content_attributes.external_error``)."""
        error = self.content_attributes.get("external_error")
        if error is None or error == "" or error is False:
            return None
        return str(error)

    @property
    def email(self) -> dict[str, Any]:
        """The parsed e-mail kept with an e-mail message (``content_attributes.email``)."""
        email = self.content_attributes.get("email")
        return email if isinstance(email, dict) else {}

    @property
    def customer_text(self) -> str:
        """What the customer wrote in this message: an e-mail's new text, without the thread."""
        if self.content_type == "incoming_email" or self.email:
            return new_email_text(self.content, self.email).text
        return (self.content or "").strip()


class ConversationEvent(WebhookEvent):
    """``conversation_*`` events: the conversation object itself, plus what changed."""

    conversation: Conversation
    changed_attributes: list[dict[str, Any]] | dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _wrap(cls, data: Any) -> Any:
        """The body *is* the conversation: nest it so both event kinds read alike."""
        if isinstance(data, dict) and "conversation" not in data:
            return {
                "event": data.get("event"),
                "changed_attributes": data.get("changed_attributes"),
                "conversation": data,
            }
        return data

    @property
    def account_id(self) -> int | None:
        """The account id; None before Chatwoot v4.14.2 when no message carries it."""
        return self.conversation.account_id

    @property
    def display_id(self) -> int:
        """The conversation's per-account display id."""
        return self.conversation.id

    @property
    def conversation_key(self) -> str | None:
        """``"{account_id}:{display_id}"``, or None when the account is unknown."""
        account_id = self.account_id
        return None if account_id is None else f"{account_id}:{self.conversation.id}"

    @property
    def changes(self) -> dict[str, tuple[Any, Any]]:
        """Changed attributes as ``{name: (previous, current)}``."""
        items: list[tuple[str, Any]] = []
        raw = self.changed_attributes
        if isinstance(raw, dict):
            items = list(raw.items())
        elif isinstance(raw, list):
            items = [pair for entry in raw for pair in entry.items()]
        changes: dict[str, tuple[Any, Any]] = {}
        for name, value in items:
            if isinstance(value, dict):
                changes[name] = (value.get("previous_value"), value.get("current_value"))
            else:
                changes[name] = (None, value)
        return changes


def _int_id(value: Any) -> int | None:
    """An id as Chatwoot sends it (an integer), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _nested_id(data: Any, *path: str) -> int | None:
    for part in path:
        data = data.get(part) if isinstance(data, dict) else None
    return _int_id(data)


class OtherEvent(WebhookEvent):
    """Any other event (widget, typing, contact...): kept whole for whoever needs it."""

    model_config = ConfigDict(extra="allow", frozen=True)

    @property
    def account_id(self) -> int | None:
        """The account: ``account.id`` (widget, contact, inbox events), else the conversation's,
        else ``account_id``."""
        extra = self.model_extra or {}
        return (
            _nested_id(extra, "account", "id")
            or _nested_id(extra, "conversation", "account", "id")
            or _nested_id(extra, "account_id")
        )

    @property
    def inbox_id(self) -> int | None:
        """The inbox: ``inbox.id`` (``webwidget_triggered``), else the conversation's, else
        ``inbox_id``."""
        extra = self.model_extra or {}
        return (
            _nested_id(extra, "inbox", "id")
            or _nested_id(extra, "conversation", "inbox_id")
            or _nested_id(extra, "inbox_id")
        )


Event = MessageEvent | ConversationEvent | OtherEvent


def _describe(error: ValidationError, event: str) -> str:
    """Short, readable reasons from a pydantic error."""
    reasons = []
    for item in error.errors()[:3]:
        where = ".".join(str(part) for part in item["loc"]) or "body"
        reasons.append(f"{where}: {item['msg']}")
    more = len(error.errors()) - 3
    if more > 0:
        reasons.append(f"and {more} more")
    return f"{event} payload is not valid: " + "; ".join(reasons)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub(REPLACEMENT, value)
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(item) for item in value]
    return value


def load_json(raw: bytes | str) -> Any:
    """A webhook body decoded, with every unencodable character replaced by U+FFFD.

    Invalid UTF-8 bytes and lone surrogates (``"\\ud800"`` is valid JSON but no text) would
    fail later, when the message is written to the store, the spool or the reply; here they
    become U+FFFD, so such a message is kept and answered. Raises :class:`PayloadError` for a
    body that is not JSON.
    """
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    try:
        data = json.loads(text)
        if _SURROGATE_ESCAPE.search(text) is not None:
            data = _clean(data)
    except (ValueError, RecursionError) as exc:
        raise PayloadError(f"webhook body is not JSON: {exc}") from None
    return data


def parse_event(raw: bytes | str, *, max_bytes: int = MAX_BODY_BYTES) -> Event:
    """Parse a webhook body into a typed event; raise :class:`PayloadError` with the reason."""
    size = len(raw)
    if size > max_bytes:
        raise PayloadError(f"webhook body is {size} bytes, above the limit of {max_bytes}")
    return parse_event_data(load_json(raw))


def parse_event_data(data: Any) -> Event:
    """Validate an already-decoded webhook body (see :func:`parse_event`)."""
    if not isinstance(data, dict):
        raise PayloadError(f"webhook body must be a JSON object, not {type(data).__name__}")
    event = data.get("event")
    if not isinstance(event, str) or not event:
        raise PayloadError("webhook body has no 'event' name")
    model: type[MessageEvent] | type[ConversationEvent] | type[OtherEvent]
    if event in MESSAGE_EVENTS:
        model = MessageEvent
        if not isinstance(data.get("conversation"), dict):
            raise PayloadError(f"{event} payload has no 'conversation' object")
    elif event in CONVERSATION_EVENTS:
        model = ConversationEvent
    else:
        model = OtherEvent
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise PayloadError(_describe(exc, event)) from None


def redact(payload: Any) -> Any:
    """A copy of ``payload`` without secrets (``pubsub_token`` anywhere), safe to log."""
    if isinstance(payload, dict):
        return {k: redact(v) for k, v in payload.items() if k not in _SECRET_KEYS}
    if isinstance(payload, list):
        return [redact(item) for item in payload]
    return payload
