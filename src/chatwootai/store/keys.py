"""Every key name the service writes, in one place. Names are logical: the store adds its prefix."""

from __future__ import annotations


def conversation_key(account_id: int | str, display_id: int | str) -> str:
    """The conversation key, unique across Chatwoot accounts: ``"{account_id}:{display_id}"``."""
    return f"{account_id}:{display_id}"


def domain_config(domain: str) -> str:
    """Validated, inheritance-resolved config of a domain (JSON)."""
    return f"domain:config:{domain}"


def domain_conversation(conversation_key: str) -> str:
    """The domain chosen for a conversation (an override set at run time)."""
    return f"domain:conversation:{conversation_key}"


def domain_active() -> str:
    """The global active domain set through the admin API."""
    return "domain:active"


def agent_state(domain: str, agent_id: str, conversation_key: str) -> str:
    """An agent's state (history and slots) in one conversation."""
    return f"agent:state:{domain}:{agent_id}:{conversation_key}"


def conversation_state(conversation_key: str) -> str:
    """Routing and ownership state of a conversation (current crew, in flow, paused)."""
    return f"conversation:state:{conversation_key}"


def conversation_paused(conversation_key: str) -> str:
    """Who owns the conversation: paused (a human, with the reason) or resumed, and when."""
    return f"conversation:paused:{conversation_key}"


def pending_notices(conversation_key: str) -> str:
    """Notices to humans waiting to be done in a conversation (a list of JSON notices)."""
    return f"notice:pending:{conversation_key}"


def notice_seen(conversation_key: str, kind: str, message_id: int | str) -> str:
    """Marks a (notice kind, message id) of a conversation as taken (SET NX with a TTL)."""
    return f"notice:seen:{conversation_key}:{kind}:{message_id}"


def notice_steps(conversation_key: str, batch_id: str) -> str:
    """Steps of a batch of notices already done in Chatwoot (JSON), so a retry skips them."""
    return f"notice:steps:{conversation_key}:{batch_id}"


def booking_slot(domain: str, tool_id: str, start: str, seat: int) -> str:
    """One seat of a calendar slot (`start` is ISO local date-time); holds the booking id."""
    return f"booking:slot:{domain}:{tool_id}:{start}:{seat}"


def booking(domain: str, tool_id: str, booking_id: str) -> str:
    """A booking record (JSON)."""
    return f"booking:record:{domain}:{tool_id}:{booking_id}"


def conversation_bookings(domain: str, tool_id: str, conversation_key: str) -> str:
    """Ids of the bookings made in a conversation (JSON list)."""
    return f"booking:conversation:{domain}:{tool_id}:{conversation_key}"


INVALIDATION_CHANNEL = "events:domain-config"
"""Pub/sub channel on which a process announces that a domain's config changed."""


def dedupe_message(message_id: int | str) -> str:
    """Marks a Chatwoot message id as received (SET NX with a TTL)."""
    return f"dedupe:message:{message_id}"


def dedupe_delivery(delivery_id: str) -> str:
    """Marks an ``X-Chatwoot-Delivery`` id as received (SET NX with a TTL)."""
    return f"dedupe:delivery:{delivery_id}"


def pending_messages(conversation_key: str) -> str:
    """The conversation's customer messages not answered yet, oldest first (a list)."""
    return f"turn:pending:{conversation_key}"


def turn_lock(conversation_key: str) -> str:
    """The lock a worker holds while it takes a conversation's turn (a token, with a TTL)."""
    return f"turn:lock:{conversation_key}"


def turn_outcome(conversation_key: str, turn_id: str) -> str:
    """The outcome of a turn, kept so a re-run after a crash does not think twice (JSON)."""
    return f"turn:outcome:{conversation_key}:{turn_id}"


def turn_sent(conversation_key: str, turn_id: str) -> str:
    """The reply steps of a turn already sent to Chatwoot (JSON list), so a re-run skips them."""
    return f"turn:sent:{conversation_key}:{turn_id}"


def turn_failures(conversation_key: str) -> str:
    """Failed attempts at a conversation's turn, so a worker gives up (and hands off) in time."""
    return f"turn:failures:{conversation_key}"


def artefact(kind: str, version: int, key: str) -> str:
    """An artefact built from content (compressed, base64): shared by every process and host."""
    return f"artefact:{kind}:v{version}:{key}"


def knowledge_source(source_key: str) -> str:
    """The sync state of one knowledge source: last good index, last failure (JSON)."""
    return f"knowledge:source:{source_key}"
