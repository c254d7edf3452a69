"""A voice note through `chatwootai serve` and an arq `chatwootai worker` on Redis: the shipped
domains on the offline model, the transcription endpoint the fake OpenAI-compatible server."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from media_support import ogg_opus

from fakes import openai_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
from service_deployment import DOMAINS, launch, wait_for

pytestmark = pytest.mark.slow


def test_a_voice_note_is_heard_by_a_worker_process(tmp_path: Path) -> None:
    server = openai_server.start()
    server.transcript = "Vocês têm protetor solar?"
    overrides = {
        "CHATWOOTAI_DOMAINS_DIR": str(DOMAINS),
        "CHATWOOTAI_SYSTEM_FACTORY": "",
        "CHATWOOT_WEBHOOK_SECRET_RETAIL": "rs",
        "OPENAI_API_KEY": "",
        "CHATWOOTAI_MODEL": "",
        "CHATWOOTAI_TRANSCRIBE_MODEL": "whisper-1",
        "CHATWOOTAI_TRANSCRIBE_BASE_URL": server.base_url,
    }
    try:
        with launch(tmp_path, (1,), overrides, workers=1) as dep:
            fake = dep.fake
            fake.add_conversation(account_id=1, display_id=71, inbox_id=101)
            note = fake.attachment("audio", ogg_opus(3.0), "audio/ogg", "audio.ogg")
            payload = fake.incoming(1, 71, None, attachments=[note])
            assert dep.deliver(payload).json()["status"] == "queued"
            wait_for(lambda: bool(dep.replies(1, 71)), "the reply to the voice note", 60)
            [reply] = dep.replies(1, 71)
            assert "protetor" in reply.lower()  # the offline model answered the transcript
            assert len(server.transcriptions) == 1
            pending = dep.prefix + "turn:pending:1:71"
            wait_for(lambda: dep.redis.llen(pending) == 0, "the message to leave the pending list")
    finally:
        server.stop()
