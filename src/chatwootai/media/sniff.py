"""What a file really is, from its first bytes (never from what the sender claims).

Only the types the service accepts are recognised: the audio customers send (Ogg Opus or Vorbis
from WhatsApp, MP3, M4A/MP4 audio, WAV, WebM), the images a model reads (JPEG, PNG, WebP) and
PDF. Anything else is ``None``.
"""

from __future__ import annotations

AUDIO_TYPES = frozenset({"audio/ogg", "audio/mpeg", "audio/mp4", "audio/wav", "audio/webm"})
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
PDF = "application/pdf"
HEAD_BYTES = 64
"""Bytes needed to tell the types apart."""

SUFFIXES = {
    "audio/ogg": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/wav": "wav",
    "audio/webm": "webm",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    PDF: "pdf",
}
"""The file extension of each recognised type (the transcription API reads it)."""


def sniff(head: bytes) -> str | None:
    """The media type of a file starting with `head`, among the accepted ones, or None."""
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand.startswith((b"M4A", b"M4B", b"mp4", b"iso", b"dash", b"3gp", b"MSNV")):
            return "audio/mp4"
        return None
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "audio/webm"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.lstrip(b"\r\n\t ").startswith(b"%PDF-"):
        return PDF
    return None
