"""Command line: `chatwootai validate | schema | new | route | chat | test | serve | worker`."""

from __future__ import annotations

from chatwootai.cli import chat, new, route, serve, test, validate  # noqa: F401 (they register)
from chatwootai.cli.app import app


def main() -> None:
    """Entry point of the `chatwootai` console script."""
    app()
