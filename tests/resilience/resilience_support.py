"""Helpers of the fault tests: the app in process with a client, and a private Redis."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import redis
from fastapi import FastAPI

from chatwootai.chatwoot.client import ChatwootClient
from chatwootai.service.app import service_of
from chatwootai.service.context import Service
from chatwootai.service.credentials import ApiAccess
from chatwootai.service.queue import InProcessTurnQueue
from fakes.chatwoot_server import FakeChatwoot


def quick_client(access: ApiAccess) -> ChatwootClient:
    """A Chatwoot client with short timeouts and backoffs, for tests."""
    return ChatwootClient(access.base_url, access.token, backoff=0.01, timeout=0.5)


class InProcess:
    """The app with an HTTP client (in-process queue), and the fake Chatwoot it replies to."""

    def __init__(self, app: FastAPI, http: httpx.AsyncClient, fake: FakeChatwoot) -> None:
        self.app = app
        self.http = http
        self.fake = fake
        self.service: Service = service_of(app)

    async def post(self, payload: dict[str, Any]) -> httpx.Response:
        """Deliver a payload signed as Chatwoot would."""
        body, headers = self.fake.build_delivery(payload)
        return await self.http.post("/webhooks/chatwoot", content=body, headers=headers)

    async def settle(self) -> None:
        """Wait until every queued turn ran."""
        queue = self.service.queue
        assert isinstance(queue, InProcessTurnQueue)
        await queue.drain()

    def replies(self, account_id: int, display_id: int) -> list[str]:
        """Public messages the bot's posts left in a conversation (what the customer sees)."""
        return visible_replies(self.fake, account_id, display_id)


def visible_replies(fake: FakeChatwoot, account_id: int, display_id: int) -> list[str]:
    """Public outgoing messages held by the fake's conversation (failed attempts not counted)."""
    conversation = fake.conversations[(account_id, display_id)]
    return [
        str(m.get("content"))
        for m in conversation.messages
        if m.get("message_type") in (1, "outgoing") and not m.get("private")
    ]


async def running(app: FastAPI, fake: FakeChatwoot) -> AsyncIterator[InProcess]:
    """Start the app's service, yield a client on it, stop it."""
    service = service_of(app)
    await service.start()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:
        yield InProcess(app, http, fake)
    await service.close()


class PrivateRedis:
    """A redis-server of this test alone, on its own port, that the test may stop and restart."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server (no persistence: a restart comes back empty) and wait for it."""
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise AssertionError("the private redis-server did not start") from None
                time.sleep(0.02)
        client.close()

    def stop(self) -> None:
        """Terminate the server and wait until it is gone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None


def journal_entries(url: str) -> float:
    """A running serve process's ``chatwootai_journal_entries`` (messages whose turn it has not
    seen end yet)."""
    text = httpx.get(url + "/metrics", timeout=5).text
    match = re.search(r"^chatwootai_journal_entries (\S+)$", text, re.MULTILINE)
    assert match is not None, "no chatwootai_journal_entries in /metrics"
    return float(match.group(1))
