"""Fixtures of the fault tests: a fake Chatwoot and a private Redis the test may stop."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for path in (HERE.parent, HERE.parent / "service", HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from resilience_support import PrivateRedis  # noqa: E402
from service_deployment import free_port  # noqa: E402

from fakes.chatwoot_server import FakeChatwoot  # noqa: E402


@pytest.fixture
def fake() -> Iterator[FakeChatwoot]:
    """A running fake Chatwoot for account 3."""
    with FakeChatwoot(accounts=(3,)) as server:
        yield server


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A private redis-server on a free port, stopped after the test."""
    server = PrivateRedis(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
