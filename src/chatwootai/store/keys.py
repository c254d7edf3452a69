"""Every key name the service writes, in one place. Names are logical: the store adds its prefix.

Everything about one conversation is keyed by its *conversation key*, and every id Chatwoot
assigns per installation (message ids, delivery ids) by the *account scope* it came from, so one
tenant's ids can never collide with, or suppress, another's:

* account scope: ``"{account_id}"``, or ``"{account_id}@{installation}"`` for a tenant whose
  ``tenants.yaml`` entry points at another Chatwoot installation (a ``base_url`` other than
  ``CHATWOOT_BASE_URL``); ``installation`` is :func:`installation_tag` of that base URL;
* conversation key: ``"{account_id}:{display_id}"``, or
  ``"{account_id}:{display_id}@{installation}"``.

A deployment with one Chatwoot installation keeps the plain keys of earlier versions.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

INSTALLATION_SEPARATOR = "@"
"""Joins an account scope or conversation key to its installation tag."""

_CONVERSATION_KEY = re.compile(r"^(\d+):(\d+)(?:@([0-9a-f]{8}))?$")


class ConversationKeyError(ValueError):
    """A string that is not a conversation key."""


@dataclass(frozen=True, slots=True)
class ConversationRef:
    """The parts of a conversation key."""

    account_id: int
    display_id: int
    installation: str | None = None


def normalize_base_url(base_url: str) -> str:
    """A Chatwoot base URL in one spelling: lower-case scheme and host, no default port, no
    trailing slash (``https://Chat.Example.com:443/`` → ``https://chat.example.com``)."""
    parts = urlsplit(base_url.strip())
    scheme = (parts.scheme or "https").lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    default = {"http": 80, "https": 443}.get(scheme)
    netloc = host if port is None or port == default else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def installation_tag(base_url: str) -> str:
    """A short, stable tag of a Chatwoot installation: 8 hex digits of its normalized base URL."""
    return hashlib.sha256(normalize_base_url(base_url).encode()).hexdigest()[:8]


def account_scope(account_id: int | str, installation: str | None = None) -> str:
    """The account as keys name it: ``"{account_id}"`` or ``"{account_id}@{installation}"``."""
    if installation:
        return f"{account_id}{INSTALLATION_SEPARATOR}{installation}"
    return str(account_id)


def conversation_key(
    account_id: int | str, display_id: int | str, installation: str | None = None
) -> str:
    """The conversation key, unique across accounts and installations.

    ``"{account_id}:{display_id}"`` (Chatwoot's conversation number is unique only within an
    account), with ``"@{installation}"`` appended for another Chatwoot installation.
    """
    key = f"{account_id}:{display_id}"
    return f"{key}{INSTALLATION_SEPARATOR}{installation}" if installation else key


def parse_conversation_key(key: str) -> ConversationRef:
    """The account, display id and installation of a conversation key."""
    match = _CONVERSATION_KEY.match(key)
    if match is None:
        raise ConversationKeyError(
            f"{key!r} is not a conversation key: '{{account_id}}:{{display_id}}', e.g. 3:417 "
            "(with '@' and the installation tag for a tenant on another Chatwoot)"
        )
    account, display, installation = match.groups()
    return ConversationRef(int(account), int(display), installation)


def scope_of(conversation_key: str) -> str:
    """The account scope a conversation key belongs to (``"7:417@ab12cd34"`` → ``"7@ab12cd34"``)."""
    account, _, rest = conversation_key.partition(":")
    _, separator, installation = rest.partition(INSTALLATION_SEPARATOR)
    return account_scope(account, installation if separator else None)


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


def conversation_lifecycle(conversation_key: str, kind: str) -> str:
    """A scheduled step of a conversation's life (``idle``: resolve it when idle until the
    record's due time; ``opening``: open it to the team when it is back), as JSON."""
    return f"conversation:{kind}:{conversation_key}"


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


def dedupe_message(scope: str, message_id: int | str) -> str:
    """Marks a Chatwoot message id of an account scope as received (SET NX with a TTL)."""
    return f"dedupe:message:{scope}:{message_id}"


def dedupe_delivery(scope: str, delivery_id: str) -> str:
    """Marks an ``X-Chatwoot-Delivery`` id of an account scope as received (SET NX with a TTL)."""
    return f"dedupe:delivery:{scope}:{delivery_id}"


def store_epoch() -> str:
    """A random value set once in the store (no TTL): when it vanishes or changes, the store
    lost its data (a Redis restart without persistence, a flush) and the journal is replayed."""
    return "store:epoch"


def pending_messages(conversation_key: str) -> str:
    """The conversation's customer messages not answered yet, oldest first (a list)."""
    return f"turn:pending:{conversation_key}"


def turn_lock(conversation_key: str) -> str:
    """The lease a worker holds while it takes a conversation's turn (a token, short TTL)."""
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


def turn_leases() -> str:
    """Sorted set of conversations whose turn holds a lease, scored by the lease's expiry."""
    return "turn:leases"


def turn_more(conversation_key: str) -> str:
    """Left by a job that found the conversation busy: its holder takes the work on after."""
    return f"turn:more:{conversation_key}"


def turn_typing(conversation_key: str) -> str:
    """The typing indicator a turn switched on (the conversation, JSON), until switched off."""
    return f"turn:typing:{conversation_key}"


def turn_delivery(conversation_key: str) -> str:
    """A reply Chatwoot has not taken yet: since when, attempts, next attempt (JSON)."""
    return f"turn:delivery:{conversation_key}"


def turn_undelivered() -> str:
    """Sorted set of conversations whose reply waits for Chatwoot, scored by since when."""
    return "turn:undelivered"


def llm_breaker(breaker_key: str) -> str:
    """The shared state of a model's circuit breaker (JSON)."""
    return f"llm:breaker:{breaker_key}"


def console_recent(domain: str) -> str:
    """Sorted set of a domain's conversations scored by their last turn's time (the console's
    conversation list); members older than the conversation TTL are pruned as turns are added."""
    return f"console:recent:{domain}"


def console_activity(conversation_key: str) -> str:
    """A conversation's last turn as the console lists it: domain, crew, when, what (JSON)."""
    return f"console:activity:{conversation_key}"


def console_indexed() -> str:
    """Set once the conversations kept before the console's index existed were added to it."""
    return "console:indexed"


def console_transcript(conversation_key: str) -> str:
    """List of a conversation's turns as the bot saw them: message, reply, tool calls (JSON)."""
    return f"console:transcript:{conversation_key}"


def outcomes_day(domain: str, day: str) -> str:
    """A domain's outcome counters of one local day ``YYYY-MM-DD`` (a hash of integers)."""
    return f"outcomes:day:{domain}:{day}"


def outcomes_month(domain: str, month: str) -> str:
    """A domain's spend and turns of one local month ``YYYY-MM`` (a hash: the budget's count)."""
    return f"outcomes:month:{domain}:{month}"


def outcomes_open() -> str:
    """Conversations the bot answered last, scored by when (a sorted set; the targets hash
    ``outcomes:open:targets`` names each one's day hash): those left idle count as abandoned."""
    return "outcomes:open"
