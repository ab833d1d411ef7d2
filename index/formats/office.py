"""Zip-and-XML formats (.docx here; .pptx, .xlsx and .epub build on it): safe to open, streamed.

Every XML part is parsed as a stream (lxml iterparse, elements cleared as they are read), with
entities and DTDs off, so memory grows with the text kept, not with the markup, and no entity
bomb or external entity can expand. A zip whose parts expand past MAX_UNZIPPED is refused.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Iterator

from lxml import etree

from index.formats.base import (
    MAX_UNZIPPED,
    LoadError,
    Parsed,
    TextBuilder,
    note_mark,
    with_detail,
)

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
MAX_RATIO = 100  # inflated bytes per byte of the file
MIN_UNZIPPED = 25_000_000  # small files may always inflate this far
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a compound file: encrypted OOXML or a pre-2007 file


def open_zip(data: bytes, kind: str) -> zipfile.ZipFile:
    """The archive, or LoadError when it is not one, is encrypted, or would expand too far."""
    if data.startswith(_OLE):
        raise LoadError(f"password-protected or old-format {kind} (save it unprotected as {kind})")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise LoadError(f"corrupt {kind} (not a zip archive)") from exc
    # Real documents inflate 5-20 fold; a bomb, hundreds of times. Parsing costs ~1 s per MB
    # of tiny XML elements, so the bound is on the inflated size, relative to the file.
    limit = min(MAX_UNZIPPED, max(MAX_RATIO * len(data), MIN_UNZIPPED))
    if sum(i.file_size for i in infos) > limit:
        raise LoadError(f"{kind} expands to more than {limit // 1_000_000} MB (zip bomb?)")
    if any(i.flag_bits & 0x1 for i in infos):
        raise LoadError(f"encrypted {kind} (needs a password)")
    return zf


def iter_xml(zf: zipfile.ZipFile, name: str, tags: tuple[str, ...] | None = None):
    """Stream (event, element) pairs of one XML part: 'start' and 'end' events, safely parsed."""
    try:
        member = zf.open(name)
    except KeyError:
        return
    with member:
        events = etree.iterparse(
            member,
            events=("start", "end"),
            tag=tags,
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            huge_tree=True,  # deep or long documents are legitimate; size is capped above
            remove_comments=True,
        )
        try:
            yield from events
        except etree.XMLSyntaxError as exc:
            raise LoadError(with_detail(f"corrupt XML in {name}", exc)) from exc


def release(elem) -> None:
    """Free an element that has been read, and the siblings before it."""
    elem.clear()
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


def core_title(zf: zipfile.ZipFile, part: str = "docProps/core.xml") -> str:
    """The title in docProps/core.xml (File > Properties; an OpenDocument's is in meta.xml),
    if the author set one."""
    for event, elem in iter_xml(zf, part):
        if event == "end" and elem.tag == DC_TITLE:
            return " ".join((elem.text or "").split())[:200]
    return ""


def relationships(zf: zipfile.ZipFile, part: str) -> dict[str, str]:
    """A part's relationship ids -> the parts they point to (paths inside the zip)."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", f"{name}.rels")
    out = {}
    for event, elem in iter_xml(zf, rels):
        if event == "end" and elem.tag == PKG_REL and elem.get("TargetMode") != "External":
            target = elem.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            out[elem.get("Id", "")] = posixpath.normpath(path)
    return out


def read_docx(data: bytes) -> Parsed:
    """A .docx file: paragraphs and table rows in document order; pages where Word marked them."""
    zf = open_zip(data, ".docx")
    if "word/document.xml" not in zf.namelist():
        raise LoadError("corrupt .docx (no word/document.xml)")
    out = TextBuilder()
    heading = ""
    breaks: dict[str, list[int]] = {"rendered": [], "page": []}
    notes: dict[tuple[str, str], int] = {}  # (footnote | endnote, id) -> its number
    for text, style, marks in _docx_paragraphs(zf, "word/document.xml", notes):
        if text:
            out.line(text)
            if not heading and style.lower() in ("title", "heading1"):
                heading = text
        start = out.size - len(text)
        for offset, kind in marks:
            breaks[kind].append(start + offset)
    # Footnotes and endnotes follow the text, each after its number as the text marks it.
    for kind in ("footnote", "endnote"):
        if any(k == kind for k, _ in notes):
            for text, _, _ in _docx_paragraphs(zf, f"word/{kind}s.xml", notes, kind):
                number, _, rest = text.partition(" ")  # the mark, then the note's own text
                if rest.strip():
                    out.line(f"{number} {rest.lstrip()}")
    # Word records where its last layout broke the pages; without that, the explicit page
    # breaks are all that is known.
    starts = sorted(breaks["rendered"] or breaks["page"])
    pages = (0, *(s for s in starts if s > 0)) if starts else ()
    return Parsed(out.text(), core_title(zf) or heading[:200], pages)


_MARK = "\ue000"  # stands for a page break inside a paragraph until the paragraph is complete


def _docx_paragraphs(
    zf: zipfile.ZipFile, part: str, notes: dict[tuple[str, str], int], notes_kind: str = ""
) -> Iterator[tuple[str, str, list[tuple[int, str]]]]:
    """(text, style, page breaks as (offset, "rendered" | "page")) per paragraph or table row.

    A footnote or endnote reference is written as its number in superscript ("¹"), numbered
    in the order the text refers to them (``notes``). Reading ``word/footnotes.xml`` or
    ``endnotes.xml`` (``notes_kind``), only the notes the text refers to are kept.
    """
    paragraphs: list[list[str]] = []  # open paragraphs (a text box nests one inside another)
    kinds: list[list[str]] = []  # the kind of each page mark in the open paragraphs
    rows: list[list[str]] = []  # open table rows, innermost last
    cells: list[list[str]] = []  # open cells
    style = ""
    fallback = 0  # inside mc:Fallback, a duplicate of content already read
    note = ""  # the id of the note being read (reading notes_kind)
    for event, elem in iter_xml(zf, part):
        tag = elem.tag
        if notes_kind and tag == f"{W}{notes_kind}":
            note = elem.get(f"{W}id", "") if event == "start" else ""
            if event == "end":
                release(elem)
            continue
        if notes_kind and (notes_kind, note) not in notes:
            continue  # a separator, or a note the text never refers to
        if tag == MC_FALLBACK:
            fallback += 1 if event == "start" else -1
            continue
        if fallback:
            if event == "end":
                elem.clear()
            continue
        if event == "start":
            if tag == f"{W}p":
                paragraphs.append([])
                kinds.append([])
            elif tag == f"{W}tr":
                rows.append([])
            elif tag == f"{W}tc":
                cells.append([])
            continue
        # end events: the element is complete
        if not paragraphs:
            pass
        elif tag == f"{W}t":
            paragraphs[-1].append((elem.text or "").replace(_MARK, " "))
        elif tag == f"{W}tab":
            paragraphs[-1].append("\t")
        elif tag in (f"{W}br", f"{W}cr"):
            if elem.get(f"{W}type") == "page":
                paragraphs[-1].append(_MARK)
                kinds[-1].append("page")
            else:
                paragraphs[-1].append("\n")
        elif tag == f"{W}noBreakHyphen":
            paragraphs[-1].append("-")
        elif tag in (f"{W}footnoteReference", f"{W}endnoteReference"):
            key = (tag[len(W) : -len("Reference")], elem.get(f"{W}id", ""))
            number = notes.setdefault(key, sum(k == key[0] for k, _ in notes) + 1)
            paragraphs[-1].append(note_mark(number))
        elif tag in (f"{W}footnoteRef", f"{W}endnoteRef"):
            paragraphs[-1].append(note_mark(notes[(notes_kind, note)]) + " ")
        elif tag == f"{W}lastRenderedPageBreak":
            paragraphs[-1].append(_MARK)
            kinds[-1].append("rendered")
        elif tag == f"{W}pStyle":
            style = elem.get(f"{W}val", "")
        if tag == f"{W}p" and paragraphs:
            text, marks = _marked("".join(paragraphs.pop()), kinds.pop())
            if cells:  # a paragraph in a table cell: part of the row's line
                if text:
                    cells[-1].append(text)
            elif text or marks:
                yield text, style, marks
            style = ""
        elif tag == f"{W}tc" and cells:
            cell = " ".join(cells.pop())
            if rows:
                rows[-1].append(cell)
        elif tag == f"{W}tr" and rows:
            row = " | ".join(c for c in rows.pop() if c)
            if cells:
                cells[-1].append(row)
            elif row:
                yield row, "", []
        if tag in (f"{W}p", f"{W}tbl", f"{W}sdt"):
            release(elem)


def _marked(raw: str, kinds: list[str]) -> tuple[str, list[tuple[int, str]]]:
    """The paragraph's text without its page marks, and where each mark was in that text."""
    at = [i - n for n, i in enumerate(i for i, c in enumerate(raw) if c == _MARK)]
    plain = raw.replace(_MARK, "")
    lead = len(plain) - len(plain.lstrip())
    text = plain.strip()
    return text, [(min(max(0, p - lead), len(text)), k) for p, k in zip(at, kinds, strict=False)]
