"""How the offline model words its answers: short Portuguese, as on WhatsApp."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from chatwootai.offline.parse import WEEKDAY_NAMES

MORE_HELP = "Posso ajudar em algo mais?"

CAPABILITIES = {
    "catalog": "informar preços e produtos",
    "knowledge": "tirar dúvidas",
    "orders": "consultar seus pedidos",
    "calendar": "agendar, remarcar ou cancelar horários",
}
"""What each kind of tool lets the assistant do, as told to a customer who says hello."""


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


def greeting(kinds: Sequence[str]) -> str:
    """A hello naming what this agent can do."""
    can = [CAPABILITIES[k] for k in ("catalog", "calendar", "orders", "knowledge") if k in kinds]
    if len(can) < 2:
        return "Olá! Como posso ajudar você hoje?"
    return f"Olá! Como posso ajudar você hoje? Por aqui eu consigo {choices(can, 'e')}."


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
