"""Chatwoot REST API client for the bot: replies, status, typing, labels, attributes, teams.

Every call sends the token in the ``api_access_token`` header and never logs it. Transient
failures (429, 5xx, timeouts, connection errors) are retried with exponential backoff and
jitter, honouring ``Retry-After``. Replies are never posted twice: when a send may have reached
Chatwoot (a timeout or 5xx after the request left), the client reads the conversation and
returns the message already there instead of posting it again.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import httpx

logger = logging.getLogger(__name__)

TOKEN_HEADER = "api_access_token"
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
    """A reply may or may not have been posted, and Chatwoot could not be read to tell."""


_Check = Callable[[], Awaitable[dict[str, Any] | None]]


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
        max_retry_after: float = 60,
        clock_skew: float = 30,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not token:
            raise ValueError("a Chatwoot API access token is required")
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.clock_skew = clock_skew
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

    async def send_message(
        self,
        account_id: int,
        conversation_id: int,
        content: str,
        *,
        private: bool = False,
        echo_id: str | None = None,
        content_attributes: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Post a reply (or a private note) once, and return Chatwoot's message object."""
        echo = echo_id or uuid.uuid4().hex
        body: dict[str, Any] = {
            "content": content,
            "message_type": "outgoing",
            "private": private,
            "content_type": "text",
            "echo_id": echo,
        }
        if content_attributes:
            body["content_attributes"] = dict(content_attributes)
        started = time.time()

        async def already_posted() -> dict[str, Any] | None:
            return await self._find_posted(
                account_id, conversation_id, content, private, echo, started
            )

        path = _conversation_path(account_id, conversation_id) + "/messages"
        result = await self._call("POST", path, body, check=already_posted)
        return _as_dict(result)

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

    # -- machinery ---------------------------------------------------------------------------

    async def find_posted(
        self,
        account_id: int,
        conversation_id: int,
        content: str,
        *,
        private: bool = False,
        echo_id: str | None = None,
        since: float,
    ) -> dict[str, Any] | None:
        """The bot's message with this echo id, or content and privacy, posted since `since`.

        Only the conversation's last messages are visible to a bot token (``GET`` of the
        conversation: the last chat message and the last non-activity one), so a message
        followed by another one is not found.
        """
        conversation = await self.get_conversation(account_id, conversation_id)
        candidates = list(conversation.get("messages") or [])
        last = conversation.get("last_non_activity_message")
        if isinstance(last, dict):
            candidates.append(last)
        for message in candidates:
            if not isinstance(message, dict):
                continue
            if echo_id and message.get("echo_id") == echo_id:
                return message
            created = message.get("created_at")
            if (
                message.get("message_type") in (OUTGOING, "outgoing")
                and message.get("content") == content
                and bool(message.get("private")) == private
                and isinstance(created, int | float)
                and created >= since - self.clock_skew
            ):
                return message
        return None

    async def _find_posted(
        self,
        account_id: int,
        conversation_id: int,
        content: str,
        private: bool,
        echo_id: str,
        started: float,
    ) -> dict[str, Any] | None:
        """The message a lost send already created, if the conversation shows it."""
        try:
            return await self.find_posted(
                account_id,
                conversation_id,
                content,
                private=private,
                echo_id=echo_id,
                since=started,
            )
        except ChatwootError as exc:
            raise ChatwootDeliveryUnknown(
                "POST",
                _conversation_path(account_id, conversation_id) + "/messages",
                exc.status,
                f"the reply may have been posted; reading the conversation failed: {exc.reason}",
            ) from exc

    async def _call(
        self, method: str, path: str, body: Any = None, *, check: _Check | None = None
    ) -> Any:
        """One API call with retries; ``check`` finds the result of a send that was lost."""
        attempt = 0
        while True:
            sent = True
            retry_after: float | None = None
            try:
                response = await self._http.request(method, path, json=body)
            except httpx.TimeoutException as exc:
                sent = not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
                failure: ChatwootError = ChatwootUnavailable(
                    method, path, None, f"timed out ({type(exc).__name__})"
                )
            except httpx.TransportError as exc:
                sent = not isinstance(exc, httpx.ConnectError)
                failure = ChatwootUnavailable(
                    method, path, None, f"connection failed ({type(exc).__name__})"
                )
            else:
                if response.is_success:
                    return _json(response)
                failure = _error(method, path, response)
                if not isinstance(failure, ChatwootRateLimited | ChatwootUnavailable):
                    raise failure
                if isinstance(failure, ChatwootRateLimited):
                    sent = False
                    retry_after = failure.retry_after
                    if retry_after is not None and retry_after > self.max_retry_after:
                        raise failure
            if attempt >= self.retries:
                if sent and check is not None and (found := await check()) is not None:
                    return found
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
            if sent and check is not None:
                found = await check()
                if found is not None:
                    logger.info("Chatwoot %s %s had succeeded; not sending it again", method, path)
                    return found
            attempt += 1

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter, at least ``Retry-After``."""
        base: float = self.backoff * 2.0**attempt
        delay = base / 2 + random.uniform(0, base / 2)
        return max(delay, retry_after or 0.0)


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
