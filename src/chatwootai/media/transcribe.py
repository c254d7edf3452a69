"""Speech to text through an OpenAI-compatible ``/audio/transcriptions`` endpoint.

The OpenAI SDK (installed with pydantic-ai's OpenAI support) builds the multipart request:
OpenAI (``whisper-1``, ``gpt-4o-mini-transcribe``), Groq (``whisper-large-v3-turbo``), and
self-hosted faster-whisper (speaches) or whisper.cpp servers all speak it. The endpoint is the
deployment's (``CHATWOOTAI_TRANSCRIBE_MODEL``, ``_BASE_URL``, ``_API_KEY``); a domain may name
another model and a language hint. A failed attempt is tried once more (429, 5xx, a lost
connection), the file rewound; the whole call is bounded by ``CHATWOOTAI_TRANSCRIBE_TIMEOUT``.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Any

import openai
from openai import AsyncOpenAI

from chatwootai.media.download import Downloaded
from chatwootai.media.errors import ProviderError
from chatwootai.media.sniff import SUFFIXES

NO_KEY = "no-key-needed"
"""Key sent to a server that needs none (a self-hosted whisper): the SDK insists on one."""
ATTEMPTS = 2


@dataclass(frozen=True, slots=True)
class TranscriptionEndpoint:
    """Where voice notes are transcribed: model, base URL (None: OpenAI's) and key."""

    model: str
    base_url: str | None
    api_key: str
    timeout_s: float = 30.0

    @classmethod
    def from_settings(
        cls,
        model: str | None,
        base_url: str | None,
        api_key: str | None,
        timeout_s: float,
    ) -> TranscriptionEndpoint | None:
        """The deployment's endpoint; None when no transcription model is configured.

        The base URL defaults to ``OPENAI_BASE_URL`` (the OpenAI endpoint in use), the key to
        ``OPENAI_API_KEY``.
        """
        if not model or not model.strip():
            return None
        url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        key = api_key or os.environ.get("OPENAI_API_KEY", "").strip() or NO_KEY
        return cls(model.strip(), url, key, timeout_s)

    def __repr__(self) -> str:  # never the key
        return f"TranscriptionEndpoint({self.model!r}, {self.base_url!r})"


class Transcriber:
    """Transcribes recordings at one endpoint (one SDK client, reused)."""

    def __init__(self, endpoint: TranscriptionEndpoint, *, http_client: Any = None) -> None:
        self.endpoint = endpoint
        self._client = AsyncOpenAI(
            base_url=endpoint.base_url,
            api_key=endpoint.api_key,
            timeout=endpoint.timeout_s,
            max_retries=0,  # retried here, with the file rewound
            http_client=http_client,
        )

    async def aclose(self) -> None:
        """Close the SDK's connections."""
        await self._client.close()

    async def transcribe(
        self,
        audio: Downloaded,
        *,
        model: str | None = None,
        language: str | None = None,
        name: str = "audio",
    ) -> str:
        """The text spoken in `audio`; raises :class:`ProviderError` (never another error)."""
        media_type = audio.media_type or "application/octet-stream"
        filename = f"{name}.{SUFFIXES.get(media_type, 'ogg')}"
        options: dict[str, Any] = {"model": model or self.endpoint.model}
        if language:
            options["language"] = language
        try:
            async with asyncio.timeout(self.endpoint.timeout_s):
                return await self._attempts(audio, filename, media_type, options)
        except TimeoutError:
            raise ProviderError(
                f"no transcript within {self.endpoint.timeout_s:g} s "
                "(CHATWOOTAI_TRANSCRIBE_TIMEOUT)"
            ) from None

    async def _attempts(
        self, audio: Downloaded, filename: str, media_type: str, options: dict[str, Any]
    ) -> str:
        for attempt in range(ATTEMPTS):
            try:
                result = await self._client.audio.transcriptions.create(
                    file=(filename, audio.rewind(), media_type),
                    response_format="json",
                    **options,
                )
            except openai.APIStatusError as exc:
                if attempt + 1 < ATTEMPTS and (exc.status_code == 429 or exc.status_code >= 500):
                    await asyncio.sleep(0.2)
                    continue
                raise ProviderError(f"transcription failed: HTTP {exc.status_code}") from None
            except openai.APITimeoutError:
                raise ProviderError("transcription timed out") from None
            except openai.APIConnectionError as exc:
                if attempt + 1 < ATTEMPTS:
                    continue
                raise ProviderError(f"transcription endpoint unreachable: {exc}") from None
            except openai.OpenAIError as exc:
                raise ProviderError(f"transcription failed: {type(exc).__name__}") from None
            text = getattr(result, "text", None)
            if not isinstance(text, str) or not text.strip():
                raise ProviderError("the transcription came back empty")
            return text.strip()
        raise ProviderError("transcription failed")
