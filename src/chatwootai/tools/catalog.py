"""The catalog tool: products with price and stock, found by lexical retrieval and filters."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chatwootai.artefacts import SHARED, artefact_key
from chatwootai.config.data import Product
from chatwootai.config.schema import CatalogSettings
from chatwootai.media.attachments import OutboundAttachment
from chatwootai.store.base import Store
from chatwootai.text import fold, stems
from chatwootai.tools.base import Tool, ToolContext, ToolResult
from chatwootai.tools.money import format_money
from chatwootai.tools.retrieval import LexicalIndex

MIN_COVERAGE = 0.3
"""Share of the query (by term weight) a product must match to be listed."""
MAX_PHOTOS = 3
"""Product photos one search sends at most."""


class CatalogArgs(BaseModel):
    """Arguments of a catalog search."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(
        default="",
        max_length=300,
        description="O que o cliente procura (nome, marca, tipo, uso). Vazio lista pelos filtros.",
    )
    category: str | None = Field(
        default=None, max_length=100, description="Categoria do produto, se o cliente indicou."
    )
    max_price: float | None = Field(
        default=None, ge=0, le=1e9, description="Preço máximo em reais."
    )
    min_price: float | None = Field(
        default=None, ge=0, le=1e9, description="Preço mínimo em reais."
    )
    in_stock_only: bool = Field(default=False, description="Somente produtos com estoque.")
    sku: str | None = Field(
        default=None, max_length=64, description="Código (SKU) exato de um produto."
    )
    show_image: bool = Field(
        default=False,
        description="True quando o cliente pede para ver o produto: a foto dos produtos "
        "encontrados segue junto com a sua resposta.",
    )

    @model_validator(mode="after")
    def _price_range(self) -> CatalogArgs:
        if (
            self.min_price is not None
            and self.max_price is not None
            and self.min_price > self.max_price
        ):
            raise ValueError("min_price must not exceed max_price")
        return self


CATALOG_INDEX_KIND = "catalog-index"
CATALOG_INDEX_VERSION = 1
"""Format of the shared catalog index (the fields indexed and their weights); bump on change."""


def _fields(product: Product) -> list[tuple[str, int]]:
    """The weighted text fields of a product that the index searches."""
    return [
        (product.name, 3),
        (product.brand, 2),
        (product.category, 2),
        (" ".join(product.tags), 2),
        (product.description, 1),
    ]


def catalog_index(products: Sequence[Product]) -> LexicalIndex:
    """The index of `products`, shared by every catalog of the same indexed content."""
    fields = [_fields(p) for p in products]
    key = artefact_key(
        CATALOG_INDEX_KIND,
        CATALOG_INDEX_VERSION,
        json.dumps(fields, ensure_ascii=False, separators=(",", ":")),
    )
    return SHARED.get_or_build(CATALOG_INDEX_KIND, key, lambda: LexicalIndex(fields))


def stock_text(product: Product) -> str:
    """ "em estoque: 12" or "esgotado"."""
    return f"em estoque: {product.stock}" if product.stock > 0 else "esgotado"


class CatalogTool(Tool):
    """Searches the product catalog by text and filters; shows price (BRL) and stock."""

    kind: ClassVar[str] = "catalog"
    args_model: ClassVar[type[BaseModel]] = CatalogArgs

    def __init__(
        self,
        tool_id: str,
        description: str,
        store: Store,
        settings: CatalogSettings,
        products: Sequence[Product],
    ) -> None:
        super().__init__(tool_id, description, store)
        self.settings = settings
        self.products = list(products)
        self.index = catalog_index(self.products)

    def _matches_filters(self, product: Product, args: CatalogArgs) -> bool:
        if args.sku is not None and fold(product.sku) != fold(args.sku):
            return False
        if args.category and not _same_category(product.category, args.category):
            return False
        if args.max_price is not None and product.price > Decimal(str(args.max_price)):
            return False
        if args.min_price is not None and product.price < Decimal(str(args.min_price)):
            return False
        return not (args.in_stock_only and product.stock <= 0)

    def find(self, args: CatalogArgs) -> list[tuple[Product, float | None]]:
        """Products matching `args`, best first, with their relevance score when searched."""
        pool = [i for i, p in enumerate(self.products) if self._matches_filters(p, args)]
        limit = self.settings.max_results
        if not args.query.strip() or args.sku is not None:
            pool.sort(key=lambda i: (self.products[i].stock <= 0, fold(self.products[i].name)))
            return [(self.products[i], None) for i in pool[:limit]]
        hits = self.index.search(args.query, limit, candidates=pool)
        return [
            (self.products[h.index], round(h.score, 3)) for h in hits if h.coverage >= MIN_COVERAGE
        ]

    def describe(self, product: Product) -> str:
        """One line about `product` for the LLM."""
        brand = f" ({product.brand})" if product.brand else ""
        price = format_money(product.price, self.settings.currency)
        return f"- {product.name}{brand} — {price} — {stock_text(product)} — SKU {product.sku}"

    def photo(self, product: Product) -> OutboundAttachment | None:
        """The product's photo as a reply attachment (its name and price as caption)."""
        if not product.image:
            return None
        caption = f"{product.name} — {format_money(product.price, self.settings.currency)}"
        if "://" in product.image:
            return OutboundAttachment(url=product.image, caption=caption)
        return OutboundAttachment(path=product.image, caption=caption)

    async def run(self, ctx: ToolContext, args: BaseModel) -> ToolResult:
        """Matching products, or found=False when none fits; their photos when asked."""
        query = CatalogArgs.model_validate(args)
        found = self.find(query)
        if not found:
            return ToolResult(
                text="Nenhum produto do catálogo corresponde a essa busca.", data=[], found=False
            )
        data: list[dict[str, Any]] = [
            {
                "sku": p.sku,
                "name": p.name,
                "brand": p.brand,
                "category": p.category,
                "price": str(p.price),
                "price_text": format_money(p.price, self.settings.currency),
                "stock": p.stock,
                "description": p.description,
                "score": score,
            }
            for p, score in found
        ]
        lines = [self.describe(p) for p, _ in found]
        text = "Produtos encontrados:\n" + "\n".join(lines)
        photos: list[OutboundAttachment] = []
        if query.show_image:
            for product, _ in found:
                photo = self.photo(product)
                if photo is not None and len(photos) < MAX_PHOTOS:
                    photos.append(photo)
            names = ", ".join(a.caption.split(" — ")[0] for a in photos)
            text += (
                f"\nA foto de {names} segue junto com a sua resposta."
                if photos
                else "\nNenhum desses produtos tem foto cadastrada."
            )
        return ToolResult(text=text, data=data, attachments=photos)


def _same_category(category: str, wanted: str) -> bool:
    """True when `wanted` names `category` (accents, case and plurals ignored)."""
    have, want = stems(category), stems(wanted)
    return bool(want) and (have == want or set(want) <= set(have))
