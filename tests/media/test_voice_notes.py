"""Voice notes through the real service: downloaded from Chatwoot behind its redirect,
transcribed by the OpenAI-compatible endpoint, answered like typed text, kept in the history,
shown to the human; every failure gets the domain's non-text policy and a metric."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from media_support import ogg_opus, running, wav

from fakes import openai_server
from fakes.chatwoot_server import FakeChatwoot

NON_TEXT = "Recebi sua mensagem, mas só consigo ler texto. Pode escrever, por favor?"


def voice(fake: FakeChatwoot, data: bytes, text: str | None = None, **kw: Any) -> dict[str, Any]:
    """A customer's WhatsApp voice note (``message_created`` in Chatwoot's shape)."""
    attachment = fake.attachment("audio", data, "audio/ogg", "audio.ogg", **kw)
    return fake.incoming(3, 417, text, attachments=[attachment])


async def test_a_voice_note_is_heard_answered_and_kept(
    tmp_path: Path, fake: FakeChatwoot, llm: Any, redis_url: str, key_prefix: str
) -> None:
    audio = ogg_opus(4.0)
    media = {"audio": {"language": "pt"}}
    async with running(tmp_path, fake, llm, redis_url, key_prefix, media=media) as m:
        await m.send(voice(fake, audio))
        [asked] = llm.transcriptions
        assert asked["model"] == "whisper-1" and asked["language"] == "pt"
        assert asked["response_format"] == "json"
        [sent] = asked["files"]
        assert sent["sha256"] == hashlib.sha256(audio).hexdigest()
        assert sent["filename"].endswith(".ogg") and sent["content_type"] == "audio/ogg"
        assert m.user_texts() == [llm.transcript]  # the transcript is the turn's text
        assert m.replies() == ["ok"]
        assert m.notes() == []  # no private note unless the domain asks for one
        assert llm.transcript in await m.state_dump()  # kept in the conversation's history
        assert m.media_count("audio", "transcribed") == 1
        # Chatwoot's redirect, then its disk service: the bot token reached its host only.
        assert [r["path"].split("/")[3] for r in fake.blob_requests] == ["blobs", "disk"]
        authorization = llm.headers and llm.headers[0].get("authorization")
        assert authorization == "Bearer sk-test-not-secret"


async def test_the_transcript_joins_the_text_of_the_same_burst(
    tmp_path: Path, fake: FakeChatwoot, llm: Any, redis_url: str, key_prefix: str
) -> None:
    env = {"CHATWOOTAI_BURST_WINDOW": 2}  # the default window: both messages, one turn
    async with running(tmp_path, fake, llm, redis_url, key_prefix, env=env) as m:
        assert (await m.post(fake.incoming(3, 417, "oi, bom dia"))).json()["status"] == "queued"
        assert (await m.post(voice(fake, wav(2.0)))).json()["status"] == "queued"
        await m.settle()
        assert m.user_texts() == [f"oi, bom dia\n{llm.transcript}"]
        assert m.replies() == ["ok"]


async def test_the_human_who_takes_over_reads_the_voice_note(
    tmp_path: Path, fake: FakeChatwoot, llm: Any, redis_url: str, key_prefix: str
) -> None:
    llm.transcript = "quero falar com atendente por favor"
    media = {"audio": {"post_transcript": True}}
    async with running(tmp_path, fake, llm, redis_url, key_prefix, media=media) as m:
        await m.send(voice(fake, ogg_opus(3.0)))
        assert llm.requests == []  # routed like typed text: the handoff phrase, no LLM
        first, handoff = m.notes()
        assert first == f"Transcrição do áudio do cliente:\n{llm.transcript}"
        assert f"Transcrição do áudio do cliente: {llm.transcript}" in handoff
        assert fake.conversations[(3, 417)].status == "open"
        notes = [c for c in m.posts() if c.body.get("private")]
        assert notes[0].at < m.posts(private=False)[0].at  # the note came first, at once


async def test_chatwoots_own_transcript_is_used_without_downloading(
    tmp_path: Path, fake: FakeChatwoot, llm: Any, redis_url: str, key_prefix: str
) -> None:
    async with running(tmp_path, fake, llm, redis_url, key_prefix) as m:
        payload = voice(fake, ogg_opus(3.0))
        payload["attachments"][0]["transcribed_text"] = "tem protetor solar?"
        await m.send(payload)
        assert fake.blob_requests == [] and llm.transcriptions == []
        assert m.user_texts() == ["tem protetor solar?"]
        assert m.media_count("audio", "heard_by_chatwoot") == 1


async def test_without_a_transcription_model_nothing_changes(
    tmp_path: Path, fake: FakeChatwoot, llm: Any, redis_url: str, key_prefix: str
) -> None:
    async with running(tmp_path, fake, llm, redis_url, key_prefix, transcribe=False) as m:
        await m.send(voice(fake, ogg_opus(3.0)))
        assert fake.blob_requests == [] and llm.transcriptions == [] and llm.requests == []
        assert m.replies() == [NON_TEXT]
        assert m.media_count("audio", "skipped") == 1


async def test_offline_with_a_transcription_model_answers_the_transcript(
    tmp_path: Path, fake: FakeChatwoot, llm: Any, redis_url: str, key_prefix: str
) -> None:
    llm.transcript = "Vocês têm protetor solar?"
    async with running(tmp_path, fake, llm, redis_url, key_prefix, online=False) as m:
        await m.send(voice(fake, ogg_opus(2.0)))
        [reply] = m.replies()
        assert "Protetor Solar FPS 50" in reply  # the offline model searched the catalog


def _failure_cases() -> list[tuple[str, dict[str, Any], str]]:
    return [
        ("not_found", {"failure": "not_found"}, "not_found"),
        ("unsized_too_large", {"failure": "unsized"}, "too_large"),
    ]


async def test_every_failure_gets_the_non_text_policy_and_a_metric(
    tmp_path: Path, fake: FakeChatwoot, llm: Any, redis_url: str, key_prefix: str
) -> None:
    """404, too large (told while streaming), wrong type, too long, provider 500, redirect to
    a host that is not allowed: each turn answers the non-text text, counted by its outcome."""
    media = {"audio": {"max_bytes": 20_000, "max_duration_s": 60}}
    async with running(tmp_path, fake, llm, redis_url, key_prefix, media=media) as m:
        cases: list[tuple[dict[str, Any], str]] = [
            (voice(fake, ogg_opus(3.0), failure="not_found"), "not_found"),
            (voice(fake, b"\x00" * 30_000, failure="unsized"), "too_large"),
            (voice(fake, b"<html>not audio</html>"), "wrong_type"),
            (voice(fake, wav(61.0, rate=100)), "too_long"),
            (voice(fake, ogg_opus(3.0), storage_host="localhost:1"), "host_refused"),
        ]
        for payload, outcome in cases:
            before = len(m.replies())
            await m.send(payload)
            assert m.replies()[before:] == [NON_TEXT], outcome
            assert m.media_count("audio", outcome) == 1, outcome
        llm.script_transcriptions(openai_server.error(500), openai_server.error(500))
        await m.send(voice(fake, ogg_opus(3.0)))
        assert m.replies()[-1] == NON_TEXT
        assert m.media_count("audio", "provider_failed") == 1
        assert llm.requests == []  # no turn reached the model
        assert len(llm.transcriptions) == 2  # the 500 was tried once more


async def test_a_failed_voice_note_still_answers_the_text_of_its_burst(
    tmp_path: Path, fake: FakeChatwoot, llm: Any, redis_url: str, key_prefix: str
) -> None:
    env = {"CHATWOOTAI_BURST_WINDOW": 2}
    async with running(tmp_path, fake, llm, redis_url, key_prefix, env=env) as m:
        assert (await m.post(voice(fake, ogg_opus(3.0), failure="not_found"))).status_code == 200
        assert (await m.post(fake.incoming(3, 417, "e o preço do sérum?"))).status_code == 200
        await m.settle()
        assert m.replies() == ["ok"]
        [body] = llm.requests
        said = openai_server.last_user_text(body)
        assert said.startswith("e o preço do sérum?")
        assert "áudio que não foi possível ouvir" in said
