"""Fixtures of the fault tests: a fake Chatwoot and a private Redis the test may stop."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
# tests/service goes first, as its own conftest puts it (its modules import `conftest` by name);
# this folder goes last, so it never shadows that name.
for path in (HERE.parent, HERE.parent / "service"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
if str(HERE) not in sys.path:
    sys.path.append(str(HERE))

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
