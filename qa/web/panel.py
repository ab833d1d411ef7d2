"""The documents panel: what is indexed (titles, pages, chunks, status), with its actions.

"Remove from index" and "Delete file" are separate actions, each behind a confirmation that says
what will happen; the page's script shows the confirmation and sends the confirmed action.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from qa.library.folder import UPLOAD_TYPES, format_size
from qa.types import place_words
from qa.web.markup import esc, esc_line, shorten

SEARCH_FROM = 8  # a search box over the names appears once there are more documents than this
NOT_INDEXED = "not indexed"


@dataclass(frozen=True)
class DocRow:
    """One document of the panel: an indexed one, or a file of the folder not in the index."""

    source: str
    title: str = ""
    chunks: int = 0
    pages: int | None = None
    status: str = NOT_INDEXED  # "indexed", "partial" or "not indexed"


def _attr_json(value: str) -> str:
    """A string for a data- attribute: JSON (control characters escaped), then HTML-escaped."""
    return esc_line(json.dumps(value))


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _confirm(action: str, source: str, text: str, yes: str) -> str:
    return (
        f'<div class="qa-confirm" data-action="{action}" hidden>'
        f'<p>{text}</p><div class="qa-confirm-actions">'
        f'<button type="button" class="qa-btn qa-confirm-yes{" qa-danger" if action == "delete" else ""}" '
        f'data-action="{action}" data-source="{_attr_json(source)}">{yes}</button>'
        '<button type="button" class="qa-btn qa-confirm-no">Cancel</button></div></div>'
    )


def natural_key(text: str) -> tuple:
    """Sorts "News digest 2" before "News digest 10" (numbers by value, letters by case-folded)."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text.casefold()))


def _row(d: DocRow, i: int) -> str:
    name = esc_line(d.source)
    shown = d.title if d.title and d.title != d.source else d.source
    meta = []
    file = f'<span class="qa-docfile" title="{name}">{name}</span>' if shown != d.source else ""
    if d.pages:
        meta.append(_plural(d.pages, place_words(d.source, "1").split()[0]))  # page, or slide
    if d.status != NOT_INDEXED:
        meta.append(_plural(d.chunks, "chunk"))
    status = esc_line(d.status)
    meta.append(f'<span class="qa-status qa-status-{status.replace(" ", "-")}">{status}</span>')
    quoted = f"<strong>{esc_line(shorten(d.source, 80))}</strong>"
    if d.status == NOT_INDEXED:
        first = (
            f'<button type="button" class="qa-doc-act" data-action="index" '
            f'data-source="{_attr_json(d.source)}" aria-label="Add to index: {name}">'
            "Add to index</button>"
        )
        confirm_first = ""
    else:
        first = (
            f'<button type="button" class="qa-doc-act" data-action="unindex" '
            f'aria-label="Remove from index: {name}" aria-expanded="false">'
            "Remove from index</button>"
        )
        confirm_first = _confirm(
            "unindex",
            d.source,
            f"Remove {quoted} from the index? Its answers go; the file stays in the documents "
            "folder and is indexed again the next time the folder is indexed (an upload or a "
            "restart).",
            "Remove from index",
        )
    delete = _confirm(
        "delete",
        d.source,
        f"Delete {quoted}? The file is deleted from the documents folder and removed from the "
        "index. This cannot be undone.",
        "Delete file",
    )
    search = esc_line(f"{d.title} {d.source}".casefold())
    info = (
        f'<span class="qa-doctitle" title="{esc_line(shown)}">{esc_line(shorten(shown, 120))}'
        f'</span><span class="qa-docmeta">{file}<span>{" · ".join(meta)}</span></span>'
    )
    if d.status == NOT_INDEXED:  # nothing to ask of it
        head = f'<div class="qa-docinfo">{info}</div>'
    else:
        head = (
            f'<div class="qa-docinfo qa-askable"><input type="checkbox" class="qa-ask-doc" '
            f'id="qa-ask-{i}" data-source="{_attr_json(d.source)}" checked>'
            f'<label for="qa-ask-{i}"><span class="qa-sr">Ask </span>{info}</label></div>'
        )
    return (
        f'<li class="qa-docrow" data-search="{search}">{head}'
        f'<div class="qa-docactions">{first}<button type="button" class="qa-doc-act qa-danger" '
        f'data-action="delete" aria-label="Delete file: {name}" aria-expanded="false">'
        f"Delete file</button></div>{confirm_first}{delete}</li>"
    )


def render_documents(rows: Sequence[DocRow], stamp: str = "") -> str:
    """The panel's list: a search box once there are many, which documents questions go to,
    a row per document (a check box to ask it or not), the totals.

    ``stamp`` makes each rendering a new value, so the page redraws it even when nothing changed
    (and a button left on "Working…" comes back).
    """
    at = esc_line(stamp)
    if not rows:
        return (
            f'<div class="qa-docs" data-at="{at}"><p class="qa-docs-empty">No documents yet. Add '
            "one below: it is indexed at once.</p></div>"
        )
    search = ""
    if len(rows) > SEARCH_FROM:
        search = (
            '<div class="qa-docs-search"><label class="qa-sr" for="qa-docs-filter">Search '
            'documents</label><input type="search" id="qa-docs-filter" autocomplete="off" '
            f'placeholder="Search {len(rows):,} documents…"></div>'
        )
    indexed = [r for r in rows if r.status != NOT_INDEXED]
    chunks = sum(r.chunks for r in indexed)
    total = f"{_plural(len(indexed), 'document')} indexed · {_plural(chunks, 'chunk')}"
    if len(indexed) < len(rows):
        total += f" · {len(rows) - len(indexed):,} not indexed"
    to = "the one document" if len(indexed) == 1 else f"all {len(indexed):,} documents"
    ask = (
        '<div class="qa-docs-ask"><span class="qa-ask-count" aria-live="polite">Questions go '
        f'to {to}.</span><button type="button" class="qa-ask-all" hidden>Ask all</button></div>'
        if indexed
        else ""
    )
    items = "".join(_row(r, i) for i, r in enumerate(rows))
    return (
        f'<div class="qa-docs" data-count="{len(rows)}" data-at="{at}">{search}{ask}'
        '<p class="qa-sr" id="qa-docs-keys">Arrow keys move through the list; space ticks or '
        "unticks a document to ask it.</p>"
        '<ul class="qa-doclist" aria-label="Documents" aria-describedby="qa-docs-keys">'
        f"{items}</ul>"
        '<p class="qa-docs-none" hidden>No document matches.</p>'
        f'<p class="qa-docs-total">{total}</p></div>'
    )


def merge_rows(indexed: Iterable, folder_files: Iterable[str]) -> list[DocRow]:
    """Rows for the indexed documents (``DocumentInfo``) and the folder's files not indexed."""
    rows = [DocRow(d.source, d.title, d.chunks, d.pages, d.status) for d in indexed]
    known = {r.source for r in rows}
    rows += [DocRow(f) for f in folder_files if f not in known]
    return sorted(rows, key=lambda r: (natural_key(r.title or r.source), natural_key(r.source)))


def render_status(lines: Sequence[tuple[str, str]]) -> str:
    """Messages about uploads and removals; kind is 'ok' or 'error'."""
    return "".join(
        f'<div class="qa-msg qa-msg-{kind}" role="{"alert" if kind == "error" else "status"}">'
        f"{esc(text)}</div>"
        for kind, text in lines
    )


def render_upload_hint(max_upload_bytes: int) -> str:
    """The line under the upload box: accepted types, size limit, indexing at once."""
    types = " ".join(UPLOAD_TYPES)
    return (
        f'<p class="qa-hint">{esc_line(types)} · up to {format_size(max_upload_bytes)} '
        "each · indexed at once</p>"
    )
