"""A phone or e-mail the customer types: proof with an order number, never a lookup of others."""

from __future__ import annotations

from typing import Any

import pytest

from chatwootai.config.schema import DomainConfig
from chatwootai.store.base import Store
from chatwootai.tools.orders import OrdersArgs, OrdersTool
from chatwootai.tools.registry import ToolRegistry


@pytest.fixture
def orders(config: DomainConfig, store: Store) -> OrdersTool:
    tool = ToolRegistry.build(config, store)["pedidos"]
    assert isinstance(tool, OrdersTool)
    return tool


async def test_order_number_and_typed_phone_prove_ownership_on_any_channel(
    orders: OrdersTool, make_ctx: Any
) -> None:
    widget = make_ctx("atendente", channel="webwidget")
    alone = await orders.run(widget, OrdersArgs(order_id="1001"))
    assert alone.found and not alone.data["verified"]  # status only
    proven = await orders.run(widget, OrdersArgs(order_id="1001", phone="11 98765-4321"))
    assert proven.data["verified"] and "BR123456789" in proven.text
    by_mail = await orders.run(widget, OrdersArgs(order_id="1001", email="ANA@example.com"))
    assert by_mail.data["verified"]
    wrong = await orders.run(widget, OrdersArgs(order_id="1001", phone="+55 21 99999-0000"))
    assert not wrong.found and wrong.data == {"order_id": "1001", "verified": False}


async def test_a_typed_phone_alone_lists_only_the_conversations_own_orders(
    orders: OrdersTool, make_ctx: Any
) -> None:
    widget = make_ctx("atendente", channel="webwidget")
    refused = await orders.run(widget, OrdersArgs(phone="+55 11 98765-4321"))
    assert not refused.found and refused.data == {"needs": "order_id"}
    assert "1001" not in refused.text
    whatsapp = make_ctx("atendente", channel="whatsapp", contact_phone="+5511987654321")
    own = await orders.run(whatsapp, OrdersArgs(phone="(11) 98765-4321"))
    assert own.found and own.data[0]["order_id"] == "1001"


async def test_an_order_number_without_its_prefix(orders: OrdersTool, make_ctx: Any) -> None:
    # "1001" is also found as "#1001"; digits alone find a prefixed number when only one matches
    result = await orders.run(make_ctx("atendente"), OrdersArgs(order_id="#1002"))
    assert result.found and "em separação" in result.text
