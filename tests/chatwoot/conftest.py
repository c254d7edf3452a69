"""Fixtures of the Chatwoot tests: the fixture payloads and a fake Chatwoot on 127.0.0.1."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from chatwootai.chatwoot.client import ChatwootClient  # noqa: E402
from fakes.chatwoot_server import FakeChatwoot  # noqa: E402


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeChatwoot]:
    """One fake Chatwoot server for the session (reset by :func:`fake` for each test)."""
    with FakeChatwoot() as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeChatwoot) -> FakeChatwoot:
    """The fake Chatwoot, emptied, with conversation 3:417 (pending, WhatsApp)."""
    fake_server.reset()
    fake_server.add_conversation(account_id=3, display_id=417)
    return fake_server


@pytest.fixture
async def client(fake: FakeChatwoot) -> AsyncIterator[ChatwootClient]:
    """A bot-token client of the fake, with fast retries."""
    async with ChatwootClient(fake.base_url, fake.bot_token, backoff=0.01, timeout=2) as api:
        yield api
