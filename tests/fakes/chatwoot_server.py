"""A fake Chatwoot on 127.0.0.1 for tests: the REST calls a bot uses, and signed webhooks.

It serves the application API paths the client calls, with Chatwoot's response shapes and its
bot-token rules (a bot token may only use ``BOT_ACCESSIBLE_ENDPOINTS``), records every call, and
can inject failures: ``rate_limit`` (429 + Retry-After), ``error`` (a 5xx before anything is
done), ``timeout`` (no answer in time, nothing done), ``lost`` (done, but the answer never
arrives in time), ``lost_error`` (done, then a 500) and ``slow`` (done only after ``delay``, as
Chatwoot saving a message after the client's timeout), and whole outages (:meth:`down`: every
path fails for a while). Like Chatwoot, it stores the ``content_attributes`` of a created message
and shows them again, but echoes ``echo_id`` in the create response only. It also builds webhook
payloads in the real shapes from its own state, signs them like Chatwoot, and delivers them.

    with FakeChatwoot() as fake:
        conversation = fake.add_conversation(account_id=3, display_id=417)
        client = ChatwootClient(fake.base_url, fake.bot_token)

Attachments: :meth:`FakeChatwoot.add_blob` stores a file and returns its ``data_url``, an
ActiveStorage *redirect* URL answered with a 302 to the blob (on the same host, or on
``storage_host``: another name of this server, a "storage host" for the downloader), which can be
made to fail (``not_found``, ``stall``: no answer for a minute, ``unsized``: streamed without a
length). Every blob request is kept in ``blob_requests`` (path and headers). A message posted as
``multipart/form-data`` (``attachments[]``) is parsed like Chatwoot's controller: its
``content_attributes`` arrive as a JSON string and are parsed (``safe_parse_json``), its files
become the message's attachments (kept as blobs, so its webhook's ``data_url`` works), and the
call's body lists them (``attachments``: name, type, size, SHA-256).

Payloads of Chatwoot behaviours: a customer's message (``incoming``, ``incoming_email`` with
Chatwoot's ``content_attributes.email``, ``customer_reopens`` a resolved conversation), a human's
or Captain's (``agent_reply``, ``captain_reply``), ownership (``assign_human``, ``assign_bot``),
and, for a conversation whose channel refuses the bot's replies (``rejects_replies``, e.g.
WhatsApp's 24-hour window), the ``message_updated`` with ``external_error`` Chatwoot sends for
each reply it could not deliver (several times, as the message keeps changing).
"""

from __future__ import annotations

import asyncio
import copy
import json
import socket
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from chatwootai.chatwoot.signature import sign
from fakes.openai_server import parse_form  # one multipart parser for both fakes

BOT_ENDPOINTS = frozenset(
    {
        "conversation.show",
        "messages.create",
        "toggle_status",
        "toggle_typing",
        "labels.index",
        "labels.create",
        "custom_attributes",
        "assignments",
    }
)
"""Endpoints a bot token may call (Chatwoot v4.15.1 ``BOT_ACCESSIBLE_ENDPOINTS``, as used here)."""
NOT_FOR_BOTS = "Access to this endpoint is not authorized for bots"
FAILURE_KINDS = frozenset({"rate_limit", "error", "timeout", "lost", "lost_error", "slow"})
MESSAGE_TYPES = {"incoming": 0, "outgoing": 1, "activity": 2, "template": 3}
CAPTAIN = {"id": 2, "name": "Captain", "avatar_url": ""}
"""The Captain assistant of the fake's accounts (Chatwoot's own AI)."""
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "chatwoot"
"""Real Chatwoot payload shapes (reference examples A-G and variants), one event per file."""


def load_fixture(name: str) -> dict[str, Any]:
    """A payload from tests/fixtures/chatwoot (``name`` without ``.json``), decoded."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


@dataclass
class Call:
    """One API call the fake received."""

    endpoint: str
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    account_id: int
    conversation_id: int
    outcome: str = "ok"
    at: float = field(default_factory=time.monotonic)
    """When the call arrived (``time.monotonic()``)."""


@dataclass
class Failure:
    """A failure to inject on the next calls of an endpoint."""

    kind: str
    times: int = 1
    status: int = 500
    retry_after: str | None = "0"
    delay: float = 1.0
    conversation: tuple[int, int] | None = None
    """Only calls about this conversation (account id, display id) meet it (None: any)."""


@dataclass
class Outage:
    """Every API call fails (``error`` with `status`, or ``rate_limit``) until `until`."""

    kind: str
    until: float
    status: int = 500
    retry_after: str | None = None
    conversations: frozenset[tuple[int, int]] | None = None
    """Only these conversations' calls fail (None: every call)."""

    def hits(self, account_id: int, conversation_id: int) -> bool:
        """Whether a call to this conversation fails now."""
        if time.monotonic() >= self.until:
            return False
        return self.conversations is None or (account_id, conversation_id) in self.conversations


@dataclass
class Delivery:
    """A webhook the fake delivered (body bytes, headers, and the receiver's status)."""

    url: str
    body: bytes
    headers: dict[str, str]
    status: int | None = None


@dataclass
class Blob:
    """A file the fake stores (an ActiveStorage blob), and how serving it fails."""

    data: bytes
    content_type: str
    filename: str
    failure: str | None = None
    """None, ``not_found`` (404), ``stall`` (no answer for a minute), ``unsized`` (no length)."""
    storage_host: str | None = None
    """Where the redirect sends the client (``host:port``); None: this server's own address."""


BLOB_FAILURES = frozenset({"not_found", "stall", "unsized"})
STALL_S = 60.0


def _form_body(fields: dict[str, str], files: list[dict[str, Any]]) -> dict[str, Any]:
    """A multipart message-create body as Chatwoot's builder reads it."""
    body: dict[str, Any] = dict(fields)
    if "private" in body:
        body["private"] = body["private"].lower() in ("true", "1")
    attributes = body.get("content_attributes")
    if isinstance(attributes, str):  # Messages::MessageBuilder#content_attributes
        try:
            parsed = json.loads(attributes)
        except ValueError:
            parsed = {}
        body["content_attributes"] = parsed if isinstance(parsed, dict) else {}
    body["attachments"] = files
    return body


def file_type_of(content_type: str) -> str:
    """Chatwoot's file type of an uploaded file (``FileTypeHelper#file_type``)."""
    if content_type.startswith("image/"):
        return "image"
    if content_type.startswith("audio/"):
        return "audio"
    if content_type.startswith("video/"):
        return "video"
    return "file"


@dataclass
class FakeConversation:
    """A conversation held by the fake, with its messages."""

    account_id: int
    display_id: int
    inbox_id: int = 12
    inbox_name: str = "WhatsApp Sales"
    channel: str = "Channel::Whatsapp"
    status: str = "pending"
    labels: list[str] = field(default_factory=list)
    custom_attributes: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    assignee: dict[str, Any] | None = None
    team: dict[str, Any] | None = None
    contact: dict[str, Any] = field(
        default_factory=lambda: {
            "id": 8812,
            "name": "Maria Silva",
            "phone_number": "+5511987654321",
            "email": None,
            "identifier": None,
        }
    )
    source_id: str = "5511987654321"
    pubsub_token: str = field(default_factory=lambda: uuid.uuid4().hex[:24])
    bot_handoffs: int = 0
    created_at: int = field(default_factory=lambda: int(time.time()))
    rejects_replies: str | None = None
    """When set, the channel refuses public outgoing messages with this error text."""

    @property
    def assignee_type(self) -> str | None:
        """``User``/``AgentBot``/``Captain::Assistant`` as Chatwoot's meta shows it."""
        if self.assignee is None:
            return None
        return {"agent_bot": "AgentBot", "captain_assistant": "Captain::Assistant"}.get(
            str(self.assignee.get("type")), "User"
        )


class FakeChatwoot:
    """A fake Chatwoot server running in a thread on 127.0.0.1 (a free port)."""

    def __init__(
        self,
        *,
        bot_token: str = "bot-token-7Qx",
        user_token: str = "user-token-3Lp",
        bot: dict[str, Any] | None = None,
        accounts: tuple[int, ...] = (3,),
        webhook_url: str | None = None,
        webhook_secret: str = "webhook-secret-Zr8",
    ) -> None:
        self.bot_token = bot_token
        self.user_token = user_token
        self.bot = bot or {"id": 5, "name": "Acme AI"}
        self.user = {"id": 21, "name": "Joao", "email": "joao@acme.example"}
        self.accounts = set(accounts)
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.conversations: dict[tuple[int, int], FakeConversation] = {}
        self.calls: list[Call] = []
        self.deliveries: list[Delivery] = []
        self.teams: dict[int, dict[str, Any]] = {2: {"id": 2, "name": "vendas"}}
        self.blobs: dict[str, Blob] = {}
        self.blob_requests: list[dict[str, Any]] = []
        self.storage_host: str | None = None
        """``host:port`` blobs are redirected to by default (None: this server's address)."""
        self._failures: dict[str, deque[Failure]] = {}
        self._outages: list[Outage] = []
        self._next_message_id = 200_000
        self.updates_per_failure = 3
        """``message_updated`` deliveries sent for each refused reply."""
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        self.app = Starlette(routes=self._routes())

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> FakeChatwoot:
        """Serve on a free port of 127.0.0.1 and wait until it accepts connections."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake Chatwoot server did not start")
            time.sleep(0.01)
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeChatwoot:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- state and inspection ---------------------------------------------------------------

    def reset(self) -> None:
        """Forget conversations, calls, deliveries and pending failures (keeps serving)."""
        with self._lock:
            self.conversations.clear()
            self.calls.clear()
            self.deliveries.clear()
            self._failures.clear()
            self._outages.clear()
            self.webhook_url = None

    def add_blob(
        self,
        data: bytes,
        content_type: str,
        filename: str,
        *,
        failure: str | None = None,
        storage_host: str | None = None,
    ) -> str:
        """Store a file; its ``data_url`` (an ActiveStorage redirect URL on this server)."""
        if failure is not None and failure not in BLOB_FAILURES:
            raise ValueError(
                f"unknown blob failure {failure!r}; use one of {sorted(BLOB_FAILURES)}"
            )
        key = "eyJfcmFpbHMi" + uuid.uuid4().hex
        self.blobs[key] = Blob(data, content_type, filename, failure, storage_host)
        return f"{self.base_url}/rails/active_storage/blobs/redirect/{key}/{filename}"

    def attachment(
        self,
        file_type: str,
        data: bytes,
        content_type: str,
        filename: str,
        **kw: Any,
    ) -> dict[str, Any]:
        """An attachment of a webhook (reference 1.3), its blob stored (see :meth:`add_blob`)."""
        entry: dict[str, Any] = {
            "file_type": file_type,
            "extension": None,
            "data_url": self.add_blob(data, content_type, filename, **kw),
            "thumb_url": "",
            "file_size": len(data),
            "width": None,
            "height": None,
        }
        if file_type == "audio":
            entry["transcribed_text"] = None
        return entry

    def add_conversation(
        self, account_id: int = 3, display_id: int = 417, **kw: Any
    ) -> FakeConversation:
        """Create a conversation (pending, WhatsApp, contact Maria Silva by default)."""
        self.accounts.add(account_id)
        conversation = FakeConversation(account_id=account_id, display_id=display_id, **kw)
        self.conversations[(account_id, display_id)] = conversation
        return conversation

    def fail(self, endpoint: str, kind: str, *, times: int = 1, **kw: Any) -> None:
        """Make the next ``times`` calls of ``endpoint`` fail as ``kind`` (see module doc);
        ``conversation=(account_id, display_id)`` limits it to that conversation's calls."""
        if kind not in FAILURE_KINDS:
            raise ValueError(f"unknown failure kind {kind!r}; use one of {sorted(FAILURE_KINDS)}")
        self._failures.setdefault(endpoint, deque()).append(Failure(kind, times, **kw))

    def reset_failures(self) -> None:
        """Forget the failures not injected yet, and end outages."""
        with self._lock:
            self._failures.clear()
            self._outages.clear()

    def down(
        self,
        seconds: float,
        *,
        kind: str = "error",
        status: int = 500,
        retry_after: str | None = None,
        conversations: tuple[tuple[int, int], ...] | None = None,
    ) -> Outage:
        """Fail every API call (of these conversations) for `seconds`: ``error`` answers
        `status`, ``rate_limit`` answers 429 with `retry_after`. Nothing is done meanwhile."""
        if kind not in ("error", "rate_limit"):
            raise ValueError("an outage is of kind 'error' or 'rate_limit'")
        outage = Outage(
            kind,
            time.monotonic() + seconds,
            status,
            retry_after,
            None if conversations is None else frozenset(conversations),
        )
        with self._lock:
            self._outages.append(outage)
        return outage

    def up(self) -> None:
        """End every outage now."""
        with self._lock:
            self._outages.clear()

    def calls_to(self, endpoint: str) -> list[Call]:
        """The calls received by one endpoint, in order."""
        return [call for call in self.calls if call.endpoint == endpoint]

    def endpoints(self) -> list[str]:
        """The endpoints called, in order."""
        return [call.endpoint for call in self.calls]

    # -- webhooks ---------------------------------------------------------------------------

    def incoming(
        self,
        account_id: int,
        display_id: int,
        content: str | None,
        *,
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Record a customer message and return its ``message_created`` payload."""
        conversation = self.conversations[(account_id, display_id)]
        message = self._new_message(
            conversation,
            content,
            "incoming",
            sender_type="Contact",
            sender_id=conversation.contact["id"],
        )
        if attachments:
            message["attachments"] = [
                {"id": 700 + i, "message_id": message["id"], "account_id": account_id, **a}
                for i, a in enumerate(attachments)
            ]
        return self.message_payload(conversation, message)

    def customer_reopens(self, account_id: int, display_id: int, content: str) -> dict[str, Any]:
        """The customer writes to a resolved conversation: back to ``pending`` in a bot inbox,
        keeping its assignee (``Message#reopen_resolved_conversation``); the message's payload."""
        conversation = self.conversations[(account_id, display_id)]
        if conversation.status == "resolved":
            conversation.status = "pending"
        return self.incoming(account_id, display_id, content)

    def assign_human(self, account_id: int, display_id: int) -> None:
        """Assign the conversation to the fake's human agent (its status does not change)."""
        conversation = self.conversations[(account_id, display_id)]
        conversation.assignee = {**self.user, "available_name": self.user["name"], "type": "user"}

    def assign_bot(self, account_id: int, display_id: int) -> None:
        """Assign the conversation to the Agent Bot (Chatwoot 4.8+): its status does not change."""
        conversation = self.conversations[(account_id, display_id)]
        conversation.assignee = {**self.bot, "avatar_url": "", "type": "agent_bot"}

    def incoming_email(
        self, account_id: int, display_id: int, new_text: str, quoted: str
    ) -> dict[str, Any]:
        """A customer's e-mail as Chatwoot 4.x gives it: ``content`` is the whole text (the
        quoted thread included); ``content_attributes.email.text_content.quoted`` is the text
        trimmed by EmailReplyTrimmer; the HTML part travels too."""
        conversation = self.conversations[(account_id, display_id)]
        full = f"{new_text}\n\n{quoted}".strip()
        html = "<div>" + full.replace("\n", "<br>") + "</div>"
        email = {
            "from": [conversation.contact.get("email") or "cliente@example.com"],
            "to": ["suporte@acme.example"],
            "subject": "Re: pedido",
            "message_id": f"{uuid.uuid4().hex}@mail.example.com",
            "multipart": True,
            "number_of_attachments": 0,
            "text_content": {"full": full, "reply": full, "quoted": new_text},
            "html_content": {"full": html, "reply": full, "quoted": new_text},
        }
        message = self._new_message(
            conversation,
            full,
            "incoming",
            sender_type="Contact",
            sender_id=conversation.contact["id"],
            content_attributes={"email": email, "cc_email": None, "bcc_email": None},
            content_type="incoming_email",
        )
        return self.message_payload(conversation, message)

    def captain_reply(self, account_id: int, display_id: int, content: str) -> dict[str, Any]:
        """Record a message of Chatwoot's Captain assistant and return its payload."""
        conversation = self.conversations[(account_id, display_id)]
        message = self._new_message(
            conversation, content, "outgoing", sender_type="Captain::Assistant", sender_id=2
        )
        return self.message_payload(conversation, message)

    def agent_reply(
        self, account_id: int, display_id: int, content: str, *, private: bool = False
    ) -> dict[str, Any]:
        """Record a human agent's message and return its ``message_created`` payload."""
        conversation = self.conversations[(account_id, display_id)]
        message = self._new_message(
            conversation,
            content,
            "outgoing",
            sender_type="User",
            sender_id=self.user["id"],
            private=private,
        )
        return self.message_payload(conversation, message)

    def message_payload(
        self,
        conversation: FakeConversation,
        message: dict[str, Any],
        event: str = "message_created",
    ) -> dict[str, Any]:
        """A message webhook payload in Chatwoot's shape (v4.15.1, like reference example A)."""
        account = {"id": conversation.account_id, "name": "Acme Support"}
        payload: dict[str, Any] = {
            "account": account,
            "additional_attributes": {},
            "content_attributes": message["content_attributes"],
            "content_type": message["content_type"],
            "content": message["content"],
            "conversation": self.conversation_object(conversation),
            "created_at": datetime.fromtimestamp(message["created_at"], UTC)
            .isoformat()
            .replace("+00:00", "Z"),
            "id": message["id"],
            "inbox": {"id": conversation.inbox_id, "name": conversation.inbox_name},
            "message_type": _type_name(message["message_type"]),
            "private": message["private"],
            "sender": self._webhook_sender(conversation, message),
            "source_id": message.get("source_id"),
            "event": event,
        }
        if message.get("attachments"):
            payload["attachments"] = message["attachments"]
        return payload

    def conversation_payload(
        self, conversation: FakeConversation, event: str, changed_attributes: Any = None
    ) -> dict[str, Any]:
        """A ``conversation_*`` webhook payload (the conversation object plus the event)."""
        payload = self.conversation_object(conversation)
        payload["event"] = event
        if event in ("conversation_updated", "conversation_status_changed"):
            payload["changed_attributes"] = changed_attributes
        return payload

    def conversation_object(self, conversation: FakeConversation) -> dict[str, Any]:
        """The conversation as webhooks carry it (``pubsub_token`` included, as Chatwoot does)."""
        last = self._last_chat_message(conversation)
        now = int(time.time())
        return {
            "additional_attributes": {},
            "can_reply": True,
            "channel": conversation.channel,
            "contact_inbox": {
                "id": 9001,
                "contact_id": conversation.contact["id"],
                "inbox_id": conversation.inbox_id,
                "source_id": conversation.source_id,
                "hmac_verified": False,
                "pubsub_token": conversation.pubsub_token,
            },
            "id": conversation.display_id,
            "inbox_id": conversation.inbox_id,
            "messages": [self._push_data(conversation, last)] if last else [],
            "labels": list(conversation.labels),
            "meta": self._meta(conversation),
            "status": conversation.status,
            "custom_attributes": dict(conversation.custom_attributes),
            "snoozed_until": None,
            "unread_count": 1,
            "first_reply_created_at": None,
            "priority": None,
            "waiting_since": now,
            "agent_last_seen_at": 0,
            "contact_last_seen_at": 0,
            "last_activity_at": now,
            "timestamp": now,
            "created_at": conversation.created_at,
            "updated_at": float(now),
            "account": {"id": conversation.account_id, "name": "Acme Support"},
        }

    def build_delivery(
        self,
        payload: dict[str, Any],
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        delivery_id: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """The body bytes and headers Chatwoot would send for ``payload``, signed."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        ts = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-Chatwoot-Delivery": delivery_id or str(uuid.uuid4()),
            "X-Chatwoot-Timestamp": ts,
            "X-Chatwoot-Signature": sign(secret or self.webhook_secret, ts, body),
        }
        return body, headers

    async def deliver(
        self, url: str, payload: dict[str, Any], *, secret: str | None = None
    ) -> httpx.Response:
        """Sign and POST ``payload`` to ``url`` as Chatwoot would (5 s timeout)."""
        body, headers = self.build_delivery(payload, secret=secret)
        delivery = Delivery(url, body, headers)
        self.deliveries.append(delivery)
        async with httpx.AsyncClient(timeout=5) as http:
            response = await http.post(url, content=body, headers=headers)
        delivery.status = response.status_code
        return response

    # -- the API ----------------------------------------------------------------------------

    def _routes(self) -> list[Route]:
        base = "/api/v1/accounts/{account_id:int}/conversations/{conversation_id:int}"
        return [
            Route(base, self._show, methods=["GET"]),
            Route(base + "/messages", self._create_message, methods=["POST"]),
            Route(base + "/messages", self._list_messages, methods=["GET"]),
            Route(base + "/toggle_status", self._toggle_status, methods=["POST"]),
            Route(base + "/toggle_typing_status", self._toggle_typing, methods=["POST"]),
            Route(base + "/labels", self._list_labels, methods=["GET"]),
            Route(base + "/labels", self._set_labels, methods=["POST"]),
            Route(base + "/custom_attributes", self._set_custom_attributes, methods=["POST"]),
            Route(base + "/assignments", self._assign, methods=["POST"]),
            Route(
                "/rails/active_storage/blobs/redirect/{key}/{filename}",
                self._blob_redirect,
                methods=["GET"],
            ),
            Route("/rails/active_storage/disk/{key}/{filename}", self._blob_serve, methods=["GET"]),
        ]

    def _blob_request(self, request: Request) -> Blob | None:
        self.blob_requests.append(
            {"path": request.url.path, "host": request.url.netloc, "headers": dict(request.headers)}
        )
        return self.blobs.get(request.path_params["key"])

    async def _blob_redirect(self, request: Request) -> Response:
        blob = self._blob_request(request)
        if blob is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        host = blob.storage_host or self.storage_host or request.url.netloc
        key, filename = request.path_params["key"], request.path_params["filename"]
        location = f"http://{host}/rails/active_storage/disk/{key}/{filename}"
        return RedirectResponse(location, status_code=302)

    async def _blob_serve(self, request: Request) -> Response:
        blob = self._blob_request(request)
        if blob is None or blob.failure == "not_found":
            return Response(b"Not Found", status_code=404)
        if blob.failure == "stall":
            await asyncio.sleep(STALL_S)
        if blob.failure == "unsized":

            async def chunks() -> Any:
                for start in range(0, len(blob.data), 65536):
                    yield blob.data[start : start + 65536]

            return StreamingResponse(chunks(), media_type=blob.content_type)
        return Response(blob.data, media_type=blob.content_type)

    async def _handle(self, endpoint: str, request: Request, action: Any) -> Response:
        """Authenticate, record, inject failures and run ``action(conversation, body)``."""
        raw = await request.body()
        kind = request.headers.get("content-type", "")
        try:
            if kind.startswith("multipart/form-data"):
                body = _form_body(*parse_form(raw, kind))
            else:
                body = json.loads(raw) if raw else None
        except ValueError:
            return JSONResponse({"error": "Invalid JSON"}, status_code=400)
        account_id = request.path_params["account_id"]
        conversation_id = request.path_params["conversation_id"]
        call = Call(
            endpoint,
            request.method,
            request.url.path,
            dict(request.headers),
            body,
            account_id,
            conversation_id,
        )
        with self._lock:
            self.calls.append(call)
            outage = next((o for o in self._outages if o.hits(account_id, conversation_id)), None)
        if outage is not None:
            call.outcome = f"down:{outage.kind}"
            return await self._fail(
                Failure(outage.kind, status=outage.status, retry_after=outage.retry_after)
            )
        token = request.headers.get("api_access_token")
        if token not in (self.bot_token, self.user_token):
            call.outcome = "401"
            return JSONResponse({"error": "Invalid Access Token"}, status_code=401)
        is_bot = token == self.bot_token
        if is_bot and endpoint not in BOT_ENDPOINTS:
            call.outcome = "401"
            return JSONResponse({"error": NOT_FOR_BOTS}, status_code=401)
        if account_id not in self.accounts:
            call.outcome = "401"
            return JSONResponse(
                {"error": "You are not authorized to access this account"}, status_code=401
            )
        conversation = self.conversations.get((account_id, conversation_id))
        if conversation is None:
            call.outcome = "404"
            return JSONResponse({"error": "Resource could not be found"}, status_code=404)
        failure = self._take_failure(endpoint, (account_id, conversation_id))
        if failure is not None and failure.kind in ("rate_limit", "error", "timeout"):
            call.outcome = failure.kind
            return await self._fail(failure)
        if failure is not None and failure.kind == "slow":
            call.outcome = "slow"
            await asyncio.sleep(failure.delay)  # the client gave up; Chatwoot saves it now
            failure = None
        result = action(conversation, body if isinstance(body, dict) else {}, is_bot)
        if failure is not None:
            call.outcome = failure.kind
            return await self._fail(failure)
        if isinstance(result, Response):
            return result
        return JSONResponse(result)

    def _take_failure(self, endpoint: str, conversation: tuple[int, int]) -> Failure | None:
        with self._lock:
            queue = self._failures.get(endpoint)
            if not queue:
                return None
            failure = next((f for f in queue if f.conversation in (None, conversation)), None)
            if failure is None:
                return None
            failure.times -= 1
            if failure.times <= 0:
                queue.remove(failure)
            return failure

    async def _fail(self, failure: Failure) -> Response:
        if failure.kind == "rate_limit":
            headers = (
                {"Retry-After": failure.retry_after} if failure.retry_after is not None else {}
            )
            return JSONResponse({"error": "Too Many Requests"}, status_code=429, headers=headers)
        if failure.kind in ("timeout", "lost"):
            await asyncio.sleep(failure.delay)
            return JSONResponse({"error": "Gateway Timeout"}, status_code=504)
        status = 500 if failure.kind == "lost_error" else failure.status
        return JSONResponse(
            {"status": status, "error": "Internal Server Error"}, status_code=status
        )

    async def _show(self, request: Request) -> Response:
        def action(conversation: FakeConversation, body: dict[str, Any], is_bot: bool) -> Any:
            return self._rest_conversation(conversation)

        return await self._handle("conversation.show", request, action)

    async def _create_message(self, request: Request) -> Response:
        def action(conversation: FakeConversation, body: dict[str, Any], is_bot: bool) -> Any:
            content = body.get("content")
            message_type = body.get("message_type", "outgoing")
            if message_type == "incoming" and conversation.channel != "Channel::Api":
                return JSONResponse(
                    {"error": "Incoming messages are only allowed in Api inboxes"}, status_code=422
                )
            message = self._new_message(
                conversation,
                content,
                message_type,
                sender_type="AgentBot" if is_bot else "User",
                sender_id=self.bot["id"] if is_bot else self.user["id"],
                private=bool(body.get("private", False)),
                content_attributes=body.get("content_attributes") or {},
                content_type=body.get("content_type", "text"),
            )
            files = body.get("attachments") or []
            if len(files) > 15:
                return JSONResponse({"error": "Too many attachments"}, status_code=422)
            if files:
                message["attachments"] = [
                    {
                        "id": 900_000 + index + message["id"] % 100_000 * 20,
                        "message_id": message["id"],
                        "file_type": file_type_of(str(f["content_type"])),
                        "account_id": conversation.account_id,
                        "extension": None,
                        "data_url": self.add_blob(
                            f["data"], str(f["content_type"]), str(f["filename"])
                        ),
                        "thumb_url": "",
                        "file_size": f["size"],
                    }
                    for index, f in enumerate(files)
                ]
                for f in files:
                    f.pop("data", None)  # the call's record keeps name, type, size, hash
            response = self._push_data(conversation, message)
            if body.get("echo_id"):
                response["echo_id"] = body["echo_id"]  # echoed back, not stored (as Chatwoot)
            if self.webhook_url:
                payload = self.message_payload(conversation, message)
                asyncio.get_running_loop().create_task(self.deliver(self.webhook_url, payload))
            if conversation.rejects_replies and not message["private"]:
                asyncio.get_running_loop().create_task(self._reject(conversation, message))
            return response

        return await self._handle("messages.create", request, action)

    async def _reject(self, conversation: FakeConversation, message: dict[str, Any]) -> None:
        """The channel refuses the message: status failed with ``external_error``, then the
        ``message_updated`` deliveries Chatwoot makes for it (it changes more than once)."""
        await asyncio.sleep(0.05)
        message["status"] = "failed"
        message["content_attributes"] = {
            **message["content_attributes"],
            "external_error": conversation.rejects_replies,
        }
        if not self.webhook_url:
            return
        payload = self.message_payload(conversation, message, event="message_updated")
        for _ in range(self.updates_per_failure):
            await self.deliver(self.webhook_url, payload)

    async def _list_messages(self, request: Request) -> Response:
        def action(conversation: FakeConversation, body: dict[str, Any], is_bot: bool) -> Any:
            return {
                "meta": {"labels": conversation.labels, "assignee": conversation.assignee},
                "payload": [self._push_data(conversation, m) for m in conversation.messages],
            }

        return await self._handle("messages.index", request, action)

    async def _toggle_status(self, request: Request) -> Response:
        def action(conversation: FakeConversation, body: dict[str, Any], is_bot: bool) -> Any:
            status = body.get("status")
            if status is None:
                status = "resolved" if conversation.status == "open" else "open"
            if status not in ("open", "resolved", "pending", "snoozed"):
                return JSONResponse({"error": f"'{status}' is not a valid status"}, status_code=422)
            bot_handoff = is_bot and conversation.status == "pending" and status == "open"
            if bot_handoff:
                conversation.bot_handoffs += 1
            conversation.status = status
            return {
                "meta": {},
                "payload": {
                    "success": None if bot_handoff else True,
                    "conversation_id": conversation.display_id,
                    "current_status": conversation.status,
                    "snoozed_until": body.get("snoozed_until"),
                },
            }

        return await self._handle("toggle_status", request, action)

    async def _toggle_typing(self, request: Request) -> Response:
        def action(conversation: FakeConversation, body: dict[str, Any], is_bot: bool) -> Any:
            return Response(status_code=200)

        return await self._handle("toggle_typing", request, action)

    async def _list_labels(self, request: Request) -> Response:
        def action(conversation: FakeConversation, body: dict[str, Any], is_bot: bool) -> Any:
            return {"payload": list(conversation.labels)}

        return await self._handle("labels.index", request, action)

    async def _set_labels(self, request: Request) -> Response:
        def action(conversation: FakeConversation, body: dict[str, Any], is_bot: bool) -> Any:
            conversation.labels = [str(label) for label in body.get("labels") or []]  # replaces
            return {"payload": list(conversation.labels)}

        return await self._handle("labels.create", request, action)

    async def _set_custom_attributes(self, request: Request) -> Response:
        def action(conversation: FakeConversation, body: dict[str, Any], is_bot: bool) -> Any:
            conversation.custom_attributes = dict(body.get("custom_attributes") or {})  # replaces
            return {"custom_attributes": dict(conversation.custom_attributes)}

        return await self._handle("custom_attributes", request, action)

    async def _assign(self, request: Request) -> Response:
        def action(conversation: FakeConversation, body: dict[str, Any], is_bot: bool) -> Any:
            if "assignee_id" in body:
                assignee_id = body["assignee_id"]
                if assignee_id is None:
                    conversation.assignee = None
                    return Response(status_code=200)
                kind = "agent_bot" if body.get("assignee_type") == "AgentBot" else "user"
                source = self.bot if kind == "agent_bot" else self.user
                conversation.assignee = {**source, "id": assignee_id, "type": kind}
                return conversation.assignee
            team = self.teams.get(body.get("team_id") or -1)
            if team is None:
                return JSONResponse({"error": "Resource could not be found"}, status_code=404)
            conversation.team = team
            return team

        return await self._handle("assignments", request, action)

    # -- shapes -----------------------------------------------------------------------------

    def _new_message(
        self,
        conversation: FakeConversation,
        content: str | None,
        message_type: str,
        *,
        sender_type: str | None,
        sender_id: int | None,
        private: bool = False,
        content_attributes: dict[str, Any] | None = None,
        content_type: str = "text",
    ) -> dict[str, Any]:
        with self._lock:
            self._next_message_id += 1
            message_id = self._next_message_id
        message = {
            "id": message_id,
            "content": content,
            "account_id": conversation.account_id,
            "inbox_id": conversation.inbox_id,
            "conversation_id": conversation.display_id,
            "message_type": MESSAGE_TYPES[message_type],
            "created_at": int(time.time()),
            "private": private,
            "status": "sent",
            "source_id": None,
            "content_type": content_type,
            "content_attributes": dict(content_attributes or {}),
            "sender_type": sender_type,
            "sender_id": sender_id,
        }
        conversation.messages.append(message)
        return message

    def _last_chat_message(self, conversation: FakeConversation) -> dict[str, Any] | None:
        chat = [m for m in conversation.messages if not m["private"] and m["message_type"] != 2]
        return chat[-1] if chat else None

    def _sender_push(
        self, conversation: FakeConversation, message: dict[str, Any]
    ) -> dict[str, Any] | None:
        kind = message["sender_type"]
        if kind == "Contact":
            return {
                **conversation.contact,
                "additional_attributes": {},
                "custom_attributes": {},
                "thumbnail": "",
                "blocked": False,
                "type": "contact",
            }
        if kind == "User":
            return {
                **self.user,
                "available_name": self.user["name"],
                "avatar_url": "",
                "type": "user",
            }
        if kind == "AgentBot":
            return {**self.bot, "avatar_url": "", "type": "agent_bot"}
        if kind == "Captain::Assistant":
            return {**CAPTAIN, "type": "captain_assistant"}
        return None

    def _webhook_sender(
        self, conversation: FakeConversation, message: dict[str, Any]
    ) -> dict[str, Any] | None:
        kind = message["sender_type"]
        if kind == "Contact":  # webhook_data of a contact: no "type" key
            return {
                "account": {"id": conversation.account_id, "name": "Acme Support"},
                "additional_attributes": {},
                "avatar": "",
                "custom_attributes": {},
                **conversation.contact,
                "thumbnail": "",
                "blocked": False,
            }
        if kind == "User":
            return {**self.user, "type": "user"}
        if kind == "AgentBot":
            return {**self.bot, "type": "agent_bot"}
        if kind == "Captain::Assistant":
            return {
                **CAPTAIN,
                "description": "Assistente",
                "created_at": "2026-01-02T10:00:00.000Z",
                "type": "captain_assistant",
            }
        return None

    def _push_data(self, conversation: FakeConversation, message: dict[str, Any]) -> dict[str, Any]:
        data = copy.deepcopy(message)
        data["processed_message_content"] = message["content"]
        data["updated_at"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        sender = self._sender_push(conversation, message)
        if sender is not None:
            data["sender"] = sender
        data["conversation"] = {
            "assignee_id": (conversation.assignee or {}).get("id"),
            "unread_count": 1,
            "last_activity_at": message["created_at"],
            "contact_inbox": {"source_id": conversation.source_id},
        }
        return data

    def _meta(self, conversation: FakeConversation) -> dict[str, Any]:
        return {
            "sender": {
                **conversation.contact,
                "additional_attributes": {},
                "custom_attributes": {},
                "thumbnail": "",
                "blocked": False,
                "type": "contact",
            },
            "assignee": conversation.assignee,
            "assignee_type": conversation.assignee_type,
            "team": conversation.team,
            "hmac_verified": False,
        }

    def _rest_conversation(self, conversation: FakeConversation) -> dict[str, Any]:
        """``GET /conversations/{id}``: meta, last chat message, last non-activity message."""
        last = self._last_chat_message(conversation)
        non_activity = [m for m in conversation.messages if m["message_type"] != 2]
        meta = self._meta(conversation)
        meta["channel"] = conversation.channel
        return {
            "meta": meta,
            "id": conversation.display_id,
            "messages": [self._push_data(conversation, last)] if last else [],
            "account_id": conversation.account_id,
            "uuid": str(
                uuid.uuid5(
                    uuid.NAMESPACE_OID, f"{conversation.account_id}:{conversation.display_id}"
                )
            ),
            "additional_attributes": {},
            "can_reply": True,
            "custom_attributes": dict(conversation.custom_attributes),
            "inbox_id": conversation.inbox_id,
            "labels": list(conversation.labels),
            "muted": False,
            "snoozed_until": None,
            "status": conversation.status,
            "created_at": conversation.created_at,
            "timestamp": int(time.time()),
            "unread_count": 0,
            "last_non_activity_message": (
                self._push_data(conversation, non_activity[-1]) if non_activity else None
            ),
            "priority": None,
            "waiting_since": None,
        }


def _type_name(value: int) -> str:
    return {v: k for k, v in MESSAGE_TYPES.items()}[value]
