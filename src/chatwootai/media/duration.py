"""How long a recording lasts, read from its headers without decoding it.

``tinytag`` (MIT, pure Python, one module, no dependencies) reads the duration of Ogg Opus and
Vorbis (WhatsApp voice notes), MP3, M4A/MP4 and WAV from their headers (the last Ogg page's
granule position, the MP4 ``mvhd`` box, the Xing/VBRI header or the frame count). It was chosen
over ``mutagen``, which reads the same formats, because mutagen is GPL-licensed (this project is
Apache-2.0). Neither reads WebM: for it, and for any file whose headers cannot be read, the
duration is unknown and only the size limit applies.
"""

from __future__ import annotations

import asyncio
import logging
from typing import IO

from tinytag import TinyTag

log = logging.getLogger(__name__)


def duration_s(file: IO[bytes]) -> float | None:
    """The duration of the recording in `file` in seconds, or None when it cannot be read."""
    try:
        file.seek(0)
        tag = TinyTag.get(file_obj=file, tags=False, duration=True)  # type: ignore[arg-type]
    except Exception as exc:  # unsupported or damaged: the size limit still applies
        log.debug("duration not read: %s", type(exc).__name__)
        return None
    finally:
        file.seek(0)
    value = tag.duration
    return float(value) if isinstance(value, int | float) and value >= 0 else None


async def aduration_s(file: IO[bytes]) -> float | None:
    """:func:`duration_s` off the event loop."""
    return await asyncio.to_thread(duration_s, file)
