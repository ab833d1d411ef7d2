"""OpenDocument text (.odt, LibreOffice and others): paragraphs, headings, lists, tables, notes.

content.xml is streamed like a .docx's XML (``index.formats.office``): each paragraph or heading
is read whole when it ends, with its spans, links, spaces (``text:s``), tabs and line breaks; a
table row is one line, its cells joined by " | "; a footnote or endnote leaves its number in
superscript where it stands and its text follows the document's; comments and deleted tracked
changes are left out. Pages are where LibreOffice last broke them (``text:soft-page-break``).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator

from index.formats.base import LoadError, Parsed, TextBuilder, note_mark
from index.formats.office import core_title, iter_xml, open_zip, release

TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_PARAGRAPHS = (f"{TEXT}p", f"{TEXT}h")
# Read inside the paragraph that holds them, or not at all: a note's body (it follows the
# text), a comment, deleted text kept for tracked changes.
_ASIDE = (f"{TEXT}note-body", f"{OFFICE}annotation", f"{TEXT}tracked-changes")
MAX_SPACES = 100  # of one text:s element (they are collapsed to one anyway)


def read_odt(data: bytes) -> Parsed:
    """An .odt file: its text in document order, its notes after it, pages where they broke."""
    zf = open_zip(data, ".odt")
    if "content.xml" not in zf.namelist():
        raise LoadError("corrupt .odt (no content.xml)")
    if b"encryption-data" in _manifest(zf):
        raise LoadError("encrypted .odt (needs a password; save it without one)")
    notes: list[str] = []
    breaks: list[bool] = []  # whether LibreOffice broke pages at all (known at the end)
    out = TextBuilder()
    heading = ""
    for text, outline, new_page in _content(zf, notes, breaks):  # streamed: memory ~ the text
        if new_page or not out.size:
            out.page()  # kept only when the document has page breaks
        out.line(text)
        if not heading and outline == "1":
            heading = text
    for text in notes:
        out.line(text)
    return Parsed(
        out.text(), core_title(zf, "meta.xml") or heading[:200], out.page_starts() if breaks else ()
    )


def _content(
    zf: zipfile.ZipFile, notes: list[str], breaks: list[bool]
) -> Iterator[tuple[str, str, bool]]:
    """(text, heading level, starts a page) per paragraph or table row, as they end; the notes
    are added to ``notes``, and ``breaks`` gets an entry when a page break is seen."""
    aside = 0  # depth inside elements read with their paragraph (or not at all)
    row: list[str] | None = None
    cells: list[list[str]] = []
    new_page = False
    for event, elem in iter_xml(zf, "content.xml"):
        tag = elem.tag
        if tag in _ASIDE:
            aside += 1 if event == "start" else -1
            continue
        if event == "start":
            if tag == f"{TABLE}table-row" and not aside:
                row = []
            elif tag == f"{TABLE}table-cell" and not aside:
                cells.append([])
            continue
        if tag == f"{TEXT}soft-page-break" and not aside:
            new_page = True
            breaks[:] = [True]
        elif tag in _PARAGRAPHS and not aside:
            text = " ".join(_text(elem, notes).split())
            if cells:
                cells[-1].append(text)
            elif text:
                level = elem.get(f"{TEXT}outline-level", "") if tag == _PARAGRAPHS[1] else ""
                release(elem)
                yield text, level, new_page
                new_page = False
                continue
            release(elem)
        elif tag == f"{TABLE}table-cell" and cells and not aside:
            cell = " ".join(t for t in cells.pop() if t)
            if row is not None:
                row.append(cell)
        elif tag == f"{TABLE}table-row" and row is not None and not aside:
            line = " | ".join(c for c in row if c)
            row = None
            release(elem)
            if line:
                yield line, "", new_page
                new_page = False


def _text(elem, notes: list[str]) -> str:
    """A paragraph's text, a note's number where it stands (its text added to ``notes``)."""
    parts: list[str] = [elem.text or ""]
    for child in elem:
        tag = child.tag
        if not isinstance(tag, str):
            pass  # an entity left unexpanded, a processing instruction: no text of the page
        elif tag == f"{TEXT}s":
            parts.append(" " * _spaces(child.get(f"{TEXT}c", "1")))
        elif tag in (f"{TEXT}tab", f"{TEXT}line-break"):
            parts.append(" ")
        elif tag == f"{TEXT}number":  # a numbered heading's or list item's number, as shown
            parts.append(f"{child.text or ''} ")
        elif tag == f"{TEXT}note":
            mark = note_mark(len(notes) + 1)
            body = child.find(f"{TEXT}note-body")
            said = [] if body is None else [_text(p, notes) for p in body.iter(*_PARAGRAPHS)]
            notes.append(" ".join(f"{mark} {' '.join(said)}".split()))
            parts.append(mark)
        elif tag in _ASIDE or tag.startswith("{urn:oasis:names:tc:opendocument:xmlns:drawing"):
            pass  # a comment; a frame's own paragraphs are read where they end
        else:
            parts.append(_text(child, notes))
        parts.append(child.tail or "")
    return "".join(parts)


def _spaces(count: str | None) -> int:
    """The spaces a ``text:s`` stands for: its count, within reason (a page is not a million
    spaces wide); 1 when the count is not a number."""
    return min(int(count), MAX_SPACES) if count and count.isdigit() else 1


def _manifest(zf: zipfile.ZipFile) -> bytes:
    try:
        return zf.read("META-INF/manifest.xml")
    except KeyError:
        return b""
