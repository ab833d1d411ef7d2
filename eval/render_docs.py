"""Render a plain-text document (title line + paragraphs) as a PDF, DOCX, HTML or scanned PDF.

The PDF is laid out the way real ones are, to test the reader: lines wrapped by width, long
words hyphenated at line ends (compounds broken after their own hyphen), a running header with
the title, a footer with "Page n of N", small pages so paragraphs run across page breaks, and
some documents set in two columns. The scanned PDF is that PDF rasterised (pages as images, no
text layer). Used by eval/formats_bench.py and the document tests.
"""

from __future__ import annotations

import html
import io
import random
from pathlib import Path


def _font_path(bold: bool = False) -> str:
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
        pdf.add_font("DejaVu", "", _font_path())
        pdf.add_font("DejaVu", "B", _font_path(bold=True))
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
