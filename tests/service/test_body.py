"""The raw body in chunks: its two ends and its whole, whatever the chunking."""

from __future__ import annotations

import os

import pytest

from chatwootai.service.body import RawBody


@pytest.mark.parametrize("size", [0, 1, 100, 2 * 1000, 2 * 1000 + 1, 70_000, 1024 * 1024])
@pytest.mark.parametrize("chunk", [1, 7, 1000, 65_536])
def test_the_ends_and_the_whole_match_the_joined_body(size: int, chunk: int) -> None:
    if size > 100_000 and chunk < 1000:
        pytest.skip("too many chunks to be worth it")
    data = os.urandom(size)
    body = RawBody([data[i : i + chunk] for i in range(0, size, chunk)], size)
    window = 1000
    expected = data if size <= 2 * window else data[:window] + data[-window:]
    assert body.ends(window) == expected
    assert body.bytes() == data
