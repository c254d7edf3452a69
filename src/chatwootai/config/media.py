"""The ``media:`` section of a domain: voice notes, images, documents, and the rules sending
some of them to a human or a crew. Unset, a domain behaves as before (no transcription without a
deployment transcription model; images only to a model that reads them)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

IDENTIFIER = r"^[a-z0-9][a-z0-9_\-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AudioOptions(_Strict):
    """Voice notes: transcribed when the deployment has a transcription model."""

    transcribe: bool = Field(
        default=True,
        description="Transcribe audio without a usable Chatwoot transcript "
        "(needs CHATWOOTAI_TRANSCRIBE_MODEL in the deployment).",
    )
    model: str | None = Field(
        default=None,
        min_length=1,
        description="Transcription model of this domain (default CHATWOOTAI_TRANSCRIBE_MODEL).",
    )
    language: str | None = Field(
        default=None,
        pattern=r"^[a-z]{2,3}$",
        description="Language hint (ISO 639-1), e.g. 'pt': better and faster transcripts.",
    )
    max_duration_s: float = Field(
        default=600, gt=0, le=7200, description="Longest voice note transcribed (seconds)."
    )
    max_bytes: int = Field(
        default=25_000_000,
        ge=1000,
        le=200_000_000,
        description="Largest audio file downloaded (OpenAI's API takes up to 25 MB).",
    )
    post_transcript: bool = Field(
        default=False,
        description="Post each transcript as a private note for the agents right away.",
    )


class ImageOptions(_Strict):
    """Images given to the model as parts of the customer's message."""

    vision: Literal["auto"] | bool = Field(
        default="auto",
        description="'auto': when the domain's model is known to read images; true forces it "
        "(a self-hosted vision model), false never sends images.",
    )
    max_bytes: int = Field(
        default=5_000_000, ge=1000, le=20_000_000, description="Largest image downloaded."
    )
    max_images: int = Field(default=4, ge=1, le=10, description="Images per turn at most.")


class DocumentOptions(_Strict):
    """Documents (PDF, text) whose text is given to the model."""

    read: bool = Field(default=True, description="Give the text of PDFs and text files.")
    max_bytes: int = Field(
        default=10_000_000, ge=1000, le=50_000_000, description="Largest document downloaded."
    )
    max_chars: int = Field(
        default=6000, ge=200, le=50_000, description="Characters of a document's text given."
    )


MediaFileType = Literal["image", "audio", "video", "file"]


def _images_and_files() -> list[MediaFileType]:
    return ["image", "file"]


class MediaRule(_Strict):
    """Attachments that must reach a human (or a given crew), whatever the model would say."""

    name: Annotated[str, Field(pattern=IDENTIFIER, max_length=64)]
    file_types: list[MediaFileType] = Field(
        default_factory=_images_and_files,
        description="Chatwoot file types the rule applies to.",
    )
    extensions: list[str] = Field(
        default_factory=list,
        description="File extensions the rule applies to (e.g. pdf); empty: any.",
    )
    classes: list[Annotated[str, Field(min_length=1, max_length=80)]] = Field(
        default_factory=list,
        max_length=12,
        description="What the image must be, as the model says (e.g. 'receita médica'): one "
        "classification request per image turn, only with a model that reads images. Empty: "
        "the rule applies by file type alone.",
    )
    handoff: bool = Field(default=False, description="Hand the conversation to a human.")
    crew: Annotated[str, Field(pattern=IDENTIFIER, max_length=64)] | None = Field(
        default=None, description="Or: the crew that answers."
    )
    reason: str = Field(default="", max_length=300, description="Said in the handoff note.")

    @field_validator("extensions")
    @classmethod
    def _suffixes(cls, value: list[str]) -> list[str]:
        return [v.strip().lower().lstrip(".") for v in value if v.strip()]

    @model_validator(mode="after")
    def _one_action(self) -> MediaRule:
        if self.handoff == (self.crew is not None):
            raise ValueError("a media rule needs exactly one action: 'handoff: true' or 'crew'")
        return self


class MediaOptions(_Strict):
    """How the domain treats customers' voice notes, images and documents."""

    audio: AudioOptions = Field(default_factory=AudioOptions)
    images: ImageOptions = Field(default_factory=ImageOptions)
    documents: DocumentOptions = Field(default_factory=DocumentOptions)
    rules: list[MediaRule] = Field(
        default_factory=list, description="Checked in order; the first that applies wins."
    )
