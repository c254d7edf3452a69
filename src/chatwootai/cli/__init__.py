"""Command line: `chatwootai validate | schema | new | route | chat | test | serve | worker |
knowledge`."""

from __future__ import annotations

from chatwootai.cli import (  # noqa: F401  (commands register themselves)
    chat,
    knowledge,
    new,
    route,
    serve,
    test,
    validate,
)
from chatwootai.cli.app import app


def main() -> None:
    """Entry point of the `chatwootai` console script."""
    app()
