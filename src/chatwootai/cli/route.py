"""The `route` command(s)."""

from __future__ import annotations

from chatwootai.cli.app import app  # noqa: F401
