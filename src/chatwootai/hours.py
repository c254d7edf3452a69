"""Business hours as the service reads them: open at a moment, the next opening, and when the
team is back, said in the domain's language.

A :class:`Schedule` is built from a domain's ``hours:`` (:class:`BusinessHours`). Shifts are wall
clock times in the hours' timezone; every comparison is made between instants (UTC), so a turn
at 23:59 or 00:01, a shift ending at 24:00 and a daylight-saving change all count right. A
holiday's date (``YYYY-MM-DD``, or ``MM-DD`` every year) replaces that day's shifts: none, or its
special hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chatwootai.config.lifecycle import BusinessHours, shift_minutes
from chatwootai.config.schema import DomainConfig
from chatwootai.turn import TurnOutcome

OUT_OF_HOURS = "out_of_hours"
"""The reason code of a handoff made while the team is away."""

LOOKAHEAD_DAYS = 400
"""How far the next opening is looked for (a year of holidays cannot hide it)."""

Span = tuple[int, int]
"""A shift in minutes after midnight: (start, end); end may be 1440 (24:00)."""

_WEEKDAYS = {
    "pt": ("segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira",
           "sábado", "domingo"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}  # fmt: skip
_SHORT_PT = ("seg", "ter", "qua", "qui", "sex", "sáb", "dom")


def _lang(language: str) -> str:
    code = language.lower()[:2]
    return code if code in _WEEKDAYS else "pt"


@dataclass(frozen=True, slots=True)
class Schedule:
    """The weekly shifts and holidays of a domain, in its timezone."""

    zone: ZoneInfo
    week: tuple[tuple[Span, ...], ...]
    """Shifts of each weekday, Monday first."""
    holidays: dict[str, tuple[Span, ...]]
    """Date (``YYYY-MM-DD`` or ``MM-DD``) to that day's shifts (empty: closed)."""
    names: dict[str, str]
    """Date to the holiday's name."""
    language: str = "pt-BR"

    @classmethod
    def from_hours(cls, hours: BusinessHours, timezone: str, language: str) -> Schedule:
        """The schedule of validated `hours` (`timezone` when they name none)."""
        week = tuple(tuple(sorted(shift_minutes(s) for s in day)) for day in hours.week())
        return cls(
            zone=ZoneInfo(hours.timezone or timezone),
            week=week,
            holidays={
                h.date: tuple(sorted(shift_minutes(s) for s in h.hours)) for h in hours.holidays
            },
            names={h.date: h.name for h in hours.holidays if h.name},
            language=language,
        )

    @classmethod
    def of(cls, config: DomainConfig) -> Schedule | None:
        """The schedule of a domain; None when it has no hours (always open)."""
        if config.hours is None:
            return None
        return cls.from_hours(config.hours, config.timezone, config.language)

    def _holiday_key(self, day: date) -> str | None:
        for key in (day.isoformat(), day.strftime("%m-%d")):
            if key in self.holidays:
                return key
        return None

    def shifts_on(self, day: date) -> tuple[Span, ...]:
        """The shifts of a local date: its holiday's, else its weekday's."""
        key = self._holiday_key(day)
        return self.holidays[key] if key is not None else self.week[day.weekday()]

    def holiday(self, day: date) -> str | None:
        """The holiday name of a local date ("" for an unnamed one); None on an ordinary day."""
        key = self._holiday_key(day)
        return None if key is None else self.names.get(key, "")

    def _at(self, day: date, minute: int) -> datetime:
        """The instant of a local wall time (`minute` after midnight; 1440 is the next 00:00)."""
        day, minute = (day + timedelta(days=1), 0) if minute >= 24 * 60 else (day, minute)
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.zone)
        return local.astimezone(UTC)  # a wall time in a DST gap lands just after it

    def _periods(self, start: date, days: int) -> list[tuple[datetime, datetime]]:
        """Open periods (UTC instants) of `days` local dates from `start`, adjacent ones joined."""
        periods: list[tuple[datetime, datetime]] = []
        for offset in range(days):
            day = start + timedelta(days=offset)
            for begin, end in self.shifts_on(day):
                opened, closed = self._at(day, begin), self._at(day, end)
                if closed <= opened:
                    continue
                if periods and periods[-1][1] >= opened:
                    periods[-1] = (periods[-1][0], max(periods[-1][1], closed))
                else:
                    periods.append((opened, closed))
        return periods

    def local(self, moment: datetime | None = None) -> datetime:
        """`moment` (default: now) in the hours' timezone; a naive one is taken as local."""
        if moment is None:
            return datetime.now(self.zone)
        if moment.tzinfo is None:
            return moment.replace(tzinfo=self.zone)
        return moment.astimezone(self.zone)

    def period_at(self, moment: datetime | None = None) -> tuple[datetime, datetime] | None:
        """The open period (UTC) holding `moment`, or None when the team is away."""
        now = self.local(moment).astimezone(UTC)
        day = self.local(moment).date()
        for opened, closed in self._periods(day - timedelta(days=1), 3):
            if opened <= now < closed:
                return opened, closed
        return None

    def is_open(self, moment: datetime | None = None) -> bool:
        """Whether the team works at `moment` (default: now)."""
        return self.period_at(moment) is not None

    def next_opening(self, moment: datetime | None = None) -> datetime | None:
        """When the team is next at work, in local time: `moment` itself when open now; None
        when no shift comes in the next :data:`LOOKAHEAD_DAYS` days."""
        local = self.local(moment)
        if self.is_open(local):
            return local
        now = local.astimezone(UTC)
        for opened, _ in self._periods(local.date(), LOOKAHEAD_DAYS):
            if opened > now:
                return opened.astimezone(self.zone)
        return None

    def closes_at(self, moment: datetime | None = None) -> datetime | None:
        """When the current open period ends, in local time; None when closed."""
        period = self.period_at(moment)
        return None if period is None else period[1].astimezone(self.zone)

    def back_text(self, moment: datetime | None = None) -> str:
        """When the team is back, in the domain's language ("Nossa equipe volta segunda-feira às
        08:00.")."""
        local = self.local(moment)
        back = self.next_opening(local)
        lang = _lang(self.language)
        if back is None:
            return {
                "pt": "No momento não há previsão de retorno da nossa equipe.",
                "en": "Our team has no set time to be back yet.",
                "es": "Por ahora nuestro equipo no tiene fecha de regreso.",
            }[lang]
        return {
            "pt": "Nossa equipe volta {when}.",
            "en": "Our team is back {when}.",
            "es": "Nuestro equipo vuelve {when}.",
        }[lang].format(when=when_text(back, local, self.language))

    def status_line(self, moment: datetime | None = None) -> str:
        """A line for the agents' instructions: open or not now, and when the team is back."""
        local = self.local(moment)
        closes = self.closes_at(local)
        if closes is not None:
            return (
                f"Equipe humana: em expediente agora (até {closes:%H:%M}); uma transferência "
                "é atendida logo."
            )
        back = self.next_opening(local)
        when = when_text(back, local, "pt-BR") if back is not None else "sem previsão"
        return (
            f"Equipe humana: fora do horário agora; volta {when}. Uma transferência agora só é "
            "vista quando a equipe voltar: diga isso ao cliente."
        )

    def describe(self) -> str:
        """The weekly hours in short Portuguese (seg 08:00–12:00, 14:00–18:00; dom fechado)."""
        parts: list[str] = []
        for index, shifts in enumerate(self.week):
            hours = ", ".join(f"{_hm(a)}–{_hm(b)}" for a, b in shifts) or "fechado"
            parts.append(f"{_SHORT_PT[index]} {hours}")
        return "; ".join(parts)


def _hm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def when_text(moment: datetime, now: datetime, language: str = "pt-BR") -> str:
    """`moment` said from `now` (both local): "hoje às 14:00", "amanhã às 08:00", "segunda-feira
    às 08:00", or with the date beyond a week."""
    lang = _lang(language)
    days = (moment.date() - now.date()).days
    clock = f"{moment:%H:%M}"
    weekday = _WEEKDAYS[lang][moment.weekday()]
    if lang == "pt":
        if days == 0:
            return f"hoje às {clock}"
        if days == 1:
            return f"amanhã às {clock}"
        if days < 7:
            return f"{weekday} às {clock}"
        return f"{weekday}, {moment:%d/%m}, às {clock}"
    if lang == "es":
        if days == 0:
            return f"hoy a las {clock}"
        if days == 1:
            return f"mañana a las {clock}"
        if days < 7:
            return f"el {weekday} a las {clock}"
        return f"el {weekday} {moment:%d/%m} a las {clock}"
    if days == 0:
        return f"today at {clock}"
    if days == 1:
        return f"tomorrow at {clock}"
    if days < 7:
        return f"on {weekday} at {clock}"
    return f"on {weekday}, {moment:%b} {moment.day}, at {clock}"


def outside_text(config: DomainConfig, schedule: Schedule, moment: datetime | None) -> str:
    """What the customer is told by a handoff outside hours (the domain's text with '{back}')."""
    hours = config.hours
    if hours is None:
        return config.chatwoot.texts.handoff
    template: str = getattr(hours.texts, hours.outside_handoff)
    return template.replace("{back}", schedule.back_text(moment)).strip()


def outside_handoff(
    config: DomainConfig, outcome: TurnOutcome, moment: datetime | None
) -> TurnOutcome:
    """`outcome` as a handoff outside hours: the customer told when the team is back, the note
    saying so, and with ``bot_until_open`` the opening deferred. Unchanged when the turn hands
    nothing off, the domain has no hours, or the team is at work."""
    handoff = outcome.handoff
    schedule = Schedule.of(config)
    if handoff is None or schedule is None or config.hours is None:
        return outcome
    local = schedule.local(moment)
    if schedule.is_open(local):
        return outcome
    text = outside_text(config, schedule, local)
    reply = outcome.reply.strip()
    if not reply or reply == config.chatwoot.texts.handoff.strip():
        outcome.reply = text
    else:
        outcome.reply = f"{reply}\n\n{text}"
    back = schedule.next_opening(local)
    handoff.kind = OUT_OF_HOURS
    note = f"Recebido fora do horário ({local:%d/%m %H:%M}). {schedule.back_text(local)}"
    handoff.summary = f"{note}\n{handoff.summary}".strip()
    if config.hours.outside_handoff == "bot_until_open" and back is not None:
        handoff.opens_at = back.timestamp()
        handoff.summary += "\nO bot segue atendendo; a conversa é aberta para a equipe na volta."
    return outcome
