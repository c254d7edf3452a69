"""Generates the example domains' PDF documents (fpdf2, a development dependency).

The PDFs are committed; this script is how they were made, so they can be edited and rebuilt:

    .venv/bin/python bench/make_documents.py

* domains/cosmetics/tabela-estudio.pdf: the studio's price list, packages and rules;
* domains/health/preparo-exames.pdf: how to prepare for each exam.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

DOMAINS = Path(__file__).resolve().parent.parent / "domains"

Section = tuple[str, list[str | tuple[str, str]]]
"""A heading and its lines: a paragraph, or a (label, value) table row."""

STUDIO: list[Section] = [
    (
        "SERVIÇOS DO ESTÚDIO",
        [
            ("Limpeza de pele profunda (90 min)", "R$ 180,00"),
            ("Design de sobrancelhas (30 min)", "R$ 55,00"),
            ("Design de sobrancelhas com henna (45 min)", "R$ 75,00"),
            ("Maquiagem social (60 min)", "R$ 160,00"),
            ("Prova de maquiagem de noiva (90 min)", "R$ 250,00"),
            ("Consultoria de pele (40 min), cortesia", "R$ 0,00"),
        ],
    ),
    (
        "PACOTES",
        [
            ("Pacote Pele Renovada: 3 limpezas de pele em até 4 meses", "R$ 480,00"),
            ("Pacote Sobrancelha em Dia: 4 designs com henna em até 6 meses", "R$ 260,00"),
            ("Dia da Noiva: prova, maquiagem no dia e design de sobrancelhas", "R$ 690,00"),
            ("Maquiagem de madrinha ou mãe da noiva (a partir de 3 pessoas), cada", "R$ 150,00"),
            (
                "Os pacotes são pessoais e intransferíveis e podem ser pagos por Pix ou no cartão "
                "de crédito em até 3 vezes sem juros. Sessões não usadas no prazo do pacote não "
                "são reembolsadas."
            ),
        ],
    ),
    (
        "Maquiagem fora do estúdio",
        [
            (
                "Atendemos noivas e formandas em casa, no salão de festas ou no hotel. A taxa de "
                "deslocamento é de R$ 80,00 em Campinas e de R$ 150,00 em Valinhos, Vinhedo, "
                "Paulínia e Sumaré. Atendimentos antes das 7h têm acréscimo de R$ 60,00."
            ),
        ],
    ),
    (
        "Sinal e remarcação do Dia da Noiva",
        [
            (
                "Para reservar a data do Dia da Noiva pedimos um sinal de 30% do valor. O sinal é "
                "devolvido se o cancelamento for feito com mais de 15 dias de antecedência; com "
                "menos de 15 dias, ele não é devolvido, mas pode ser usado em outra data em até 6 "
                "meses."
            ),
        ],
    ),
    (
        "Vale-presente do estúdio",
        [
            (
                "O vale-presente pode ter qualquer valor a partir de R$ 50,00, vale para todos os "
                "serviços do estúdio e tem validade de 6 meses. É enviado por WhatsApp ou "
                "impresso na loja."
            ),
        ],
    ),
    (
        "Cuidados depois do serviço",
        [
            (
                "Depois da limpeza de pele, evite sol forte, piscina e maquiagem por 48 horas "
                "e use protetor solar todos os dias. Depois da henna, não molhe nem esfregue as "
                "sobrancelhas por 12 horas para a cor durar mais."
            ),
        ],
    ),
]

EXAMS: list[Section] = [
    (
        "EXAMES DE SANGUE",
        [
            (
                "Glicemia e perfil lipídico pedem jejum de 8 horas, no máximo 12. Hemograma, "
                "hemoglobina glicada, vitamina D e TSH não exigem jejum. Pode beber água. Evite "
                "bebida alcoólica nas 72 horas antes e exercícios intensos na véspera."
            ),
            (
                "Curva glicêmica (teste de tolerância à glicose): jejum de 8 horas e reserve "
                "cerca de 2 horas e meia na clínica, em repouso, para as coletas."
            ),
        ],
    ),
    (
        "Urina tipo 1 e urocultura",
        [
            (
                "Colete a primeira urina da manhã, ou com pelo menos 2 horas sem urinar. Lave a "
                "região com água e sabão, despreze o primeiro jato e colete o jato do meio no "
                "frasco estéril que entregamos na recepção. Entregue o frasco em até 1 hora."
            ),
        ],
    ),
    (
        "ULTRASSOM",
        [
            (
                "Ultrassom de abdome total: jejum de 8 horas e bexiga cheia (beba 4 a 6 copos de "
                "água 1 hora antes e não urine até o exame)."
            ),
            (
                "Ultrassom pélvico por via abdominal: bexiga cheia, sem jejum. Ultrassom "
                "transvaginal: bexiga vazia, sem jejum; pode ser feito durante a menstruação, "
                "salvo pedido médico em contrário."
            ),
            ("Ultrassom de tireoide, mamas e articulações não precisa de preparo."),
        ],
    ),
    (
        "Eletrocardiograma e teste ergométrico",
        [
            (
                "Eletrocardiograma não precisa de preparo; evite passar creme ou óleo no peito "
                "no dia."
            ),
            (
                "Teste ergométrico: venha com roupa leve e tênis, faça uma refeição leve até 2 "
                "horas antes, não fume nas 3 horas anteriores e traga a lista dos remédios que "
                "usa. Não suspenda remédios para o coração sem orientação do seu médico. Homens "
                "com pelos no peito podem precisar de tricotomia no local."
            ),
        ],
    ),
    (
        "Ecocardiograma",
        [
            ("Não precisa de jejum nem de preparo. O exame dura cerca de 30 minutos."),
        ],
    ),
    (
        "Preventivo (Papanicolau)",
        [
            (
                "Não faça o exame menstruada; espere 3 dias depois do fim da menstruação. Nas 48 "
                "horas antes, evite relação sexual, duchas e cremes vaginais."
            ),
        ],
    ),
    (
        "O que trazer",
        [
            (
                "Documento com foto, carteirinha do convênio, pedido médico e exames anteriores. "
                "Chegue 15 minutos antes. Menores de 18 anos vêm com um responsável."
            ),
        ],
    ),
]


def write(path: Path, title: str, subtitle: str, sections: list[Section]) -> None:
    """A simple A4 document: title, then each section's heading, rows and paragraphs."""
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_author("ChatwootAI example domains")
    pdf.set_creation_date(__import__("datetime").datetime(2026, 3, 1))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 6, subtitle, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for heading, lines in sections:
        pdf.set_font("Helvetica", "B", 12)
        pdf.ln(2)
        pdf.multi_cell(0, 7, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        pdf.set_font("Helvetica", "", 10)
        for line in lines:
            if isinstance(line, tuple):
                label, value = line
                pdf.cell(150, 6, label)
                pdf.cell(0, 6, value, align="R", new_x="LMARGIN", new_y="NEXT")
            else:
                pdf.multi_cell(0, 5.5, line, new_x="LMARGIN", new_y="NEXT")
                pdf.ln(3)
        pdf.ln(2)
    pdf.output(str(path))


def main() -> None:
    write(
        DOMAINS / "cosmetics" / "tabela-estudio.pdf",
        "Tabela de serviços e pacotes do Estúdio Bela Pele",
        "Estúdio de estética da Bela Pele Cosméticos, Campinas (SP). Valores válidos em 2026.",
        STUDIO,
    )
    write(
        DOMAINS / "health" / "preparo-exames.pdf",
        "Guia de preparo para exames",
        "Clínica Vida Plena. Siga sempre a orientação do seu médico quando for diferente.",
        EXAMS,
    )
    print("written: domains/cosmetics/tabela-estudio.pdf, domains/health/preparo-exames.pdf")


if __name__ == "__main__":
    main()
