"""Command line: `chatwootai validate | schema | route | chat | serve | worker | knowledge`."""

from __future__ import annotations

from chatwootai.cli import chat, route, serve, validate  # noqa: F401  (commands register themselves)
from chatwootai.cli import knowledge  # noqa: F401
from chatwootai.cli.app import app


def main() -> None:
    """Entry point of the `chatwootai` console script."""
    app()
