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
