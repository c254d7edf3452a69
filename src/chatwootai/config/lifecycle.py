"""The ``hours:`` and ``resolution:`` sections of a domain: when its people work, what a handoff
does outside those hours, and when the bot ends a conversation.

Unset, a domain behaves as before: always open (a handoff opens the conversation at once) and no
conversation is resolved by the bot. The logic reading these models is :mod:`chatwootai.hours`
and :mod:`chatwootai.service.lifecycle`.
"""

from __future__ import annotations

import re
from datetime import date
from itertools import pairwise
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SHIFT = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]|24):([0-5]\d)$")
"""A shift: ``HH:MM-HH:MM`` (24 h clock; ``24:00`` ends a shift at midnight)."""

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def shift_minutes(shift: str) -> tuple[int, int]:
    """(start, end) of a validated shift, in minutes after midnight."""
    match = SHIFT.match(shift.strip())
    if match is None:
        raise ValueError(f"{shift!r} is not a shift such as '08:00-12:00'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    return h1 * 60 + m1, h2 * 60 + m2


def _check_shifts(shifts: list[str]) -> list[str]:
    spans: list[tuple[int, int, str]] = []
    for shift in shifts:
        if not isinstance(shift, str) or SHIFT.match(shift.strip()) is None:
            raise ValueError(
                f"{shift!r} is not a shift: write 'HH:MM-HH:MM' such as '08:00-12:00' "
                "(24 h clock; '24:00' for midnight)"
            )
        start, end = shift_minutes(shift)
        if end > 24 * 60:
            raise ValueError(f"{shift!r} ends after 24:00")
        if end <= start:
            raise ValueError(
                f"{shift!r} ends before it starts: a shift past midnight is written as two, "
                "one ending at 24:00 and one starting at 00:00 the next day"
            )
        spans.append((start, end, shift))
    spans.sort()
    for (_, end, first), (start, _, second) in pairwise(spans):
        if start < end:
            raise ValueError(f"shifts {first!r} and {second!r} overlap")
    return [s.strip().replace(" ", "") for s in shifts]


Shifts = Annotated[list[str], Field(description="Shifts such as ['08:00-12:00', '14:00-18:00'].")]


class Holiday(_Strict):
    """A day the team does not work (or works special hours)."""

    date: str = Field(
        description="YYYY-MM-DD for one date, or MM-DD for the same date every year (12-25)."
    )
    name: str = ""
    hours: Shifts = Field(
        default_factory=list, description="Special hours of that day; empty: closed all day."
    )

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str):
            text = value.strip()
            try:
                if len(text) == 5:
                    date.fromisoformat(f"2000-{text}")  # a leap year: 02-29 is a valid MM-DD
                else:
                    date.fromisoformat(text)
            except ValueError:
                raise ValueError(
                    f"{value!r} is not a date: write YYYY-MM-DD (2026-12-25) or MM-DD (12-25)"
                ) from None
            return text
        return value

    @field_validator("hours")
    @classmethod
    def _shifts(cls, value: list[str]) -> list[str]:
        return _check_shifts(value)


class HoursTexts(_Strict):
    """What the customer is told when a handoff comes outside the team's hours."""

    open_now: str = Field(
        default="Nossa equipe está fora do horário de atendimento agora. {back} Já deixei seu "
        "pedido com eles, e a conversa segue daqui assim que voltarem.",
        description="outside_handoff: open_now. '{back}' is replaced by when the team is back "
        "(e.g. 'Nossa equipe volta segunda-feira às 08:00.').",
    )
    bot_until_open: str = Field(
        default="Nossa equipe está fora do horário de atendimento agora. {back} Já deixei seu "
        "pedido com eles. Enquanto isso, posso continuar te ajudando por aqui.",
        description="outside_handoff: bot_until_open; '{back}' as in open_now.",
    )

    @field_validator("open_now", "bot_until_open")
    @classmethod
    def _back(cls, text: str) -> str:
        if "{back}" not in text:
            raise ValueError(
                "write '{back}' where the customer is told when the team is back "
                "(e.g. 'Estamos fora do horário. {back}')"
            )
        return text


class BusinessHours(_Strict):
    """When the domain's people work: weekly shifts, holidays, the timezone."""

    timezone: str | None = Field(
        default=None,
        description="IANA timezone of the hours (e.g. America/Sao_Paulo); unset: the domain's.",
    )
    monday: Shifts = Field(default_factory=list)
    tuesday: Shifts = Field(default_factory=list)
    wednesday: Shifts = Field(default_factory=list)
    thursday: Shifts = Field(default_factory=list)
    friday: Shifts = Field(default_factory=list)
    saturday: Shifts = Field(default_factory=list)
    sunday: Shifts = Field(default_factory=list)
    holidays: list[Holiday] = Field(
        default_factory=list, description="Dates closed, or with special hours."
    )
    outside_handoff: Literal["open_now", "bot_until_open"] = Field(
        default="open_now",
        description="A handoff outside hours: open the conversation now (humans see it when "
        "they are back), or keep the bot answering and open it when the team is back.",
    )
    texts: HoursTexts = Field(default_factory=HoursTexts)

    @field_validator(*WEEKDAYS)
    @classmethod
    def _shifts(cls, value: list[str]) -> list[str]:
        return _check_shifts(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            check_timezone(value)
        return value

    @model_validator(mode="after")
    def _some_hours(self) -> BusinessHours:
        if not any(getattr(self, day) for day in WEEKDAYS):
            raise ValueError(
                "no shift on any day: give at least one weekday shifts such as "
                "monday: ['08:00-12:00', '14:00-18:00'] (or remove 'hours' for always open)"
            )
        seen: dict[str, int] = {}
        for index, holiday in enumerate(self.holidays):
            if holiday.date in seen:
                raise ValueError(
                    f"holiday {holiday.date} is listed twice (entries {seen[holiday.date]} "
                    f"and {index})"
                )
            seen[holiday.date] = index
        return self

    def week(self) -> tuple[list[str], ...]:
        """The shifts of each weekday, Monday first."""
        return tuple(getattr(self, day) for day in WEEKDAYS)


def check_timezone(name: str) -> str:
    """`name` if it is an IANA timezone known to zoneinfo; raises ValueError otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown timezone {name!r}: use an IANA name such as America/Sao_Paulo"
        ) from None
    return name


class ResolutionOptions(_Strict):
    """When the bot ends (resolves) a conversation by itself."""

    inactivity_hours: float | None = Field(
        default=None,
        gt=0,
        le=720,
        description="Resolve a conversation the bot answered and the customer left idle this "
        "many hours (never one a human holds); unset: never.",
    )
    closing_message: str = Field(
        default="",
        description="Sent before an idle conversation is resolved; empty: resolved silently.",
    )
