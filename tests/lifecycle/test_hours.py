"""Business hours: open at a moment, the next opening and the text saying when the team is back,
with split shifts, holidays, midnight (23:59 and 00:01), other timezones and DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from chatwootai.config.lifecycle import BusinessHours
from chatwootai.hours import Schedule, when_text

SP = ZoneInfo("America/Sao_Paulo")
WEEK = {
    "monday": ["08:00-12:00", "14:00-18:00"],
    "tuesday": ["08:00-12:00", "14:00-18:00"],
    "wednesday": ["08:00-12:00", "14:00-18:00"],
    "thursday": ["08:00-12:00", "14:00-18:00"],
    "friday": ["08:00-12:00", "14:00-18:00"],
    "saturday": ["09:00-13:00"],
}


def schedule(
    language: str = "pt-BR", timezone: str = "America/Sao_Paulo", **extra: object
) -> Schedule:
    hours = BusinessHours.model_validate({**WEEK, **extra})
    return Schedule.from_hours(hours, timezone, language)


def at(text: str, zone: ZoneInfo = SP) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


# 2026-12-07 is a Monday.


def test_split_shifts_are_open_inside_and_closed_at_lunch() -> None:
    s = schedule()
    assert s.is_open(at("2026-12-07T08:00"))
    assert s.is_open(at("2026-12-07T11:59"))
    assert not s.is_open(at("2026-12-07T12:00"))
    assert not s.is_open(at("2026-12-07T13:30"))
    assert s.is_open(at("2026-12-07T14:00"))
    assert not s.is_open(at("2026-12-07T18:00"))
    assert s.next_opening(at("2026-12-07T12:30")) == at("2026-12-07T14:00")
    assert s.back_text(at("2026-12-07T12:30")) == "Nossa equipe volta hoje às 14:00."
    assert s.closes_at(at("2026-12-07T09:00")) == at("2026-12-07T12:00")


def test_a_turn_at_23_59_and_at_00_01_are_both_closed_and_told_the_same_opening() -> None:
    s = schedule()
    before, after = at("2026-12-08T23:59"), at("2026-12-09T00:01")  # Tuesday night
    assert not s.is_open(before) and not s.is_open(after)
    assert s.next_opening(before) == s.next_opening(after) == at("2026-12-09T08:00")
    assert s.back_text(before) == "Nossa equipe volta amanhã às 08:00."
    assert s.back_text(after) == "Nossa equipe volta hoje às 08:00."


def test_saturday_evening_waits_for_monday() -> None:
    s = schedule()
    assert s.next_opening(at("2026-12-12T13:00")) == at("2026-12-14T08:00")
    assert s.back_text(at("2026-12-12T20:00")) == "Nossa equipe volta segunda-feira às 08:00."
    assert s.back_text(at("2026-12-13T23:59")) == "Nossa equipe volta amanhã às 08:00."


def test_a_shift_to_midnight_joins_the_next_days_shift_from_midnight() -> None:
    s = schedule(friday=["18:00-24:00"], saturday=["00:00-02:00"])
    assert s.is_open(at("2026-12-11T23:59"))
    assert s.is_open(at("2026-12-12T00:01"))
    assert s.closes_at(at("2026-12-11T23:59")) == at("2026-12-12T02:00")
    assert not s.is_open(at("2026-12-12T02:00"))


def test_holidays_close_a_day_or_give_it_special_hours() -> None:
    s = schedule(
        holidays=[
            {"date": "2026-12-25", "name": "Natal"},
            {"date": "12-24", "name": "Véspera de Natal", "hours": ["08:00-12:00"]},
            {"date": "2026-12-28"},
        ]
    )
    assert not s.is_open(at("2026-12-25T10:00"))  # a Friday
    assert s.holiday(at("2026-12-25T10:00").date()) == "Natal"
    assert s.is_open(at("2026-12-24T09:00")) and not s.is_open(at("2026-12-24T15:00"))
    assert s.is_open(at("2027-12-24T09:00"))  # MM-DD holds every year
    # Thursday 24th afternoon: Friday 25 (holiday) → Saturday 26 at 09:00
    assert s.next_opening(at("2026-12-24T15:00")) == at("2026-12-26T09:00")
    # Saturday after hours: Sunday closed, Monday 28 a holiday → Tuesday 29
    assert s.next_opening(at("2026-12-26T14:00")) == at("2026-12-29T08:00")
    assert s.back_text(at("2026-12-26T14:00")) == "Nossa equipe volta terça-feira às 08:00."


def test_a_far_opening_gives_the_date() -> None:
    s = schedule(holidays=[{"date": f"2026-12-{d:02d}"} for d in range(14, 31)])
    assert s.back_text(at("2026-12-12T20:00")) == (
        "Nossa equipe volta quinta-feira, 31/12, às 08:00."
    )


def test_the_moment_of_another_timezone_is_read_in_the_hours_timezone() -> None:
    s = schedule()
    lisbon = ZoneInfo("Europe/Lisbon")  # 3 h ahead of São Paulo in December
    assert s.is_open(at("2026-12-07T11:30", lisbon))  # 08:30 in São Paulo
    assert not s.is_open(at("2026-12-07T10:30", lisbon))  # 07:30
    assert s.next_opening(at("2026-12-07T10:30", lisbon)) == at("2026-12-07T08:00")
    assert s.is_open(datetime(2026, 12, 7, 11, 30, tzinfo=UTC))  # 08:30 in São Paulo


def test_hours_in_their_own_timezone() -> None:
    hours = BusinessHours.model_validate({**WEEK, "timezone": "Europe/Lisbon"})
    s = Schedule.from_hours(hours, "America/Sao_Paulo", "en")
    lisbon = ZoneInfo("Europe/Lisbon")
    assert s.zone == lisbon
    assert s.is_open(at("2026-12-07T08:30", lisbon))
    assert not s.is_open(at("2026-12-07T07:30", lisbon))
    assert not s.is_open(at("2026-12-07T15:30"))  # 18:30 in Lisbon
    assert s.is_open(at("2026-12-07T05:30"))  # 08:30 in Lisbon
    assert s.back_text(at("2026-12-07T19:00", lisbon)) == "Our team is back tomorrow at 08:00."


def test_daylight_saving_changes_keep_the_wall_clock() -> None:
    s = schedule(timezone="America/New_York", sunday=["00:00-24:00"], saturday=["09:00-13:00"])
    ny = ZoneInfo("America/New_York")
    # 2026-03-08: clocks go from 02:00 to 03:00; Sunday is open all day, Monday at 08:00
    assert s.is_open(at("2026-03-08T01:59", ny)) and s.is_open(at("2026-03-08T03:01", ny))
    opening = s.next_opening(at("2026-03-07T20:00", ny))
    assert opening is not None and opening.astimezone(UTC) == datetime(2026, 3, 8, 5, tzinfo=UTC)
    # 2026-11-01: clocks go from 02:00 back to 01:00; Monday 08:00 is 13:00 UTC again
    monday = s.next_opening(at("2026-11-01T23:59", ny) + timedelta(minutes=1))
    assert monday is not None and monday.astimezone(UTC) == datetime(2026, 11, 2, 13, tzinfo=UTC)


def test_a_shift_starting_in_a_dst_gap_opens_when_the_clock_resumes() -> None:
    ny = ZoneInfo("America/New_York")
    s = schedule(timezone="America/New_York", sunday=["02:30-05:00"])
    opening = s.next_opening(at("2026-03-08T01:00", ny))
    assert opening is not None and opening.astimezone(UTC) == datetime(
        2026, 3, 8, 7, 30, tzinfo=UTC
    )
    assert s.is_open(at("2026-03-08T03:30", ny))


def test_texts_in_english_and_spanish() -> None:
    now = at("2026-12-12T20:00")
    assert when_text(at("2026-12-14T08:00"), now, "en") == "on Monday at 08:00"
    assert when_text(at("2026-12-14T08:00"), now, "es-ES") == "el lunes a las 08:00"
    assert when_text(at("2026-12-13T08:00"), now, "es") == "mañana a las 08:00"
    assert schedule("es").back_text(now) == "Nuestro equipo vuelve el lunes a las 08:00."


def test_status_line_for_the_agents() -> None:
    s = schedule()
    assert "em expediente agora (até 12:00)" in s.status_line(at("2026-12-07T09:00"))
    assert "fora do horário agora; volta segunda-feira às 08:00" in s.status_line(
        at("2026-12-12T20:00")
    )
    assert s.describe().startswith("seg 08:00–12:00, 14:00–18:00; ter")
    assert s.describe().endswith("sáb 09:00–13:00; dom fechado")


def test_a_naive_moment_is_local_time() -> None:
    assert schedule().is_open(datetime(2026, 12, 7, 9, 0))


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (["8:00-12:00"], "is not a shift"),
        (["12:00-08:00"], "ends before it starts"),
        (["22:00-02:00"], "ends before it starts"),
        (["08:00-12:00", "11:00-14:00"], "overlap"),
        (["24:00-24:00"], "is not a shift"),
    ],
)
def test_bad_shifts_are_refused(day: list[str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        BusinessHours.model_validate({"monday": day})


def test_bad_holidays_timezones_and_empty_weeks_are_refused() -> None:
    with pytest.raises(ValidationError, match="is not a date"):
        BusinessHours.model_validate({"monday": ["08:00-12:00"], "holidays": [{"date": "25/12"}]})
    with pytest.raises(ValidationError, match="listed twice"):
        BusinessHours.model_validate(
            {"monday": ["08:00-12:00"], "holidays": [{"date": "12-25"}, {"date": "12-25"}]}
        )
    with pytest.raises(ValidationError, match="unknown timezone"):
        BusinessHours.model_validate({"monday": ["08:00-12:00"], "timezone": "Brazil/Sao Paulo"})
    with pytest.raises(ValidationError, match="no shift on any day"):
        BusinessHours.model_validate({"holidays": []})


def test_who_holds_a_conversation_chatwoot_shows() -> None:
    from chatwootai.service.lifecycle import human_holds

    assert not human_holds({"status": "pending", "meta": {}})
    assert human_holds({"status": "open", "meta": {}})
    assert human_holds({"status": "pending", "meta": {"assignee": {"id": 1, "type": "user"}}})
    assert human_holds({"status": "pending", "meta": {"assignee_type": "User"}})
    assert not human_holds({"status": "open", "meta": {"assignee_type": "AgentBot"}})
    assert not human_holds({"status": "open", "meta": {"assignee": {"type": "agent_bot"}}})
    assert human_holds({"status": "snoozed", "meta": {"assignee_type": "AgentBot"}})
