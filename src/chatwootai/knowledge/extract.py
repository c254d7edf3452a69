"""Text and structure out of documents: PDF, HTML, DOCX, CSV, plain text and Markdown.

Each extractor turns a document's bytes into :class:`Block` s in reading order (headings,
paragraphs, table rows), each with where it came from (page, line, anchor), so chunks can keep
their title and location. Extractors used:

* PDF: ``pypdf`` (pure Python, BSD): text per page; headings and table-like rows are recognised
  from the lines (a PDF has no reliable structure tags).
* HTML: ``beautifulsoup4`` with the standard library's parser (pure Python, MIT): headings,
  paragraphs, list items and table rows, inside ``<main>``/``<article>`` when the page has one;
  navigation, header, footer, scripts and forms are dropped.
* DOCX: ``python-docx``: paragraphs with their heading styles, and tables, in document order.
* CSV (``csv``, delimiter sniffed: ``;`` is common in Brazil), plain text and Markdown: standard
  library.

Bad input raises :class:`ExtractionError` with a message a user can act on, never another
exception.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["heading", "text", "row"]

DOCUMENT_KINDS = ("pdf", "html", "docx", "csv", "text", "markdown")

_SUFFIX_KIND = {
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".docx": "docx",
    ".csv": "csv",
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
}
_MEDIA_KIND = {
    "application/pdf": "pdf",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "text/csv": "csv",
    "text/plain": "text",
    "text/markdown": "markdown",
}


class ExtractionError(Exception):
    """A document could not be read (damaged, encrypted, no text, unsupported type)."""


@dataclass(frozen=True, slots=True)
class Block:
    """One unit of a document in reading order."""

    kind: BlockKind
    text: str
    level: int = 0
    """Heading level (0 = a document's title, 1 = top section); 0 for text and rows."""
    location: str = ""
    """Where it is: "p. 3", "linha 12", "#trocas"."""


@dataclass(slots=True)
class Document:
    """What an extractor read: a title (may be empty) and the blocks."""

    title: str = ""
    blocks: list[Block] = field(default_factory=list)
    pages: int = 1


def kind_for(name: str, media_type: str | None = None) -> str | None:
    """The document kind of a file name or URL path and/or a Content-Type, or None."""
    if media_type:
        found = _MEDIA_KIND.get(media_type.split(";")[0].strip().lower())
        if found is not None and found != "text":
            return found
    path = name.split("?", 1)[0].split("#", 1)[0].lower()
    for suffix, kind in _SUFFIX_KIND.items():
        if path.endswith(suffix):
            return kind
    if media_type:
        return _MEDIA_KIND.get(media_type.split(";")[0].strip().lower())
    return None


def extract(content: bytes, kind: str, name: str = "") -> Document:
    """The blocks of a document of `kind` (see :data:`DOCUMENT_KINDS`)."""
    if kind == "pdf":
        document = extract_pdf(content)
    elif kind == "html":
        document = extract_html(content)
    elif kind == "docx":
        document = extract_docx(content)
    elif kind == "csv":
        document = extract_csv(content)
    elif kind == "markdown":
        document = extract_markdown(decode_text(content))
    elif kind == "text":
        document = extract_text(decode_text(content))
    else:
        raise ExtractionError(f"unsupported document type {kind!r}")
    if not any(b.text.strip() for b in document.blocks):
        if kind == "pdf":
            raise ExtractionError(
                "the PDF has no extractable text (a scanned image?); export it with text or "
                "add its content as a text or HTML file"
            )
        raise ExtractionError(f"no text found in the {kind} document")
    return document


def decode_text(content: bytes) -> str:
    """Text of a file: UTF-8 (with or without BOM), else Windows-1252 (Excel's usual export)."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def clean(text: str) -> str:
    """Whitespace collapsed, soft hyphens and zero-width characters removed."""
    text = text.replace("\u00ad", "").replace("\u200b", "").replace("\xa0", " ")
    return " ".join(text.split())


# -- PDF -----------------------------------------------------------------------------------------

_PRICE_OR_NUMBER_END = re.compile(r"(R\$\s*[\d.]+(,\d{2})?|\d+([.,]\d+)?\s*%?)\s*$")
_BULLET = re.compile(r"^\s*([•\-–*·▪●]|\d{1,2}[.)])\s+")
_SENTENCE_END = re.compile(r"[.!?:;]\s*$")


def _looks_like_heading(line: str) -> bool:
    words = line.split()
    if not words or len(line) > 80 or len(words) > 10:
        return False
    if _SENTENCE_END.search(line) or _PRICE_OR_NUMBER_END.search(line) or _BULLET.match(line):
        return False
    if line.isupper() and any(c.isalpha() for c in line):
        return True
    return line[0].isupper() and not line.endswith(",")


def extract_pdf(content: bytes) -> Document:
    """PDF text per page (pypdf); lines grouped into paragraphs, headings and rows."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionError("the PDF is encrypted with a password")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = ""
        metadata = reader.metadata
        if metadata is not None and metadata.title:
            title = clean(str(metadata.title))
    except ExtractionError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise ExtractionError(f"not a readable PDF: {exc}") from None
    except Exception as exc:  # pypdf raises many kinds on damaged files
        raise ExtractionError(f"not a readable PDF ({type(exc).__name__}: {exc})") from None
    blocks: list[Block] = []
    for number, text in enumerate(pages, 1):
        blocks += _line_blocks(text.splitlines(), f"p. {number}")
    return Document(title=title, blocks=blocks, pages=len(pages))


def _line_blocks(lines: list[str], location: str) -> list[Block]:
    """Lines of a page as blocks: headings, table-like rows and paragraphs of joined lines."""
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block("text", clean(" ".join(paragraph)), location=location))
            paragraph.clear()

    for raw in lines:
        line = clean(raw)
        if not line:
            flush()
            continue
        if _looks_like_heading(line) and not paragraph:
            blocks.append(
                Block("heading", line, level=1, location=location)  # PDF levels are unreliable
            )
        elif _PRICE_OR_NUMBER_END.search(line) and len(line) <= 120 and not paragraph:
            blocks.append(Block("row", line, location=location))
        elif _BULLET.match(line):
            flush()
            paragraph.append(line)
        else:
            if paragraph and _looks_like_heading(line) and _SENTENCE_END.search(paragraph[-1]):
                flush()
                blocks.append(Block("heading", line, level=1, location=location))
                continue
            paragraph.append(line)
            if _SENTENCE_END.search(line) and line.endswith((".", "!", "?")):
                flush()
    flush()
    return blocks


# -- HTML ----------------------------------------------------------------------------------------

_DROPPED = (
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "iframe",
    "button",
    "select",
)
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_TEXT_BLOCKS = ("p", "li", "dt", "dd", "blockquote", "pre", "figcaption", "summary", "address")


def extract_html(content: bytes) -> Document:
    """Headings, paragraphs, list items and table rows of the page's main content."""
    from bs4 import BeautifulSoup, Tag
    from bs4.element import Comment, NavigableString

    try:
        soup = BeautifulSoup(content, "html.parser")
    except Exception as exc:  # html.parser is lenient; this is a safety net
        raise ExtractionError(f"not readable HTML: {exc}") from None
    title = clean(soup.title.get_text()) if soup.title else ""
    for tag in soup.find_all(_DROPPED):
        tag.decompose()
    root = (
        soup.find("main")
        or soup.find(None, {"role": "main"})
        or soup.find("article")
        or soup.body
        or soup
    )
    blocks: list[Block] = []
    pending: list[str] = []
    anchor = ""

    def flush() -> None:
        text = clean(" ".join(pending))
        pending.clear()
        if text:
            blocks.append(Block("text", text, location=anchor))

    def rows(table: Tag) -> None:
        header: list[str] = []
        for tr in table.find_all("tr"):
            cells = tr.find_all(["th", "td"])
            values = [clean(c.get_text(" ")) for c in cells]
            if not any(values):
                continue
            if not header and all(c.name == "th" for c in cells):
                header = values
                continue
            if header and len(header) == len(values):
                text = "; ".join(f"{h}: {v}" for h, v in zip(header, values, strict=True) if v)
            else:
                text = " | ".join(v for v in values if v)
            blocks.append(Block("row", text, location=anchor))
        caption = table.find("caption")
        if caption is not None and not blocks:
            blocks.append(Block("text", clean(caption.get_text(" ")), location=anchor))

    def walk(node: Tag) -> None:
        nonlocal anchor
        for child in node.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                if child.strip():
                    pending.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name in _HEADINGS:
                flush()
                if child.get("id"):
                    anchor = f"#{child['id']}"
                text = clean(child.get_text(" "))
                if text:
                    blocks.append(Block("heading", text, level=_HEADINGS[name], location=anchor))
            elif name in _TEXT_BLOCKS:
                flush()
                text = clean(child.get_text(" "))
                if text:
                    blocks.append(Block("text", text, location=anchor))
            elif name == "table":
                flush()
                rows(child)
            elif name == "br":
                pending.append(" ")
            elif name in ("span", "a", "strong", "b", "em", "i", "small", "mark", "code", "sup"):
                pending.append(child.get_text(" "))
            else:
                if child.get("id") and name in ("section", "div", "article"):
                    flush()
                    anchor = f"#{child['id']}"
                walk(child)
                if name in ("div", "section", "article", "ul", "ol", "dl", "details"):
                    flush()

    if isinstance(root, Tag):
        walk(root)
    flush()
    return Document(title=title, blocks=blocks)


# -- DOCX ----------------------------------------------------------------------------------------


def extract_docx(content: bytes) -> Document:
    """Paragraphs (Heading N styles as headings) and tables of a Word document, in order."""
    import zipfile

    from docx import Document as open_docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        doc = open_docx(io.BytesIO(content))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ExtractionError(
            f"not a readable DOCX document: {exc or type(exc).__name__}"
        ) from None
    except Exception as exc:
        raise ExtractionError(f"not a readable DOCX document ({type(exc).__name__})") from None
    blocks: list[Block] = []
    title = clean(doc.core_properties.title or "")
    for item in doc.iter_inner_content():
        if isinstance(item, Table):
            header: list[str] = []
            for index, row in enumerate(item.rows):
                values = [clean(cell.text) for cell in row.cells]
                if index == 0:
                    header = values
                    continue
                if len(header) == len(values):
                    text = "; ".join(f"{h}: {v}" for h, v in zip(header, values, strict=True) if v)
                else:
                    text = " | ".join(v for v in values if v)
                if text:
                    blocks.append(Block("row", text))
            continue
        text = clean(item.text)
        if not text:
            continue
        style = (item.style.name if item.style is not None else "") or ""
        match = re.match(r"(?i)(heading|título|titulo)\s*(\d)", style)
        if style.lower() in ("title", "título", "titulo"):  # above every Heading N
            blocks.append(Block("heading", text, level=0))
            title = title or text
        elif match:
            blocks.append(Block("heading", text, level=int(match.group(2))))
        else:
            blocks.append(Block("text", text))
    return Document(title=title, blocks=blocks)


# -- CSV, text, Markdown -------------------------------------------------------------------------


def extract_csv(content: bytes) -> Document:
    """One row block per line ("column: value; ..."), the first line naming the columns."""
    text = decode_text(content)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:4096], delimiters=",;\t|"
        )
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error as exc:
        raise ExtractionError(f"not a readable CSV file: {exc}") from None
    if not rows:
        return Document()
    header = [clean(h) for h in rows[0]]
    blocks = []
    for number, row in enumerate(rows[1:], 2):
        values = [clean(v) for v in row]
        if not any(values):
            continue
        pairs = [f"{h}: {v}" if h else v for h, v in zip(header, values, strict=False) if v]
        pairs += [v for v in values[len(header) :] if v]
        blocks.append(Block("row", "; ".join(pairs), location=f"linha {number}"))
    return Document(blocks=blocks)


def extract_text(text: str) -> Document:
    """Paragraphs separated by blank lines; a short line alone before a paragraph is a heading."""
    blocks: list[Block] = []
    for paragraph in re.split(r"\n\s*\n", text):
        lines = [clean(line) for line in paragraph.splitlines() if clean(line)]
        if not lines:
            continue
        if len(lines) == 1 and _looks_like_heading(lines[0]):
            blocks.append(Block("heading", lines[0], level=2))
            continue
        blocks.append(Block("text", clean(" ".join(lines))))
    return Document(blocks=blocks)


def extract_markdown(text: str) -> Document:
    """Markdown: ``#`` headings, paragraphs, list items and table rows."""
    blocks: list[Block] = []
    paragraph: list[str] = []
    header: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block("text", clean(" ".join(paragraph))))
            paragraph.clear()

    for line in text.splitlines():
        heading = re.match(r"^(#{1,6})\s+(.*\S)\s*#*\s*$", line)
        stripped = line.strip()
        if heading:
            flush()
            blocks.append(Block("heading", clean(heading.group(2)), level=len(heading.group(1))))
        elif stripped.startswith("|") and stripped.endswith("|"):
            flush()
            cells = [clean(c) for c in stripped.strip("|").split("|")]
            if all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
                continue
            if not header:
                header = cells
                continue
            if len(cells) == len(header):
                row = "; ".join(f"{h}: {v}" for h, v in zip(header, cells, strict=True) if v)
            else:
                row = " | ".join(c for c in cells if c)
            blocks.append(Block("row", row))
        elif not stripped:
            flush()
            header = []
        elif _BULLET.match(stripped):
            flush()
            paragraph.append(stripped)
        else:
            paragraph.append(stripped)
    flush()
    return Document(blocks=blocks)
