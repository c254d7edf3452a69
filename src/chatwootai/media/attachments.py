"""The data of media: a customer's attachment (metadata only), what the model is given, what a
reply carries. Nothing here does I/O, so every layer may import it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

MediaKind = Literal["audio", "image", "document", "other"]
"""How the service treats an attachment (a metric label: a fixed set)."""


class InboundAttachment(BaseModel):
    """A customer's attachment as the webhook described it: metadata, never the bytes."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: int | None = None
    file_type: str = "file"
    """Chatwoot's kind: image, audio, video, file, location, fallback, contact, sticker..."""
    data_url: str | None = Field(default=None, repr=False)
    """ActiveStorage redirect URL of the blob (a signed id: never logged)."""
    extension: str | None = None
    file_size: int | None = None
    transcribed_text: str | None = None
    """Chatwoot's own transcript of an audio attachment (Captain), when it made one."""

    @field_validator("file_type", mode="before")
    @classmethod
    def _file_type(cls, value: object) -> object:
        return value if isinstance(value, str) and value else "file"

    @property
    def filename(self) -> str:
        """The file name at the end of the data URL (``attachment`` when there is none)."""
        if self.data_url:
            last = unquote(urlsplit(self.data_url).path.rsplit("/", 1)[-1])
            if last and "." in last:
                return last[:120]
        ext = self.suffix
        return f"attachment.{ext}" if ext else "attachment"

    @property
    def suffix(self) -> str:
        """The extension, lowercased without the dot: Chatwoot's, else the file name's."""
        if self.extension:
            return self.extension.lower().lstrip(".")
        if self.data_url:
            last = urlsplit(self.data_url).path.rsplit("/", 1)[-1]
            if "." in last:
                return last.rsplit(".", 1)[-1].lower()[:10]
        return ""

    @property
    def kind(self) -> MediaKind:
        """How the service treats it: audio, image, document (a PDF or text file) or other."""
        if self.file_type == "audio":
            return "audio"
        if self.file_type == "image":
            return "image"
        if self.file_type == "file" and self.suffix in DOCUMENT_SUFFIXES:
            return "document"
        return "other"

    @property
    def heard(self) -> str:
        """Chatwoot's own transcript, when usable (not empty)."""
        return (self.transcribed_text or "").strip()


DOCUMENT_SUFFIXES = frozenset({"pdf", "txt", "text", "csv", "md"})
"""Customer files whose text may be given to the model (PDF, plain text)."""


@dataclass(frozen=True, slots=True)
class MediaPart:
    """Something of the customer's media given to the model with the text of the turn.

    ``image``: the picture's bytes (``data``) and media type; ``text``: a document's text, or a
    note about media the service could not read (``name`` says which).
    """

    kind: Literal["image", "text"]
    media_type: str = "text/plain"
    data: bytes = b""
    text: str = ""
    name: str = ""

    def __repr__(self) -> str:  # never the bytes or the text in logs
        return f"MediaPart({self.kind}, {self.media_type}, {len(self.data) or len(self.text)})"


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    """What the pipeline knows of a turn's attachment without its content (for the rules)."""

    file_type: str
    suffix: str = ""


class OutboundAttachment(BaseModel):
    """A file a reply carries: a file of the domain's folder or an https URL, and its caption."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str | None = None
    url: str | None = None
    filename: str = Field(default="", max_length=200)
    caption: str = Field(default="", max_length=1000)

    @property
    def source(self) -> str:
        """The file or URL, for logs (a domain's own, not customer data)."""
        return self.path or self.url or ""

    @property
    def name(self) -> str:
        """The file name sent to Chatwoot."""
        if self.filename:
            return self.filename
        raw = self.path or urlsplit(self.url or "").path
        return unquote(raw.replace("\\", "/").rsplit("/", 1)[-1]) or "arquivo"
