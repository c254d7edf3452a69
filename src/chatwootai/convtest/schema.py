"""Pydantic models of a conversation test file (`domains/<name>/tests/*.yaml`).

A file holds conversations keyed by test id. Each conversation is a list of customer turns; each
turn may state what must happen: the crew and routing layer, a handoff or not, the tools called
(with a subset of their arguments), words the reply must or must not contain (case and accents
ignored), the agents' slots and the bookings in the calendar after the turn. Unknown keys are
errors, as in domain.yaml.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

TEST_ID = r"^[a-z0-9][a-z0-9_\-]*$"
"""Test ids: lowercase letters, digits, `_` and `-` (as ids in domain.yaml)."""

TestId = Annotated[str, Field(pattern=TEST_ID, max_length=100)]

RouteMethod = Literal["handoff", "rules", "classifier", "llm", "sticky", "default", "non_text"]
"""Routing layers a turn may be decided by (see hub.py)."""

Attachment = Literal["audio", "image", "video", "file", "location", "contact", "sticker"]

LocalTime = Annotated[
    datetime,
    Field(
        description="Local time of the domain, e.g. 2026-12-03T10:00 (a time zone offset may be "
        "given too)."
    ),
]


class StrictModel(BaseModel):
    """Base of the test file models: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Contact(StrictModel):
    """Who the customer is, as Chatwoot's contact describes them."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    verified: bool = Field(
        default=False, description="Chatwoot verified the contact (identity validation)."
    )
    id: str | None = None


class ToolCall(StrictModel):
    """A tool call expected in the turn."""

    tool: str = Field(description="Tool id of the domain (e.g. agenda, catalogo, faq).")
    args: dict[str, Any] = Field(
        default_factory=dict,
        description="Arguments the call must include (others may be there too); strings are "
        "compared ignoring case and accents.",
    )
    ok: bool | None = Field(default=None, description="The call succeeded (was not refused).")
    found: bool | None = Field(default=None, description="The tool found what was asked.")


class Booking(StrictModel):
    """A booking of the conversation, as the calendar keeps it."""

    service: str = Field(description="Service id or name.")
    start: LocalTime


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Texts = Annotated[list[str], BeforeValidator(_as_list, json_schema_input_type=str | list[str])]
"""One text or a list of texts."""


class Expect(StrictModel):
    """What must hold after a turn (every key is optional)."""

    crew: str | None = Field(
        default=None, description="The crew that answered; 'handoff' when the hub handed off."
    )
    route: RouteMethod | None = Field(default=None, description="The routing layer that decided.")
    handoff: bool | None = Field(default=None, description="The turn hands the conversation off.")
    fallback: bool | None = Field(
        default=None, description="The turn ended with the domain's fallback text."
    )
    tools: list[ToolCall] | None = Field(
        default=None,
        description="Tool calls expected, in this order (other calls may come between); an "
        "empty list means no tool was called.",
    )
    not_tools: list[str] = Field(default_factory=list, description="Tools that must not be called.")
    reply_contains: Texts = Field(
        default_factory=list, description="Text the reply contains (case and accents ignored)."
    )
    reply_not_contains: Texts = Field(
        default_factory=list, description="Text the reply must not contain."
    )
    reply_matches: str | None = Field(
        default=None, description="A regular expression the reply matches (case ignored)."
    )
    says: Texts = Field(
        default_factory=list,
        description="Statements the reply must make, judged by an LLM; checked only with "
        "`chatwootai test --judge MODEL`.",
    )
    slots: dict[str, str | None] | None = Field(
        default=None,
        description="Slots the crew's agents keep after the turn (null: absent); {} means none.",
    )
    bookings: list[Booking] | None = Field(
        default=None,
        description="Every booking of the conversation after the turn (an empty list: none).",
    )

    @field_validator("reply_matches")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
        return pattern


class Turn(StrictModel):
    """One customer message and what must happen after it."""

    say: str = Field(description="What the customer writes ('' with an attachment).")
    attachment: Attachment | None = Field(
        default=None, description="The message carries this instead of text."
    )
    now: LocalTime | None = Field(
        default=None, description="The turn's clock (default: the test's, or the previous turn's)."
    )
    channel: str | None = None
    contact: Contact | None = None
    expect: Expect = Field(default_factory=Expect)


class ConversationTest(StrictModel):
    """One conversation: customer turns, each with its expectations."""

    __test__ = False  # not a pytest class

    description: str = ""
    tags: list[str] = Field(default_factory=list)
    now: LocalTime | None = Field(default=None, description="The clock of the first turn.")
    channel: str | None = Field(default=None, description="Channel of the messages (whatsapp...).")
    contact: Contact | None = None
    inherit: bool | None = Field(
        default=None, description="Whether domains extending this one run it (default: the file's)."
    )
    turns: list[Turn] = Field(min_length=1)


class Defaults(StrictModel):
    """Settings every test of the file starts from."""

    now: LocalTime | None = None
    channel: str | None = None
    contact: Contact | None = None


class TestFile(StrictModel):
    """A conversation test file."""

    __test__ = False  # not a pytest class

    inherit: bool = Field(
        default=True,
        description="Whether domains extending this one run these tests against their own "
        "config (false for tests about this domain's own data: prices, orders...).",
    )
    defaults: Defaults = Field(default_factory=Defaults)
    tests: dict[TestId, ConversationTest] = Field(default_factory=dict)
    remove: list[TestId] = Field(
        default_factory=list,
        alias="tests-",
        description="Inherited tests this domain does not run.",
    )
