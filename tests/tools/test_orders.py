"""The orders tool: status for the contact who placed the order, nothing for anyone else."""

from __future__ import annotations

from typing import Any

import pytest

from chatwootai.config.schema import DomainConfig
from chatwootai.store.base import Store
from chatwootai.tools.orders import OrdersArgs, OrdersTool, phones_match
from chatwootai.tools.registry import ToolRegistry


@pytest.fixture
def orders(config: DomainConfig, store: Store) -> OrdersTool:
    tool = ToolRegistry.build(config, store)["pedidos"]
    assert isinstance(tool, OrdersTool)
    return tool


def test_phones_match_on_digits_and_tail() -> None:
    assert phones_match("+55 (11) 98765-4321", "11987654321")
    assert phones_match("+55 (11) 98765-4321", "987654321")
    assert phones_match("+55 (11) 98765-4321", "+55 21 98765-4321") is False
    assert phones_match("+55 (11) 98765-4321", "+55 11 91111-2222") is False
    assert phones_match("1234", "11987654321") is None  # too short to tell


@pytest.mark.parametrize(
    "contact",
    [
        {"contact_phone": "+5511987654321", "channel": "whatsapp"},
        {"contact_phone": "(11) 98765-4321", "channel": "sms"},
        {"contact_phone": "(11) 98765-4321", "channel": "twiliosms"},
        {"contact_email": "ANA@example.com ", "channel": "email"},
        {"contact_phone": "+5511987654321", "channel": "webwidget", "identity_verified": True},
        {"contact_email": "ana@example.com", "channel": "api", "identity_verified": True},
    ],
)
async def test_owner_sees_the_details(orders: OrdersTool, make_ctx: Any, contact: Any) -> None:
    result = await orders.run(make_ctx("atendente", **contact), OrdersArgs(order_id="#1001"))
    assert result.found
    assert "enviado" in result.text
    assert "BR123456789" in result.text
    assert result.data["tracking_code"] == "BR123456789"
    assert result.data["items"][0]["quantity"] == 2
    assert "98765" not in str(result.data)  # the customer's phone is never returned


@pytest.mark.parametrize(
    "contact",
    [
        {"contact_phone": "+55 21 99999-0000", "channel": "whatsapp"},
        {"contact_email": "mallory@example.com", "channel": "email"},
        {
            "contact_phone": "+55 21 99999-0000",
            "contact_email": "mallory@example.com",
            "identity_verified": True,
        },
    ],
)
async def test_another_contact_learns_nothing(
    orders: OrdersTool, make_ctx: Any, contact: Any
) -> None:
    result = await orders.run(make_ctx("atendente", **contact), OrdersArgs(order_id="1001"))
    assert not result.found
    assert "Não é possível confirmar" in result.text
    assert "atendente humano" in result.text
    for secret in ("enviado", "BR123456789", "Protetor", "05/03"):
        assert secret not in result.text
        assert secret not in str(result.data)


async def test_unidentified_contact_gets_status_only(orders: OrdersTool, make_ctx: Any) -> None:
    result = await orders.run(make_ctx("atendente"), OrdersArgs(order_id="1001"))
    assert result.found
    assert "enviado" in result.text
    assert "BR123456789" not in result.text
    assert "items" not in result.data


async def test_order_without_owner_is_public(orders: OrdersTool, make_ctx: Any) -> None:
    ctx = make_ctx("atendente", contact_phone="+55 21 99999-0000")
    result = await orders.run(ctx, OrdersArgs(order_id="1002"))
    assert result.found
    assert "em separação" in result.text


async def test_unknown_order(orders: OrdersTool, make_ctx: Any) -> None:
    result = await orders.run(make_ctx("atendente"), OrdersArgs(order_id="9999"))
    assert not result.found
    assert "9999" in result.text


async def test_without_number_lists_the_contacts_orders(orders: OrdersTool, make_ctx: Any) -> None:
    mine = await orders.run(
        make_ctx("atendente", contact_phone="11987654321", channel="whatsapp"), OrdersArgs()
    )
    assert [o["order_id"] for o in mine.data] == ["1001"]
    stranger = await orders.run(
        make_ctx("atendente", contact_phone="21999990000", channel="whatsapp"), OrdersArgs()
    )
    assert not stranger.found
    assert stranger.data == []


@pytest.mark.parametrize(
    "contact",
    [
        {"contact_phone": "+5511987654321", "channel": "webwidget"},
        {"contact_phone": "+5511987654321", "channel": "api"},
        {"contact_phone": "+5511987654321", "channel": "email"},  # a phone typed in a form
        {"contact_email": "ana@example.com", "channel": "webwidget"},
        {"contact_email": "ana@example.com", "channel": "whatsapp"},  # an e-mail typed in chat
        {"contact_email": "ana@example.com", "channel": "telegram"},
    ],
)
async def test_a_claimed_phone_or_email_gets_status_only(
    orders: OrdersTool, make_ctx: Any, contact: Any
) -> None:
    ctx = make_ctx("atendente", **contact)
    result = await orders.run(ctx, OrdersArgs(order_id="1001"))
    assert result.found and "enviado" in result.text  # status and ETA, as for an unknown contact
    assert "BR123456789" not in result.text
    assert "items" not in result.data and result.data["verified"] is False
    listed = await orders.run(ctx, OrdersArgs())
    assert not listed.found and listed.data == []


@pytest.mark.parametrize("channel", ["webwidget", "api"])
async def test_a_claimed_phone_of_another_is_not_refused_but_unknown(
    orders: OrdersTool, make_ctx: Any, channel: str
) -> None:
    ctx = make_ctx("atendente", contact_phone="+55 21 99999-0000", channel=channel)
    result = await orders.run(ctx, OrdersArgs(order_id="1001"))
    assert result.found and "BR123456789" not in result.text
