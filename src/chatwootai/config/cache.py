"""Parsed files kept in memory and reused while the file on disk is unchanged."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatwootai.config.errors import ConfigError, ConfigIssue

FRESH_SECONDS = 2.0
"""Files modified this recently are compared by content too (mtime ticks can be coarse)."""


@dataclass(slots=True)
class _Entry:
    signature: tuple[int, int, int]
    content: bytes
    kind: str
    result: Any
    error: ConfigError | None


class FileCache:
    """Results of parsing files, keyed by path, kind of parse and the file's mtime and size."""

    def __init__(self) -> None:
        self._entries: dict[tuple[Path, str], _Entry] = {}
        self.hits = 0
        self.misses = 0

    def get(self, file: Path, kind: str, parse: Callable[[bytes, Path], Any]) -> Any:
        """`parse(content, file)`, reused while the file is unchanged; errors are cached too."""
        try:
            stat = file.stat()
            signature = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
            key = (file, kind)
            entry = self._entries.get(key)
            content: bytes | None = None
            if entry is not None and entry.signature == signature:
                if time.time() - stat.st_mtime > FRESH_SECONDS:
                    return self._reuse(entry)
                content = file.read_bytes()
                if content == entry.content:
                    return self._reuse(entry)
            if content is None:
                content = file.read_bytes()
        except OSError as exc:
            raise ConfigError(
                [ConfigIssue(file, None, None, "", f"cannot read file: {exc}")]
            ) from None
        self.misses += 1
        try:
            result, error = parse(content, file), None
        except ConfigError as exc:
            result, error = None, exc
        self._entries[key] = _Entry(signature, content, kind, result, error)
        if error is not None:
            raise error
        return result

    def _reuse(self, entry: _Entry) -> Any:
        self.hits += 1
        if entry.error is not None:  # a fresh exception: re-raising one would grow its traceback
            raise ConfigError(entry.error.issues, entry.error.warnings) from None
        return entry.result

    def clear(self) -> None:
        """Forget every parsed file."""
        self._entries.clear()
