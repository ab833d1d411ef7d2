"""Spreadsheets (.xlsx) and tables (.csv, .tsv): each row a "header: value; ..." line.

A row read alone, as a retrieved passage is, still says what each value is. Each sheet of a
workbook starts with its name on a line of its own.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence

from index.formats.base import LoadError, Parsed, TextBuilder, decode_text, with_detail
from index.formats.office import core_title, open_zip

MAX_CELL = 10_000  # characters kept of one cell (a field of a CSV may be megabytes)
# openpyxl costs ~30-100 us a cell: past this many, a workbook is refused rather than read
# for minutes (a 7 MB workbook of 2.4 M cells took 7 minutes on a busy machine).
MAX_CELLS = 1_000_000


def read_xlsx(data: bytes) -> Parsed:
    """An .xlsx workbook: every sheet, its name as a section line, then its rows."""
    zf = open_zip(data, ".xlsx")
    title = core_title(zf)
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises KeyError, ValueError, ... on broken parts
        raise LoadError(with_detail("corrupt .xlsx", exc)) from exc
    out = TextBuilder()
    cells = 0

    def counted(row: tuple) -> list[str]:
        nonlocal cells
        cells += len(row)
        if cells > MAX_CELLS:
            raise LoadError(f"spreadsheet too large (more than {MAX_CELLS:,} cells)")
        return [_cell(v) for v in row]

    try:
        for sheet in wb.worksheets:
            rows = (counted(row) for row in sheet.iter_rows(values_only=True))
            lines = _table_lines(rows)
            first = next(lines, None)
            if first is None:
                continue
            out.line(sheet.title, "\n\n")
            out.line(first)
            for line in lines:
                out.line(line)
    finally:
        wb.close()
    return Parsed(out.text(), title, title_from_text=False)


def read_csv(data: bytes) -> Parsed:
    """A .csv or .tsv file: the delimiter sniffed, the first row taken as the header."""
    text = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel_tab if text[:65536].count("\t") > text[:65536].count(",") else csv.excel
    out = TextBuilder()
    try:
        rows = (
            [c.strip()[:MAX_CELL] for c in row] for row in csv.reader(io.StringIO(text), dialect)
        )
        for line in _table_lines(rows):
            out.line(line)
    except csv.Error as exc:
        raise LoadError(with_detail("malformed CSV", exc)) from exc
    return Parsed(out.text(), title_from_text=False)


def _table_lines(rows: Iterable[Sequence[str]]) -> Iterable[str]:
    """The header row as it is, then each row as "header: value; header: value"."""
    header: list[str] | None = None
    for row in rows:
        if not any(row):
            continue
        if header is None:
            if all(_is_number(c) for c in row if c):  # no header row: name the columns
                header = [_column_name(i) for i in range(len(row))]
            else:
                header = [c or _column_name(i) for i, c in enumerate(row)]
                yield "; ".join(c for c in row if c)
                continue
        while len(header) < len(row):
            header.append(_column_name(len(header)))
        yield "; ".join(f"{h}: {v}" for h, v in zip(header, row, strict=False) if v)


def _column_name(i: int) -> str:
    """Spreadsheet column letters: A..Z, AA.."""
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(65 + r) + name
    return name


def _is_number(value: str) -> bool:
    try:
        float(value.replace(",", ""))
    except ValueError:
        return False
    return True


def _cell(value) -> str:
    """A cell's value as a person reads it: 12.5 not 12.500000001, a date without 00:00."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.10g}"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return " ".join(str(value).split())[:MAX_CELL]
