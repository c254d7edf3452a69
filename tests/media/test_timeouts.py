"""Slow media with the default settings: a stalled download (15 s) and a transcription
provider slower than its 30 s bound both end in the non-text policy; the turn never fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from media_support import ogg_opus, running
from test_voice_notes import NON_TEXT, voice

from fakes.chatwoot_server import FakeChatwoot


@pytest.mark.slow(seconds=15)
async def test_a_stalled_download_times_out_into_the_non_text_policy(
    tmp_path: Path, fake: FakeChatwoot, llm: Any, redis_url: str, key_prefix: str
) -> None:
    async with running(tmp_path, fake, llm, redis_url, key_prefix) as m:
        await m.send(voice(fake, ogg_opus(3.0), failure="stall"))
        assert m.replies() == [NON_TEXT]
        assert m.media_count("audio", "timeout") == 1
        assert llm.transcriptions == []


@pytest.mark.slow(seconds=30)
async def test_a_provider_slower_than_its_bound_gets_the_non_text_policy(
    tmp_path: Path, fake: FakeChatwoot, llm: Any, redis_url: str, key_prefix: str
) -> None:
    llm.transcription_delay_s = 40.0  # above CHATWOOTAI_TRANSCRIBE_TIMEOUT's default 30 s
    async with running(tmp_path, fake, llm, redis_url, key_prefix) as m:
        await m.send(voice(fake, ogg_opus(3.0)))
        assert m.replies() == [NON_TEXT]
        assert m.media_count("audio", "provider_failed") == 1
        assert len(llm.transcriptions) == 1
