"""E-books (.epub): the chapters in reading order (the spine), each read like an HTML page."""

from __future__ import annotations

import posixpath
import zipfile
from urllib.parse import unquote

from index.formats.base import LoadError, Parsed, TextBuilder, decode_text
from index.formats.html import html_text
from index.formats.office import DC_TITLE, iter_xml, open_zip

CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}rootfile"
OPF = "{http://www.idpf.org/2007/opf}"
_ENC = "{http://www.w3.org/2001/04/xmlenc#}CipherReference"


def read_epub(data: bytes) -> Parsed:
    """An .epub file: chapters in spine order, separated by blank lines; the book's title."""
    zf = open_zip(data, ".epub")
    opf = _rootfile(zf)
    title, chapters = _spine(zf, opf)
    if not chapters:
        raise LoadError("corrupt .epub (no chapters in its spine)")
    encrypted = _encrypted(zf)
    if encrypted & set(chapters):
        raise LoadError("encrypted .epub (DRM-protected; it cannot be read)")
    out = TextBuilder()
    for part in chapters:
        try:
            with zf.open(part) as f:
                raw = f.read()
        except KeyError:
            continue
        text, chapter_title = html_text(decode_text(raw))
        if text.strip():
            out.line(text, "\n\n")
        title = title or chapter_title
    return Parsed(out.text(), title[:200])


def _rootfile(zf: zipfile.ZipFile) -> str:
    for event, elem in iter_xml(zf, "META-INF/container.xml"):
        if event == "end" and elem.tag == CONTAINER and elem.get("full-path"):
            return elem.get("full-path")
    opfs = [n for n in zf.namelist() if n.endswith(".opf")]
    if not opfs:
        raise LoadError("corrupt .epub (no package document)")
    return opfs[0]


def _spine(zf: zipfile.ZipFile, opf: str) -> tuple[str, list[str]]:
    """The book's title and its chapters' part names in reading order."""
    folder = posixpath.dirname(opf)
    manifest: dict[str, str] = {}
    order: list[str] = []
    title = ""
    for event, elem in iter_xml(zf, opf):
        if event != "end":
            continue
        if elem.tag == DC_TITLE and not title:
            title = " ".join((elem.text or "").split())
        elif elem.tag == f"{OPF}item":
            href = unquote(elem.get("href", "").split("#")[0])
            manifest[elem.get("id", "")] = posixpath.normpath(posixpath.join(folder, href))
        elif elem.tag == f"{OPF}itemref" and elem.get("linear") != "no":
            order.append(elem.get("idref", ""))
    return title, [manifest[i] for i in order if i in manifest]


def _encrypted(zf: zipfile.ZipFile) -> set[str]:
    """Parts that META-INF/encryption.xml lists as encrypted (fonts are, harmlessly, often)."""
    out = set()
    for event, elem in iter_xml(zf, "META-INF/encryption.xml"):
        if event == "end" and elem.tag == _ENC:
            out.add(posixpath.normpath(elem.get("URI", "")))
    return out
