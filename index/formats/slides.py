"""PowerPoint (.pptx): each slide's text, then its speaker notes; the slide number is the page.

A table's rows read one line each, cells in order ("Barista Mini | 299 EUR"), as in .docx.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator

from index.formats.base import LoadError, Parsed, TextBuilder
from index.formats.office import REL, core_title, iter_xml, open_zip, relationships, release

P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
NOTES_REL = "notesSlide"
# Placeholders that repeat on every slide or note page and say nothing of its content.
_CHROME = {"sldNum", "dt", "ftr", "hdr", "sldImg"}


def read_pptx(data: bytes) -> Parsed:
    """A .pptx file: slides in presentation order, notes after each slide's text."""
    zf = open_zip(data, ".pptx")
    slides = _slide_parts(zf)
    if not slides:
        raise LoadError("corrupt .pptx (no slides listed in ppt/presentation.xml)")
    out = TextBuilder()
    first_title = ""
    for part in slides:
        out.page()
        title = ""
        for text, is_title in _paragraphs(zf, part):
            out.line(text)
            if is_title and not title:
                title = text
        first_title = first_title or title
        notes = [t for t, _ in _paragraphs(zf, _notes_part(zf, part))] if part else []
        for n, text in enumerate(notes):
            out.line(f"Notes: {text}" if n == 0 else text)
    return Parsed(out.text(), core_title(zf) or first_title[:200], out.page_starts())


def _slide_parts(zf: zipfile.ZipFile) -> list[str]:
    """The slides' part names, in the order the presentation shows them."""
    rels = relationships(zf, "ppt/presentation.xml")
    order = []
    for event, elem in iter_xml(zf, "ppt/presentation.xml"):
        if event == "end" and elem.tag == f"{P}sldId":
            target = rels.get(elem.get(f"{REL}id", ""))
            if target and target in zf.NameToInfo:
                order.append(target)
    return order


def _notes_part(zf: zipfile.ZipFile, slide: str) -> str:
    rels = relationships(zf, slide)
    return next((t for t in rels.values() if NOTES_REL in t.rsplit("/", 1)[-1]), "")


def _paragraphs(zf: zipfile.ZipFile, part: str) -> Iterator[tuple[str, bool]]:
    """(paragraph text, is it in the slide's title) for each text paragraph of a slide part."""
    if not part:
        return
    placeholder: list[str | None] = []  # the placeholder type of each open shape
    runs: list[str] = []
    row: list[str] | None = None  # the cells of an open table row, read as one line
    cell: list[str] | None = None
    for event, elem in iter_xml(zf, part):
        tag = elem.tag
        if tag == f"{A}tr":
            if event == "start":
                row = []
            elif row is not None:
                if any(row):
                    yield " | ".join(c for c in row if c), False
                row = None
        elif tag == f"{A}tc":
            if event == "start":
                cell = []
            elif cell is not None:
                if row is not None:
                    row.append(" ".join(cell))
                cell = None
        elif tag == f"{P}sp" or tag == f"{P}graphicFrame":
            if event == "start":
                placeholder.append(None)
            else:
                placeholder.pop()
                release(elem)
        elif event == "end" and tag == f"{P}ph" and placeholder:
            placeholder[-1] = elem.get("type", "body")
        elif event == "end" and tag == f"{A}t":
            runs.append(elem.text or "")
        elif event == "end" and tag == f"{A}br":
            runs.append(" ")
        elif event == "end" and tag == f"{A}p":
            text = " ".join("".join(runs).split())
            runs = []
            release(elem)  # a text box of a million paragraphs must not pile up in memory
            kind = placeholder[-1] if placeholder else None
            if cell is not None:
                cell.append(text)
            elif text and kind not in _CHROME:
                yield text, kind in ("title", "ctrTitle")
