"""The orders tool: an order's status, revealed only to the contact who placed it.

Who the contact is comes from the conversation (a phone or e-mail the channel or the business
vouches for, see :func:`trusted_phone`). A phone or e-mail the customer types in the message is a
claim: given with an order number it proves ownership when it matches that order's (the customer
knows both); alone, it lists orders only when it is the conversation's own trusted contact.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from chatwootai.config.data import Order
from chatwootai.config.schema import OrdersSettings
from chatwootai.store.base import Store
from chatwootai.tools.base import Tool, ToolContext, ToolResult
from chatwootai.tools.money import format_money

MIN_PHONE_DIGITS = 8
"""Phones are compared on their last digits, at least this many."""

PHONE_CHANNELS = frozenset({"whatsapp", "sms", "twiliosms"})
"""Channels whose contact phone is the number the message came from, not one typed by a visitor."""

EMAIL_CHANNELS = frozenset({"email"})
"""Channels whose contact e-mail is the address the message came from."""

Ownership = Literal["owner", "other", "unknown"]

_NON_DIGIT = re.compile(r"\D")


class OrdersArgs(BaseModel):
    """Arguments of an order lookup."""

    model_config = ConfigDict(extra="forbid")

    order_id: str = Field(
        default="",
        max_length=40,
        description="Número do pedido informado pelo cliente (ex.: 1234 ou #1234). "
        "Vazio lista os pedidos do contato desta conversa.",
    )
    phone: str = Field(
        default="",
        max_length=40,
        description="Telefone do cadastro que o cliente digitou na conversa, se digitou "
        "(nunca um número de pedido).",
    )
    email: str = Field(
        default="",
        max_length=254,
        description="E-mail do cadastro que o cliente digitou na conversa, se digitou.",
    )


def phones_match(a: str, b: str) -> bool | None:
    """True/False when both phones have 8+ digits and their common tail matches; else None."""
    da, db = _NON_DIGIT.sub("", a), _NON_DIGIT.sub("", b)
    n = min(len(da), len(db))
    if n < MIN_PHONE_DIGITS:
        return None
    return da[-n:] == db[-n:]


def trusted_phone(ctx: ToolContext) -> str | None:
    """The contact's phone when the channel or the business vouches for it, else None.

    On a web widget or API channel the visitor types it: anyone could claim anyone's number.
    """
    if ctx.identity_verified or ctx.channel in PHONE_CHANNELS:
        return ctx.contact_phone
    return None


def trusted_email(ctx: ToolContext) -> str | None:
    """The contact's e-mail when the channel or the business vouches for it, else None."""
    if ctx.identity_verified or ctx.channel in EMAIL_CHANNELS:
        return ctx.contact_email
    return None


def same_email(a: str, b: str) -> bool:
    """True when two e-mail addresses are the same (case and surrounding spaces ignored)."""
    return a.strip().casefold() == b.strip().casefold()


def ownership(
    order: Order, ctx: ToolContext, claimed_phone: str = "", claimed_email: str = ""
) -> Ownership:
    """Whether the contact of `ctx` placed `order`, did not, or cannot be told apart.

    A phone or e-mail the channel vouches for counts (see :func:`trusted_phone`), and so do a
    phone or e-mail the customer typed together with this order's number.
    """
    checks: list[bool] = []
    phones = [p for p in (trusted_phone(ctx), claimed_phone) if p]
    emails = [e for e in (trusted_email(ctx), claimed_email) if e]
    for phone in phones if order.customer_phone else ():
        same = phones_match(order.customer_phone or "", phone)
        if same is not None:
            checks.append(same)
    for email in emails if order.customer_email else ():
        checks.append(same_email(order.customer_email or "", email))
    if any(checks):
        return "owner"
    if checks:
        return "other"
    return "unknown"


def is_own_contact(ctx: ToolContext, phone: str, email: str) -> bool:
    """True when a typed phone or e-mail is the conversation's own trusted contact."""
    trusted_p, trusted_e = trusted_phone(ctx), trusted_email(ctx)
    if phone and trusted_p and phones_match(phone, trusted_p):
        return True
    return bool(email and trusted_e and same_email(email, trusted_e))


def _normalise_id(value: str) -> str:
    return value.strip().lstrip("#").strip().casefold()


class OrdersTool(Tool):
    """Looks an order up by number (or the conversation contact's orders) and reports its status."""

    kind: ClassVar[str] = "orders"
    args_model: ClassVar[type[BaseModel]] = OrdersArgs

    def __init__(
        self,
        tool_id: str,
        description: str,
        store: Store,
        settings: OrdersSettings,
        orders: Sequence[Order],
    ) -> None:
        super().__init__(tool_id, description, store)
        self.settings = settings
        self.orders = {_normalise_id(o.id): o for o in orders}

    async def run(self, ctx: ToolContext, args: BaseModel) -> ToolResult:
        """The status of the order, or a refusal when it belongs to another contact."""
        parsed = OrdersArgs.model_validate(args)
        order_id = _normalise_id(parsed.order_id)
        phone, email = parsed.phone.strip(), parsed.email.strip()
        if not order_id:
            if (phone or email) and not is_own_contact(ctx, phone, email):
                return ToolResult(
                    text=(
                        "Por segurança, pedidos só são listados pelo telefone ou e-mail desta "
                        "conversa. Peça o número do pedido: com ele e o telefone ou e-mail do "
                        "cadastro, o pedido pode ser consultado."
                    ),
                    data={"needs": "order_id"},
                    found=False,
                )
            return self._contact_orders(ctx)
        order = self.orders.get(order_id) or self._by_digits(order_id)
        if order is None:
            return ToolResult(
                text=f"Pedido {order_id} não encontrado. Confirme o número com o cliente.",
                data={"order_id": order_id},
                found=False,
            )
        owner = ownership(order, ctx, phone, email)
        if owner == "other":
            return ToolResult(
                text=(
                    f"Não é possível confirmar o pedido {order.id} para este contato: ele foi "
                    "feito com outro telefone/e-mail. Não revele dados do pedido; sugira "
                    "falar com um atendente humano."
                ),
                data={"order_id": order.id, "verified": False},
                found=False,
            )
        full = owner == "owner" or not (order.customer_phone or order.customer_email)
        return ToolResult(text=self.describe(order, full), data=self.details(order, full))

    def _by_digits(self, order_id: str) -> Order | None:
        """The one order whose number has the same digits ("104587" for "BP-104587")."""
        digits = _NON_DIGIT.sub("", order_id)
        if len(digits) < 4 or digits != order_id:
            return None
        found = [o for o in self.orders.values() if _NON_DIGIT.sub("", o.id) == digits]
        return found[0] if len(found) == 1 else None

    def _contact_orders(self, ctx: ToolContext) -> ToolResult:
        mine = [o for o in self.orders.values() if ownership(o, ctx) == "owner"]
        if not mine:
            text = "Nenhum pedido encontrado para este contato. Peça o número do pedido."
            if not (trusted_phone(ctx) or trusted_email(ctx)):
                text = (
                    "O canal não confirma o telefone nem o e-mail deste contato, então os pedidos "
                    "dele não podem ser listados: peça o número do pedido."
                )
            return ToolResult(text=text, data=[], found=False)
        mine.sort(key=lambda o: o.created, reverse=True)
        return ToolResult(
            text="\n\n".join(self.describe(o, True) for o in mine[:5]),
            data=[self.details(o, True) for o in mine[:5]],
        )

    def describe(self, order: Order, full: bool) -> str:
        """A short Portuguese summary of `order`; without items and tracking unless `full`."""
        lines = [f"Pedido {order.id}: {order.status}"]
        if order.status_detail:
            lines.append(order.status_detail)
        lines.append(f"Feito em {order.created:%d/%m/%Y}.")
        if order.eta:
            lines.append(f"Previsão de entrega: {order.eta:%d/%m/%Y}.")
        if not full:
            lines.append(
                "Itens e código de rastreio só podem ser informados após confirmar o contato "
                "(telefone ou e-mail do pedido)."
            )
            return "\n".join(lines)
        if order.tracking_code:
            lines.append(f"Código de rastreio: {order.tracking_code}.")
        for item in order.items:
            lines.append(f"- {item.quantity}x {item.name} ({format_money(item.price)})")
        return "\n".join(lines)

    def details(self, order: Order, full: bool) -> dict[str, Any]:
        """Structured data about `order` (never the customer's phone or e-mail)."""
        data: dict[str, Any] = {
            "order_id": order.id,
            "status": order.status,
            "status_detail": order.status_detail,
            "created": order.created.isoformat(),
            "eta": order.eta.isoformat() if order.eta else None,
            "verified": full,
        }
        if full:
            data["tracking_code"] = order.tracking_code
            data["items"] = [
                {"sku": i.sku, "name": i.name, "quantity": i.quantity, "price": str(i.price)}
                for i in order.items
            ]
        return data
