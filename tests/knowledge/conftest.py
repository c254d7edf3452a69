"""Knowledge fixtures: a local web server for pages, the fake OpenAI server, document builders."""

from __future__ import annotations

import importlib.util
import io
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


def _load(name: str, file: str) -> Any:
    if name in sys.modules:
        return sys.modules[name]
    path = Path(__file__).resolve().parent.parent / "fakes" / file
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


openai_server = _load("fakes_openai_server", "openai_server.py")


@pytest.fixture
def fake_openai() -> Iterator[Any]:
    """A fake OpenAI-compatible server (chat completions and embeddings) on 127.0.0.1."""
    yield from openai_server.serve()


@dataclass
class Page:
    """A scripted response of the local web server."""

    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "text/html"})


@dataclass
class WebServer:
    """A local web server serving `pages` by path (count of requests per path in `hits`)."""

    base_url: str = ""
    pages: dict[str, Page] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    server: ThreadingHTTPServer | None = None

    @property
    def host(self) -> str:
        """The host name of the server (an IP address of the loopback network)."""
        return "127.0.0.1"

    def url(self, path: str) -> str:
        """The URL of `path` on this server."""
        return self.base_url + path


@pytest.fixture
def web() -> Iterator[WebServer]:
    """A web server on 127.0.0.1 with no pages yet."""
    site = WebServer()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # chunked bodies, keep-alive

        def do_GET(self) -> None:
            site.hits[self.path] = site.hits.get(self.path, 0) + 1
            page = site.pages.get(self.path)
            if page is None:
                self.send_response(404)
                self.send_header("content-length", "0")
                self.end_headers()
                return
            self.send_response(page.status)
            for name, value in page.headers.items():
                self.send_header(name, value)
            chunked = page.headers.get("transfer-encoding") == "chunked"
            if "content-length" not in page.headers and not chunked:
                self.send_header("content-length", str(len(page.body)))
            self.end_headers()
            try:
                if not chunked:
                    self.wfile.write(page.body)
                    return
                for start in range(0, len(page.body), 16384):
                    piece = page.body[start : start + 16384]
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.handle_error = lambda request, address: None  # type: ignore[method-assign]
    site.server = server
    site.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield site
    server.shutdown()
    server.server_close()


def make_pdf(pages: list[list[str]]) -> bytes:
    """A PDF with one page per list of lines (fpdf2, a development dependency)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_font("Helvetica", "", 11)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def make_image_pdf() -> bytes:
    """A PDF whose only page holds a drawing and no text (like a scanned page)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    return bytes(pdf.output())


def make_docx() -> bytes:
    """A Word document with a title, a heading, a paragraph and a table."""
    from docx import Document

    doc = Document()
    doc.add_heading("Manual do cliente", level=0)
    doc.add_heading("Garantia estendida", level=1)
    doc.add_paragraph("A garantia estendida cobre 12 meses além da garantia do fabricante.")
    table = doc.add_table(rows=2, cols=2)
    table.rows[0].cells[0].text = "Plano"
    table.rows[0].cells[1].text = "Preço"
    table.rows[1].cells[0].text = "Garantia Plus"
    table.rows[1].cells[1].text = "R$ 99,00"
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
