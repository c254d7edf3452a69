"""How the offline model words its answers: short Portuguese, as on WhatsApp."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from chatwootai.offline.parse import WEEKDAY_NAMES

MORE_HELP = "Posso ajudar em algo mais?"


def day_label(day: date, today: date | None = None) -> str:
    """ "quinta 03/12", or "amanhã (quarta 02/12)" / "hoje (terça 01/12)"."""
    label = f"{WEEKDAY_NAMES[day.weekday()]} {day:%d/%m}"
    if today is not None and day == today:
        return f"hoje ({label})"
    if today is not None and (day - today).days == 1:
        return f"amanhã ({label})"
    return label


def when(moment: datetime, today: date | None = None) -> str:
    """ "quinta 03/12 às 15:00"."""
    return f"{day_label(moment.date(), today)} às {moment:%H:%M}"


def choices(items: Sequence[str], last: str = "ou") -> str:
    """ "a, b ou c"."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def times(starts: Sequence[datetime], limit: int = 3) -> str:
    """Up to `limit` start times, as "09:00, 09:30 ou 10:00"."""
    return choices([f"{s:%H:%M}" for s in starts[:limit]])


GREETING = "Olá! Como posso ajudar você hoje?"

THANKS = "Por nada! Se precisar de mais alguma coisa, é só chamar por aqui."

COMPLAINT = (
    "Sinto muito pelo transtorno. Vou chamar uma pessoa da nossa equipe para resolver isso com "
    "você o quanto antes."
)


def cannot(what: str) -> str:
    """The honest answer to a request the assistant cannot carry out."""
    return (
        f"Isso eu não consigo fazer por aqui: {what}. Vou chamar uma pessoa da nossa equipe "
        "para te ajudar com isso."
    )
