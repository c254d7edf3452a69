"""Chatwoot REST API client for the bot: replies, status, typing, labels, attributes, teams.

Every call sends the token in the ``api_access_token`` header and never logs it. Transient
failures (429, 5xx, timeouts, connection errors) are retried a few times within the call, with
exponential backoff and jitter, honouring a short ``Retry-After``; a longer ``Retry-After`` is
raised at once (:class:`ChatwootRateLimited`) for the caller to wait out without holding a worker.

Posting a message is not repeated within the call once the request may have reached Chatwoot
(a timeout, a 5xx): the call raises :class:`ChatwootDeliveryUnknown` and the caller decides,
from :meth:`ChatwootClient.read_back`, whether the message is there. A message can carry a
*mark* (:data:`MARK_ATTRIBUTE` in its ``content_attributes``): Chatwoot stores the
``content_attributes`` of a created message as given and returns them whenever it shows the
message, which it does not do for ``echo_id`` (echoed in the create response only).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

logger = logging.getLogger(__name__)

TOKEN_HEADER = "api_access_token"
MARK_ATTRIBUTE = "chatwootai_mark"
"""``content_attributes`` key holding the service's own id of a message it posted.

Chatwoot's ``Messages::MessageBuilder`` keeps the ``content_attributes`` of ``POST …/messages``
(``content_attributes: content_attributes.presence``; the ``ContentAttributeValidator`` checks
keys only for ``input_select``, ``cards``, ``form`` and ``article`` messages) and
``Message#push_event_data`` returns every column, so the conversation's ``messages`` and
``last_non_activity_message`` show the mark. ``echo_id`` is not a column and is never shown again.
"""
OUTGOING = 1
"""``message_type`` of an outgoing message in REST responses (an integer there)."""


class ChatwootError(Exception):
    """A Chatwoot API call failed; ``status`` is the HTTP status, if any."""

    def __init__(self, method: str, path: str, status: int | None, reason: str) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.reason = reason
        code = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"Chatwoot {method} {path} failed ({code}): {reason}")


class ChatwootAuthError(ChatwootError):
    """401/403: the token is wrong, or a bot token called an endpoint bots may not use."""


class ChatwootNotFound(ChatwootError):
    """404: no such account or conversation (conversation ids are per-account display ids)."""


class ChatwootRejected(ChatwootError):
    """Another 4xx: Chatwoot refused the request as sent (e.g. 422 "Too many messages")."""


class ChatwootRateLimited(ChatwootError):
    """429 after every retry, or a ``Retry-After`` longer than the client may wait."""

    def __init__(
        self, method: str, path: str, status: int | None, reason: str, retry_after: float | None
    ) -> None:
        super().__init__(method, path, status, reason)
        self.retry_after = retry_after


class ChatwootUnavailable(ChatwootError):
    """5xx, timeout or connection failure after every retry."""


class ChatwootDeliveryUnknown(ChatwootUnavailable):
    """A message may or may not have been posted: the request left and no answer says which.

    ``settle`` is True when Chatwoot may still be working on it (a timeout, a lost connection, a
    gateway's 502/503/504): reading the conversation is conclusive only once that time has passed.
    """

    def __init__(
        self, method: str, path: str, status: int | None, reason: str, *, settle: bool = True
    ) -> None:
        super().__init__(method, path, status, reason)
        self.settle = settle


TRANSIENT = (ChatwootUnavailable, ChatwootRateLimited)
"""Failures worth trying again later: Chatwoot down, slow or asking to wait."""


@dataclass(frozen=True, slots=True)
class ReadBack:
    """What a conversation shows of a message the bot may have posted (by its mark)."""

    message: dict[str, Any] | None
    """The message carrying the mark, when the conversation shows it."""
    latest_id: int | None
    """Id of the newest non-activity message the conversation shows (None: no message)."""

    @property
    def found(self) -> bool:
        """The message is there."""
        return self.message is not None

    def absent_after(self, after_id: int) -> bool:
        """Conclusively absent: nothing newer than message `after_id` exists, ours included.

        Message ids grow with time, and the conversation shows its newest non-activity
        message, so a newest message no newer than `after_id` proves ours (created after it)
        is not there. With a newer message that is not ours, the answer is unknown.
        """
        return self.message is None and (self.latest_id is None or self.latest_id <= after_id)


class ChatwootClient:
    """Async client of the Chatwoot application API, for a bot (or user) token."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10,
        retries: int = 3,
        backoff: float = 0.5,
        max_retry_after: float = 5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not token:
            raise ValueError("a Chatwoot API access token is required")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={TOKEN_HEADER: token, "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"ChatwootClient(base_url={str(self._http.base_url)!r})"

    async def __aenter__(self) -> ChatwootClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()

    # -- calls -------------------------------------------------------------------------------

    @property
    def settle_s(self) -> float:
        """How long after a lost post Chatwoot may still save it: three request timeouts."""
        return 3 * self.timeout

    async def send_message(
        self,
        account_id: int,
        conversation_id: int,
        content: str,
        *,
        private: bool = False,
        echo_id: str | None = None,
        mark: str | None = None,
        content_attributes: Mapping[str, Any] | None = None,
        files: Sequence[tuple[str, bytes, str]] | None = None,
    ) -> dict[str, Any]:
        """Post a reply (or a private note) and return Chatwoot's message object.

        The post is tried again within the call only when it cannot have reached Chatwoot (a
        refused connection, a 429); otherwise a failure raises :class:`ChatwootDeliveryUnknown`.
        `mark` is kept in the message's ``content_attributes`` (see :meth:`read_back`).

        With `files` (name, bytes, media type; up to 15) the message is posted as
        ``multipart/form-data`` with ``attachments[]``, as Chatwoot's own dashboard does; the
        ``content_attributes`` travel as a JSON string, which ``Messages::MessageBuilder``
        parses (``content_attributes``: a String is read with ``safe_parse_json``), so the mark
        is kept and read back the same way.
        """
        body: dict[str, Any] = {
            "content": content,
            "message_type": "outgoing",
            "private": private,
            "content_type": "text",
            "echo_id": echo_id or uuid.uuid4().hex,
        }
        attributes = dict(content_attributes or {})
        if mark:
            attributes[MARK_ATTRIBUTE] = mark
        if attributes:
            body["content_attributes"] = attributes
        path = _conversation_path(account_id, conversation_id) + "/messages"
        if files:
            form = {name: _form_value(value) for name, value in body.items()}
            parts = [("attachments[]", (name, data, kind)) for name, data, kind in files]
            return _as_dict(await self._call("POST", path, form, idempotent=False, files=parts))
        return _as_dict(await self._call("POST", path, body, idempotent=False))

    async def toggle_status(
        self,
        account_id: int,
        conversation_id: int,
        status: str,
        *,
        snoozed_until: int | None = None,
    ) -> dict[str, Any]:
        """Set the status (``open`` hands a bot's pending conversation to humans)."""
        body: dict[str, Any] = {"status": status}
        if snoozed_until is not None:
            body["snoozed_until"] = snoozed_until
        path = _conversation_path(account_id, conversation_id) + "/toggle_status"
        return _as_dict(await self._call("POST", path, body))

    async def toggle_typing(self, account_id: int, conversation_id: int, on: bool) -> None:
        """Show or hide the typing indicator (web widget and agents; not WhatsApp)."""
        body = {"typing_status": "on" if on else "off", "is_private": False}
        path = _conversation_path(account_id, conversation_id) + "/toggle_typing_status"
        await self._call("POST", path, body)

    async def get_conversation(self, account_id: int, conversation_id: int) -> dict[str, Any]:
        """Read a conversation (status, meta, labels, custom attributes, last message)."""
        return _as_dict(await self._call("GET", _conversation_path(account_id, conversation_id)))

    async def get_labels(self, account_id: int, conversation_id: int) -> list[str]:
        """The conversation's labels."""
        path = _conversation_path(account_id, conversation_id) + "/labels"
        return _labels(await self._call("GET", path))

    async def add_labels(
        self, account_id: int, conversation_id: int, labels: Iterable[str]
    ) -> list[str]:
        """Add labels, keeping the existing ones (Chatwoot's POST replaces the whole set)."""
        wanted = [label for label in dict.fromkeys(labels) if label]
        current = await self.get_labels(account_id, conversation_id)
        merged = list(dict.fromkeys([*current, *wanted]))
        if merged == current:
            return current
        path = _conversation_path(account_id, conversation_id) + "/labels"
        return _labels(await self._call("POST", path, {"labels": merged}))

    async def merge_custom_attributes(
        self, account_id: int, conversation_id: int, attrs: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Set some custom attributes, keeping the others (Chatwoot's POST replaces the hash)."""
        conversation = await self.get_conversation(account_id, conversation_id)
        current = conversation.get("custom_attributes") or {}
        merged = {**current, **attrs}
        path = _conversation_path(account_id, conversation_id) + "/custom_attributes"
        await self._call("POST", path, {"custom_attributes": merged})
        return merged

    async def assign_team(self, account_id: int, conversation_id: int, team_id: int) -> None:
        """Assign the conversation to a team."""
        path = _conversation_path(account_id, conversation_id) + "/assignments"
        await self._call("POST", path, {"team_id": team_id})

    async def unassign(self, account_id: int, conversation_id: int) -> None:
        """Take the assignee (a user or the bot) off the conversation."""
        path = _conversation_path(account_id, conversation_id) + "/assignments"
        await self._call("POST", path, {"assignee_id": None})

    # -- machinery ---------------------------------------------------------------------------

    async def read_back(self, account_id: int, conversation_id: int, mark: str) -> ReadBack:
        """The conversation's view of the message carrying `mark` (see :class:`ReadBack`).

        A bot token sees only the conversation's newest messages (``GET`` of the conversation:
        the last chat message and the last non-activity one), so a message followed by another
        one is not seen: :meth:`ReadBack.absent_after` then says the answer is unknown.
        """
        conversation = await self.get_conversation(account_id, conversation_id)
        candidates = list(conversation.get("messages") or [])
        last = conversation.get("last_non_activity_message")
        if isinstance(last, dict):
            candidates.append(last)
        found: dict[str, Any] | None = None
        latest: int | None = None
        for message in candidates:
            if not isinstance(message, dict):
                continue
            attributes = message.get("content_attributes")
            if isinstance(attributes, dict) and attributes.get(MARK_ATTRIBUTE) == mark:
                found = message
            ident = message.get("id")
            if isinstance(ident, int) and message.get("message_type") not in (2, "activity"):
                latest = ident if latest is None else max(latest, ident)
        return ReadBack(found, latest)

    async def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        idempotent: bool = True,
        files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
    ) -> Any:
        """One API call with a few retries; a non-idempotent one is not repeated once sent.

        With `files`, `body` is sent as the fields of a multipart form.
        """
        attempt = 0
        while True:
            sent = True
            retry_after: float | None = None
            try:
                if files:
                    response = await self._http.request(method, path, data=body, files=files)
                else:
                    response = await self._http.request(method, path, json=body)
            except httpx.TimeoutException as exc:
                sent = not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
                settle = True
                failure: ChatwootError = ChatwootUnavailable(
                    method, path, None, f"timed out ({type(exc).__name__})"
                )
            except httpx.TransportError as exc:
                sent = not isinstance(exc, httpx.ConnectError)
                settle = True
                failure = ChatwootUnavailable(
                    method, path, None, f"connection failed ({type(exc).__name__})"
                )
            else:
                if response.is_success:
                    return _json(response)
                failure = _error(method, path, response)
                if not isinstance(failure, TRANSIENT):
                    raise failure
                settle = response.status_code in (502, 503, 504)
                if isinstance(failure, ChatwootRateLimited):
                    sent = False
                    retry_after = failure.retry_after
                    if retry_after is not None and retry_after > self.max_retry_after:
                        raise failure
            if sent and not idempotent:
                raise ChatwootDeliveryUnknown(
                    method,
                    path,
                    failure.status,
                    f"may have been posted ({failure.reason})",
                    settle=settle,
                ) from failure
            if attempt >= self.retries:
                raise failure
            delay = self._delay(attempt, retry_after)
            logger.warning(
                "Chatwoot %s %s failed (%s); retry %d of %d in %.2f s",
                method,
                path,
                failure.reason if failure.status is None else f"HTTP {failure.status}",
                attempt + 1,
                self.retries,
                delay,
            )
            await asyncio.sleep(delay)
            attempt += 1

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter, at least ``Retry-After``."""
        base: float = self.backoff * 2.0**attempt
        delay = base / 2 + random.uniform(0, base / 2)
        return max(delay, retry_after or 0.0)


def _form_value(value: Any) -> str:
    """A JSON body value as a multipart form field (Rails casts "true"/"false" to booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _conversation_path(account_id: int, conversation_id: int) -> str:
    return f"/api/v1/accounts/{int(account_id)}/conversations/{int(conversation_id)}"


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _labels(value: Any) -> list[str]:
    payload = value.get("payload") if isinstance(value, dict) else value
    return [str(label) for label in payload] if isinstance(payload, list) else []


def _reason(response: httpx.Response) -> str:
    """Chatwoot's error text (``error``, ``message`` or ``errors``), shortened."""
    data = _json(response)
    text = ""
    if isinstance(data, dict):
        value = data.get("error") or data.get("message") or data.get("errors")
        if isinstance(value, list):
            value = "; ".join(str(item) for item in value)
        text = str(value) if value else ""
    if not text:
        text = response.reason_phrase or "error"
    return text[:200]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _error(method: str, path: str, response: httpx.Response) -> ChatwootError:
    status = response.status_code
    reason = _reason(response)
    if status in (401, 403):
        return ChatwootAuthError(method, path, status, reason)
    if status == 404:
        return ChatwootNotFound(method, path, status, reason)
    if status == 429:
        return ChatwootRateLimited(method, path, status, reason, _retry_after(response))
    if status >= 500:
        return ChatwootUnavailable(method, path, status, reason)
    return ChatwootRejected(method, path, status, reason)
