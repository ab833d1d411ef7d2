"""Render a plain-text document (title line + paragraphs) as a PDF, DOCX, HTML or scanned PDF.

The PDF is laid out the way real ones are, to test the reader: lines wrapped by width, long
words hyphenated at line ends (compounds broken after their own hyphen), a running header with
the title, a footer with "Page n of N", small pages so paragraphs run across page breaks, and
some documents set in two columns. The scanned PDF is that PDF rasterised (pages as images, no
text layer). ``render_manual`` sets a manual the way texinfo and DocBook do (headings out in
the margin, chapter running headers, a contents page), ``render_footnoted`` a report with
footnotes, ``render_paper`` a two-column paper with an abstract across the page and footnotes
at the foot of a column. Used by eval/formats_bench.py and the
document tests.
"""

from __future__ import annotations

import html
import io
import random
from pathlib import Path


def font_path(bold: bool = False) -> str:
    import matplotlib

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name)


def _split(text: str) -> tuple[str, list[str]]:
    title, _, body = text.partition("\n")
    return title.strip(), [p.strip() for p in body.split("\n") if p.strip()]


class _Pdf:
    """fpdf2 with a Unicode font, a running header and footer, and own line breaking."""

    def __init__(self, title: str, columns: int, rng: random.Random, header: str):
        from fpdf import FPDF

        # Small pages, so that paragraphs run on to the next page and past footers and headers.
        fmt, self.size = ((419.5, 380.0), 9.5) if columns == 2 else ((297.6, 320.0), 9.0)
        pdf = FPDF(format=fmt, unit="pt")
        pdf.add_font("DejaVu", "", font_path())
        pdf.add_font("DejaVu", "B", font_path(bold=True))
        pdf.set_auto_page_break(False)
        pdf.set_margins(28, 28, 28)
        self.pdf, self.title, self.columns, self.rng, self.header = pdf, title, columns, rng, header
        self.leading = self.size * 1.35
        self.gutter = 18.0
        self.top = 48.0
        self.bottom = pdf.h - 44.0
        width = pdf.w - 56
        self.col_w = (width - self.gutter * (columns - 1)) / columns
        self.col = columns  # forces a new page on the first line
        self.y = self.bottom

    def _new_column(self) -> None:
        self.col += 1
        if self.col >= self.columns:
            self.pdf.add_page()
            self.col = 0
        self.y = self.top

    def line(self, text: str, size: float | None = None, bold: bool = False) -> None:
        size = size or self.size
        leading = size * 1.35
        if self.y + leading > self.bottom:
            self._new_column()
        self.pdf.set_font("DejaVu", "B" if bold else "", size)
        x = 28 + self.col * (self.col_w + self.gutter)
        self.pdf.text(x, self.y + size, text)
        self.y += leading

    def width(self, text: str, size: float | None = None, bold: bool = False) -> float:
        self.pdf.set_font("DejaVu", "B" if bold else "", size or self.size)
        return self.pdf.get_string_width(text)

    def paragraph(self, text: str, size: float | None = None, bold: bool = False) -> None:
        """Greedy line breaking; a word that does not fit is hyphenated when it is long."""
        words = text.split()
        line = ""
        while words:
            word = words.pop(0)
            candidate = f"{line} {word}" if line else word
            if self.width(candidate, size, bold) <= self.col_w:
                line = candidate
                continue
            head, tail = self._hyphenate(line, word, size, bold)
            if head:
                self.line(f"{line} {head}" if line else head, size, bold)
                line = ""
                words.insert(0, tail)
            elif line:
                self.line(line, size, bold)
                line = ""
                words.insert(0, word)
            else:  # a single word wider than the column: set it as it is
                self.line(word, size, bold)
        if line:
            self.line(line, size, bold)
        self.y += (size or self.size) * 0.6  # space after a paragraph

    def _hyphenate(self, line: str, word: str, size, bold) -> tuple[str, str]:
        room = self.col_w - self.width(f"{line} " if line else "", size, bold)
        if "-" in word[1:-1]:  # a compound breaks after its own hyphen
            first, _, rest = word.partition("-")
            if self.width(first + "-", size, bold) <= room:
                return first + "-", rest
            return "", word
        core = word.rstrip(".,;:!?)\"'”’")
        if len(core) < 7 or not core.isalpha():
            return "", word
        for cut in range(len(core) - 3, 2, -1):
            if self.width(word[:cut] + "-", size, bold) <= room:
                return word[:cut] + "-", word[cut:]
        return "", word

    def finish(self) -> bytes:
        pdf = self.pdf
        pages = pdf.page
        for n in range(1, pages + 1):
            pdf.page = n
            pdf.set_font("DejaVu", "", 7)
            pdf.text(28, 30, f"{self.header} · {self.title}"[:70])
            footer = f"Page {n} of {pages}" if self.rng.random() < 0.5 else f"- {n} -"
            pdf.text(pdf.w / 2 - pdf.get_string_width(footer) / 2, pdf.h - 24, footer)
        pdf.page = pages
        return bytes(pdf.output())


def render_pdf(text: str, *, columns: int = 1, seed: int = 0, header: str = "Reference") -> bytes:
    """The document as a typeset PDF (see the module docstring)."""
    title, paragraphs = _split(text)
    doc = _Pdf(title, columns, random.Random(seed), header)
    doc.paragraph(title, doc.size * 1.4, bold=True)
    for p in paragraphs:
        doc.paragraph(p)
    return doc.finish()


def render_manual(title: str, chapters: list[tuple[str, list[str]]]) -> bytes:
    """A manual as texinfo and DocBook set them: a title page with a table of contents (leader
    dots to page numbers), chapter headings out in the left margin, justified body text, an
    indented quotation, and running headers (the title on even pages, the chapter on odd ones).
    A chapter's last paragraph is set as the quotation."""
    from fpdf import FPDF

    class Manual(FPDF):
        chapter = ""

        def header(self) -> None:
            if self.page_no() == 1:
                return
            self.set_font("DejaVu", "", 8)
            self.set_xy(30, 10)
            self.cell(60, 4, self.chapter if self.page_no() % 2 else title)
            self.set_xy(118, 10)
            self.cell(10, 4, str(self.page_no()), align="R")
            self.set_xy(30, 24)  # the body starts below the header

    def body(pdf: FPDF, chapters: list[tuple[str, list[str]]], pages: list[int]) -> None:
        pdf.add_page()
        pdf.set_font("DejaVu", "B", 20)
        pdf.set_xy(15, 14)
        pdf.cell(0, 10, title)
        pdf.set_font("DejaVu", "", 10)
        pdf.set_xy(15, 40)
        for n, ((name, _), page) in enumerate(zip(chapters, pages, strict=True), 1):
            entry = f"{n} {name} "
            dots = ". " * int((100 - pdf.get_string_width(entry)) / pdf.get_string_width(". "))
            pdf.set_x(15)
            pdf.cell(0, 6, f"{entry}{dots}{page}", new_x="LMARGIN", new_y="NEXT")
        for n, (name, paragraphs) in enumerate(chapters, 1):
            pdf.chapter = f"Chapter {n}: {name}"
            pdf.add_page()
            pages[n - 1] = pdf.page_no()
            pdf.set_font("DejaVu", "B", 14)
            pdf.set_xy(15, 24)
            pdf.cell(0, 8, f"{n} {name}", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
            pdf.set_font("DejaVu", "", 10)
            for k, text in enumerate(paragraphs):
                quote = k == len(paragraphs) - 1
                pdf.set_x(40 if quote else 30)
                pdf.multi_cell(78 if quote else 98, 5, text, align="J", new_x="LMARGIN")
                pdf.ln(3)

    def fresh() -> FPDF:
        pdf = Manual(format=(148, 210), unit="mm")  # A5
        pdf.add_font("DejaVu", "", font_path())
        pdf.add_font("DejaVu", "B", font_path(bold=True))
        pdf.set_margins(15, 20, 20)
        pdf.set_auto_page_break(True, margin=20)
        return pdf

    pages = [0] * len(chapters)
    body(fresh(), chapters, pages)  # a first pass finds the page each chapter starts on
    pdf = fresh()
    body(pdf, chapters, pages)
    return bytes(pdf.output())


def render_footnoted(paragraphs: list[str], note: str) -> bytes:
    """A report on A4 with a footnote at the foot of every page (``note`` with ``{page}`` filled
    in, set small) and a page number: paragraphs run across the page breaks, past the notes."""
    from fpdf import FPDF

    class Report(FPDF):
        def footer(self) -> None:
            self.set_font("DejaVu", "", 8)
            self.set_xy(20, -38)
            self.multi_cell(170, 3.5, note.format(page=self.page_no()), new_x="LMARGIN")
            self.set_xy(100, -15)
            self.cell(10, 4, str(self.page_no()))

    pdf = Report(format=(210, 297), unit="mm")
    pdf.add_font("DejaVu", "", font_path())
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=45)
    pdf.add_page()
    pdf.set_font("DejaVu", "", 11)
    for text in paragraphs:
        pdf.multi_cell(170, 5.5, text, align="J", new_x="LMARGIN")
        pdf.ln(3)
    return bytes(pdf.output())


def render_paper(title: str, abstract: str, paragraphs: list[str], notes: list[str]) -> bytes:
    """A paper on A4: title and abstract across the page, the text in two columns, and a
    footnote (the next of ``notes``, numbered, set small) at the foot of every left column."""
    from fpdf import FPDF
    from fpdf.enums import MethodReturnValue

    def fresh() -> FPDF:
        pdf = FPDF(format=(210, 297), unit="mm")
        pdf.add_font("DejaVu", "", font_path())
        pdf.add_font("DejaVu", "B", font_path(bold=True))
        pdf.set_auto_page_break(False)
        pdf.set_margins(20, 20, 20)
        return pdf

    ruler = fresh()  # breaks the lines: a column is 80 mm wide
    ruler.add_page()

    def wrapped(text: str, size: float, height: float) -> list[str]:
        ruler.set_font("DejaVu", "", size)
        out = ruler.multi_cell(80, height, text, dry_run=True, output=MethodReturnValue.LINES)
        return [line.strip() for line in out]

    pdf = fresh()
    lines: list[str | None] = []  # None: the space between two paragraphs
    for text in paragraphs:
        lines += [*wrapped(text, 10, 5), None]
    numbered = 0
    top = 0.0
    while lines:
        pdf.add_page()
        top = 20.0
        if pdf.page_no() == 1:
            pdf.set_font("DejaVu", "B", 16)
            pdf.set_xy(20, 20)
            pdf.cell(170, 8, title)
            pdf.set_font("DejaVu", "", 10)
            pdf.set_xy(20, 34)
            pdf.multi_cell(170, 5, abstract, new_x="LMARGIN", new_y="NEXT")
            top = pdf.get_y() + 8
        for x in (20, 110):
            y = top
            bottom = 297 - 20 - (16 if x == 20 else 0)
            while lines and y + 5 <= bottom:
                line = lines.pop(0)
                if line is not None:
                    pdf.set_font("DejaVu", "", 10)
                    pdf.text(x, y + 4, line)
                y += 5 if line is not None else 2.5
            if x == 20:
                numbered += 1
                note = f"{numbered} {notes[(numbered - 1) % len(notes)]}"
                for k, text in enumerate(wrapped(note, 7, 3)):
                    pdf.set_font("DejaVu", "", 7)
                    pdf.text(20, 297 - 20 - 9 + 3 * k, text)
    return bytes(pdf.output())


def render_docx(text: str) -> bytes:
    """The document as a .docx: the title as a Heading 1 (and the core title), then paragraphs."""
    import docx

    title, paragraphs = _split(text)
    d = docx.Document()
    d.core_properties.title = title
    d.add_heading(title, 1)
    for p in paragraphs:
        d.add_paragraph(p)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def render_html(text: str, seed: int = 0) -> bytes:
    """The document as a web page: <title>, a nav bar and a script, inline markup in the text."""
    rng = random.Random(seed)
    title, paragraphs = _split(text)

    def marked(p: str) -> str:
        out = []
        for w in p.split(" "):
            w = html.escape(w)
            r = rng.random()
            out.append(f"<b>{w}</b>" if r < 0.03 else f'<a href="#x">{w}</a>' if r < 0.05 else w)
        return " ".join(out)

    body = "\n".join(f"<p>{marked(p)}</p>" for p in paragraphs)
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>p{margin:1em}</style><script>var tracking = 'not text';</script></head><body>"
        "<nav><a href='/'>Home</a> | <a href='/about'>About</a></nav>"
        f"<article><h1>{html.escape(title)}</h1>\n{body}</article></body></html>"
    )
    return page.encode("utf-8")


def render_scan(pdf: bytes, dpi: int = 300) -> bytes:
    """A PDF of page images only (no text layer), as a scanner makes: grey JPEG pages, 300 dpi."""
    import pypdfium2 as pdfium
    from PIL import Image

    doc = pdfium.PdfDocument(pdf)
    try:
        images = [
            doc[i].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
            for i in range(len(doc))
        ]
    finally:
        doc.close()
    rgb: list[Image.Image] = [im.convert("RGB") for im in images]
    buf = io.BytesIO()
    rgb[0].save(buf, "PDF", save_all=True, append_images=rgb[1:], resolution=dpi, quality=80)
    return buf.getvalue()
