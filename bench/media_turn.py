"""What media cost the service: time added to a voice-note turn, memory held per download.

1. **Time added to a voice-note turn, the provider's own time excluded.** The service runs in
   this process as `make run` would on Redis (webhook, in-process worker, the real pipeline on
   the offline model), with the fake Chatwoot of the tests serving each voice note behind its
   ActiveStorage-like redirect and the fake OpenAI-compatible server answering
   ``/audio/transcriptions`` at once. The same conversation gets N text turns, then N
   voice-note turns (a 30 s Ogg Opus note of ~60 KB, the turn's text being its transcript), one
   at a time; each is timed from the signed webhook POST to the end of its turn (reply posted).
   The provider's own time (the fake server parsing the upload and answering, measured inside
   it) is subtracted from each voice turn. Added = voice turn - provider time - median text turn.
2. **Bytes held in memory per download** (tracemalloc peak, this process only), for a 1 MB and
   a 16 MB file served by a separate process (``python -m http.server``): the download alone,
   and the download handed to the OpenAI SDK's transcription upload (a fake provider in another
   process), as a voice note is.

Run: .venv/bin/python bench/media_turn.py [turns]     (needs Redis at REDIS_URL)
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "media")]

import redis  # noqa: E402
from media_support import _ogg_page, ogg_opus, running  # noqa: E402

from chatwootai.media.download import DownloadPolicy, MediaDownloader, Origin  # noqa: E402
from chatwootai.media.transcribe import Transcriber, TranscriptionEndpoint  # noqa: E402
from fakes import openai_server  # noqa: E402
from fakes.chatwoot_server import FakeChatwoot  # noqa: E402

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def voice_note(seconds: float = 30.0, size: int = 60_000) -> bytes:
    """An Ogg Opus note of `seconds` padded with audio pages to about `size` bytes."""
    head = ogg_opus(seconds)
    pages = []
    sequence = 3
    while len(head) + sum(len(p) for p in pages) < size:
        pages.append(_ogg_page(b"\xfc" * 4000, 0, sequence, 0))
        sequence += 1
    last = head[: head.rfind(b"OggS")]
    granule = int(seconds * 48000) + 312
    tail = _ogg_page(b"\xf8\xff\xfe" * 20, granule, sequence, 0x04)
    return last + b"".join(pages) + tail


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def turn_times(turns: int) -> dict[str, Any]:
    prefix = f"bench:media:{uuid.uuid4().hex[:8]}:"
    audio = voice_note()
    llm = openai_server.start()
    fake = FakeChatwoot(accounts=(3,)).start()
    fake.add_conversation(account_id=3, display_id=417)
    tmp = Path(tempfile.mkdtemp(prefix="media-bench-"))
    text_ms: list[float] = []
    voice_ms: list[float] = []
    provider_ms: list[float] = []
    try:
        async with running(tmp, fake, llm, REDIS_URL, prefix, online=False) as m:
            for kind in ("warm", "text", "voice"):
                for _ in range(turns if kind != "warm" else 5):
                    if kind == "text":
                        payload = fake.incoming(3, 417, llm.transcript)
                    else:
                        attachment = fake.attachment("audio", audio, "audio/ogg", "audio.ogg")
                        payload = fake.incoming(3, 417, None, attachments=[attachment])
                    before = len(llm.transcription_seconds)
                    started = time.perf_counter()
                    await m.send(payload)
                    elapsed = (time.perf_counter() - started) * 1000
                    provider = sum(llm.transcription_seconds[before:]) * 1000
                    if kind == "text":
                        text_ms.append(elapsed)
                    elif kind == "voice":
                        voice_ms.append(elapsed - provider)
                        provider_ms.append(provider)
            replies = m.replies()
    finally:
        fake.stop()
        llm.stop()
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
    base = statistics.median(text_ms)
    added = [v - base for v in voice_ms]
    return {
        "audio_bytes": len(audio),
        "text_median": base,
        "text_p95": pct(text_ms, 0.95),
        "voice_median": statistics.median(voice_ms),
        "voice_p95": pct(voice_ms, 0.95),
        "added_median": statistics.median(added),
        "added_p95": pct(added, 0.95),
        "provider_median": statistics.median(provider_ms),
        "answered": len(replies),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


PROVIDER = """
import sys, time
sys.path.insert(0, {tests!r})
from fakes import openai_server
server = openai_server.start()
print(server.base_url, flush=True)
while True:
    time.sleep(3600)
"""


async def memory(sizes: dict[str, int]) -> dict[str, tuple[int, int]]:
    folder = Path(tempfile.mkdtemp(prefix="media-bench-files-"))
    for name, size in sizes.items():
        (folder / name).write_bytes(b"OggS" + os.urandom(size - 4))
    port = free_port()
    files = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    provider = subprocess.Popen(
        [sys.executable, "-c", PROVIDER.format(tests=str(ROOT / "tests"))],
        stdout=subprocess.PIPE,
        text=True,
    )
    results: dict[str, tuple[int, int]] = {}
    try:
        wait_port(port)
        assert provider.stdout is not None
        provider_url = provider.stdout.readline().strip()
        origin = Origin(f"http://127.0.0.1:{port}", "bench-token")
        downloader = MediaDownloader(DownloadPolicy(timeout_s=60))
        endpoint = TranscriptionEndpoint("whisper-1", provider_url, "sk-bench", 60)
        transcriber = Transcriber(endpoint)
        url = f"http://127.0.0.1:{port}/" + next(iter(sizes))
        with await downloader.download(url, origin, max_bytes=20_000_000) as warm:
            await transcriber.transcribe(warm)
        for name, size in sizes.items():
            url = f"http://127.0.0.1:{port}/{name}"
            tracemalloc.start()
            with await downloader.download(url, origin, max_bytes=20_000_000) as got:
                assert got.size == size
                alone = tracemalloc.get_traced_memory()[1]
                tracemalloc.reset_peak()
                await transcriber.transcribe(got)
                with_upload = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            results[name] = (alone, with_upload)
        await downloader.aclose()
        await transcriber.aclose()
    finally:
        for process in (files, provider):
            process.terminate()
            process.wait(timeout=10)
    return results


def main() -> None:
    turns = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    load_before = os.getloadavg()
    timing = asyncio.run(turn_times(turns))
    sizes = {"voice-1MB.ogg": 1_000_000, "voice-16MB.ogg": 16_000_000}
    peaks = asyncio.run(memory(sizes))
    load_after = os.getloadavg()
    print("time the service adds to a voice-note turn (provider's own time excluded)")
    print(
        f"  {turns} text turns and {turns} voice-note turns ({timing['audio_bytes']} bytes, "
        "30 s Ogg Opus), one at a time, real pipeline (offline model), Redis, in-process worker"
    )
    print(f"  text turn:  median {timing['text_median']:.1f} ms   p95 {timing['text_p95']:.1f} ms")
    print(
        f"  voice turn: median {timing['voice_median']:.1f} ms   p95 {timing['voice_p95']:.1f} ms"
        f"   (provider's own time subtracted; it was {timing['provider_median']:.1f} ms median)"
    )
    print(
        f"  added by the voice note: median {timing['added_median']:.1f} ms   "
        f"p95 {timing['added_p95']:.1f} ms   ({timing['answered']} replies posted)"
    )
    print("bytes held in memory per download (tracemalloc peak, this process)")
    for name, (alone, with_upload) in peaks.items():
        print(
            f"  {name}: download {alone / 1e6:.2f} MB peak; handed to the transcription upload "
            f"{with_upload / 1e6:.2f} MB peak"
        )
    print(
        f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
        f"({os.cpu_count()} CPUs, shared machine; fakes run in this process as threads)"
    )
    print(f"command: .venv/bin/python bench/media_turn.py {turns}")


if __name__ == "__main__":
    main()
