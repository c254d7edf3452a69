"""Embeddings from an OpenAI-compatible ``/embeddings`` endpoint (OpenAI, Ollama, vLLM...).

Passages are embedded when they are indexed (by sync, in batches); a message is embedded when
it is searched, with a short timeout and a small cache, and a failure only drops the meaning
ranking for that search (the words ranking still answers).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import numpy as np

from chatwootai.artefacts import content_key
from chatwootai.config.schema import EmbeddingsSettings

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
BATCH = 64
"""Texts sent per request."""
QUERY_CACHE = 256
"""Message embeddings kept (a tool search repeats the prefetch's query)."""


class EmbeddingError(Exception):
    """The embeddings endpoint failed or answered something unusable."""


class EmbeddingsClient:
    """Calls one endpoint and model; safe to share between domains with the same settings."""

    def __init__(
        self,
        settings: EmbeddingsSettings,
        *,
        environ: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.base_url = (settings.base_url or DEFAULT_BASE_URL).rstrip("/")
        env = os.environ if environ is None else environ
        variable = settings.api_key_env or DEFAULT_KEY_ENV
        self.api_key = env.get(variable)
        self.key_variable = variable
        self.transport = transport
        self._cache: OrderedDict[str, np.ndarray[Any, Any]] = OrderedDict()
        self.requests = 0

    @property
    def identity(self) -> str:
        """What the vectors depend on: endpoint, model and dimensions (not the key)."""
        return content_key(
            "embeddings", self.base_url, self.settings.model, str(self.settings.dimensions)
        )

    async def embed(self, texts: Sequence[str], timeout_s: float = 60.0) -> np.ndarray[Any, Any]:
        """One vector per text (rows in order); raises EmbeddingError."""
        if not texts:
            return np.zeros((0, self.settings.dimensions or 1), dtype=np.float32)
        if self.api_key is None and self.settings.base_url is None:
            raise EmbeddingError(f"embeddings need an API key: set {self.key_variable}")
        rows: list[list[float]] = []
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        async with httpx.AsyncClient(transport=self.transport, timeout=timeout_s) as client:
            for start in range(0, len(texts), BATCH):
                batch = list(texts[start : start + BATCH])
                body: dict[str, Any] = {"model": self.settings.model, "input": batch}
                if self.settings.dimensions:
                    body["dimensions"] = self.settings.dimensions
                self.requests += 1
                try:
                    response = await client.post(
                        f"{self.base_url}/embeddings", json=body, headers=headers
                    )
                except httpx.HTTPError as exc:
                    raise EmbeddingError(f"embeddings endpoint unreachable: {exc}") from None
                if not response.is_success:
                    raise EmbeddingError(
                        f"embeddings endpoint answered HTTP {response.status_code}"
                    )
                rows += _vectors(response, len(batch))
        matrix = np.asarray(rows, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != len(texts):
            raise EmbeddingError("embeddings endpoint answered vectors of uneven sizes")
        return matrix

    async def embed_query(self, text: str) -> np.ndarray[Any, Any] | None:
        """The vector of a message, or None when the endpoint fails or is slow (logged)."""
        cached = self._cache.get(text)
        if cached is not None:
            self._cache.move_to_end(text)
            return cached
        try:
            async with asyncio.timeout(self.settings.timeout_s):
                matrix = await self.embed([text], timeout_s=self.settings.timeout_s)
                vector: np.ndarray[Any, Any] = matrix[0]
        except (EmbeddingError, TimeoutError) as exc:
            log.warning("message not embedded (words ranking only): %s", exc or "timeout")
            return None
        vector = np.asarray(vector, dtype=np.float32)
        self._cache[text] = vector
        while len(self._cache) > QUERY_CACHE:
            self._cache.popitem(last=False)
        return vector


def _vectors(response: httpx.Response, expected: int) -> list[list[float]]:
    try:
        data = response.json()["data"]
        ordered = sorted(data, key=lambda item: int(item.get("index", 0)))
        vectors = [[float(x) for x in item["embedding"]] for item in ordered]
    except (ValueError, KeyError, TypeError) as exc:
        raise EmbeddingError(f"embeddings endpoint answered an unexpected body: {exc}") from None
    if len(vectors) != expected:
        raise EmbeddingError(f"embeddings endpoint answered {len(vectors)} vectors for {expected}")
    return vectors
