"""Command line: `chatwootai validate | schema | route | chat | test | serve | worker`."""

from __future__ import annotations

from chatwootai.cli import chat, route, serve, test, validate  # noqa: F401  (commands register)
from chatwootai.cli.app import app


def main() -> None:
    """Entry point of the `chatwootai` console script."""
    app()
