"""A fake OpenAI-compatible Chat Completions server on 127.0.0.1, for end-to-end tests.

Responses are scripted: each request to ``POST /v1/chat/completions`` takes the next reply from
the script (a text answer, tool calls, or an HTTP error such as 429, 500 or 401); when the script
is empty, it answers ``default_text`` (followed by the last user message when ``echo`` is set, so
a caller can tell which message an answer belongs to). Every request body is kept in ``requests``
(unless ``keep_requests`` is off, for long runs; ``count`` still counts them). ``delay_s`` makes
every answer wait that long, like a slow model. Errors carry ``retry-after-ms: 1`` so the OpenAI
client retries at once.

``policy`` (a function of the request body returning a :class:`Reply`) answers the requests the
script does not, for a model whose behaviour depends on what it is sent (see bench/llm_requests.py).
With ``count_tokens`` on, ``usage.prompt_tokens`` is an estimate of the request's size (characters
of its messages and tool schemas / 4) instead of the fixed 11.

``POST /v1/embeddings`` answers deterministic vectors (hashed bag of accent-folded words, 64
dimensions): texts sharing words get similar vectors. They are for exercising the hybrid path end
to end, not for measuring retrieval quality. Embedding requests are counted in
``embedding_count`` (not in ``count``), their inputs kept in ``embedding_inputs``.

``POST /v1/audio/transcriptions`` (multipart, as the OpenAI SDK sends it) answers
``{"text": transcript}``, or the next reply of ``script_transcriptions`` (an error, a slow
answer with ``transcription_delay_s``); each request's fields and file (name, type, size,
SHA-256) are kept in ``transcriptions``. :func:`image_parts` lists the image parts of a chat
request's user messages (what a vision model was shown).

Use it from a test module by loading this file and calling :func:`start` (or the fixture body
:func:`serve`)::

    server = openai_server.start()
    server.script(openai_server.tool_call("faq", {"query": "horário"}), openai_server.text("Ok"))
    ... base_url = server.base_url ...
    server.stop()
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted reply: an HTTP status and a JSON body."""

    status: int
    body: dict[str, Any]


EMBEDDING_DIMENSIONS = 64


def fake_embedding(text: str) -> list[float]:
    """A deterministic unit vector: accent-folded words hashed into 64 dimensions."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c if c.isalnum() else " " for c in folded if not unicodedata.combining(c))
    vector = [0.0] * EMBEDDING_DIMENSIONS
    for word in plain.split():
        if len(word) < 3:
            continue
        digest = hashlib.sha256(word[:6].encode()).digest()
        vector[digest[0] % EMBEDDING_DIMENSIONS] += 1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def estimate_prompt_tokens(body: dict[str, Any]) -> int:
    """Characters of a request's messages and tool schemas, divided by 4."""
    sent = json.dumps(
        {"messages": body.get("messages"), "tools": body.get("tools")}, ensure_ascii=False
    )
    return math.ceil(len(sent) / 4)


def _completion(message: dict[str, Any], finish: str, model: str = "fake-gpt") -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    }


def text(content: str) -> Reply:
    """A plain assistant answer."""
    return Reply(200, _completion({"role": "assistant", "content": content}, "stop"))


def tool_call(name: str, args: dict[str, Any], call_id: str = "call_1") -> Reply:
    """An assistant message calling one tool."""
    call = {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(args)},
    }
    return Reply(
        200,
        _completion({"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"),
    )


def error(status: int, message: str = "fake error") -> Reply:
    """An HTTP error with OpenAI's error body."""
    kind = {401: "invalid_api_key", 429: "rate_limit_exceeded"}.get(status, "server_error")
    return Reply(status, {"error": {"message": message, "type": kind, "code": kind}})


@dataclass
class FakeOpenAI:
    """A running fake server: its URL, the script of replies and the requests received."""

    base_url: str = ""
    default_text: str = "ok"
    delay_s: float = 0.0
    echo: bool = False
    keep_requests: bool = True
    count: int = 0
    count_tokens: bool = False
    policy: Callable[[dict[str, Any]], Reply] | None = None
    prompt_tokens: int = 0
    """Prompt tokens reported so far (the estimate when count_tokens is on)."""
    embedding_count: int = 0
    embedding_inputs: list[str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    transcript: str = "quero saber o preço do sérum de vitamina c"
    """What every voice note says (unless a scripted reply answers)."""
    transcription_delay_s: float = 0.0
    transcriptions: list[dict[str, Any]] = field(default_factory=list)
    transcription_seconds: list[float] = field(default_factory=list)
    """The server's own time per transcription request (parsing it and answering)."""
    _transcription_script: list[Reply] = field(default_factory=list)
    _script: list[Reply] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def script(self, *replies: Reply) -> None:
        """Queue replies, answered in order."""
        with self._lock:
            self._script.extend(replies)

    def next_reply(self, body: dict[str, Any], headers: dict[str, str]) -> Reply:
        """Record a request and take the reply for it."""
        with self._lock:
            self.count += 1
            if self.keep_requests:
                self.requests.append(body)
                self.headers.append(headers)
            reply = self._script.pop(0) if self._script else None
        if reply is None and self.policy is not None:
            reply = self.policy(body)
        if reply is None and self.echo:
            reply = text(f"{self.default_text}: {last_user_text(body)}")
        if reply is None:
            reply = text(self.default_text)
        if reply.status == 200 and "usage" in reply.body:
            tokens = estimate_prompt_tokens(body) if self.count_tokens else 11
            reply = Reply(200, {**reply.body, "usage": {**reply.body["usage"]}})
            reply.body["usage"]["prompt_tokens"] = tokens
            reply.body["usage"]["total_tokens"] = tokens + reply.body["usage"]["completion_tokens"]
            with self._lock:
                self.prompt_tokens += tokens
        return reply

    def script_transcriptions(self, *replies: Reply) -> None:
        """Queue replies to transcription requests, answered in order."""
        with self._lock:
            self._transcription_script.extend(replies)

    def transcription(self, fields: dict[str, str], files: list[dict[str, Any]]) -> Reply:
        """Record a transcription request and take its reply."""
        with self._lock:
            self.transcriptions.append({**fields, "files": files})
            reply = self._transcription_script.pop(0) if self._transcription_script else None
        return reply or Reply(200, {"text": self.transcript})

    def embeddings(self, body: dict[str, Any]) -> Reply:
        """Fake vectors for the inputs of an embeddings request."""
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
        with self._lock:
            self.embedding_count += 1
            self.embedding_inputs.extend(str(t) for t in texts)
        data = [
            {"object": "embedding", "index": i, "embedding": fake_embedding(str(t))}
            for i, t in enumerate(texts)
        ]
        usage = {"prompt_tokens": sum(len(str(t)) // 4 for t in texts), "total_tokens": 0}
        return Reply(
            200, {"object": "list", "data": data, "model": body.get("model"), "usage": usage}
        )

    def stop(self) -> None:
        """Shut the server down."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def last_user_text(body: dict[str, Any]) -> str:
    """The text of the last user message of a Chat Completions request ('' if none)."""
    for message in reversed(body.get("messages") or []):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, list):
            return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        return str(content or "")
    return ""


def image_parts(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The image parts of a Chat Completions request's user messages (``image_url`` items)."""
    parts: list[dict[str, Any]] = []
    for message in body.get("messages") or []:
        content = message.get("content")
        if message.get("role") == "user" and isinstance(content, list):
            parts += [p for p in content if isinstance(p, dict) and p.get("type") == "image_url"]
    return parts


def parse_form(raw: bytes, content_type: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The fields and files of a ``multipart/form-data`` body (standard library parser)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + raw)
    fields: dict[str, str] = {}
    files: list[dict[str, Any]] = []
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition") or "")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            fields[name] = data.decode("utf-8", errors="replace")
        else:
            files.append(
                {
                    "field": name,
                    "filename": filename,
                    "content_type": part.get_content_type(),
                    "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "data": data,
                }
            )
    return fields, files


def start(delay_s: float = 0.0, echo: bool = False, keep_requests: bool = True) -> FakeOpenAI:
    """Start a fake server on a free port of 127.0.0.1 (in a daemon thread)."""
    fake = FakeOpenAI(delay_s=delay_s, echo=echo, keep_requests=keep_requests)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            raw = self.rfile.read(length) if length else b"{}"
            if self.path.rstrip("/").endswith("/audio/transcriptions"):
                started = time.perf_counter()
                fields, files = parse_form(raw, self.headers.get("content-type", ""))
                reply = fake.transcription(fields, files)
                if fake.transcription_delay_s > 0:
                    time.sleep(fake.transcription_delay_s)
                fake.transcription_seconds.append(time.perf_counter() - started)
                self._send(reply)
                return
            if self.path.rstrip("/").endswith("/embeddings"):
                self._send(fake.embeddings(json.loads(raw or b"{}")))
                return
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(error(404, f"no route {self.path}"))
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = fake.next_reply(json.loads(raw or b"{}"), headers)
            if fake.delay_s > 0:
                time.sleep(fake.delay_s)
            self._send(reply)

        def _send(self, reply: Reply) -> None:
            data = json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            if reply.status >= 400:
                self.send_header("retry-after-ms", "1")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake._server = server
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    return fake


def serve() -> Iterator[FakeOpenAI]:
    """Generator for a pytest fixture: a started server, stopped afterwards."""
    fake = start()
    try:
        yield fake
    finally:
        fake.stop()
