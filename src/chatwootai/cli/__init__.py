"""Command line: `chatwootai validate | schema | route | chat | serve | worker | knowledge`."""

from __future__ import annotations

from chatwootai.cli import (  # noqa: F401  (commands register themselves)
    chat,
    knowledge,
    route,
    serve,
    validate,
)
from chatwootai.cli.app import app


def main() -> None:
    """Entry point of the `chatwootai` console script."""
    app()
