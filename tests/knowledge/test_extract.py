"""Each source type is extracted into titled, located chunks; bad input gets a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.knowledge.conftest import make_docx, make_image_pdf, make_pdf

from chatwootai.knowledge.chunking import MAX_WORDS, chunk_document, split_long
from chatwootai.knowledge.extract import ExtractionError, extract, kind_for
from chatwootai.knowledge.index import SourceIndex

DOMAINS = Path(__file__).resolve().parents[2] / "domains"

HTML = """<html><head><title>Trocas | Loja</title><script>var x = 1;</script></head>
<body><nav>Início Produtos Contato</nav>
<main><h1>Política de trocas</h1>
<h2 id="prazo">Prazo</h2><p>Você pode trocar em até <b>30 dias</b>.</p>
<h2 id="frete">Frete</h2>
<table><tr><th>Situação</th><th>Quem paga</th></tr>
<tr><td>Defeito</td><td>A loja</td></tr></table>
</main><footer>CNPJ 00.000.000/0001-00</footer></body></html>"""


def test_html_keeps_headings_anchors_and_rows_and_drops_the_chrome() -> None:
    chunks = chunk_document(extract(HTML.encode(), "html"))
    texts = [c.text for c in chunks]
    assert "Você pode trocar em até 30 dias ." in texts[0] or "30 dias" in texts[0]
    assert chunks[0].title == "Política de trocas › Prazo"
    assert chunks[0].location == "#prazo"
    assert chunks[1].text == "Situação: Defeito; Quem paga: A loja"
    assert chunks[1].title == "Política de trocas › Frete"
    joined = " ".join(texts)
    assert "Início" not in joined and "CNPJ" not in joined and "var x" not in joined


def test_pdf_pages_become_located_chunks() -> None:
    pdf = make_pdf(
        [
            ["Tabela de preços", "Corte feminino R$ 90,00", "Escova R$ 60,00"],
            ["Política de atraso", "Atrasos de mais de 15 minutos podem exigir remarcação."],
        ]
    )
    index = SourceIndex.build(pdf, "pdf", "precos.pdf")
    assert index.pages == 2
    by_text = {p.text: p for p in index.passages}
    assert by_text["Corte feminino R$ 90,00"].location == "p. 1"
    assert by_text["Corte feminino R$ 90,00"].title == "Tabela de preços"
    late = next(p for p in index.passages if "15 minutos" in p.text)
    assert late.location == "p. 2" and late.title == "Política de atraso"


def test_pdf_without_text_is_refused_with_a_hint() -> None:
    with pytest.raises(ExtractionError, match="no extractable text"):
        extract(make_image_pdf(), "pdf")


@pytest.mark.parametrize("content", [b"", b"%PDF-1.4 garbage", b"not a pdf at all" * 50])
def test_broken_pdf_is_an_extraction_error(content: bytes) -> None:
    with pytest.raises(ExtractionError):
        extract(content, "pdf")


def test_docx_paragraphs_headings_and_tables_in_order() -> None:
    chunks = chunk_document(extract(make_docx(), "docx"))
    assert chunks[0].title == "Manual do cliente › Garantia estendida"
    assert "12 meses" in chunks[0].text
    assert chunks[1].text == "Plano: Garantia Plus; Preço: R$ 99,00"


def test_broken_docx_is_an_extraction_error() -> None:
    with pytest.raises(ExtractionError, match="DOCX"):
        extract(b"PK\x03\x04 not really a zip", "docx")


def test_csv_with_semicolons_and_excel_encoding() -> None:
    content = "Serviço;Preço;Duração\nManicure;R$ 35,00;40 min\nPé e mão;R$ 60,00;80 min\n"
    chunks = chunk_document(extract(content.encode("cp1252"), "csv"))
    assert [c.text for c in chunks] == [
        "Serviço: Manicure; Preço: R$ 35,00; Duração: 40 min",
        "Serviço: Pé e mão; Preço: R$ 60,00; Duração: 80 min",
    ]
    assert chunks[0].location == "linha 2"


def test_empty_documents_are_errors() -> None:
    with pytest.raises(ExtractionError, match="no text"):
        extract(b"   \n\n ", "text")
    with pytest.raises(ExtractionError, match="no text"):
        extract(b"<html><body><nav>menu</nav></body></html>", "html")


def test_text_paragraphs_and_markdown_headings() -> None:
    text = "Entrega\n\nEntregamos em todo o Brasil pelos Correios.\nPrazo de 5 dias úteis.\n"
    chunks = chunk_document(extract(text.encode(), "text"))
    assert chunks[0].title == "Entrega" and "Correios" in chunks[0].text
    md = (
        "# Loja\n\n## Horário\n\nAbrimos às 9h.\n\n| Dia | Horário |\n|---|---|\n| Sáb | 9h-13h |\n"
    )
    chunks = chunk_document(extract(md.encode(), "markdown"))
    assert chunks[0].title == "Loja › Horário" and chunks[0].text == "Abrimos às 9h."
    assert chunks[1].text == "Dia: Sáb; Horário: 9h-13h"


def test_long_paragraphs_are_cut_at_sentences() -> None:
    sentence = "Esta é uma frase de teste com dez palavras no total. "
    pieces = split_long(sentence * 60)
    assert len(pieces) > 1
    assert all(len(p.split()) <= MAX_WORDS for p in pieces)
    assert all(p.endswith(".") for p in pieces)


def test_kind_from_name_or_media_type() -> None:
    assert kind_for("a/b/Tabela.PDF") == "pdf"
    assert kind_for("https://x.com/trocas", "text/html; charset=utf-8") == "html"
    assert kind_for("https://x.com/precos.csv", "text/plain") == "csv"
    assert kind_for("https://x.com/nada", "application/zip") is None


def test_shipped_documents_extract() -> None:
    for path, kind in (
        (DOMAINS / "cosmetics" / "tabela-estudio.pdf", "pdf"),
        (DOMAINS / "cosmetics" / "politica-trocas.html", "html"),
        (DOMAINS / "health" / "preparo-exames.pdf", "pdf"),
    ):
        index = SourceIndex.build(path.read_bytes(), kind, path.name)
        assert len(index.passages) >= 8, path
        assert all(p.title for p in index.passages), path
