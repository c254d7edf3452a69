"""Configuration problems: one issue per mistake, with file, line and a did-you-mean."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ConfigIssue:
    """One problem (or warning) found in the configuration, located in its YAML file."""

    file: Path | None
    line: int | None
    column: int | None
    path: str
    message: str
    suggestion: str | None = None

    def __str__(self) -> str:
        """`file:line:column: path: message (did you mean 'x'?)`, leaving out what is unknown."""
        where = ""
        if self.file is not None:
            where = str(self.file)
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        text = f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"
        if self.suggestion:
            text += f" (did you mean {self.suggestion!r}?)"
        return text


class ConfigError(Exception):
    """The configuration is invalid; `issues` lists every error, `warnings` the rest."""

    def __init__(self, issues: Sequence[ConfigIssue], warnings: Sequence[ConfigIssue] = ()) -> None:
        self.issues = list(issues)
        self.warnings = list(warnings)
        super().__init__(self._describe())

    def _describe(self) -> str:
        count = len(self.issues)
        head = f"{count} configuration error{'s' if count != 1 else ''}"
        return "\n".join([head + ":", *(f"  {issue}" for issue in self.issues)])

    def __str__(self) -> str:
        """Every issue, one per line."""
        return self._describe()


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to `word`, if any is close enough to be a likely typo."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def format_path(path: Sequence[str | int]) -> str:
    """A YAML path as text: `("agents", "sales", "tools", 1)` gives `agents.sales.tools[1]`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
