"""PDF: the text layer read character by character with PDFium (pypdfium2), then laid out.

pypdf gave a line break at every wrapped line, so sentences were cut where the page wrapped
them. Here each character comes with its box: characters are grouped into lines (split at
column gutters), and index.formats.layout turns the lines into paragraphs. Pages without a
text layer but with an image (a scan) are read by OCR when the ocr extra is installed.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
import zlib

from index.formats import layout
from index.formats.base import (
    MAX_TEXT_CHARS,
    OCR_EXTRA,
    OCR_PAGES,
    SUPERSCRIPT,
    LoadError,
    Parsed,
    TextBuilder,
    with_detail,
)
from index.formats.lines import Page

log = logging.getLogger(__name__)

# PDFium is not thread-safe: one document at a time in a process (the web chat's page viewer
# takes it too).
PDFIUM_LOCK = threading.Lock()
GAP = 1.5  # a horizontal gap wider than this many line heights splits a line (a column gutter)
_HYPHEN_MARKS = {0x02, 0xFFFE}  # PDFium's marks for a hyphen that ends a line
# PDFium holds a page's parsed content at ~13 bytes per byte of content stream: a 3 MB file
# whose one stream inflated to 1 GB took 13 GB and 3 minutes. Streams are measured first.
MAX_STREAM = 16_000_000  # bytes of one stream, raw or inflated (images aside)
MAX_INFLATED = 400_000_000  # of all streams together (images aside)
MIN_GARBLED = 20  # characters a page must have before its text layer is judged unreadable
GARBLED_SAMPLE = 400  # characters of a page looked at to judge it
UNREADABLE = "PDF text cannot be read (its fonts map to no characters)"
UNREADABLE_PAGES = "pages whose text cannot be read (fonts without a character map)"
_STREAM = re.compile(rb"(?<!end)stream\r?\n")
_JUNK_TITLE = re.compile(
    r"(^untitled|\.(docx?|pdf|tex|odt|rtf|indd|pptx?|txt)$|^microsoft word)", re.I
)


def read_pdf(data: bytes, ocr_pages: int = OCR_PAGES) -> Parsed:
    """A .pdf file: text in reading order with page starts; scanned pages by OCR if installed,
    when there are at most ``ocr_pages`` of them (counted before any is read)."""
    import pypdfium2 as pdfium

    _check_inflation(data)
    with PDFIUM_LOCK:
        try:
            doc = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            if "password" in str(exc).lower():
                raise LoadError("encrypted PDF (needs a password)") from exc
            said = re.search(r"PDFium: ([\w ]+)", str(exc))  # "Failed to load (PDFium: X)."
            reason = f"corrupt PDF ({said.group(1).lower()})" if said else "corrupt PDF"
            raise LoadError(with_detail(reason, exc) if not said else reason) from exc
        try:
            return _read(doc, ocr_pages)
        finally:
            doc.close()


def _check_inflation(data: bytes) -> None:
    """Refuse a PDF whose compressed streams inflate past the limits (a compression bomb)."""
    total = 0
    for m in _STREAM.finditer(data):
        head = data[max(0, m.start() - 1000) : m.start()]
        head = head[head.rfind(b"obj") + 1 :]
        if re.search(rb"/Subtype\s*/Image", head):
            continue  # images are decoded only to be read by OCR, at a bounded size
        if b"FlateDecode" not in head:
            end = data.find(b"endstream", m.end(), m.end() + MAX_STREAM + 1)
            if end < 0 and len(data) - m.end() > MAX_STREAM:
                raise LoadError(f"PDF stream larger than {MAX_STREAM // 1_000_000} MB")
            continue
        inflater, n, pos = zlib.decompressobj(), 0, m.end()
        try:
            while not inflater.eof:
                chunk = inflater.unconsumed_tail
                if not chunk:
                    if pos >= len(data):
                        break
                    chunk, pos = data[pos : pos + 65536], pos + 65536
                n += len(inflater.decompress(chunk, 1 << 20))
                if n > MAX_STREAM or total + n > MAX_INFLATED:
                    raise LoadError(
                        f"PDF stream inflates past {min(MAX_STREAM, MAX_INFLATED) // 1_000_000} MB "
                        "(compression bomb?)"
                    )
        except zlib.error:
            pass  # a damaged stream: PDFium skips it
        total += n


def _read(doc, ocr_pages: int = OCR_PAGES) -> Parsed:
    pages: list[Page] = []
    scanned: list[int] = []
    unreadable: list[int] = []  # a text layer that maps to no characters
    chars = 0
    for n in range(len(doc)):
        page = load_page(doc, n)
        try:
            width, height = page.get_size()
            textpage = page.get_textpage()
            try:
                count = textpage.count_chars()
                chars += count
                if chars > MAX_TEXT_CHARS:
                    raise LoadError(f"too much text (more than {MAX_TEXT_CHARS:,} characters)")
                garbled = _unmapped(textpage.raw, count)
                lines = [] if garbled else _lines(textpage.raw, count)
            finally:
                textpage.close()
            if garbled:
                unreadable.append(n)
            elif not lines and _has_image(page):
                scanned.append(n)
            pages.append(Page(width, height, tuple(lines)))
        finally:
            page.close()
    notes: tuple[str, ...] = ()
    over = len(scanned) + len(unreadable) > ocr_pages
    if (scanned or unreadable) and (over or not _ocr_available()):
        why = (
            f"more than {ocr_pages:,} pages to read by OCR (QA_OCR_MAX_PAGES sets the limit)"
            if over
            else f"to read it with OCR: {OCR_EXTRA}"
        )
        if not any(p.lines for p in pages):
            what = "scanned PDF (no text layer)" if scanned else UNREADABLE
            raise LoadError(f"{what}; {why}")
        for kind, numbers in (("scanned pages", scanned), (UNREADABLE_PAGES, unreadable)):
            if numbers:
                listed = ", ".join(str(k + 1) for k in numbers[:20])
                listed += " ..." if len(numbers) > 20 else ""
                fix = why if over else f"to read them with OCR: {OCR_EXTRA}"
                notes += (f"{kind} skipped ({listed}); {fix}",)
    else:
        for n in sorted(scanned + unreadable):  # within the budget: read by OCR now
            page = load_page(doc, n)
            try:
                pages[n] = Page(pages[n].width, pages[n].height, tuple(_ocr(page, pages[n].height)))
            finally:
                page.close()
    out = TextBuilder()
    layout.assemble(pages, out)
    title = _meta_title(doc) or layout.first_heading(pages[:1])
    return Parsed(out.text(), title, out.page_starts(), notes=notes)


def load_page(doc, n: int):
    """Page n (0-based) with its filled-in form fields and annotations drawn into its content:
    a form's answers and a note stuck on the page are not in the text layer otherwise."""
    import pypdfium2.raw as raw

    page = doc[n]
    if raw.FPDFPage_Flatten(page.raw, raw.FLAT_NORMALDISPLAY) == raw.FLATTEN_SUCCESS:
        page.close()  # its handles are stale once flattened
        page = doc[n]
    return page


def _unmapped(textpage, count: int) -> bool:
    """Is most of the page's text glyph numbers that map to no character? (Fonts embedded
    without a character map: the page looks right and its text layer reads as noise.)"""
    import pypdfium2.raw as raw

    visible = unmapped = 0
    for i in range(0, count, max(1, count // GARBLED_SAMPLE)):  # a sample tells a majority
        code = raw.FPDFText_GetUnicode(textpage, i)
        if code in (0x09, 0x0A, 0x0D, 0x20) or code in _HYPHEN_MARKS:
            continue
        visible += 1
        if code < 0x20 or code == 0xFFFD or 0xE000 <= code <= 0xF8FF:
            unmapped += 1
    return visible >= MIN_GARBLED and unmapped > 0.5 * visible


def _lines(textpage, count: int) -> list[layout.Line]:
    """The page's characters grouped into lines, each split where a wide gap (a gutter) opens."""
    import pypdfium2.raw as raw

    box = raw.FS_RECTF()
    lines: list[layout.Line] = []
    run: list[str] = []
    x0 = y0 = x1 = y1 = height = 0.0
    first_word = 0.0
    space = False  # a space is due before the next visible character
    ordinal = False  # the raised letters just read are an ordinal's ending, kept plain

    def close() -> None:
        nonlocal run
        text = "".join(run).strip()
        if text:
            lines.append(layout.Line(x0, y0, x1, y1, text, height, first_word - x0))
        run = []

    for i in range(count):
        code = raw.FPDFText_GetUnicode(textpage, i)
        if code in (0x0A, 0x0D):
            close()
            space = False
            continue
        if code in _HYPHEN_MARKS:
            code = 0x2D
        ch = chr(code) if code < 0x110000 else "\ufffd"
        if ch.isspace() or code < 0x20 or ch == layout.SOFT_HYPHEN:
            space = space or ch.isspace() or code < 0x20
            continue
        if raw.FPDFText_GetLooseCharBox(textpage, i, box) == 0:
            continue
        left, right, bottom, top = box.left, box.right, box.bottom, box.top
        h = top - bottom
        if h <= 0 or abs(raw.FPDFText_GetCharAngle(textpage, i)) > 0.1:
            continue  # rotated text (a watermark, a vertical label) reads as noise
        if run:
            overlap = min(top, y1) - max(bottom, y0)
            gap = left - x1
            if overlap < 0.5 * min(h, height) or gap > GAP * height or gap < -height:
                close()
                space = False
        if "\ufb00" <= ch <= "\ufb06":  # ligatures (ﬁ, ﬂ) become the letters they join
            ch = unicodedata.normalize("NFKC", ch)
        raised = bool(run) and h < 0.85 * height and bottom > y0 + 0.15 * height
        if raised:
            ordinal = ch.isalpha() and (run[-1].isdigit() or ordinal)  # 21st, 2nd, 1er
            if not ordinal:
                ch = ch.translate(SUPERSCRIPT)  # "1872¹²", not "187212"
        else:
            ordinal = False
        if not run:
            x0, y0, x1, y1, height, first_word = left, bottom, right, top, h, 0.0
        else:
            if (space or left - x1 > 0.3 * height) and run[-1] != " ":
                if not first_word:
                    first_word = x1
                run.append(" ")
            x0, y0, x1, y1 = min(x0, left), min(y0, bottom), max(x1, right), max(y1, top)
            height = max(height, h)
        run.append(ch)
        space = False
    close()
    return [ln if ln.first_word > 0 else _whole_word(ln) for ln in lines]


def _whole_word(line: layout.Line) -> layout.Line:
    """A line of one word: its first word is all of it."""
    return layout.Line(line.x0, line.y0, line.x1, line.y1, line.text, line.size, line.x1 - line.x0)


def _has_image(page) -> bool:
    import pypdfium2.raw as raw

    return any(True for _ in page.get_objects(filter=(raw.FPDF_PAGEOBJ_IMAGE,), max_depth=3))


def _ocr_available() -> bool:
    from index.formats import ocr

    return ocr.available()


def _ocr(page, height: float) -> list[layout.Line]:
    """The page rendered and read by OCR (nothing when the ocr extra is missing)."""
    from index.formats import ocr

    if not ocr.available():
        return []
    width = page.get_width()
    scale = min(ocr.DPI / 72, ocr.MAX_SIDE / max(width, height, 1))
    return ocr.read_rendered(
        lambda s: page.render(scale=s).to_numpy(), scale, height, max(width, height)
    )


def _meta_title(doc) -> str:
    try:
        title = " ".join((doc.get_metadata_dict().get("Title") or "").split())
    except Exception:  # a broken Info dictionary is no reason to lose the text
        return ""
    return "" if _JUNK_TITLE.search(title) or len(title) > 200 else title
