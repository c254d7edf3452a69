"""Text made safe at the edge, and a 200 only for a message the service kept.

A lone surrogate (``"\\ud800"``) is valid JSON but no text: it used to fail when the message was
written, after the webhook had decided to answer 200 (Chatwoot does not deliver a 200 again),
and left an empty file in the spool. Chatwoot retries only 429 and 500.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from chatwootai.service import webhook
from chatwootai.service.spool import STRAY_AFTER_S, Spool
from chatwootai.service.turns import PendingMessage
from conftest import Harness


async def test_a_lone_surrogate_is_replaced_and_the_message_answered(harness: Harness) -> None:
    payload = harness.fake.incoming(3, 417, "placeholder")
    body, headers = harness.fake.build_delivery(payload)
    body = body.replace(b"placeholder", b"oi \\ud800 tudo bem?")
    response = await harness.http.post("/webhooks/chatwoot", content=body, headers=headers)
    assert (response.status_code, response.json()["status"]) == (200, "queued")
    await harness.settle()
    assert harness.replies(3, 417) == ["[cosmetics/sales] oi \ufffd tudo bem?"]


async def test_invalid_utf8_is_replaced_and_the_message_answered(harness: Harness) -> None:
    payload = harness.fake.incoming(4, 51, "placeholder")
    body, headers = harness.fake.build_delivery(payload)
    body = body.replace(b"placeholder", b"a\xff\xfeb")
    response = await harness.http.post("/webhooks/chatwoot", content=body, headers=headers)
    assert response.json()["status"] == "queued"
    await harness.settle()
    assert harness.replies(4, 51) == ["[health/sales] a\ufffd\ufffdb"]


async def test_a_lone_surrogate_is_kept_in_the_spool_when_the_store_is_down(
    store_down: Harness,
) -> None:
    payload = store_down.fake.incoming(3, 417, "placeholder")
    body, headers = store_down.fake.build_delivery(payload)
    body = body.replace(b"placeholder", b"\\udfff")
    response = await store_down.http.post("/webhooks/chatwoot", content=body, headers=headers)
    assert (response.status_code, response.json()["status"]) == (200, "spooled")
    [path] = store_down.service.spool.files()
    kept = PendingMessage.model_validate_json(path.read_bytes())
    assert kept.text == "\ufffd"
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []


async def test_a_failure_inside_the_service_is_a_500_so_chatwoot_delivers_again(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(event: object) -> object:
        raise RuntimeError("a bug")

    monkeypatch.setattr(webhook, "decide", broken)
    response = await harness.post(harness.fake.incoming(3, 417, "oi"))
    assert (response.status_code, response.json()["status"]) == (500, "error")
    monkeypatch.undo()
    again = await harness.post(harness.fake.incoming(3, 417, "oi de novo"))
    assert again.json()["status"] == "queued"


def test_a_spool_write_that_fails_leaves_no_file(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    unencodable = PendingMessage.model_construct(
        message_id=1,
        conversation_key="3:417",
        account_id=3,
        display_id=417,
        text="\ud800",
        received_at=time.time(),
    )
    with pytest.raises(OSError, match="cannot be encoded"):
        spool.write(unencodable)
    assert not spool.dir.exists() or list(spool.dir.iterdir()) == []
    spool.dir.mkdir(parents=True, exist_ok=True)
    os.chmod(spool.dir, 0o500)  # the directory refuses new files
    try:
        good = PendingMessage(message_id=2, conversation_key="3:417", account_id=3, display_id=417)
        if os.geteuid() != 0:  # root writes anyway
            with pytest.raises(OSError):
                spool.write(good)
    finally:
        os.chmod(spool.dir, 0o700)
    assert [p for p in spool.dir.iterdir()] == []
    assert len(spool) == 0


def test_temporary_files_of_a_process_that_died_mid_write_are_swept(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.dir.mkdir(parents=True)
    stray = spool.dir / ".00000000000000000001-7-deadbeef.tmp"
    stray.write_text(json.dumps({"message_id": 7}))
    old = time.time() - STRAY_AFTER_S - 5
    os.utime(stray, (old, old))
    fresh = spool.dir / ".00000000000000000002-8-cafebabe.tmp"  # another process, mid-write
    fresh.write_text("")
    assert not spool.holds("3:417")
    assert not stray.exists() and fresh.exists()
