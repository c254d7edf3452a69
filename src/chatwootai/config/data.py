"""Typed models of a domain's data files: FAQ, product catalog, calendar and orders.

The loader parses each tool's files into these models (reporting file and line on error), so tools
receive typed data and never read files themselves.
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DataModel(BaseModel):
    """Base of data models: unknown keys rejected, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FaqEntry(DataModel):
    """One question and its answer (a knowledge base document)."""

    question: str = Field(min_length=1)
    answer: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)


class Product(DataModel):
    """One catalog row. CSV columns: sku, name, category, price, stock, description, brand, tags,
    image."""

    sku: str = Field(min_length=1)
    name: str = Field(min_length=1)
    category: str = ""
    price: Decimal = Field(ge=0)
    stock: int = Field(ge=0)
    description: str = ""
    brand: str = ""
    tags: list[str] = Field(default_factory=list)
    image: str = ""
    """The product's photo: a file beside the catalog (its path) or an https URL; empty: none."""


CATALOG_REQUIRED_COLUMNS = ("sku", "name", "category", "price", "stock", "description")


class Service(DataModel):
    """A bookable service or appointment type."""

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    duration_minutes: int = Field(gt=0, le=24 * 60)
    price: Decimal | None = Field(default=None, ge=0)
    description: str = ""
    professionals: list[str] = Field(default_factory=list)


class OpeningWindow(DataModel):
    """Hours on one weekday (0 = Monday) when services can be booked."""

    weekday: int = Field(ge=0, le=6)
    start: time
    end: time

    @model_validator(mode="after")
    def _ordered(self) -> OpeningWindow:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Calendar(DataModel):
    """A weekly calendar: services, opening windows and closed dates."""

    services: list[Service] = Field(min_length=1)
    week: list[OpeningWindow] = Field(min_length=1)
    closed_dates: list[date] = Field(default_factory=list)
    capacity: int = Field(default=1, ge=1, description="Bookings allowed at the same time.")


class OrderItem(DataModel):
    """A line of an order."""

    sku: str
    name: str
    quantity: int = Field(gt=0)
    price: Decimal = Field(ge=0)


class Order(DataModel):
    """An order and its status, as the business reports it."""

    id: str = Field(min_length=1)
    customer_phone: str = ""
    customer_email: str = ""
    status: str
    status_detail: str = ""
    created: date
    eta: date | None = None
    tracking_code: str = ""
    items: list[OrderItem] = Field(default_factory=list)


class DomainData(DataModel):
    """Parsed data of a domain, keyed by the id of the tool that names the file."""

    knowledge: dict[str, list[FaqEntry]] = Field(default_factory=dict)
    catalogs: dict[str, list[Product]] = Field(default_factory=dict)
    calendars: dict[str, Calendar] = Field(default_factory=dict)
    orders: dict[str, list[Order]] = Field(default_factory=dict)
