"""What a customer's message says, read deterministically: contacts, order numbers, days, times.

Messages are read as Brazilians write them on WhatsApp: "amanhã", "quinta", "dia 12", "03/12",
"15h", "às 3 da tarde", "+55 11 98765-4321". Phones, e-mails, CEPs, dates, times and prices are
recognised before order numbers, so none of them is ever taken for an order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta

from chatwootai.text import fold

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CEP = re.compile(r"\b\d{5}-\d{3}\b")
_DATE_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b")
_CLOCK = re.compile(r"\b(\d{1,2}):(\d{2})\b")
_MONEY = re.compile(r"r\$\s*\d[\d.,]*", re.I)
_PREFIXED_ORDER = re.compile(r"(?<![\w-])#?([A-Za-z]{1,4}-\d{3,}|[A-Z]{2,4}\d{3,})(?![\w-])")
_NUMBER_RUN = re.compile(r"(?<![\w@])\+?\(?\d[\d\s().-]*\d(?![\w@])|(?<![\w@])\d(?![\w@])")
_ORDER_WORDS = (
    r"(?:pedido|encomenda|compra|protocolo|n[ºo°]\.?|numero|número|#)"
    r"(?:\s+(?:n[ºo°]\.?|numero|número|de numero|de número|do pedido))?"
)
_ORDER_AFTER_WORD = re.compile(_ORDER_WORDS + r"\s*[:#]?\s*(\d{3,12})\b", re.I)
_PHONE_WORDS = re.compile(r"\b(telefone|tel|fone|celular|cel|whats|whatsapp|zap|contato)\b")


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of `text` as a set (for word lists written as text)."""
    return frozenset(text.split())


def emails(text: str) -> list[str]:
    """E-mail addresses in `text`."""
    return _EMAIL.findall(text)


def _blank(text: str, pattern: re.Pattern[str]) -> str:
    return pattern.sub(lambda m: " " * len(m.group(0)), text)


def _without_non_orders(text: str) -> str:
    """`text` with e-mails, CEPs, dates, times and prices blanked (same length)."""
    clean = _blank(_blank(_blank(text, _EMAIL), _CEP), _DATE_NUMERIC)
    return _blank(_blank(clean, _CLOCK), _MONEY)


def _phone_spans(text: str) -> list[tuple[int, int, str]]:
    """Where phones are in `text` (start, end) and each phone's digits (with + when written)."""
    clean = _without_non_orders(text)
    found: list[tuple[int, int, str]] = []
    for match in _NUMBER_RUN.finditer(clean):
        raw = match.group(0).strip()
        digits = re.sub(r"\D", "", raw)
        if not 8 <= len(digits) <= 13:
            continue
        before = clean[: match.start()]
        if re.search(_ORDER_WORDS + r"\s*[:#]?\s*$", before, re.I):
            continue  # "pedido 12345678" is an order number
        grouped = re.fullmatch(r"\d{4,5}[\s.-]\d{4}", raw) is not None
        worded = _PHONE_WORDS.search(fold(before)[-30:]) is not None
        if len(digits) >= 10 or raw.startswith(("+", "(")) or grouped or worded:
            number = ("+" if raw.startswith("+") else "") + digits
            found.append((match.start(), match.end(), number))
    return found


def phones(text: str) -> list[str]:
    """Phone numbers in `text` (digits, with a leading + when written), never order numbers.

    A run of digits is a phone when it has 10 or more digits, starts with + or (, is written
    as 4+4 or 5+4 digits, or follows a word such as "telefone" or "whats"; a number right
    after "pedido", "#" or "nº" is an order number whatever its shape.
    """
    return [number for _, _, number in _phone_spans(text)]


def order_ids(text: str) -> list[str]:
    """Order numbers in `text`: "BP-104587", "#1234", "pedido 10234", or a message that is one.

    Phones, e-mails, CEPs, dates, times, prices and quantities ("500ml") are never order numbers.
    """
    clean = _without_non_orders(text)
    for start, end, _ in _phone_spans(text):
        clean = clean[:start] + " " * (end - start) + clean[end:]
    found = [m.group(1) for m in _PREFIXED_ORDER.finditer(clean)]
    found += [m.group(1) for m in _ORDER_AFTER_WORD.finditer(clean)]
    alone = re.fullmatch(r"\s*#?\s*(\d{3,12})\s*[.!?]?\s*", clean)
    if alone:
        found.append(alone.group(1))
    return list(dict.fromkeys(found))


# -- days -----------------------------------------------------------------------------------------

WEEKDAY_NAMES = ("segunda", "terça", "quarta", "quinta", "sexta", "sábado", "domingo")
"""Weekday names, Monday first (as `date.weekday()` counts)."""

_WEEKDAYS = {
    "segunda": 0,
    "seg": 0,
    "terca": 1,
    "quarta": 2,
    "qua": 2,
    "quinta": 3,
    "qui": 3,
    "sexta": 4,
    "sex": 4,
    "sabado": 5,
    "sab": 5,
    "domingo": 6,
    "dom": 6,
}
_WEEKDAY = re.compile(
    r"\b(?P<next>proxim[oa]\s+)?(?P<day>segunda|terca|quarta|quinta|sexta|sabado|domingo"
    r"|seg|qua|qui|sex|sab|dom)(?:[\s-]*feira)?(?P<after>\s+(?:que vem|da semana que vem))?\b"
    r"(?!\s+(?:dose|vez|via|opcao|parcela|etapa))"
)
_MONTHS = {
    "janeiro": 1,
    "jan": 1,
    "fevereiro": 2,
    "fev": 2,
    "marco": 3,
    "mar": 3,
    "abril": 4,
    "abr": 4,
    "maio": 5,
    "mai": 5,
    "junho": 6,
    "jun": 6,
    "julho": 7,
    "jul": 7,
    "agosto": 8,
    "ago": 8,
    "setembro": 9,
    "set": 9,
    "outubro": 10,
    "out": 10,
    "novembro": 11,
    "nov": 11,
    "dezembro": 12,
    "dez": 12,
}
_DAY_OF_MONTH = re.compile(
    r"\bdia\s+(\d{1,2})(?:\s+de\s+(" + "|".join(_MONTHS) + r"))?\b"
    r"|\b(\d{1,2})\s+de\s+(" + "|".join(_MONTHS) + r")\b"
)


@dataclass(frozen=True, slots=True)
class Day:
    """A day the customer named: `exact` ("quinta"), or only where to start looking."""

    value: date
    exact: bool = True


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _upcoming(today: date, month: int, day: int, year: int | None = None) -> date | None:
    if year is not None:
        return _safe_date(year if year > 100 else 2000 + year, month, day)
    found = _safe_date(today.year, month, day)
    if found is not None and found < today:
        found = _safe_date(today.year + 1, month, day)
    return found


def parse_day(text: str, today: date) -> Day | None:
    """The day `text` names, relative to `today`, or None."""
    folded = fold(text)
    if re.search(r"\bdepois de amanh[aã]\b", folded):
        return Day(today + timedelta(days=2))
    if re.search(r"\b(amanha|amanhã|amnh|amanh)\b", folded):
        return Day(today + timedelta(days=1))
    if re.search(r"\b(hoje|hj)\b", folded):
        return Day(today)
    numeric = _DATE_NUMERIC.search(folded)
    if numeric:
        year = int(numeric.group(3)) if numeric.group(3) else None
        found = _upcoming(today, int(numeric.group(2)), int(numeric.group(1)), year)
        if found is not None:
            return Day(found)
    named = _DAY_OF_MONTH.search(folded)
    if named:
        day = int(named.group(1) or named.group(3))
        month_name = named.group(2) or named.group(4)
        if month_name:
            found = _upcoming(today, _MONTHS[month_name], day)
        else:
            found = _safe_date(today.year, today.month, day)
            if found is None or found < today:
                following = today.replace(day=1) + timedelta(days=32)
                found = _safe_date(following.year, following.month, day)
        if found is not None:
            return Day(found)
    weekday = _WEEKDAY.search(folded)
    if weekday:
        wanted = _WEEKDAYS[weekday.group("day")]
        ahead = (wanted - today.weekday()) % 7
        if ahead == 0 and (weekday.group("next") or weekday.group("after")):
            ahead = 7
        return Day(today + timedelta(days=ahead))
    if re.search(r"\b(semana que vem|proxima semana)\b", folded):
        return Day(today + timedelta(days=7 - today.weekday()), exact=False)
    if re.search(r"\b(fim de semana|final de semana|fds)\b", folded):
        return Day(today + timedelta(days=(5 - today.weekday()) % 7))
    return None


# -- times ----------------------------------------------------------------------------------------

_BOUND = re.compile(
    r"\b(?P<kind>depois d[ao]s?|a partir d[ao]s?|apos as|antes d[ao]s?|ate as)\s+"
    r"(?P<hour>\d{1,2})(?:\s*(?:h|hs|hrs|horas)?\s*:?\s*(?P<minute>\d{2}))?\s*(?:h|hs|hrs|horas)?"
)
_HOUR_WORDS = (
    r"\b(?P<hour>\d{1,2})\s*(?:h|hs|hrs)(?:\s*(?P<minute>\d{2}))?(?!\w)",
    r"\b(?P<hour>\d{1,2}):(?P<minute>\d{2})\b",
    r"\b(?:as|a|pras|para as|pelas|umas|la pelas|lá pelas)\s+(?P<hour>\d{1,2})"
    r"(?:\s+e\s+(?P<half>meia))?\b(?!\s*(?:/|dias|dia|min|minutos|anos|vezes|x\b|reais|%))",
    r"\b(?P<hour>\d{1,2})\s+e\s+(?P<half>meia)\b",
    r"\b(?P<hour>\d{1,2})(?=\s+d[ae]\s+(?:manha|tarde|noite)\b)",
)
_PERIOD_OF_HOUR = re.compile(r"^\s*(?:e meia\s+)?d[ae]\s+(manha|tarde|noite)")


def parse_time(text: str) -> time | None:
    """The time of day `text` names ("15h", "às 15:30", "3 da tarde", "meio-dia"), or None."""
    folded = fold(_blank(text, _DATE_NUMERIC))
    folded = _BOUND.sub(lambda m: " " * len(m.group(0)), folded)
    if re.search(r"\bmeio[\s-]?dia\b", folded):
        return time(12, 0)
    for pattern in _HOUR_WORDS:
        match = re.search(pattern, folded)
        if not match:
            continue
        hour = int(match.group("hour"))
        minute = int(match.groupdict().get("minute") or 0)
        if match.groupdict().get("half"):
            minute = 30
        rest = folded[match.end() :]
        if re.match(r"\s+e\s+meia\b", rest):
            minute = 30
        period = _PERIOD_OF_HOUR.match(re.sub(r"^\s+e\s+meia", "", rest))
        if period and period.group(1) in ("tarde", "noite") and hour < 12:
            hour += 12
        elif not period and 1 <= hour <= 6 and "manha" not in folded:
            hour += 12  # "às 3" in business hours is 15:00
        if 0 <= hour <= 23 and 0 <= minute <= 59:
            return time(hour, minute)
    return None


@dataclass(frozen=True, slots=True)
class Period:
    """A part of the day the customer prefers: from `start` (inclusive) to `end` (exclusive)."""

    start: time
    end: time
    label: str

    def contains(self, moment: time) -> bool:
        """True when `moment` falls in the period."""
        return self.start <= moment < self.end


_GREETINGS = re.compile(r"\b(bom dia|boa tarde|boa noite)\b")


def parse_period(text: str) -> Period | None:
    """The part of the day `text` prefers ("de manhã", "à tarde", "depois das 17h"), or None.

    Greetings ("boa tarde") are not preferences.
    """
    folded = _GREETINGS.sub(" ", fold(text))
    bound = _BOUND.search(folded)
    if bound:
        at = time(min(int(bound.group("hour")), 23), int(bound.group("minute") or 0))
        if bound.group("kind").startswith(("antes", "ate")):
            return Period(time(0, 0), at, f"antes das {at:%H:%M}")
        return Period(at, time(23, 59), f"a partir das {at:%H:%M}")
    if re.search(r"\b(manha|cedo|cedinho)\b", folded):
        return Period(time(0, 0), time(12, 0), "de manhã")
    if re.search(r"\btarde\b", folded):
        return Period(time(12, 0), time(18, 0), "à tarde")
    if re.search(r"\bnoite\b", folded):
        return Period(time(18, 0), time(23, 59), "à noite")
    return None


# -- answers --------------------------------------------------------------------------------------

_YES = re.compile(
    r"^(?:(?:sim|s|ss|pode|podes|confirmo|confirma|confirmado|confirmar|isso|ok|okay|blz|beleza"
    r"|fechado|perfeito|certo|claro|combinado|positivo|bora|otimo|show|quero|pode ser|pode sim"
    r"|isso mesmo|sim por favor|sim pfv|sim pf|por favor|pfv|pode confirmar|pode marcar"
    r"|pode agendar|pode cancelar|pode remarcar|manda ver|com certeza|uhum|aham|isso ai)"
    r"[\s,.!]*)+$"
)
_NO = re.compile(
    r"^(?:nao|n|negativo|nope|nem|prefiro nao|melhor nao)\b|\b(?:prefiro outr[oa]|outro horario"
    r"|outro dia|nao posso|nao da|nao consigo|melhor outr[oa])\b"
)
_END = re.compile(
    r"\b(deixa pra la|deixa quieto|desisto|esquece|nao quero mais|deixa pra depois|outra hora"
    r"|depois eu vejo|depois eu marco|vou pensar)\b"
)


_AGREEING_EMOJI = ("👍", "👌", "✅", "🙏")


def is_yes(text: str) -> bool:
    """True when `text` is only an agreement ("sim", "pode", "ok, pode marcar", "👍")."""
    if text.strip() and all(
        any(part.startswith(e) for e in _AGREEING_EMOJI) for part in text.split()
    ):
        return True
    folded = re.sub(r"[^\w\s,.!]", " ", fold(text)).strip()
    return bool(folded) and _YES.match(folded) is not None


def is_no(text: str) -> bool:
    """True when `text` declines ("não", "prefiro outro horário")."""
    return _NO.search(fold(text)) is not None


def gives_up(text: str) -> bool:
    """True when the customer drops what was being arranged ("deixa pra lá", "desisto")."""
    return _END.search(fold(text)) is not None


# -- prices ---------------------------------------------------------------------------------------

_MAX_PRICE = re.compile(
    r"\b(?:ate|abaixo de|menos de|no maximo|max(?:imo)?|por ate)\s*r?\$?\s*(\d+(?:[.,]\d{1,2})?)"
)


def max_price(text: str) -> float | None:
    """The most the customer wants to pay ("até R$ 100", "menos de 50 reais"), or None."""
    match = _MAX_PRICE.search(fold(text))
    if not match:
        return None
    return float(match.group(1).replace(",", "."))
