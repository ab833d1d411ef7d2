"""Lines placed on pages (from a PDF's text layer or from OCR) -> text that reads like the document.

Running headers, footers and page numbers are dropped (a chapter's running header too); a
two-column page is read column by column; wrapped lines are joined into paragraphs and
end-of-line hyphenation is undone, across columns and pages too, whether the headings stand out
in the margin or an indented quotation is narrower than its column; each entry of a table of
contents is a paragraph of its own, its leader dots shortened to "…". The text built here is what is stored, chunked and shown, so every
citation's character span points into it.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from index.formats import words
from index.formats.base import TextBuilder
from index.formats.lines import Line, Page, same_row
from index.formats.tables import merge_tables

SOFT_HYPHEN = words.SOFT_HYPHEN
MARGIN = 0.12  # share of the page height at the top and bottom where running lines live
FOOTNOTE = 0.9  # footnotes are set smaller than the text: at most this share of its size
_PAGE_NUMBER = re.compile(
    r"^[\W_]*(page|p\.|pg\.?|seite|página|pagina)?\s*(\d{1,4}|[ivxlcdm]{1,7})"
    r"(\s*(of|/|de|von|sur)\s*\d{1,4})?[\W_]*$",
    re.IGNORECASE,
)
# List items start a line of their own; a dash does not (prose breaks lines before dashes).
_BULLET = re.compile(r"^([•◦▪‣●○■□➢►✓]|\(?\d{1,3}[.)]|\(?[a-z]\))\s")
# An entry of a table of contents: leader dots to a page number ("Setup . . . . . 12").
_CONTENTS_ENTRY = re.compile(r"(?:\s?\.){5,}\s*(?=[\divxlc]{1,5}$)", re.IGNORECASE)


@dataclass(frozen=True)
class _Placed:
    line: Line
    page: int
    block: int  # lines of one block sit in one column, top to bottom
    left: float  # the block's column edges (left: where its body lines start)
    right: float


def assemble(pages: Sequence[Page], out: TextBuilder) -> None:
    """Add the pages' text to ``out`` in reading order, one paragraph a line, pages marked."""
    keep = _drop_running_lines(pages)
    placed: list[_Placed] = []
    for n, page in enumerate(pages):
        for column in _reading_order([ln for ln in page.lines if id(ln) in keep], page.width):
            left = _body_left(column)
            right = max(ln.x1 for ln in column)
            block = placed[-1].block + 1 if placed else 0
            placed += [_Placed(ln, n, block, left, right) for ln in column]
    rights = _column_rights(placed, pages)
    rights.update(_measures(placed))
    pitches = _typical_pitches(placed)
    placed = _footnotes_after(placed, pages, rights, pitches)
    vocabulary = _words(placed)
    pending = ""  # the last line, held back until it is known how the next one joins it
    started = 0  # pages whose start is recorded
    for i, p in enumerate(placed):
        sep = ""
        if i:
            prev = placed[i - 1]
            if _new_paragraph(prev, p, rights, pitches):
                sep = "\n\n"
            else:
                pending, sep = words.join_wrapped(pending, p.line.text, vocabulary)
        out.add(pending + sep)
        while started <= p.page:  # this line begins its page (and any empty ones before it)
            out.pages.append(out.size)
            started += 1
        pending = _CONTENTS_ENTRY.sub(" … ", p.line.text)
    out.add(pending)
    while started < len(pages):
        out.pages.append(out.size)
        started += 1


def _footnotes_after(
    placed: list[_Placed], pages: Sequence[Page], rights: dict, pitches: dict[int, float]
) -> list[_Placed]:
    """The lines with footnotes moved past the paragraph that runs on into the next column or
    page, so that its sentences read whole (notes moved past a page break count as the next
    page's text). Footnotes: small lines low on the page that end a column, or that fill the
    page's last block (notes set across both columns)."""
    body = statistics.median(p.line.size for p in placed) if placed else 0.0

    def note(p: _Placed) -> bool:
        return p.line.size < FOOTNOTE * body and p.line.y1 < pages[p.page].height * 0.4

    blocks = [list(g) for _, g in itertools.groupby(placed, key=lambda p: p.block)]
    text: list[_Placed] = []
    notes: dict[int, list[_Placed]] = {}  # position in ``text`` of the line they follow
    for i, lines in enumerate(blocks):
        k = len(lines)
        while k and note(lines[k - 1]):
            k -= 1
        last_on_page = i + 1 == len(blocks) or blocks[i + 1][0].page != lines[0].page
        whole = k == 0 and last_on_page and bool(text) and text[-1].page == lines[0].page
        if (0 < k < len(lines)) or whole:
            text += lines[:k]
            notes.setdefault(len(text) - 1, []).extend(lines[k:])
        else:
            text += lines
    if not notes:
        return placed
    out: list[_Placed] = []
    waiting: list[_Placed] = []
    for i, p in enumerate(text):
        if waiting and _new_paragraph(text[i - 1], p, rights, pitches):
            out += waiting
            waiting = []
        out.append(p)
        waiting += notes.get(i, [])
    return out + waiting


def _body_left(column: list[Line]) -> float:
    """Where most of the column's lines start: headings set out into the margin (manuals,
    specifications) must not make every body line look indented."""
    starts = Counter(round(ln.x0 / 2) for ln in column)
    most = max(starts.values())
    return 2.0 * min(x for x, n in starts.items() if n == most)


def _drop_running_lines(pages: Sequence[Page]) -> set[int]:
    """The ids of the lines to keep: not a page number, running header or running footer.

    A line at the top or bottom edge of a page goes when it is a page number, when its text
    (digits aside) comes back on many pages, when it stands apart from the text, no larger
    than it, and comes back on another page (a chapter's running header), or when it is set
    smaller than the text and stands apart from it (a header on a document of one page).
    """
    candidates: list[list[tuple[Line, str, bool, bool, bool]]] = []
    counts: Counter[str] = Counter()
    for page in pages:
        order = sorted(page.lines, key=lambda ln: -ln.y1)
        here = []
        if len(order) > 1:
            body = statistics.median(ln.size for ln in order)
            for i, ln in enumerate(order):
                at_top = i < 2 and ln.y0 > page.height * (1 - MARGIN)
                at_bottom = i >= len(order) - 2 and ln.y1 < page.height * MARGIN
                if not (at_top or at_bottom):
                    continue
                apart = _gap_to_body(order, i, at_top) > 2.0 * max(ln.size, body)
                small = ln.size < 0.9 * body and apart and _outermost(order, i)
                plain = apart and ln.size <= 1.1 * body
                # A title on page 1 that the running header repeats is still the title.
                big = ln.size > 1.3 * body
                here.append((ln, _running_key(ln.text), small, plain, big))
        candidates.append(here)
        counts.update({key for _, key, _, _, _ in here})
    repeated = max(2, 0.4 * len(pages))
    drop = {
        id(ln)
        for here in candidates
        for ln, key, small, plain, big in here
        if small
        or _PAGE_NUMBER.match(ln.text)
        or (len(pages) > 1 and counts[key] >= repeated and not big)
        or (len(pages) > 2 and plain and counts[key] >= 2)
    }
    return {id(ln) for page in pages for ln in page.lines if id(ln) not in drop}


def _gap_to_body(order: list[Line], i: int, at_top: bool) -> float:
    """How far line i (lines top to bottom) sits from the nearest line not in its row, looking
    towards the page's body first (a page of one row has no such line: 0)."""
    line = order[i]
    for step in (1, -1) if at_top else (-1, 1):
        j = i + step
        while 0 <= j < len(order):
            if not same_row(line, order[j]):
                return abs(order[j].y1 - line.y1)
            j += step
    return 0.0


def _outermost(order: list[Line], i: int) -> bool:
    """Is line i in the top or the bottom row of its page?"""
    return same_row(order[i], order[0]) or same_row(order[i], order[-1])


def _running_key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def _reading_order(lines: list[Line], width: float) -> list[list[Line]]:
    """The page's lines as columns to read one after the other, each top to bottom."""
    if not lines:
        return []
    lines = _rows(merge_tables(lines))
    gutter = _gutter(lines, width)
    if gutter is None:
        return [lines]
    blocks: list[list[Line]] = []
    left: list[Line] = []
    right: list[Line] = []
    spanning: list[Line] = []
    for ln in lines:
        if ln.x0 < gutter < ln.x1:  # a title or a figure caption across both columns
            blocks += [b for b in (left, right) if b]
            left, right = [], []
            spanning.append(ln)
            continue
        if spanning:
            blocks.append(spanning)
            spanning = []
        (left if ln.x1 <= gutter else right).append(ln)
    blocks += [b for b in (left, right, spanning) if b]
    return blocks


def _rows(lines: list[Line]) -> list[Line]:
    """Lines top to bottom; lines that share a row (table cells, split runs) left to right."""
    lines = sorted(lines, key=lambda ln: -ln.y1)
    out: list[Line] = []
    row: list[Line] = []
    for ln in lines:
        if row and not same_row(row[0], ln):
            out += sorted(row, key=lambda r: r.x0)
            row = []
        row.append(ln)
    return out + sorted(row, key=lambda r: r.x0)


def _gutter(lines: list[Line], width: float) -> float | None:
    """The x of a gap between two columns of text, if the page has two."""
    if len(lines) < 6:
        return None
    best, xs = 0, []
    for x in range(int(width * 0.3), int(width * 0.7) + 1, 2):
        left = [ln for ln in lines if ln.x1 <= x]
        right = [ln for ln in lines if ln.x0 >= x]
        crossing = len(lines) - len(left) - len(right)
        score = min(len(left), len(right))
        # A second column may hold only the last lines of a paragraph.
        if (
            not score
            or max(len(left), len(right)) < 3
            or crossing > 0.2 * len(lines)
            or not _side_by_side(left, right)
        ):
            continue
        if score > best:
            best, xs = score, [x]
        elif score == best:
            xs.append(x)
    return statistics.median(xs) if xs else None


def _side_by_side(left: list[Line], right: list[Line]) -> bool:
    top = min(max(ln.y1 for ln in left), max(ln.y1 for ln in right))
    bottom = max(min(ln.y0 for ln in left), min(ln.y0 for ln in right))
    shorter = min(
        max(ln.y1 for ln in left) - min(ln.y0 for ln in left),
        max(ln.y1 for ln in right) - min(ln.y0 for ln in right),
    )
    return top - bottom > 0.5 * shorter


def _column_rights(placed: list[_Placed], pages: Sequence[Page]) -> dict[int, float]:
    """The right edge of each block's column; a block of a few lines borrows its page's kind."""
    sizes = Counter(p.block for p in placed)
    rights: dict[int, float] = {}
    wide = [(p.left, p.right) for p in placed if sizes[p.block] >= 4]
    for p in placed:
        if p.block in rights:
            continue
        right = p.right
        if sizes[p.block] < 4:
            tol = pages[p.page].width * 0.1
            alike = [r for left, r in wide if abs(left - p.left) < tol]
            if alike:
                right = max(right, statistics.median(alike))
        rights[p.block] = right
    return rights


def _measures(placed: list[_Placed]) -> dict[tuple[int, int], float]:
    """The right edge of a run of justified lines that start together inside a block: a quoted
    or indented passage is narrower than its column, and its lines still wrap."""
    groups: dict[tuple[int, int], list[_Placed]] = {}
    for p in placed:
        groups.setdefault(_start(p), []).append(p)
    out = {}
    for key, group in groups.items():
        edge = max(p.line.x1 for p in group)
        flush = sum(p.line.x1 >= edge - 0.3 * p.line.size for p in group)
        wide = edge - group[0].left >= 0.6 * (group[0].right - group[0].left)
        if flush >= 3 and wide:  # short lines of code or a list end anywhere: not a measure
            out[key] = edge
    return out


def _start(p: _Placed) -> tuple[int, int]:
    return p.block, round(p.line.x0 / 2)


def _typical_pitches(placed: list[_Placed]) -> dict[int, float]:
    """Per block, the usual distance from one line's top to the next one's."""
    gaps: dict[int, list[float]] = {}
    for a, b in itertools.pairwise(placed):
        if a.block == b.block and not same_row(a.line, b.line):
            gaps.setdefault(a.block, []).append(a.line.y1 - b.line.y1)
    every = [g for v in gaps.values() for g in v]
    default = statistics.median(every) if every else 0.0
    typical = {b: statistics.median(v) for b, v in gaps.items()}
    typical[-1] = default
    return typical


def _new_paragraph(a: _Placed, b: _Placed, rights: dict, pitches: dict[int, float]) -> bool:
    """Does line b start a new paragraph, rather than continue the line a wrapped from?"""
    la, lb = a.line, b.line
    if la.table or lb.table:
        return True
    if a.block == b.block and same_row(la, lb):
        return False  # two runs of one row (OCR cuts long lines in pieces)
    if _BULLET.match(lb.text) or abs(la.size - lb.size) > 0.2 * max(la.size, lb.size):
        return True
    if _CONTENTS_ENTRY.search(la.text):
        return True  # each entry of a table of contents ends at its page number
    if a.block == b.block:
        pitch = pitches.get(a.block, pitches[-1]) or la.size * 1.2
        if la.y1 - lb.y1 > 1.5 * pitch or lb.x0 - b.left > 3 * lb.size:
            return True
    elif a.page == b.page and la.y1 > lb.y1:  # from a block across the page down into a column
        pitch = pitches.get(b.block, pitches[-1]) or lb.size * 1.2
        if la.y1 - lb.y1 > 1.5 * pitch:
            return True
    # A wrap: the next line's first word would not have fit at the end of this one.
    space = 0.25 * la.size
    right = rights.get(_start(a), rights[a.block])
    return la.x1 + space + lb.first_word_width() < right - 0.3 * la.size


def _words(placed: list[_Placed]) -> set[str]:
    """The words and hyphenated compounds the document writes whole, inside its lines.

    A line's first word and a last word cut by a hyphen may be halves of a broken word.
    """
    found: set[str] = set()
    for p in placed:
        tokens = re.findall(r"\w+(?:-\w+)*", p.line.text)[1:]
        if p.line.text.endswith("-"):
            tokens = tokens[:-1]
        found.update(t.lower() for t in tokens)
    return found


def first_heading(pages: Sequence[Page]) -> str:
    """The first page's heading: its topmost lines in a clearly larger type than the rest."""
    for page in pages[:1]:
        lines = sorted(page.lines, key=lambda ln: -ln.y1)
        if len(lines) < 2:
            return ""
        body = statistics.median(ln.size for ln in lines)
        big = max(ln.size for ln in lines)
        if big < 1.2 * body:
            return ""
        heading = [ln for ln in lines if ln.size > 0.95 * big and ln.y0 > page.height / 2]
        text = " ".join(ln.text for ln in heading[:3] if not _PAGE_NUMBER.match(ln.text))
        return text if len(text) <= 200 else ""
    return ""
