"""Fixtures of the media tests: the fake Chatwoot, the fake OpenAI-compatible server."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
for path in (HERE.parent, HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from media_support import KEY_ENV  # noqa: E402

from fakes import openai_server  # noqa: E402
from fakes.chatwoot_server import FakeChatwoot  # noqa: E402


@pytest.fixture
def fake() -> Iterator[FakeChatwoot]:
    """A running fake Chatwoot with the pending WhatsApp conversation 3:417."""
    with FakeChatwoot(accounts=(3,)) as server:
        server.add_conversation(account_id=3, display_id=417)
        yield server


@pytest.fixture
def llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The fake OpenAI-compatible server (chat, transcriptions), its key in the environment."""
    monkeypatch.setenv(KEY_ENV, "sk-test-not-secret")
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "CHATWOOTAI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    yield from openai_server.serve()
