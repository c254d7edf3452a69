"""The user prompt of a turn with media: the text, then documents' text and images.

pydantic-ai takes a sequence of user content: text items and ``BinaryContent`` images. The
history keeps no image bytes: :func:`chatwootai.agents.history.dump_messages` replaces them by
a short note.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic_ai.messages import BinaryContent, UserContent

from chatwootai.media.attachments import MediaPart

IMAGE_NOTE = "[imagem enviada pelo cliente]"
"""What a history keeps of an image the customer sent (the bytes are never stored)."""


def user_prompt(text: str, media: Sequence[MediaPart]) -> str | list[UserContent]:
    """The prompt of a step: `text` alone, or text, documents' text and images."""
    if not media:
        return text
    content: list[UserContent] = [text or "(o cliente enviou só a mídia abaixo)"]
    for part in media:
        if part.kind == "text":
            title = f"Documento enviado pelo cliente ({part.name})" if part.name else "Nota"
            content.append(f"{title}:\n{part.text}")
    for part in media:
        if part.kind == "image":
            content.append(BinaryContent(data=part.data, media_type=part.media_type))
    return content
