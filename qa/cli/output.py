"""What the ``qa`` command prints: answers with their sources, the document list, ingest reports.

Everything that comes from a document or a file name passes through ``qa.cli.terminal.clean``
first, so a document cannot move the cursor, rewrite the screen or the clipboard.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Sequence

from index import DocumentInfo, IngestReport
from qa.cli.terminal import clean
from qa.types import Answer, Citation

WRAP = 96
TITLE_CHARS = 40


def citation_heading(c: Citation, verbose: bool = False) -> str:
    """``[n] Title, p. 4`` (the file name when there is no title); with ``verbose`` the file,
    the exact characters and the score too."""
    title = clean(c.title, one_line=True) or clean(c.source, one_line=True)
    line = f"[{c.n}] {title}"
    if c.pages and c.place.startswith("page"):
        line += f", {'pp.' if '–' in c.pages else 'p.'} {c.pages}"
    elif c.pages:
        line += f", {c.place}"  # "slide 2"
    if verbose:
        line += f"\n    {clean(c.source, one_line=True)}, characters {c.start}-{c.end}"
        line += f", score {c.score:.3f}"
    return line


def reading(answer: Answer) -> str:
    """ "Reading this as: ..." when the question was resolved against the conversation."""
    standalone = answer.standalone_question
    if not standalone or " ".join(standalone.split()) == " ".join(answer.question.split()):
        return ""
    return f"Reading this as: {clean(standalone, one_line=True)}"


def format_sources(answer: Answer, verbose: bool = False) -> str:
    """The notice, unsupported sentences, cited passages and the answer mode, after the text."""
    lines = []
    if verbose and reading(answer):
        lines.append(f"\n{reading(answer)}")
    if answer.notice:
        lines.append(f"\nNote: {clean(answer.notice)}")
    for s in answer.unsupported:
        lines.append(f"(not supported by the passages read: {clean(s.text, one_line=True)!r})")
    for s in answer.sentences:
        if s.added:
            marks = "".join(f"[{n}]" for n in s.added)
            lines.append(f"({marks} added by the checker: {clean(s.text, one_line=True)!r})")
    if answer.citations:
        lines.append("\nSources:")
    for c in answer.citations:
        lines.append(citation_heading(c, verbose))
        lines.append(textwrap.indent(textwrap.fill(clean(c.text, one_line=True), WRAP), "    "))
    tail = f"{answer.mode}, {answer.latency_ms:.0f} ms"
    if answer.status != "answered":
        tail = f"{answer.status}; {tail}"
    lines.append(f"\n({tail})")
    return "\n".join(lines)


def format_documents(docs: Sequence[DocumentInfo]) -> str:
    """The indexed documents as a table: source, title, chunks, pages, status, then totals."""
    if not docs:
        return "No documents are indexed. Index a folder with: qa ingest [FOLDER]"
    rows = [("SOURCE", "TITLE", "CHUNKS", "PAGES", "STATUS")]
    for d in docs:
        title = clean(d.title, one_line=True) or "-"  # one line per document, whatever it holds
        if len(title) > TITLE_CHARS:
            title = title[: TITLE_CHARS - 1] + "…"
        pages = f"{d.pages:,}" if d.pages else "-"
        rows.append((clean(d.source, one_line=True), title, f"{d.chunks:,}", pages, d.status))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.rjust(w) if i in (2, 3) else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    total = sum(d.chunks for d in docs)
    partial = sum(d.status != "indexed" for d in docs)
    summary = f"{len(docs):,} document{'s' if len(docs) != 1 else ''}, {total:,} chunks"
    if partial:
        summary += f"; {partial:,} partial (run qa ingest to finish indexing)"
    lines.append(summary)
    return "\n".join(lines)


def format_report(report: IngestReport) -> str:
    """An ingest report, with skipped files and their reasons (names made safe to print)."""
    # split("\n"), not splitlines(): a "\r" in a file name must not start a line of its own.
    return "\n".join(clean(line) for line in report.summary().split("\n"))


def format_sync(sync) -> str:
    """One line per round of qa ingest --watch: the time, what changed in the index, or why not."""
    when = time.strftime("%H:%M:%S")
    if sync.report is None:
        return f"{when} could not update the index: {clean(sync.error, one_line=True)}"
    r = sync.report
    parts = [
        f"{verb} {', '.join(clean(s, one_line=True) for s in names)}"
        for verb, names in (
            ("added", r.added), ("updated", r.updated), ("removed", [*r.removed, *sync.removed]),
        )
        if names
    ]  # fmt: skip
    parts += [
        f"skipped {clean(s.source, one_line=True)}: {clean(s.reason)}"
        for s in r.skipped
        if s.source in sync.changed  # not every file the folder always skips, at every change
    ]
    if not parts:
        return f"{when} no change to the index"
    return (
        f"{when} {'; '.join(parts)} ({r.chunks_embedded} chunks embedded, {r.chunks_total} indexed)"
    )
