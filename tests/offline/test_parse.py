"""Reading what a customer's message says: contacts, order numbers, days, times, answers."""

from __future__ import annotations

from datetime import date, time

import pytest

from chatwootai.offline import parse

TUESDAY = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("text", "phones", "orders"),
    [
        ("meu telefone é +55 11 98765-4321", ["+5511987654321"], []),
        ("(11) 98765-4321", ["11987654321"], []),
        ("meu whats 98765-4321", ["987654321"], []),
        ("pedido BP-104587", [], ["BP-104587"]),
        ("cadê o pedido 104587?", [], ["104587"]),
        ("#10234", [], ["10234"]),
        ("104587", [], ["104587"]),
        ("pedido 12345678", [], ["12345678"]),  # after "pedido", an order number whatever its size
        ("VP-20261101", [], ["VP-20261101"]),
        ("CEP 13025-320", [], []),
        ("quero 2 de 500ml", [], []),
        ("custa R$ 119,90?", [], []),
        ("dia 03/12 às 15:00", [], []),
        ("pedido BP-104587, telefone (11) 98765-4321", ["11987654321"], ["BP-104587"]),
    ],
)
def test_phones_are_never_order_numbers(text: str, phones: list[str], orders: list[str]) -> None:
    assert parse.phones(text) == phones
    assert parse.order_ids(text) == orders


def test_emails_are_found_and_are_not_orders() -> None:
    text = "meu email é carla.mendes@example.com e o pedido #10234"
    assert parse.emails(text) == ["carla.mendes@example.com"]
    assert parse.order_ids(text) == ["10234"]


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("amanhã às 15h", date(2026, 12, 2)),
        ("amanha", date(2026, 12, 2)),
        ("depois de amanhã", date(2026, 12, 3)),
        ("hoje à tarde", TUESDAY),
        ("hj", TUESDAY),
        ("quinta às 15:00", date(2026, 12, 3)),
        ("sábado de manhã", date(2026, 12, 5)),
        ("terça-feira", TUESDAY),
        ("próxima terça", date(2026, 12, 8)),
        ("sexta que vem", date(2026, 12, 4)),
        ("03/12", date(2026, 12, 3)),
        ("3/12/2026", date(2026, 12, 3)),
        ("dia 12", date(2026, 12, 12)),
        ("3 de dezembro", date(2026, 12, 3)),
        ("dia 5 de janeiro", date(2027, 1, 5)),
        ("15/11", date(2027, 11, 15)),  # a date already past this year is next year's
    ],
)
def test_days_are_read_from_today(text: str, day: date) -> None:
    found = parse.parse_day(text, TUESDAY)
    assert found is not None and found.value == day


def test_segunda_dose_is_not_monday_and_next_week_is_a_start() -> None:
    assert parse.parse_day("quero a segunda dose da hepatite b", TUESDAY) is None
    week = parse.parse_day("tem vaga semana que vem?", TUESDAY)
    assert week is not None and week.value == date(2026, 12, 7) and not week.exact


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("às 15h", time(15, 0)),
        ("15h30", time(15, 30)),
        ("as 15:30", time(15, 30)),
        ("às 3 da tarde", time(15, 0)),
        ("às 3", time(15, 0)),  # in business hours, "3" is the afternoon
        ("10 da manhã", time(10, 0)),
        ("9 e meia", time(9, 30)),
        ("meio-dia", time(12, 0)),
        ("quero 15 min", None),
        ("24 horas de antecedência", None),
        ("em até 2 horas", None),
        ("depois das 17h", None),  # a preference, not a time
    ],
)
def test_times(text: str, at: time | None) -> None:
    assert parse.parse_time(text) == at


def test_periods() -> None:
    afternoon = parse.parse_period("amanhã à tarde")
    assert (
        afternoon is not None and afternoon.contains(time(14)) and not afternoon.contains(time(10))
    )
    after = parse.parse_period("depois das 17h")
    assert after is not None and after.start == time(17)
    before = parse.parse_period("antes das 10h")
    assert before is not None and before.end == time(10)
    assert parse.parse_period("quinta") is None


@pytest.mark.parametrize("text", ["sim", "pode sim!", "ok, pode marcar", "confirmo", "isso"])
def test_yes(text: str) -> None:
    assert parse.is_yes(text) and not parse.is_no(text)


@pytest.mark.parametrize("text", ["sim, quinta às 15h", "pode ser sexta?", "quero agendar"])
def test_details_are_not_a_plain_yes(text: str) -> None:
    assert not parse.is_yes(text)


def test_no_and_giving_up() -> None:
    assert parse.is_no("não, prefiro outro horário")
    assert parse.gives_up("deixa pra lá, depois eu vejo")
    assert parse.max_price("um perfume até 150 reais") == 150.0
    assert parse.max_price("menos de R$ 49,90") == 49.9
