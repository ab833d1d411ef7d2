"""Tables on a page: each row read as one line, its cells in order, "Barista Mini | 299 EUR".

Without this a table read as two columns of text (its widest gap taken for a gutter), and a
row's values came apart from the thing they describe. The cells are the runs of text that the
reader split where a wide gap opens (``index.formats.pdf``); a table is a run of rows whose cells
start at shared positions, at least MIN_COLUMNS of them, told apart from columns of prose by how
little of the room to the next column its cells fill. A cell's wrapped lines stay rows of their
own (without the table's rules it cannot be told which row they belong to).
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence

from index.formats.lines import Line, same_row

MIN_COLUMNS = 3  # two runs side by side are as often two columns of text as a table
ALIGN = 3.0  # points: the cells of one column start within this of each other
PROSE_FILL = 0.75  # lines of prose set in columns fill this share of the room, or more
ROW_GAP = 1.8  # a row further below the one before than this many row pitches ends the table


def merge_tables(lines: Sequence[Line]) -> list[Line]:
    """The page's lines with every table row merged into one line (``Line.table``)."""
    rows = _visual_rows(lines)
    out: list[Line] = []
    i = 0
    while i < len(rows):
        end, anchors = _table_at(rows, i)
        if end > i:
            out += [_merged(row, anchors) for row in rows[i:end]]
            i = end
        else:
            out += rows[i]
            i += 1
    return out


def _visual_rows(lines: Sequence[Line]) -> list[list[Line]]:
    """The lines grouped into rows, top to bottom, each row left to right."""
    rows: list[list[Line]] = []
    for ln in sorted(lines, key=lambda ln: -ln.y1):
        if rows and same_row(rows[-1][0], ln):
            rows[-1].append(ln)
        else:
            rows.append([ln])
    return [sorted(row, key=lambda ln: ln.x0) for row in rows]


def _table_at(rows: list[list[Line]], i: int) -> tuple[int, list[float]]:
    """(the end of the table that starts at row i, its column starts), or (i, []) if none."""
    if len(rows[i]) < MIN_COLUMNS:
        return i, []
    end = i + 1
    while end < len(rows) and len(rows[end]) >= MIN_COLUMNS:
        end += 1
    anchors = _anchors(rows[i:end])
    if end - i < 2 or len(anchors) < MIN_COLUMNS or _prose(rows[i:end], anchors):
        return i, []
    tops = [row[0].y1 for row in rows[i:end]]
    pitch = statistics.median(a - b for a, b in itertools.pairwise(tops))
    # Rows of fewer cells (a cell's wrapped lines) belong when each run sits inside a column.
    while end < len(rows) and rows[end - 1][0].y1 - rows[end][0].y1 <= ROW_GAP * pitch:
        if len(rows[end]) < MIN_COLUMNS and not all(_in_column(ln, anchors) for ln in rows[end]):
            break
        end += 1
    while len(rows[end - 1]) < MIN_COLUMNS and end - 1 > i:  # none of them ends the table
        end -= 1
    return end, anchors


def _anchors(rows: list[list[Line]]) -> list[float]:
    """Where the columns start: x positions where cells of half the rows (two or more) start."""
    starts = sorted(ln.x0 for row in rows for ln in row)
    groups: list[list[float]] = []
    for x in starts:
        if groups and x - groups[-1][-1] <= ALIGN:
            groups[-1].append(x)
        else:
            groups.append([x])
    # A column is one most rows have a cell in; justified words of one cell line up by chance.
    return [g[0] for g in groups if len(g) >= max(2, len(rows) / 2)]


def _column(ln: Line, anchors: list[float]) -> int:
    return max((k for k, a in enumerate(anchors) if ln.x0 >= a - ALIGN), default=0)


def _in_column(ln: Line, anchors: list[float]) -> bool:
    k = _column(ln, anchors)
    return ln.x0 >= anchors[k] - ALIGN and (k + 1 == len(anchors) or ln.x1 <= anchors[k + 1])


def _prose(rows: list[list[Line]], anchors: list[float]) -> bool:
    """Do the runs fill their columns, as lines of text set in columns do?"""
    fills = []
    for row in rows:
        for ln in row:
            k = _column(ln, anchors)
            if k + 1 < len(anchors):
                fills.append((ln.x1 - ln.x0) / max(anchors[k + 1] - anchors[k], 1e-6))
    return bool(fills) and statistics.median(fills) >= PROSE_FILL


def _merged(row: list[Line], anchors: list[float]) -> Line:
    """One row as one line: the runs of each column joined, the columns by " | "."""
    cells: dict[int, list[str]] = {}
    for ln in row:
        cells.setdefault(_column(ln, anchors), []).append(ln.text)
    text = " | ".join(" ".join(cells[k]) for k in sorted(cells))
    return Line(
        min(ln.x0 for ln in row),
        min(ln.y0 for ln in row),
        max(ln.x1 for ln in row),
        max(ln.y1 for ln in row),
        text,
        max(ln.size for ln in row),
        table=True,
    )
