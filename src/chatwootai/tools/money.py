"""Prices as customers in Brazil read them."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def format_money(value: Decimal | float | int, currency: str = "BRL") -> str:
    """`value` formatted for Brazil: "R$ 1.234,50" for BRL, else "USD 1.234,50"."""
    amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{amount:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    symbol = "R$" if currency.upper() == "BRL" else currency.upper()
    return f"{symbol} {text}"
