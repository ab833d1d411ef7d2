"""The source viewer: a cited document shown whole, at the passage, the sentence highlighted.

For a PDF, the page itself comes first, rendered as an image with the sentence's area
highlighted; the document's text follows. Offsets are in a detail, not in the main line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from index import DocumentText
from qa.types import Citation, Span
from qa.web.markup import esc, esc_line, icon, locate, marked, shorten
from qa.web.pdfpage import PageImage
from qa.web.render import source_name

WINDOW_CHARS = 200_000  # a longer document is shown around the passage, this much of it
PAGES_SEARCHED = 10  # pages of a passage looked on for its sentence (a passage spans one or two)


def pdf_pages(c: Citation, page_count: int | None = None) -> list[int]:
    """The pages to look on for a citation's sentences (its first page, then the rest): within
    the document's ``page_count`` when known, and never more than PAGES_SEARCHED of them (the
    page numbers came back from the browser)."""
    if c.page is None:
        return []
    first, last = c.page, max(c.page, c.page_end or c.page)
    if page_count:
        first, last = min(first, page_count), min(last, page_count)
    return list(range(first, min(last, first + PAGES_SEARCHED - 1) + 1))


def _head(c: Citation, extra: str = "") -> str:
    page = f'<span class="qa-v-page">{esc_line(c.place)}</span>' if c.place else ""
    file = (
        "" if source_name(c) == c.source else f'<span class="qa-v-file">{esc_line(c.source)}</span>'
    )
    return (
        '<div class="qa-v-head"><div class="qa-v-title">'
        f'<span class="qa-n">{c.n}</span><h2 id="qa-v-heading">{esc_line(shorten(source_name(c), 140))}</h2>'
        f'</div><div class="qa-v-sub">{file}{page}{extra}</div>'
        '<button type="button" class="qa-btn qa-v-width" aria-pressed="true" hidden>Narrower'
        '</button><button type="button" class="qa-v-close" aria-label="Close the source">'
        f"{icon('close')}</button></div>"
    )


def _figure(img: PageImage, c: Citation) -> str:
    boxes = "".join(
        f'<div class="{cls}" style="left:{x * 100:.2f}%;top:{y * 100:.2f}%;'
        f'width:{w * 100:.2f}%;height:{h * 100:.2f}%"></div>'
        for cls, rects in (("qa-pdf-area", img.area), ("qa-pdf-hl", img.boxes))
        for x, y, w, h in rects
    )
    found = (
        "The highlighted area holds the supporting sentence"
        + ("; the shaded lines are the rest of the cited passage." if img.area else ".")
        if img.boxes
        else "The sentence could not be located on the page image; see the text view."
    )
    return (
        '<figure class="qa-pdf"><button type="button" class="qa-btn qa-pdf-zoom" '
        'aria-pressed="false">Zoom in</button><div class="qa-pdf-scroll">'
        f'<div class="qa-pdf-page" style="aspect-ratio:{img.width}/{img.height}">'
        f'<img src="{img.data_uri()}" width="{img.width}" height="{img.height}" '
        f'alt="Page {img.page} of {esc_line(c.source)}">{boxes}</div></div>'
        f"<figcaption>Page {img.page} of {img.pages}. {found}</figcaption></figure>"
    )


def _offsets(c: Citation, total: int | None) -> str:
    rows = [f"Passage: characters {c.start:,}–{c.end:,}" + (f" of {total:,}" if total else "")]
    rows += [f"Supporting sentence: characters {s.start:,}–{s.end:,}" for s in c.sentences]
    rows += [f"Answer phrase: characters {s.start:,}–{s.end:,}" for s in c.phrases]
    items = "".join(f"<li>{esc_line(r)}</li>" for r in rows)
    return (
        '<details class="qa-v-offsets"><summary>Position in the document</summary>'
        f"<ul>{items}</ul><p>File: {esc_line(c.source)}</p></details>"
    )


def _layers(text: str, base: int, c: Citation) -> list[tuple[Sequence[tuple[int, int]], str]]:
    passage = locate(text, base, [_span(c)])
    return [
        (passage, "qa-passage-range"),
        (locate(text, base, c.sentences), "qa-sentence"),
        (locate(text, base, c.phrases), "qa-phrase"),
    ]


def _span(c: Citation) -> Span:
    return Span(c.start, c.end, c.text)


def _document_text(doc: DocumentText, c: Citation) -> tuple[str, str]:
    """The document's text (or a window of it) with the marks; and a note when it changed."""
    text = doc.text
    if text[c.start : c.end] != c.text:
        # Edited since this answer: the passage is looked for by its text.
        i = text.find(c.text) if c.text else -1
        if i < 0:
            note = (
                "This document has changed since the answer was given; the cited passage is no "
                "longer in it. This is the passage as it was cited."
            )
            return _passage_only(c), note
        shift = i - c.start
        c = _shifted(c, shift)
    lo, hi, base = 0, len(text), 0
    if len(text) > WINDOW_CHARS:
        half = max(0, (WINDOW_CHARS - (c.end - c.start)) // 2)
        lo, hi = max(0, c.start - half), min(len(text), c.end + half)
        base = lo
    shown = marked(text[lo:hi], _layers(text[lo:hi], base, c))
    before = f'<p class="qa-v-cut">… {lo:,} characters before this are not shown.</p>' if lo else ""
    after = (
        f'<p class="qa-v-cut">… {len(text) - hi:,} characters after this are not shown.</p>'
        if hi < len(text)
        else ""
    )
    return f'{before}<div class="qa-v-doc">{shown}</div>{after}', ""


def _shifted(c: Citation, shift: int) -> Citation:
    def move(spans):
        return tuple(Span(s.start + shift, s.end + shift, s.text) for s in spans)

    p = replace(c.passage, start=c.start + shift, end=c.end + shift)
    return replace(c, passage=p, sentences=move(c.sentences), phrases=move(c.phrases))


def _passage_only(c: Citation) -> str:
    shown = marked(c.text, _layers(c.text, c.start, c))
    return f'<div class="qa-v-doc">{shown}</div>'


def render_viewer(
    c: Citation, doc: DocumentText | None, image: PageImage | None = None, stamp: str = ""
) -> str:
    """The viewer for one citation: header, page image (PDF), the document text, offsets.

    ``stamp`` makes each opening a new value, so the page reopens even the same source.
    """
    if doc is None:
        body, note = (
            _passage_only(c),
            ("This document is no longer in the index; this is the passage as it was cited."),
        )
    else:
        body, note = _document_text(doc, c)
    note_html = f'<p class="qa-v-note" role="note">{esc(note)}</p>' if note else ""
    text_section = f'<section class="qa-v-text" aria-label="Text of the document">{body}</section>'
    if image is not None:
        view = (
            '<div class="qa-v-switch" role="radiogroup" aria-label="Show">'
            '<input type="radio" name="qa-v-mode" id="qa-v-mode-page" value="page" checked>'
            '<label for="qa-v-mode-page">Page image</label>'
            '<input type="radio" name="qa-v-mode" id="qa-v-mode-text" value="text">'
            '<label for="qa-v-mode-text">Text</label>'
            f'<div class="qa-v-pane qa-v-pane-page">{_figure(image, c)}</div>'
            f'<div class="qa-v-pane qa-v-pane-text">{text_section}</div></div>'
        )
    else:
        view = text_section
    total = len(doc.text) if doc is not None else None
    return (
        f'<div class="qa-viewer" role="region" aria-labelledby="qa-v-heading" data-n="{c.n}" '
        f'data-at="{esc_line(stamp)}">'
        f'{_head(c)}{note_html}<div class="qa-v-body" tabindex="0" aria-label="The source">'
        f"{view}</div>{_offsets(c, total)}</div>"
    )


def render_viewer_message(message: str, stamp: str = "") -> str:
    """The viewer with a message in place of a source (e.g. a citation that no longer exists)."""
    return (
        f'<div class="qa-viewer" role="region" aria-label="Source" data-at="{esc_line(stamp)}">'
        '<div class="qa-v-head">'
        '<div class="qa-v-title"><h2>Source</h2></div><button type="button" class="qa-v-close" '
        f'aria-label="Close the source">{icon("close")}</button></div>'
        f'<p class="qa-v-note" role="note">{esc(message)}</p></div>'
    )
