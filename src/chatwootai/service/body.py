"""A webhook request body as it arrived: chunks, read up to a limit, joined only when needed.

A forged 1 MiB body costs one HMAC over its chunks and a search of its two ends; it is never
copied into one piece (that copy alone costs about as much as the HMAC). Only an authenticated
body is joined, to be parsed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request


class BodyTooLargeError(Exception):
    """The request body is above ``max_body_bytes``."""


@dataclass(slots=True)
class RawBody:
    """The chunks of a request body, in order."""

    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    _joined: bytes | None = None

    def ends(self, window: int) -> bytes:
        """The first and last `window` bytes, joined (the whole body when it is that small)."""
        if self.size <= 2 * window:
            return self.bytes()
        head = bytearray()
        for chunk in self.chunks:
            head += chunk[: window - len(head)]
            if len(head) >= window:
                break
        tail: list[bytes] = []
        wanted = window
        for chunk in reversed(self.chunks):
            tail.append(chunk[-wanted:])
            wanted -= len(tail[-1])
            if wanted <= 0:
                break
        return bytes(head) + b"".join(reversed(tail))

    def bytes(self) -> bytes:
        """The whole body in one piece."""
        if self._joined is None:
            self._joined = self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)
        return self._joined


async def read_body(request: Request, limit: int) -> RawBody:
    """The raw body, refusing more than `limit` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(f"body of {declared} bytes is above the limit of {limit}")
    body = RawBody()
    async for chunk in request.stream():
        if not chunk:
            continue
        body.size += len(chunk)
        if body.size > limit:
            raise BodyTooLargeError(f"body is above the limit of {limit} bytes")
        body.chunks.append(chunk)
    return body
