"""Where attachments may be downloaded from: the conversation's Chatwoot, allowed storage hosts
(redirects checked one by one), never a private network unless allowed; the bot token only to
Chatwoot; sizes checked while streaming."""

from __future__ import annotations

import pytest
from media_support import JPEG, minimal_pdf, ogg_opus, png, wav

from chatwootai.media.download import DownloadPolicy, MediaDownloader, Origin
from chatwootai.media.errors import HostRefusedError, NotFoundError, TooLargeError
from chatwootai.media.sniff import sniff
from fakes.chatwoot_server import FakeChatwoot


def origin(fake: FakeChatwoot) -> Origin:
    return Origin(fake.base_url, fake.bot_token)


async def fetch(fake: FakeChatwoot, url: str, policy: DownloadPolicy, **kw: object) -> bytes:
    downloader = MediaDownloader(policy)
    try:
        with await downloader.download(url, origin(fake), max_bytes=1_000_000, **kw) as got:
            return got.read()
    finally:
        await downloader.aclose()


async def test_chatwoot_and_its_redirect_on_the_same_host_get_the_token(
    fake: FakeChatwoot,
) -> None:
    url = fake.add_blob(b"OggS-data", "audio/ogg", "audio.ogg")
    assert await fetch(fake, url, DownloadPolicy()) == b"OggS-data"
    assert [r["headers"].get("api_access_token") for r in fake.blob_requests] == [
        fake.bot_token,
        fake.bot_token,
    ]


async def test_a_storage_host_is_refused_unless_allowed_and_never_gets_the_token(
    fake: FakeChatwoot,
) -> None:
    port = fake.base_url.rsplit(":", 1)[1]
    url = fake.add_blob(b"OggS-data", "audio/ogg", "a.ogg", storage_host=f"localhost:{port}")
    with pytest.raises(HostRefusedError, match="localhost"):
        await fetch(fake, url, DownloadPolicy())  # not an allowed host
    with pytest.raises(HostRefusedError, match="non-public"):
        await fetch(fake, url, DownloadPolicy.of(["localhost"]))  # allowed, but private
    allowed = DownloadPolicy.of(["localhost"], allow_private=True)
    assert await fetch(fake, url, allowed) == b"OggS-data"
    storage = [r for r in fake.blob_requests if r["host"].startswith("localhost")]
    assert storage and all("api_access_token" not in r["headers"] for r in storage)


async def test_subdomain_entries_and_other_hosts() -> None:
    policy = DownloadPolicy.of(["*.s3.amazonaws.com", "minio.local"])
    assert policy.allows("bucket.s3.amazonaws.com") and policy.allows("minio.local")
    assert not policy.allows("evil-s3.amazonaws.com.example") and not policy.allows("other.local")


async def test_urls_of_other_hosts_schemes_and_credentials_are_refused(
    fake: FakeChatwoot,
) -> None:
    for url in (
        "http://169.254.169.254/latest/meta-data",
        "ftp://example.com/a.ogg",
        fake.base_url.replace("://", "://user:pw@") + "/rails/active_storage/x",
    ):
        with pytest.raises(HostRefusedError):
            await fetch(fake, url, DownloadPolicy())


async def test_a_private_address_is_refused_for_a_storage_host_even_when_allowed() -> None:
    async def private(host: str, port: int) -> list[str]:
        return ["10.0.0.7"]

    downloader = MediaDownloader(DownloadPolicy.of(["files.example.com"]), resolver=private)
    with pytest.raises(HostRefusedError, match="non-public"):
        await downloader.download(
            "https://files.example.com/a.ogg", Origin("https://chat.example.com"), max_bytes=10
        )
    await downloader.aclose()


async def test_size_is_checked_by_length_and_while_streaming(fake: FakeChatwoot) -> None:
    sized = fake.add_blob(b"x" * 5000, "audio/ogg", "a.ogg")
    unsized = fake.add_blob(b"x" * 300_000, "audio/ogg", "b.ogg", failure="unsized")
    downloader = MediaDownloader(DownloadPolicy())
    with pytest.raises(TooLargeError, match="5000 bytes"):
        await downloader.download(sized, origin(fake), max_bytes=4000)
    with pytest.raises(TooLargeError, match="more than the 100000"):
        await downloader.download(unsized, origin(fake), max_bytes=100_000)
    gone = fake.add_blob(b"x", "audio/ogg", "c.ogg", failure="not_found")
    with pytest.raises(NotFoundError):
        await downloader.download(gone, origin(fake), max_bytes=100)
    await downloader.aclose()


async def test_large_files_leave_memory_for_a_removed_temporary_file(fake: FakeChatwoot) -> None:
    data = b"OggS" + bytes(3_000_000)
    url = fake.add_blob(data, "audio/ogg", "big.ogg")
    downloader = MediaDownloader(DownloadPolicy())
    got = await downloader.download(url, origin(fake), max_bytes=5_000_000)
    assert got.size == len(data) and got.media_type == "audio/ogg"
    assert got.file._rolled  # type: ignore[attr-defined]  # on disk, not in memory
    got.close()
    assert got.file.closed
    await downloader.aclose()


def test_types_are_told_by_their_bytes() -> None:
    assert sniff(ogg_opus(1.0)) == "audio/ogg"
    assert sniff(wav(0.1)) == "audio/wav"
    assert sniff(png()) == "image/png"
    assert sniff(JPEG) == "image/jpeg"
    assert sniff(minimal_pdf("oi")) == "application/pdf"
    assert sniff(b"ID3\x04rest") == "audio/mpeg"
    assert sniff(b"\x00\x00\x00\x20ftypM4A ") == "audio/mp4"
    assert sniff(b"<html>") is None and sniff(b"") is None


def test_no_url_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    from chatwootai.media.attachments import InboundAttachment

    attachment = InboundAttachment(
        id=1, file_type="audio", data_url="https://chat.example.com/rails/secret-signed-id/a.ogg"
    )
    assert "secret-signed-id" not in repr(attachment)
