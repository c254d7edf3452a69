"""The context of one message: the best passages and products, retrieved before the LLM request.

So that a plain question about a fact, a price or a policy costs one LLM request, the turn runs
the agent's own knowledge and catalog tools on the customer's message before calling the model
(through the DataProxy, so the agent's grants apply) and gives the results to the agent as
context, within the domain's token budget (``knowledge.context.max_tokens``, 4 characters a
token). The agent keeps its tools for follow-ups (filters, other words, actions), and the prompt
says the context may not hold the answer: then the agent searches, says so or hands off, and
never invents.

An agent holding an orders tool also gets that tool's answer: for the order numbers the message
gives, else for the contact of the conversation (the tool lists only the contact's own orders,
and only when the channel vouches for the phone or e-mail). The lookup is the one the agent
would make, through the same proxy, so it shows nothing the tool would not tell.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Protocol

from chatwootai.config.schema import KnowledgeContext
from chatwootai.knowledge.index import estimate_tokens
from chatwootai.tools.base import Tool, ToolContext, ToolError, ToolResult

log = logging.getLogger(__name__)

KNOWLEDGE_QUERY_CHARS = 500
CATALOG_QUERY_CHARS = 300
ORDER_LOOKUPS = 3
"""Order numbers of one message looked up at most."""
ORDER_ID_CHARS = 40
"""Longest order number looked up (the orders tool takes no longer one)."""
MIN_PIECE_TOKENS = 40
"""A passage is cut to fit the budget only if at least this much of it fits."""

HEADER = (
    "Contexto recuperado automaticamente dos documentos, do catálogo e dos pedidos da empresa "
    "para a mensagem atual do cliente (pode não conter a resposta):"
)
ORDERS_HEADER = "Pedidos (consultados pelo número citado na mensagem, ou pelo contato da conversa):"
GUIDANCE = (
    "Se este contexto responde à mensagem, responda direto com base nele, sem chamar "
    'ferramentas, e cite a fonte quando ajudar (por exemplo: "segundo a nossa política de '
    'trocas...").'
    " Se não responde, use as ferramentas para buscar, ou diga que não encontrou a informação "
    "e ofereça um atendente humano. Nunca invente preços, prazos, regras ou dados que não "
    "estejam no contexto ou nas ferramentas."
)


class Proxy(Protocol):
    """The part of the DataProxy the context uses (as the agent runtime's ToolProxy)."""

    def tools_for(self, agent_id: str) -> list[Tool]:
        """The tools granted to `agent_id`."""
        ...

    async def call(self, ctx: ToolContext, tool_id: str, args: Mapping[str, Any]) -> ToolResult:
        """Call `tool_id` for the tenant and agent in `ctx`."""
        ...


_WORD = re.compile(r"[#\w-]+")


def order_references(message: str) -> list[str]:
    """Words of `message` that may be order numbers (3 digits or more), in order, once each."""
    found: list[str] = []
    for word in _WORD.findall(message):
        candidate = word.strip("#-")
        digits = sum(c.isdigit() for c in candidate)
        if digits >= 3 and len(candidate) <= ORDER_ID_CHARS and candidate not in found:
            found.append(candidate)
    return found


def passage_entry(item: Mapping[str, Any]) -> str:
    """One passage of a knowledge tool's result data, as a context line."""
    title = str(item.get("question") or "")
    source = str(item.get("source") or "")
    location = str(item.get("location") or "")
    if item.get("kind") == "faq" or not source:
        where = "FAQ"
    else:
        where = f"{source}, {location}" if location else source
    return f"{title} ({where}): {item.get('answer', '')}"


def product_entry(item: Mapping[str, Any]) -> str:
    """One product of a catalog tool's result data, as a context line."""
    brand = f" ({item['brand']})" if item.get("brand") else ""
    stock = int(item.get("stock") or 0)
    stock_text = f"em estoque: {stock}" if stock > 0 else "esgotado"
    price = item.get("price_text")
    return f"{item.get('name')}{brand} — {price} — {stock_text} — SKU {item.get('sku')}"


class ContextBuilder:
    """Builds the context block of a message for an agent, within a token budget."""

    def __init__(self, settings: KnowledgeContext) -> None:
        self.settings = settings

    @property
    def enabled(self) -> bool:
        """False when the domain turned the context off."""
        s = self.settings
        return s.enabled and s.max_tokens > 0 and (s.passages > 0 or s.products > 0 or s.orders > 0)

    async def for_message(
        self,
        message: str,
        agent_id: str,
        proxy: Proxy,
        context: ToolContext,
        *,
        only: Collection[str] | None = None,
    ) -> str:
        """The context block for `message` from the tools granted to `agent_id` ('' if none).

        `only` restricts the tools to those ids (a workflow step's `tools`).
        """
        if not self.enabled or not message.strip():
            return ""
        ctx = dataclasses.replace(context, agent_id=agent_id)
        passages: list[str] = []
        products: list[str] = []
        orders: list[str] = []
        for tool in proxy.tools_for(agent_id):
            if only is not None and tool.id not in only:
                continue
            if tool.kind == "knowledge" and self.settings.passages:
                data = await self._call(proxy, ctx, tool, message[:KNOWLEDGE_QUERY_CHARS])
                passages += [passage_entry(item) for item in data]
            elif tool.kind == "catalog" and self.settings.products:
                data = await self._call(proxy, ctx, tool, message[:CATALOG_QUERY_CHARS])
                products += [product_entry(item) for item in data]
            elif tool.kind == "orders" and self.settings.orders and not orders:
                orders = await self._orders(proxy, ctx, tool, message)
        return self.render(
            passages[: self.settings.passages],
            products[: self.settings.products],
            orders[: self.settings.orders],
        )

    async def _call(
        self, proxy: Proxy, ctx: ToolContext, tool: Tool, query: str
    ) -> list[Mapping[str, Any]]:
        result = await self._result(proxy, ctx, tool, {"query": query})
        if result is None or not result.found or not isinstance(result.data, list):
            return []
        return [item for item in result.data if isinstance(item, Mapping)]

    async def _result(
        self, proxy: Proxy, ctx: ToolContext, tool: Tool, args: Mapping[str, Any]
    ) -> ToolResult | None:
        try:
            return await proxy.call(ctx, tool.id, args)
        except ToolError as exc:  # the agent can still call the tool itself
            log.warning("context from tool %s skipped: %s", tool.id, exc)
            return None

    async def _orders(self, proxy: Proxy, ctx: ToolContext, tool: Tool, message: str) -> list[str]:
        """The orders tool's answers: for the order numbers in `message` that exist (or that
        belong to someone else: the refusal), else for the contact of the conversation."""
        entries: list[str] = []
        for reference in order_references(message)[:ORDER_LOOKUPS]:
            result = await self._result(proxy, ctx, tool, {"order_id": reference})
            if result is not None and (result.found or _refused(result)):
                entries.append(result.text)
        if entries:
            return entries
        result = await self._result(proxy, ctx, tool, {"order_id": ""})
        if result is None:
            return []
        # one order per paragraph (or the tool's single "none found" line)
        return [part for part in result.text.split("\n\n") if part.strip()]

    def render(self, passages: list[str], products: list[str], orders: Sequence[str] = ()) -> str:
        """The block: the orders, then whole passages and products by rank while the budget
        lasts, then the best passage that did not fit, cut to what is left (if at least
        MIN_PIECE_TOKENS)."""
        left = self.settings.max_tokens
        kept_orders: list[str] = []
        for entry in orders:
            cost = estimate_tokens(entry) + 1
            if cost <= left:
                kept_orders.append(entry)
                left -= cost
        kept_passages: dict[int, str] = {}
        kept_products: list[str] = []
        skipped: list[int] = []
        for i in range(max(len(passages), len(products))):
            if i < len(passages):
                cost = estimate_tokens(passages[i]) + 1
                if cost <= left:
                    kept_passages[i] = passages[i]
                    left -= cost
                else:
                    skipped.append(i)
            if i < len(products):
                cost = estimate_tokens(products[i]) + 1
                if cost <= left:
                    kept_products.append(products[i])
                    left -= cost
        if skipped and left >= MIN_PIECE_TOKENS:
            first = skipped[0]
            kept_passages[first] = passages[first][: (left - 1) * 4 - 3].rstrip() + "..."
        if not kept_passages and not kept_products and not kept_orders:
            return ""
        lines = [HEADER]
        if kept_orders:
            lines.append(ORDERS_HEADER)
            lines += kept_orders
        if kept_passages:
            lines.append("Trechos:")
            ordered = [kept_passages[i] for i in sorted(kept_passages)]
            lines += [f"[{n}] {entry}" for n, entry in enumerate(ordered, 1)]
        if kept_products:
            lines.append("Produtos do catálogo:")
            lines += [f"- {entry}" for entry in kept_products]
        lines.append(GUIDANCE)
        return "\n".join(lines)


def _refused(result: ToolResult) -> bool:
    """The orders tool's answer for an order of another contact (it tells nothing about it)."""
    return isinstance(result.data, Mapping) and result.data.get("verified") is False
