"""Every document format read right: real generated files (good, broken, hostile) of each type.

PDFs read as paragraphs with pages and titles, scanned PDFs and pictures by OCR, .pptx, .xlsx,
.csv and .epub, and what happens to each when it is broken, encrypted or a bomb.
"""

from __future__ import annotations

import datetime
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, offered
from samples import (
    text_image,
    write_docx,
    write_docx_with_notes,
    write_epub,
    write_form_pdf,
    write_odt,
    write_pdf,
    write_pptx,
    write_scanned_pdf,
    write_unmapped_pdf,
    write_xlsx,
    write_zip_bomb_docx,
)

from index.chunk import page_range
from index.load import load, scan
from index.text import sentence_spans
from index.types import Document, Skipped

sys.path.insert(0, str(ROOT / "eval"))
from render_docs import (
    font_path,
    render_docx,
    render_footnoted,
    render_html,
    render_manual,
    render_paper,
    render_pdf,
    render_scan,
)

ESPRESSO = [
    "The Lumen Barista Pro espresso machine must be descaled every 6 weeks using the Lumen "
    "descaling solution, which is sold separately in packs of three bottles.",
    "The warranty on the Barista Pro lasts three years, but it is void if the machine was "
    "descaled with vinegar or any other household acid.",
    "To brew a double espresso, grind 18 grams of beans finely and extract them for 28 seconds "
    "at a pressure of 9 bars.",
]


def _load(path: Path) -> Document | Skipped:
    entries, skipped = scan([path])
    return skipped[0] if skipped else load(entries[0])


def _quoted(answer) -> str:
    """The answer's quotation: its text without the marked phrase put first ("6 weeks — ...").
    A phrase that leads is one the first citation marks, inside the sentence quoted after it."""
    for phrase in (p.text for c in answer.citations[:1] for p in c.phrases):
        if answer.text.startswith(f"{phrase} — "):
            rest = answer.text.removeprefix(f"{phrase} — ")
            assert phrase in rest, answer.text
            return rest
    return answer.text


def _norm(text: str) -> str:
    return " ".join(text.split())


def test_espresso_pdf_answers_are_whole_sentences_citing_page_1(make_settings, tmp_path, embedder):
    """The issue's example: two questions, two different whole-sentence answers, page 1."""
    from index.ingest import ingest
    from qa.engine import Engine

    docs = tmp_path / "docs"
    docs.mkdir()
    write_pdf(docs / "lumen.pdf", "\n".join(ESPRESSO))  # fpdf2 wraps each paragraph
    doc = _load(docs / "lumen.pdf")
    assert isinstance(doc, Document) and doc.pages == (0,)
    sentences = {doc.text[s:e] for s, e in sentence_spans(doc.text)}
    assert set(ESPRESSO) <= sentences, "a wrapped line must not end a sentence"

    settings = make_settings(docs_dir=docs)
    ingest(settings.ingest_config, embedder=embedder)
    engine = Engine(settings)
    answers = [
        engine.ask("What voids the warranty?"),
        engine.ask("What is the pressure for a double espresso?"),
        engine.ask("How often must the machine be descaled?"),
    ]
    texts = [re.sub(r"\s*\[\d+\]", "", _quoted(a)).strip() for a in answers]
    assert texts[0] != texts[1]
    assert texts[0] == ESPRESSO[1] and texts[1] == ESPRESSO[2]
    assert "every 6 weeks" in texts[2]
    for answer, text in zip(answers, texts, strict=True):
        assert offered(answer) and not answer.refused
        assert answer.text in answer.reply
        for c in answer.citations:
            assert c.page == 1 and c.source == "lumen.pdf"
            for s in c.sentences:
                assert s.text in ESPRESSO, f"not a whole sentence: {s.text!r}"
        assert all(part in ESPRESSO for part in re.split(r"(?<=\.)\s+", text))


def _squad_doc(n: int = 3) -> str:
    data = json.loads((ROOT / "eval/datasets/squad-expmrc/expmrc-squad-dev.json").read_text())
    art = data["data"][1]
    return (
        art["title"].replace("_", " ")
        + "\n"
        + "\n".join(p["context"] for p in art["paragraphs"][:n])
    )


@pytest.mark.parametrize("columns", [1, 2])
def test_typeset_pdf_reads_like_the_text(tmp_path, columns):
    """Wrapped, hyphenated lines, running header and footer, page breaks, two columns."""
    text = _squad_doc()
    path = tmp_path / "doc.pdf"
    path.write_bytes(render_pdf(text, columns=columns, seed=columns))
    doc = _load(path)
    assert isinstance(doc, Document), doc
    assert len(doc.pages) >= 2, "the document runs over several pages"
    assert doc.title == text.split("\n")[0]
    got = _norm(doc.text)
    assert "Page 1 of" not in got and "Reference ·" not in got and "- 2 -" not in got
    # Every paragraph comes back whole, in order (hyphenated compounds may lose a hyphen).
    unhyphen = lambda s: s.replace("-", "")  # noqa: E731
    position = 0
    for paragraph in text.split("\n")[1:]:
        at = unhyphen(got).find(unhyphen(_norm(paragraph)), position)
        assert at >= 0, f"paragraph not found intact: {paragraph[:60]!r}"
        position = at
    # Pages: each page start is inside the text and the last sentence is on the last page.
    assert list(doc.pages) == sorted(doc.pages) and doc.pages[0] == 0
    s, e = sentence_spans(doc.text)[-1]
    assert page_range(doc.pages, s, e)[1] == len(doc.pages)


def test_manual_pdf_reads_like_the_text(tmp_path):
    """A manual as texinfo/DocBook set them: headings out in the margin, chapter running headers
    on some pages only, the title repeated as a running header, a contents page, a quotation."""
    data = json.loads((ROOT / "eval/datasets/squad-expmrc/expmrc-squad-dev.json").read_text())
    names = ["Installing the pump", "Daily care", "When something goes wrong"]
    chapters = [
        (name, [p["context"] for p in data["data"][k]["paragraphs"][:7]])
        for k, name in enumerate(names)
    ]
    path = tmp_path / "manual.pdf"
    path.write_bytes(render_manual("Pump manual", chapters))
    doc = _load(path)
    assert isinstance(doc, Document), doc
    assert len(doc.pages) >= 10
    paragraphs = [_norm(p) for p in doc.text.split("\n\n")]
    # The title heads page 1 although every even page repeats it as a running header.
    assert paragraphs[0] == "Pump manual" and doc.text.count("Pump manual") == 1
    # Contents: one entry a paragraph, the leader dots gone; each chapter heading stands alone.
    for n, name in enumerate(names, 1):
        assert any(re.fullmatch(rf"{n} {name} … \d+", p) for p in paragraphs), name
        assert f"{n} {name}" in paragraphs
        assert f"Chapter {n}:" not in doc.text  # the running header, on 2-3 pages of 13
    # Every paragraph comes back whole and alone, the indented quotation included.
    for _, texts in chapters:
        for text in texts:
            assert _norm(text) in paragraphs, f"paragraph not read whole: {text[:60]!r}"


def test_a_paragraph_runs_on_past_the_footnotes(tmp_path):
    """A paragraph that crosses a page break reads whole; the page's footnote follows it."""
    data = json.loads((ROOT / "eval/datasets/squad-expmrc/expmrc-squad-dev.json").read_text())
    texts = [p["context"] for p in data["data"][3]["paragraphs"][:8]]
    note = "{page} See the appendix for the sources of page {page}; checked against the reports."
    path = tmp_path / "report.pdf"
    path.write_bytes(render_footnoted(texts, note))
    doc = _load(path)
    assert isinstance(doc, Document), doc
    assert len(doc.pages) == 2
    paragraphs = [_norm(p) for p in doc.text.split("\n\n")]
    for text in texts:
        assert _norm(text) in paragraphs, f"paragraph not read whole: {text[:60]!r}"
    for page in (1, 2):
        assert note.format(page=page) in paragraphs
    crossing = next(t for t in texts if _norm(t) not in _norm(doc.text[: doc.pages[1]]))
    at = doc.text.index(crossing[:40])
    assert page_range(doc.pages, at, at + len(crossing)) == (1, 2)


def test_two_column_paper_with_footnotes_at_the_foot_of_a_column(tmp_path):
    """Title and abstract across the page, then two columns; a paragraph that runs on from the
    left column into the right one reads whole past the left column's footnote."""
    data = json.loads((ROOT / "eval/datasets/squad-expmrc/expmrc-squad-dev.json").read_text())
    texts = [p["context"] for p in data["data"][4]["paragraphs"][:10]]
    abstract = "We study how the river shaped the valley, and what the monks' records tell."
    notes = [
        "The dates follow the second edition of the chronicle; the older one counts from 1100.",
        "Names are given as the monks wrote them, which is not always how the tribes said them.",
    ]
    path = tmp_path / "paper.pdf"
    path.write_bytes(render_paper("Floods of the valley", abstract, texts, notes))
    doc = _load(path)
    assert isinstance(doc, Document), doc
    paragraphs = [_norm(p) for p in doc.text.split("\n\n")]
    assert paragraphs[:2] == ["Floods of the valley", abstract]
    for text in texts:
        assert _norm(text) in paragraphs, f"paragraph not read whole: {text[:60]!r}"
    for n, text in enumerate(notes, 1):
        assert f"{n} {text}" in paragraphs
    # In reading order: each note follows the paragraph that its column ends inside.
    assert [p for p in paragraphs if p in map(_norm, texts)] == [_norm(t) for t in texts]


def test_a_table_reads_row_by_row_and_answers_from_its_row(tmp_path, make_settings, embedder):
    """Each row of a table is one line, its cells in order (the table was read as two columns
    of text, so a model's price and warranty came apart from its name)."""
    from fpdf import FPDF

    from index.ingest import ingest
    from qa.engine import Engine

    pdf = FPDF()
    pdf.add_font("DejaVu", "", font_path())
    pdf.add_font("DejaVu", "B", font_path(bold=True))  # the heading row
    pdf.add_page()
    pdf.set_font("DejaVu", "", 11)
    pdf.multi_cell(0, 6, "The Lumen range comes in three models. Prices include VAT.")
    pdf.ln(4)
    rows = [("Model", "Price", "Warranty", "Water tank"),
            ("Barista Pro", "499 EUR", "3 years", "2.0 litres"),
            ("Barista Mini", "299 EUR", "2 years", "1.2 litres"),
            ("Barista Max with steam wand and grinder", "899 EUR", "5 years", "2.5 litres")]  # fmt: skip
    with pdf.table() as table:
        for cells in rows:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    pdf.ln(4)
    pdf.multi_cell(0, 6, "All models must be descaled every 6 weeks.")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "range.pdf").write_bytes(bytes(pdf.output()))
    doc = _load(docs / "range.pdf")
    assert isinstance(doc, Document), doc
    paragraphs = doc.text.split("\n\n")
    for cells in rows[:3]:
        assert " | ".join(cells) in paragraphs
    assert "899 EUR | 5 years | 2.5 litres" in doc.text  # the row of a cell that wraps
    assert paragraphs[-1] == "All models must be descaled every 6 weeks."
    settings = make_settings(docs_dir=docs)
    ingest(settings.ingest_config, embedder=embedder)
    answer = Engine(settings).ask("How long is the warranty of the Barista Mini?")
    assert "Barista Mini | 299 EUR | 2 years" in answer.text, answer.text


@pytest.mark.parametrize("columns", [2, 3])
def test_prose_in_columns_is_not_a_table(tmp_path, columns):
    """Lines of text side by side in columns read column by column, never as table rows."""
    from fpdf import FPDF

    data = json.loads((ROOT / "eval/datasets/squad-expmrc/expmrc-squad-dev.json").read_text())
    texts = [
        p["context"] for p in data["data"][5]["paragraphs"][:9] if "\u200b" not in p["context"]
    ]
    pdf = FPDF()
    pdf.add_font("DejaVu", "", font_path())
    pdf.set_font("DejaVu", "", 9)
    for align, page in (("LEFT", texts[:4]), ("JUSTIFY", texts[4:])):
        pdf.add_page()
        with pdf.text_columns(ncols=columns, gutter=6, text_align=align) as cols:
            for text in page:
                cols.write(text + "\n\n")
    (tmp_path / "columns.pdf").write_bytes(bytes(pdf.output()))
    doc = _load(tmp_path / "columns.pdf")
    assert isinstance(doc, Document), doc
    assert " | " not in doc.text
    paragraphs = [_norm(p) for p in doc.text.split("\n\n")]
    for text in texts:
        assert _norm(text) in paragraphs, text[:60]


def test_a_filled_in_pdf_form_reads_with_its_answers(tmp_path):
    """A form's answers live in its fields, not in the page's text: they are read too."""
    fields = [
        ("Name of the insured person:", "Marta Ilves"),
        ("Date of the accident:", "3 March 2026"),
    ]
    doc = _load(write_form_pdf(tmp_path / "claim.pdf", "Claim form for travel insurance", fields))
    assert isinstance(doc, Document), doc
    text = _norm(doc.text)
    for label, value in fields:
        assert f"{label} {value}" in text


def test_raised_marks_are_superscripts_not_digits_of_the_word(tmp_path):
    """A footnote mark after a year must not change the year; an exponent stays one; an
    ordinal's raised ending stays part of it; the search words are the words without marks."""
    from fpdf import FPDF

    from index.text import tokenize

    pdf = FPDF()
    pdf.add_font("DejaVu", "", font_path())
    pdf.add_page()
    pdf.set_font("DejaVu", "", 11)
    for text, raised in [("The harbour was rebuilt in 1872", "12"), (" on the 21", "st"),
                         (" of May; the basin is 40 m", "2"), (" and its keeper was Marta", "a"),
                         (" Ilves.", "")]:  # fmt: skip
        pdf.write(5.5, text)
        pdf.char_vpos = "SUP"
        pdf.write(5.5, raised)
        pdf.char_vpos = "LINE"
    (tmp_path / "harbour.pdf").write_bytes(bytes(pdf.output()))
    doc = _load(tmp_path / "harbour.pdf")
    assert isinstance(doc, Document), doc
    assert _norm(doc.text) == (
        "The harbour was rebuilt in 1872¹² on the 21st of May; the basin is 40 m² and its keeper "
        "was Martaᵃ Ilves."
    )
    assert {"1872", "21st", "40", "m", "marta"} <= set(tokenize(doc.text))


@pytest.mark.parametrize("lines", [1, 2, 3, 4])
def test_short_pdfs_read_whole(tmp_path, lines):
    """A page of a few lines (a title and a sentence) is all text: none is a header or footer."""
    texts = ["Tarvos lighthouse log", "The keeper of the Tarvos lighthouse is Marta Ilves.",
             "The lamp is lit at dusk.", "Visitors sign the book."][:lines]  # fmt: skip
    doc = _load(write_pdf(tmp_path / "short.pdf", "\n\n".join(texts)))
    assert isinstance(doc, Document), doc
    assert _norm(doc.text) == " ".join(texts)


def test_pdf_pages_follow_the_text(tmp_path):
    """A sentence printed on page 3 is cited as page 3."""
    from fpdf import FPDF

    pdf = FPDF()
    for n in range(1, 4):
        pdf.add_page()
        pdf.set_font("Helvetica", size=12)
        pdf.multi_cell(0, 8, f"Page {n} holds fact number {n}: the harbour opens at {n + 6} am.")
    pdf.set_title("Harbour facts")
    (tmp_path / "facts.pdf").write_bytes(bytes(pdf.output()))
    doc = _load(tmp_path / "facts.pdf")
    assert doc.title == "Harbour facts" and len(doc.pages) == 3
    for n in range(1, 4):
        at = doc.text.index(f"fact number {n}")
        assert page_range(doc.pages, at, at + 10) == (n, n)


def test_titles_of_every_kind(tmp_path):
    (tmp_path / "guide.md").write_text("Intro line.\n\n## Garden guide ##\n\nTomatoes need sun.\n")
    (tmp_path / "page.html").write_text("<title>Harbour</title><h1>Other</h1><p>Text here.</p>")
    (tmp_path / "bare.html").write_text("<body><h1>Only heading</h1><p>Text here.</p></body>")
    (tmp_path / "memo.docx").write_bytes(render_docx("Budget memo\nThe meeting moved."))
    pdf = render_pdf("Annual report\nRainfall was 812 millimetres.")
    (tmp_path / "report.pdf").write_bytes(pdf)
    titles = {p.name: _load(p).title for p in sorted(tmp_path.iterdir())}
    assert titles == {
        "bare.html": "Only heading",
        "guide.md": "Garden guide",
        "memo.docx": "Budget memo",
        "page.html": "Harbour",
        "report.pdf": "Annual report",
    }


def test_html_inline_markup_does_not_break_sentences(tmp_path):
    (tmp_path / "a.html").write_bytes(render_html("T\nThe ferry leaves at seven from the pier."))
    (tmp_path / "b.html").write_text(
        "<p>The <b>ferry</b> leaves at <a href='#'>7:15</a>.<br>Next line.</p>"
        "<nav>Home | About</nav><table><tr><td>Name</td><td>Ann</td></tr></table>"
    )
    a, b = _load(tmp_path / "a.html"), _load(tmp_path / "b.html")
    assert "The ferry leaves at seven from the pier." in a.text and "Home" not in a.text
    assert b.text == "The ferry leaves at 7:15.\nNext line.\nName | Ann"


def test_docx_reads_in_document_order_with_page_breaks(tmp_path):
    import docx

    d = docx.Document()
    d.add_paragraph("First page text.")
    table = d.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Name", "Ann"
    d.add_paragraph("After the table.")
    d.add_page_break()
    d.add_paragraph("Second page text.")
    d.save(str(tmp_path / "a.docx"))
    doc = _load(tmp_path / "a.docx")
    assert doc.text == "First page text.\nName | Ann\nAfter the table.\nSecond page text."
    at = doc.text.index("Second")
    assert page_range(doc.pages, at, at + 5) == (2, 2)
    assert page_range(doc.pages, 0, 5) == (1, 1)


def test_docx_footnotes_and_endnotes_follow_the_text_numbered_as_referred(tmp_path):
    """A Word document's notes live in their own parts: they are read too, each after the
    number that marks it in the text (footnotes numbered in the order the text refers to them)."""
    path = write_docx_with_notes(
        tmp_path / "harbour.docx",
        [
            ["The harbour was rebuilt in 1872", ("footnote", 7), " after the great storm."],
            [
                "Its keeper was Marta Ilves",
                ("footnote", 3),
                ", who kept the log",
                ("endnote", 1),
                ".",
            ],
        ],
        {
            "footnote": {7: "See the town chronicle, page 12.", 3: "Keeper from 1901 to 1931."},
            "endnote": {1: "The log is kept in the town archive."},
        },
    )
    doc = _load(path)
    assert isinstance(doc, Document), doc
    assert doc.text.split("\n") == [
        "The harbour was rebuilt in 1872¹ after the great storm.",
        "Its keeper was Marta Ilves², who kept the log¹.",
        "¹ See the town chronicle, page 12.",
        "² Keeper from 1901 to 1931.",
        "¹ The log is kept in the town archive.",
    ]


def test_odt_reads_like_the_document(tmp_path):
    """An OpenDocument text: headings, spans and spaces, a list, a table row by row, a footnote
    after the text, a text box; comments and deleted tracked changes left out; pages."""
    body = (
        '<text:tracked-changes><text:changed-region text:id="c1"><text:deletion>'
        "<text:p>Deleted words.</text:p></text:deletion></text:changed-region></text:tracked-changes>"
        '<text:h text:outline-level="1"><text:number>1.</text:number>The Tarvos lighthouse</text:h>'
        "<text:p>The keeper is <text:span>Marta</text:span><text:s/>Ilves<text:note "
        'text:note-class="footnote"><text:note-citation>1</text:note-citation><text:note-body>'
        "<text:p>Keeper since 1901.</text:p></text:note-body></text:note>; the lamp is lit"
        "<text:tab/>at dusk.<office:annotation><text:p>Check this.</text:p></office:annotation>"
        "</text:p>"
        "<text:list><text:list-item><text:p>Oil for the lamp.</text:p></text:list-item>"
        "<text:list-item><text:p>A new lens.</text:p></text:list-item></text:list>"
        "<text:p><text:soft-page-break/>Prices of the tours:</text:p>"
        "<table:table><table:table-row><table:table-cell><text:p>Tour</text:p></table:table-cell>"
        "<table:table-cell><text:p>Price</text:p></table:table-cell></table:table-row>"
        "<table:table-row><table:table-cell><text:p>Night tour</text:p></table:table-cell>"
        "<table:table-cell><text:p>12 EUR</text:p></table:table-cell></table:table-row>"
        "</table:table>"
        "<text:p><draw:frame><draw:text-box><text:p>Open in summer.</text:p></draw:text-box>"
        "</draw:frame>The end.</text:p>"
    )
    doc = _load(write_odt(tmp_path / "tarvos.odt", "The Tarvos guide", body))
    assert isinstance(doc, Document), doc
    assert doc.title == "The Tarvos guide"
    assert doc.text.split("\n") == [
        "1. The Tarvos lighthouse",
        "The keeper is Marta Ilves¹; the lamp is lit at dusk.",
        "Oil for the lamp.",
        "A new lens.",
        "Prices of the tours:",
        "Tour | Price",
        "Night tour | 12 EUR",
        "Open in summer.",
        "The end.",
        "¹ Keeper since 1901.",
    ]
    at = doc.text.index("Night tour")
    assert len(doc.pages) == 2 and page_range(doc.pages, at, at + 5) == (2, 2)
    # Saved with a password: the parts are encrypted, and the manifest says so.
    with zipfile.ZipFile(tmp_path / "tarvos.odt") as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    parts["META-INF/manifest.xml"] = b"<manifest><encryption-data/></manifest>"
    with zipfile.ZipFile(tmp_path / "tarvos.odt", "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    got = _load(tmp_path / "tarvos.odt")
    assert isinstance(got, Skipped) and "encrypted .odt" in got.reason


RTF = r"""{\rtf1\ansi\ansicpg1252\cocoartf2709
\cocoatextscaling0\cocoaplatform0{\fonttbl\f0\fswiss\fcharset0 Helvetica;}
{\colortbl;\red255\green255\blue255;}
{\*\expandedcolortbl;;}
{\info{\title The Tarvos guide}{\author Marta}}
\paperw11900\paperh16840\margl1440\margr1440\vieww11520\viewh8400\viewkind0
\pard\tx566\tx1133\pardirnatural\partightenfactor0

\f0\fs24 \cf0 The keeper of the Tarvos lighthouse is Marta Ilves.\
The caf\'e9 opens at 9 \'96 a ticket is 3 \u8364\'80.\par
She wrote {\field{\*\fldinst{HYPERLINK "https://example.org"}}{\fldrslt the log}} every
 night{\super\chftn}{\footnote \pard {\super\chftn} Kept since 1901.}.\par
{\pict\pngblip 89504e470d0a1a0a0000000d49484452}
{\header \pard Tarvos guide, page \chpgn\par}
\trowd\cellx2000\cellx4000 Tour\cell Price\cell\row
\trowd\cellx2000\cellx4000 Night tour\cell 12 EUR\cell\row
\page On page two\u8212?the end.\par
}"""


def test_rtf_reads_like_the_document(tmp_path):
    """TextEdit's and WordPad's format: paragraphs, code-page and Unicode characters, a link's
    text, a table row by row, a footnote after the text; tables of fonts, colours, pictures
    and headers left out; the title from the info group; explicit page breaks."""
    (tmp_path / "tarvos.rtf").write_bytes(RTF.encode("ascii"))
    doc = _load(tmp_path / "tarvos.rtf")
    assert isinstance(doc, Document), doc
    assert doc.title == "The Tarvos guide"
    assert doc.text.split("\n") == [
        "The keeper of the Tarvos lighthouse is Marta Ilves.",
        "The café opens at 9 – a ticket is 3 €.",
        "She wrote the log every night¹.",
        "Tour | Price",
        "Night tour | 12 EUR",
        "On page two—the end.",
        "¹ Kept since 1901.",
    ]
    at = doc.text.index("On page two")
    assert page_range(doc.pages, at, at + 5) == (2, 2)
    (tmp_path / "fake.rtf").write_bytes(b"PK\x03\x04 a zip named .rtf")
    (tmp_path / "cut.rtf").write_bytes(RTF.encode("ascii")[:700])  # unbalanced braces
    assert "not an RTF file" in _load(tmp_path / "fake.rtf").reason
    cut = _load(tmp_path / "cut.rtf")
    assert isinstance(cut, Document) and cut.text.startswith("The keeper of the Tarvos")


def test_eml_reads_headers_then_the_message(tmp_path):
    """A saved e-mail: who, to whom, when and what about, then the plain-text part (else the
    HTML part as text); attachments named; the subject is the title."""
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "Ann Berg <ann@example.org>"
    msg["To"] = "Bob <bob@example.org>"
    msg["Date"] = "Tue, 03 Mar 2026 09:15:00 +0100"
    msg["Subject"] = "=?utf-8?q?Caf=C3=A9_contract?="  # encoded as mail programs write it
    msg.set_content("Hi Bob,\n\nthe café contract ends on 30 June 2026.\n\nAnn\n")
    msg.add_alternative("<p>Hi Bob,</p><p>the <b>café</b> contract ends soon.</p>", subtype="html")
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="lease.pdf")
    (tmp_path / "contract.eml").write_bytes(bytes(msg))
    doc = _load(tmp_path / "contract.eml")
    assert isinstance(doc, Document), doc
    assert doc.title == "Café contract"
    assert doc.text == (
        "From: Ann Berg <ann@example.org>\nTo: Bob <bob@example.org>\n"
        "Date: Tue, 03 Mar 2026 09:15:00 +0100\nSubject: Café contract\n\n"
        "Hi Bob,\n\nthe café contract ends on 30 June 2026.\n\nAnn\n\nAttachments: lease.pdf"
    )
    html_only = EmailMessage()
    html_only["Subject"] = "Opening hours"
    html_only.set_content("<p>We open at <b>9</b>.</p><script>x()</script>", subtype="html")
    (tmp_path / "hours.eml").write_bytes(bytes(html_only))
    assert _load(tmp_path / "hours.eml").text == "Subject: Opening hours\n\nWe open at 9."
    (tmp_path / "notes.eml").write_bytes(b"just some words, no headers at all")
    assert "not an e-mail" in _load(tmp_path / "notes.eml").reason


def test_pptx_slides_and_notes(tmp_path):
    write_pptx(
        tmp_path / "deck.pptx",
        [
            ("Quarterly review", ["Revenue grew 12 percent.", "Costs fell."], "Mention Oslo."),
            ("Next steps", ["Hire two engineers."], ""),
        ],
    )
    doc = _load(tmp_path / "deck.pptx")
    assert doc.title == "Quarterly review"
    assert doc.text.split("\n") == [
        "Quarterly review", "Revenue grew 12 percent.", "Costs fell.", "Notes: Mention Oslo.",
        "Next steps", "Hire two engineers.",
    ]  # fmt: skip
    at = doc.text.index("Hire")
    assert page_range(doc.pages, at, at + 4) == (2, 2)  # the slide number is the page


def test_pptx_table_rows_read_as_lines(tmp_path):
    """A slide's table reads one line a row, cells in order (each cell was a line of its own,
    so a price stood lines away from the model it is the price of)."""
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])  # title only
    slide.shapes.title.text = "Prices"
    rows = [("Model", "Price"), ("Barista Pro", "499 EUR"), ("Barista Mini", "299 EUR")]
    table = slide.shapes.add_table(3, 2, Inches(1), Inches(2), Inches(6), Inches(2)).table
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            table.cell(r, c).text = text
    table.cell(2, 0).text_frame.add_paragraph().text = "(the small one)"
    deck.save(str(tmp_path / "prices.pptx"))
    doc = _load(tmp_path / "prices.pptx")
    assert doc.text.split("\n") == [
        "Prices", "Model | Price", "Barista Pro | 499 EUR", "Barista Mini (the small one) | 299 EUR",
    ]  # fmt: skip


def test_xlsx_rows_read_as_header_value_lines(tmp_path):
    write_xlsx(
        tmp_path / "prices.xlsx",
        {
            "Prices": [
                ["Item", "Price", "Since"],
                ["Espresso", 2.5, datetime.date(2024, 3, 1)],
                ["Latte", 3.2, None],
            ],
            "Empty": [],
            "Staff": [["Name", "Role"], ["Ann", "Barista"]],
        },
        title="Café prices",
    )
    doc = _load(tmp_path / "prices.xlsx")
    assert doc.title == "Café prices"
    assert doc.text == (
        "Prices\nItem; Price; Since\nItem: Espresso; Price: 2.5; Since: 2024-03-01\n"
        "Item: Latte; Price: 3.2\n\nStaff\nName; Role\nName: Ann; Role: Barista"
    )


@pytest.mark.parametrize(
    "data, first_row",
    [
        ("name,city\nAnn,Oslo\nBob,Rome\n", "name: Ann; city: Oslo"),
        ("name;city\nAnn;Oslo\n", "name: Ann; city: Oslo"),
        ("name\tcity\nAnn\tOslo\n", "name: Ann; city: Oslo"),
        ('"a, quoted",n\n"x, y",3\n', "a, quoted: x, y; n: 3"),
        ("1,2\n3,4\n", "A: 1; B: 2"),
    ],
)
def test_csv_rows(tmp_path, data, first_row):
    (tmp_path / "t.csv").write_text(data)
    doc = _load(tmp_path / "t.csv")
    assert first_row in doc.text.split("\n")
    assert doc.title == "", "a table names no title; its first row is no title either"


def test_epub_chapters_in_spine_order(tmp_path):
    write_epub(
        tmp_path / "book.epub",
        "The Harbour Book",
        [("Chapter One", "The ferry leaves at dawn."), ("Chapter Two", "It returns at noon.")],
    )
    doc = _load(tmp_path / "book.epub")
    assert doc.title == "The Harbour Book"
    assert doc.text == "Chapter One\nThe ferry leaves at dawn.\n\nChapter Two\nIt returns at noon."


def test_ocr_reads_a_picture_and_a_scanned_pdf_with_its_pages(tmp_path):
    text_image(["The harbour opens in May.", "It closes in October."]).save(tmp_path / "a.png")
    text_image(["Ferries run every hour."]).convert("L").save(tmp_path / "b.jpg", quality=85)
    write_scanned_pdf(
        tmp_path / "scan.pdf",
        [["Page one says the harbour opens in May."], ["Page two says it shuts in winter."]],
    )
    png, jpg, scan_ = (_load(tmp_path / n) for n in ("a.png", "b.jpg", "scan.pdf"))
    assert "harbour opens in May" in png.text and "closes in October" in png.text
    assert "Ferries run every hour" in jpg.text
    assert "harbour opens in May" in scan_.text and len(scan_.pages) == 2
    at = scan_.text.index("shuts in winter")
    assert page_range(scan_.pages, at, at + 5) == (2, 2)


def test_a_multi_page_tiff_scan_reads_page_by_page(tmp_path):
    """Office scanners save a document as one TIFF of several pages: each is read by OCR, and
    a sentence on the second page is cited as page 2."""
    first = text_image(["Page one says the harbour opens in May."]).convert("L")
    second = text_image(["Page two says it shuts in winter."]).convert("L")
    first.save(tmp_path / "scan.tif", save_all=True, append_images=[second], compression="tiff_lzw")
    doc = _load(tmp_path / "scan.tif")
    assert isinstance(doc, Document), doc
    assert "harbour opens in May" in doc.text and len(doc.pages) == 2
    at = doc.text.index("shuts in winter")
    assert page_range(doc.pages, at, at + 5) == (2, 2)


def test_a_pdf_whose_text_maps_to_no_characters_is_read_by_ocr(tmp_path):
    """Fonts embedded without a character map: the page looks right and its text layer is
    noise ("- - - -" was indexed). Such a page is read by OCR, as a scan is."""
    text = "The keeper of the Tarvos lighthouse is Marta Ilves. The lamp is lit at dusk."
    doc = _load(write_unmapped_pdf(tmp_path / "keeper.pdf", text))
    assert isinstance(doc, Document), doc
    assert "keeper of the Tarvos lighthouse" in doc.text and "lamp is lit at dusk" in doc.text


def test_scanned_typeset_pdf_reads_close_to_the_text(tmp_path):
    text = "Harbour notes\n" + ESPRESSO[0] + " " + ESPRESSO[1]
    (tmp_path / "s.pdf").write_bytes(render_scan(render_pdf(text, seed=3)))
    doc = _load(tmp_path / "s.pdf")
    got = _norm(doc.text)
    words = _norm(text).split()
    found = sum(1 for w in words if w in got)
    assert found >= 0.9 * len(words), got
    assert "Page 1 of" not in got


MISSING_OCR = r"""
import sys
sys.modules["rapidocr_onnxruntime"] = None  # as if the ocr extra were not installed
from pathlib import Path
from index.load import load, scan
entries, _ = scan([Path(sys.argv[1])])
for e in entries:
    r = load(e)
    print(e.source, "|", getattr(r, "reason", None) or "indexed", "|", getattr(r, "notes", ""))
"""


def test_without_the_ocr_extra_scans_are_skipped_with_a_reason(tmp_path):
    from fpdf import FPDF

    write_scanned_pdf(tmp_path / "scan.pdf", [["Scanned words."]])
    text_image(["Pictured words."]).save(tmp_path / "pic.png")
    # A PDF whose second page is a scan: the text page is kept, the scan named in a note.
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(0, 10, "Typed words on page one.")
    pdf.add_page()
    buf = io.BytesIO()
    text_image(["Scanned words."]).save(buf, "PNG")
    pdf.image(buf, x=10, y=10, w=180)
    (tmp_path / "mixed.pdf").write_bytes(bytes(pdf.output()))
    write_unmapped_pdf(tmp_path / "unmapped.pdf", "The lamp is lit at dusk and put out at dawn.")
    out = subprocess.run(
        [sys.executable, "-c", MISSING_OCR, str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    rows = {line.split(" | ")[0]: line.split(" | ")[1:] for line in out.strip().splitlines()}
    assert "qa-chat[ocr]" in rows["scan.pdf"][0] and "scanned" in rows["scan.pdf"][0]
    assert "qa-chat[ocr]" in rows["pic.png"][0]
    assert rows["mixed.pdf"][0] == "indexed"
    assert "qa-chat[ocr]" in rows["mixed.pdf"][1] and "(2)" in rows["mixed.pdf"][1]
    assert "cannot be read" in rows["unmapped.pdf"][0] and "qa-chat[ocr]" in rows["unmapped.pdf"][0]


@pytest.mark.parametrize("ext", [".pptx", ".xlsx", ".epub", ".odt"])
def test_broken_office_and_book_files_are_skipped_with_a_reason(tmp_path, ext):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / f"not-zip{ext}").write_bytes(b"PK\x03\x04 not a zip")
    (folder / f"ole{ext}").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    write_zip_bomb_docx(folder / f"bomb{ext}", expanded=250_000_000)
    with zipfile.ZipFile(folder / f"empty{ext}", "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
    (folder / f"truncated{ext}").write_bytes(_good(ext, tmp_path)[:300])
    expect = {
        f"not-zip{ext}": "not a zip",
        f"ole{ext}": "password-protected",
        f"bomb{ext}": "zip bomb",
        f"empty{ext}": "corrupt",
        f"truncated{ext}": "corrupt",
    }
    entries, skipped = scan([folder])
    assert not skipped
    for e in entries:
        got = load(e)
        assert isinstance(got, Skipped), e.source
        assert expect[e.source] in got.reason and "\n" not in got.reason, got.reason


def _good(ext: str, tmp: Path) -> bytes:
    path = tmp / f"good{ext}"
    if ext == ".pptx":
        write_pptx(path, [("T", ["x"], "")])
    elif ext == ".xlsx":
        write_xlsx(path, {"S": [["a"], [1]]})
    elif ext == ".odt":
        write_odt(path, "T", "<text:p>x</text:p>")
    else:
        write_epub(path, "T", [("C", "x")])
    return path.read_bytes()


def test_encrypted_epub_and_broken_csv_and_picture(tmp_path):
    write_epub(tmp_path / "drm.epub", "T", [("C", "Secret.")])
    with zipfile.ZipFile(tmp_path / "drm.epub", "a") as zf:
        zf.writestr(
            "META-INF/encryption.xml",
            '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
            'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData><enc:CipherData>'
            '<enc:CipherReference URI="OEBPS/text/ch1.xhtml"/></enc:CipherData>'
            "</enc:EncryptedData></encryption>",
        )
    (tmp_path / "bin.csv").write_bytes(bytes(range(256)) * 20)
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(50))
    reasons = {p.name: _load(p).reason for p in sorted(tmp_path.iterdir())}
    assert "encrypted" in reasons["drm.epub"]
    assert "binary" in reasons["bin.csv"]
    assert "image" in reasons["bad.png"] and "image" in reasons["bad.jpg"]
    assert all("\n" not in r for r in reasons.values())


def test_encrypted_and_corrupt_pdf(tmp_path):
    write_pdf(tmp_path / "locked.pdf", "Secret text.", password="hunter2")
    write_pdf(tmp_path / "open.pdf", "Readable encrypted text.", password="")
    (tmp_path / "corrupt.pdf").write_bytes(b"%PDF-1.4\n this is not really a pdf \x00\x01")
    got = {p.name: _load(p) for p in sorted(tmp_path.iterdir())}
    assert "encrypted" in got["locked.pdf"].reason
    assert "Readable encrypted text." in got["open.pdf"].text
    assert "PDF" in got["corrupt.pdf"].reason


def test_every_supported_type_is_accepted_for_upload():
    from qa.library.folder import UPLOAD_TYPES

    for ext in (".pptx", ".xlsx", ".csv", ".epub", ".png", ".jpg", ".jpeg", ".pdf", ".docx"):
        assert ext in UPLOAD_TYPES
    _ = write_docx  # the older writers stay in use by the other document tests


def test_ocr_text_gets_back_the_spaces_it_dropped():
    from index.formats.words import respace

    assert respace("termofofficeisnowthesameasthelowerhouse.TheStateofVictoria") == (
        "term of office is now the same as the lower house. The State of Victoria"
    )
    assert (
        respace("Thegovernmentannouncedonmondaythat") == "The government announced on monday that"
    )
    # Real words the vocabulary lacks stay whole, and so does a run of fewer than three words.
    kept = "environmentalist photosynthesis microeconomics Melbournesuburbs U.S. e.g."
    assert respace(kept) == kept


# ---- hard-wrapped plain text

# A licence-like text wrapped by hand near 72 columns: a title, paragraphs, a lettered list
# whose items hang their continuation lines, a table, a fenced block and an indented one.
WRAPPED = """\
LUMEN SERVICE TERMS

  1. Warranty.

  The Lumen Barista Pro is covered by a limited warranty for three years
from the date of purchase, provided that the machine was descaled with
Lumen descaling powder and never with vinegar.  The warranty does not
cover the glass carafe, the seals or damage caused by hard water when
the machine was not descaled every six weeks as the manual describes.

  a) Claims must be made within thirty days of finding the fault, with
     the receipt and the serial number printed under the water tank.
  b) Repairs are done in the Lumen workshop in Lyon.

| part | price |
| --- | --- |
| seal kit | 12 EUR |

```
lumen-service --serial 4412-AB --reason "pump makes a rattling noise at startup"
lumen-service --list
```

Setup steps:
    descale --powder lumen --water fresh --cycles two --then rinse the tank
    rinse --cycles three
"""


def test_hard_wrapped_text_reads_as_paragraphs_each_character_in_place():
    from index.formats.wrap import unwrap, wrap_width

    text = unwrap(WRAPPED)
    assert len(text) == len(WRAPPED)
    assert all(a == b or (a == "\n" and b == " ") for a, b in zip(WRAPPED, text, strict=True))
    assert wrap_width(WRAPPED) is not None
    sentences = [" ".join(text[s:e].split()) for s, e in sentence_spans(text)]
    assert (
        "The Lumen Barista Pro is covered by a limited warranty for three years from the date of "
        "purchase, provided that the machine was descaled with Lumen descaling powder and never "
        "with vinegar."
    ) in sentences
    assert any(s.startswith("The warranty does not cover") and s.endswith("describes.")
               for s in sentences)  # fmt: skip
    assert (  # a list item with its hanging continuation, the next item its own
        "a) Claims must be made within thirty days of finding the fault, with the receipt and the "
        "serial number printed under the water tank."
    ) in sentences
    assert "b) Repairs are done in the Lumen workshop in Lyon." in sentences
    for own in ("LUMEN SERVICE TERMS", "Warranty.", "| part | price |", "lumen-service --list",
                "rinse --cycles three", "Setup steps:"):  # fmt: skip
        assert own in sentences, own
    assert "\n".join(text.splitlines()[-3:]) == "\n".join(WRAPPED.splitlines()[-3:])  # code


@pytest.mark.parametrize(
    "text",
    [
        "Title\n" + "A paragraph written on one line, as most files do. " * 6 + "\nNext line.\n",
        "one\ntwo\nthree\nfour\nfive\n",  # short lines: a list, no wrap
        "Revenue | 1,043 | 749\nCosts | 512 | 488\nNet income before tax | 531 | 261\nTax | 1 | 2\n",
    ],
)
def test_text_that_is_not_hard_wrapped_is_left_as_written(text):
    from index.formats.wrap import unwrap

    assert unwrap(text) == text


def test_wrapped_txt_md_and_eml_answer_with_whole_sentences(tmp_path, make_settings, embedder):
    from email.message import EmailMessage

    from index.ingest import ingest
    from qa.engine import Engine

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "terms.txt").write_text(WRAPPED, encoding="utf-8")
    (docs / "notes.md").write_text(
        "# Harbour notes\n\nThe Corvell harbour ferry leaves pier four at seven in the morning\n"
        "and returns from the island at half past six in the evening on weekdays.\nOn Sundays "
        "it does not run at all, because the crew is resting.\n"
        "The pier four kiosk sells tickets, maps, coffee and the tide tables for\n"
        "the whole week ahead, and it opens an hour before the first ferry.\n",
        encoding="utf-8",
    )
    msg = EmailMessage()
    msg["From"], msg["Subject"] = "Ann <ann@example.org>", "Kettle recall"
    msg.set_content(
        "Hi Bob,\n\nthe Vapor kettle recall covers every kettle made between March and June\n"
        "2025, because the lid hinge can crack when the kettle boils dry for a\n"
        "minute or more.  Owners get a new lid by post within two weeks.\n\nAnn\n"
    )
    (docs / "recall.eml").write_bytes(bytes(msg))
    settings = make_settings(docs_dir=docs)
    ingest(settings.ingest_config, embedder=embedder)
    engine = Engine(settings)
    asked = {
        "How long is the warranty on the Barista Pro?": "The Lumen Barista Pro is covered by a "
        "limited warranty for three years from the date of purchase",
        "When does the ferry return from the island?": "and returns from the island at half past "
        "six in the evening on weekdays.",
        "Why are the Vapor kettles recalled?": "because the lid hinge can crack when the kettle "
        "boils dry for a minute or more.",
    }
    for question, words in asked.items():
        answer = engine.ask(question)
        assert offered(answer), (question, answer.reply)
        assert words in answer.reply and "\n" not in answer.text, (question, answer.reply)
        for c in answer.citations:
            source = (docs / c.source).read_bytes()
            for s in c.sentences:  # the spans are the file's characters (a wrap's break a space)
                if c.source != "recall.eml":
                    written = source.decode()[s.start : s.end]
                    assert written.replace("\n", " ") == s.text, (written, s.text)
