"""Data files named by tools (FAQ, catalog CSV, calendar, orders) parsed into typed models.

Every parser takes the file's bytes and path (the :class:`FileCache` signature) and raises
:class:`ConfigError` with the data file's own line numbers.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from chatwootai.config.data import CATALOG_REQUIRED_COLUMNS, Calendar, FaqEntry, Order, Product
from chatwootai.config.errors import ConfigError, ConfigIssue
from chatwootai.config.model_errors import issues_from_validation
from chatwootai.config.source import Located, not_utf8, parse_yaml_bytes

CATALOG_OPTIONAL_COLUMNS = ("brand", "tags", "image")
TAG_SEPARATOR = re.compile(r"\s*[;|]\s*")
"""Tags in a catalog cell are separated by `;` (or `|`)."""

_FAQ_LIST: TypeAdapter[list[FaqEntry]] = TypeAdapter(list[FaqEntry])
_ORDER_LIST: TypeAdapter[list[Order]] = TypeAdapter(list[Order])


def _yaml_list(content: bytes, file: Path, what: str) -> Located:
    root = parse_yaml_bytes(content, file)
    if not isinstance(root.value, list):
        raise ConfigError(
            [ConfigIssue(file, root.line, root.column, "", f"{what} file must be a YAML list")]
        )
    return root


def _validate(adapter: TypeAdapter[Any], model: Any, root: Located) -> Any:
    try:
        return adapter.validate_python(root.plain())
    except ValidationError as exc:
        raise ConfigError(issues_from_validation(exc, root, model)) from None


def parse_faq(content: bytes, file: Path) -> list[FaqEntry]:
    """A knowledge file: YAML list of {question, answer, tags}, or Markdown (heading = entry)."""
    if file.suffix.lower() in (".md", ".markdown"):
        return parse_markdown(content.decode("utf-8", errors="replace"), file)
    root = _yaml_list(content, file, "FAQ")
    result: list[FaqEntry] = _validate(_FAQ_LIST, list[FaqEntry], root)
    return result


def parse_markdown(text: str, file: Path) -> list[FaqEntry]:
    """Markdown knowledge: each heading is a question and the text under it its answer."""
    entries: list[FaqEntry] = []
    heading: str | None = None
    body: list[str] = []

    def flush() -> None:
        answer = "\n".join(body).strip()
        if heading and answer:
            entries.append(FaqEntry(question=heading, answer=answer))

    for line in text.splitlines():
        match = re.match(r"^#{1,6}\s+(.*\S)\s*$", line)
        if match:
            flush()
            heading, body = match.group(1), []
        else:
            body.append(line)
    flush()
    if not entries and text.strip():
        entries.append(FaqEntry(question=file.stem.replace("_", " "), answer=text.strip()))
    if not entries:
        raise ConfigError([ConfigIssue(file, 1, 1, "", "knowledge file is empty")])
    return entries


def parse_catalog(content: bytes, file: Path) -> list[Product]:
    """A catalog CSV with CATALOG_REQUIRED_COLUMNS (brand, tags optional); bad rows by line."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError([not_utf8(file, content, exc)]) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in CATALOG_REQUIRED_COLUMNS if c not in columns]
    unknown = [
        c for c in columns if c not in (*CATALOG_REQUIRED_COLUMNS, *CATALOG_OPTIONAL_COLUMNS)
    ]
    header: list[ConfigIssue] = []
    if missing:
        header.append(
            ConfigIssue(file, 1, None, "", f"missing catalog column(s): {', '.join(missing)}")
        )
    if unknown:
        allowed = ", ".join((*CATALOG_REQUIRED_COLUMNS, *CATALOG_OPTIONAL_COLUMNS))
        header.append(
            ConfigIssue(
                file,
                1,
                None,
                "",
                f"unknown catalog column(s): {', '.join(unknown)}; allowed: {allowed}",
            )
        )
    if header:
        raise ConfigError(header)
    products: list[Product] = []
    issues: list[ConfigIssue] = []
    skus: dict[str, int] = {}
    line = reader.line_num
    for row in reader:
        start, line = line + 1, reader.line_num
        if None in row:
            issues.append(ConfigIssue(file, start, None, "", "more cells than columns"))
            continue
        values = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        if not any(values.values()):
            continue
        record: dict[str, Any] = dict(values)
        record["price"] = _price(values.get("price", ""))
        record["tags"] = [t for t in TAG_SEPARATOR.split(values.get("tags", "")) if t]
        image, problem = _image(values.get("image", ""), file)
        if problem:
            issues.append(ConfigIssue(file, start, None, "", f"column 'image': {problem}"))
            continue
        record["image"] = image
        try:
            product = Product.model_validate(record)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                column = ".".join(str(p) for p in error["loc"])
                message = error["msg"].removeprefix("Value error, ")
                issues.append(ConfigIssue(file, start, None, "", f"column {column!r}: {message}"))
            continue
        if product.sku in skus:
            issues.append(
                ConfigIssue(
                    file,
                    start,
                    None,
                    "",
                    f"duplicate sku {product.sku!r} (first: line {skus[product.sku]})",
                )
            )
            continue
        skus[product.sku] = start
        products.append(product)
    if issues:
        raise ConfigError(issues)
    return products


def _image(cell: str, catalog: Path) -> tuple[str, str | None]:
    """A product photo: an https URL, or a file beside the catalog (its path); or the problem."""
    if not cell:
        return "", None
    if "://" in cell:
        if not cell.startswith("https://"):
            return "", f"{cell!r}: only https URLs are sent"
        return cell, None
    if Path(cell).is_absolute() or os.path.normpath(cell).startswith(os.pardir):
        return "", f"{cell!r}: name a file of the catalog's directory (relative, not outside it)"
    path = Path(os.path.normpath(catalog.parent / cell))
    if not path.is_file():
        return "", f"file not found: {path}"
    return str(path), None


def _price(text: str) -> str:
    """Prices may be written the Brazilian way: `1.234,56` or `49,90`."""
    text = text.replace("R$", "").strip()
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    return text


def parse_calendar(content: bytes, file: Path) -> Calendar:
    """A calendar YAML: services, week (opening windows) and closed dates."""
    root = parse_yaml_bytes(content, file)
    try:
        return Calendar.model_validate(root.plain())
    except ValidationError as exc:
        raise ConfigError(issues_from_validation(exc, root, Calendar)) from None


def parse_orders(content: bytes, file: Path) -> list[Order]:
    """An orders YAML: a list of orders with their status."""
    root = _yaml_list(content, file, "orders")
    result: list[Order] = _validate(_ORDER_LIST, list[Order], root)
    return result
