"""A PDF page as an image, with the area of a cited sentence: pypdfium2 renders and finds it.

The indexed text of a PDF comes from another extractor (and may have lines joined, hyphens
undone, headers dropped), so a sentence is found on the page by its letters and digits alone,
case- and space-blind; failing that, by the longest runs of it that the page holds.
"""

from __future__ import annotations

import base64
import difflib
import io
import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice

from index import PDFIUM_LOCK, load_pdf_page

log = logging.getLogger(__name__)

TARGET_WIDTH_PX = 900  # about twice the viewer's width: sharp on high-density screens
MAX_PIXELS = 4_000_000  # a poster-sized page is rendered smaller, never huge
MIN_MATCH = 0.6  # share of a sentence's letters that must be found for a fuzzy match
MAX_PAGES = 10  # pages looked on for a sentence, at most (the viewer asks for one or two)
SUBPIXEL = 64  # boxes are placed to 1/64 of a pixel
MIN_BOX_PX = 3.0  # a highlight is drawn at least this many pixels wide and high


@dataclass(frozen=True)
class PageImage:
    """A rendered page and the boxes to highlight, as fractions of the image (x, y, w, h)."""

    page: int  # 1-based
    pages: int  # pages in the document
    jpeg: bytes
    width: int
    height: int
    boxes: tuple[tuple[float, float, float, float], ...]  # the supporting sentences
    area: tuple[tuple[float, float, float, float], ...] = ()  # the whole passage, lightly

    def data_uri(self) -> str:
        """The image as a data: URI (the page is shown inline, served by no other route)."""
        return "data:image/jpeg;base64," + base64.b64encode(self.jpeg).decode("ascii")


def _letters(text: str) -> tuple[str, list[int]]:
    """The letters and digits of a text, case-folded, with the index each came from."""
    out, where = [], []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch).casefold():
            if c.isalnum():
                out.append(c)
                where.append(i)
    return "".join(out), where


def find_ranges(page_text: str, sentence: str) -> list[tuple[int, int]]:
    """Character ranges of ``page_text`` that hold ``sentence`` (exactly or mostly), or []."""
    hay, where = _letters(page_text)
    needle, _ = _letters(sentence)
    if not needle or not hay:
        return []
    i = hay.find(needle)
    if i >= 0:
        return [(where[i], where[i + len(needle) - 1] + 1)]
    matcher = difflib.SequenceMatcher(None, hay, needle, autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size >= 4]
    if sum(b.size for b in blocks) < MIN_MATCH * len(needle):
        return []
    return [(where[b.a], where[b.a + b.size - 1] + 1) for b in blocks]


def render_page(
    data: bytes,
    pages: Sequence[int],
    sentences: Sequence[str],
    passage: str = "",
    width_px: int = TARGET_WIDTH_PX,
) -> PageImage | None:
    """The first of ``pages`` (1-based) that holds one of the sentences, rendered with its boxes
    (and the lines of ``passage`` on that page as its area).

    When none holds them, the first page is rendered without boxes; None if the PDF cannot be
    opened or the page does not exist.
    """
    with PDFIUM_LOCK:  # an upload may be read by the indexer in another thread
        return _render_first(data, pages, sentences, passage, width_px)


def _render_first(data, pages, sentences, passage, width_px) -> PageImage | None:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        log.info("cannot open PDF to render a page: %s", exc)
        return None
    try:
        count = len(pdf)
        wanted = [p for p in dict.fromkeys(islice(pages, MAX_PAGES)) if 1 <= p <= count]
        if not wanted:
            return None
        for number in wanted:
            # As the indexer read it: a form's answers are part of the page.
            page = load_pdf_page(pdf, number - 1)
            ranges = _ranges_on(page, sentences)
            if ranges or number == wanted[-1]:
                if not ranges:
                    number = wanted[0]
                    page = load_pdf_page(pdf, number - 1)
                area = _ranges_on(page, [passage]) if passage else []
                return _render(page, number, count, ranges, area, width_px)
        return None
    except pdfium.PdfiumError as exc:
        log.info("cannot render PDF page: %s", exc)
        return None
    finally:
        pdf.close()


def _ranges_on(page, sentences: Sequence[str]) -> list[tuple[int, int]]:
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        if len(text) != textpage.count_chars():  # surrogate pairs: one char index each
            text = "".join(
                textpage.get_text_range(i, 1) or " " for i in range(textpage.count_chars())
            )
        out = []
        for s in sentences:
            out += find_ranges(text, s)
        return out
    finally:
        textpage.close()


def _render(page, number: int, count: int, ranges, area, width_px: int) -> PageImage:
    width, height = page.get_size()
    scale = width_px / max(width, 1.0)
    if width * height * scale * scale > MAX_PIXELS:
        scale = (MAX_PIXELS / max(width * height, 1.0)) ** 0.5
    bitmap = page.render(scale=scale)
    image = bitmap.to_pil().convert("RGB")
    boxes = _boxes(page, bitmap, ranges, image.width, image.height)
    lines = _boxes(page, bitmap, area, image.width, image.height)
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=85)
    return PageImage(number, count, buf.getvalue(), image.width, image.height, boxes, lines)


def _boxes(page, bitmap, ranges, w: int, h: int) -> tuple[tuple[float, float, float, float], ...]:
    """The line rectangles of each character range, in fractions of the rendered image.

    PDFium maps page points to whole device pixels, so the mapping is made on a canvas
    SUBPIXEL times larger: a line under a pixel high (small type on a poster-sized page) keeps
    its place and size, and is drawn MIN_BOX_PX pixels large at least.
    """
    import pypdfium2 as pdfium

    textpage = page.get_textpage()
    x0, y0, sx, sy, rotate = bitmap.get_posconv(page).pos_args
    fine = pdfium.PdfPosConv(page, (x0 * SUBPIXEL, y0 * SUBPIXEL, sx * SUBPIXEL, sy * SUBPIXEL, rotate))  # fmt: skip
    out = []
    try:
        for a, b in ranges:
            for i in range(textpage.count_rects(a, b - a)):
                left, bottom, right, top = textpage.get_rect(i)
                x1, y1 = fine.to_bitmap(left, top)
                x2, y2 = fine.to_bitmap(right, bottom)
                x, y = min(x1, x2) / SUBPIXEL, min(y1, y2) / SUBPIXEL
                bw, bh = abs(x2 - x1) / SUBPIXEL, abs(y2 - y1) / SUBPIXEL
                if bw <= 0 and bh <= 0:
                    continue
                x, bw = _at_least(x, bw, MIN_BOX_PX, w)
                y, bh = _at_least(y, bh, MIN_BOX_PX, h)
                out.append((x / w, y / h, bw / w, bh / h))
    finally:
        textpage.close()
    return tuple((round(x, 5), round(y, 5), round(bw, 5), round(bh, 5)) for x, y, bw, bh in out)


def _at_least(start: float, size: float, least: float, limit: int) -> tuple[float, float]:
    """A span of at least ``least`` pixels, grown about its middle, kept within 0..limit."""
    if size >= least:
        return start, size
    middle = start + size / 2
    start = min(max(0.0, middle - least / 2), max(0.0, limit - least))
    return start, min(least, float(limit))
