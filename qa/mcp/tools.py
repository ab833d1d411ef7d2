"""What the MCP tools do, over an Engine: plain functions with bounded inputs, dicts out.

Each returns JSON-ready data; a request that cannot be served raises ``ToolError`` with one
line that says what to do instead (the agent reads it and tries again). The outcome of a
question (answered / uncertain / refused) is data, never an error.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from index import Document, FileEntry, load_file
from qa.engine import Engine
from qa.errors import QAError
from qa.types import Passage

log = logging.getLogger(__name__)

MAX_K = 20  # passages one search returns at most
MAX_READ_CHARS = 8_000  # characters one read_passage returns at most
MAX_PAGE_CHARS = 20_000  # characters one read_page returns at most
MAX_SOURCE_CHARS = 1_000  # a source name longer than this names nothing in the index
MAX_TURNS = 20  # conversation turns ask takes (the engine uses the last 20 anyway)
MAX_DOCUMENTS = 1_000  # documents one list_documents call returns (offset pages on)

Query = Annotated[str, Field(min_length=1, max_length=4_000, description="What to look for.")]
Question = Annotated[
    str, Field(min_length=1, max_length=4_000, description="The question, in plain words.")
]
Source = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_SOURCE_CHARS,
        description="The document's source, exactly as search or list_documents gives it.",
    ),
]
Offset = Annotated[int, Field(ge=0, le=2_000_000_000)]


def _failed(exc: QAError) -> ToolError:
    return ToolError(" ".join(str(exc).split()))


def passage_dict(p: Passage, rank: int) -> dict[str, Any]:
    """A ranked passage: where it is (source, title, page, the exact span) and its text."""
    return {"rank": rank, **p.where(), "score": round(p.score, 4), "text": p.text}


def search(engine: Engine, query: str, k: int = 5) -> dict[str, Any]:
    """The k passages that best match the query, best first."""
    try:
        passages = engine.retrieve(query, k)
    except QAError as exc:
        raise _failed(exc) from None
    return {"query": query, "passages": [passage_dict(p, i) for i, p in enumerate(passages, 1)]}


def ask(engine: Engine, question: str, history: list[dict] | None = None) -> dict[str, Any]:
    """The chat's answer to a question: text with [n] markers, status, citations."""
    turns = [{"role": t.get("role"), "content": t.get("content")} for t in history or []]
    if len(turns) > MAX_TURNS:
        turns = turns[-MAX_TURNS:]
    try:
        answer = engine.ask(question, turns)
    except QAError as exc:
        raise _failed(exc) from None
    data = answer.to_dict()
    data.pop("timings", None)  # per-stage timings mean nothing to an agent; latency_ms stays
    return data


def list_documents(engine: Engine, offset: int = 0) -> dict[str, Any]:
    """The indexed documents: source, title, chunks, pages, status."""
    try:
        docs = engine.documents()
    except QAError as exc:
        raise _failed(exc) from None
    shown = docs[offset : offset + MAX_DOCUMENTS]
    out: dict[str, Any] = {
        "total": len(docs),
        "documents": [
            {
                "source": d.source,
                "title": d.title,
                "chunks": d.chunks,
                "pages": d.pages,
                "status": d.status,
            }
            for d in shown
        ],
    }
    if offset + len(shown) < len(docs):
        out["next_offset"] = offset + len(shown)
    return out


def _text(engine: Engine, source: str):
    try:
        doc = engine.document(source)
    except QAError as exc:
        raise _failed(exc) from None
    if doc is None:
        raise ToolError(
            f"No indexed document is called {source[:200]!r}; list_documents gives the sources."
        )
    return doc


def read_passage(engine: Engine, source: str, start: int, end: int | None = None) -> dict:
    """The document's text from character ``start`` to ``end`` (at most MAX_READ_CHARS)."""
    doc = _text(engine, source)
    length = len(doc.text)
    if start >= length:
        raise ToolError(
            f"start {start} is past the end of {source!r} ({length} characters); "
            f"give a start below {length}."
        )
    stop = start + MAX_READ_CHARS if end is None else end
    if stop <= start:
        raise ToolError(f"end ({end}) must be greater than start ({start}).")
    stop = min(stop, length, start + MAX_READ_CHARS)
    out = {
        "source": source,
        "title": doc.title,
        "start": start,
        "end": stop,
        "length": length,
        "text": doc.text[start:stop],
    }
    if stop < length:
        out["next_start"] = stop
    return out


def read_page(engine: Engine, source: str, page: int) -> dict:
    """The text of one page, with its span in the document.

    Exact where the indexed file can be read again (its reader gives where each page begins);
    else the passages the index holds for that page, which may bring a neighbouring page's
    lines where a passage runs over the page break (``exact`` says which).
    """
    doc = _text(engine, source)
    info = next((d for d in engine.documents() if d.source == source), None)
    pages = info.pages if info is not None else None
    if not pages:
        raise ToolError(
            f"{source!r} has no pages (only PDFs, slides, scans and paged Word files do); "
            "read it with read_passage instead."
        )
    if page > pages:
        raise ToolError(f"{source!r} has {pages} pages; give a page from 1 to {pages}.")
    chunks = engine.corpus.store.source_chunks(source)
    starts = page_starts(engine, source, chunks)
    if starts is not None and page <= len(starts):
        start = starts[page - 1]
        end = starts[page] if page < len(starts) else len(doc.text)
        exact = True
    else:
        on_page = [c for c in chunks if c.page is not None and c.page <= page <= c.page_end]
        if not on_page:
            raise ToolError(f"The index holds no text on page {page} of {source!r}.")
        start, end, exact = min(c.start for c in on_page), max(c.end for c in on_page), False
    text = doc.text[start:end]
    lead = len(text) - len(text.lstrip())
    start, end = start + lead, start + len(text.rstrip())
    cut = end - start > MAX_PAGE_CHARS
    end = min(end, start + MAX_PAGE_CHARS)
    out = {
        "source": source,
        "title": doc.title,
        "page": page,
        "pages": pages,
        "start": start,
        "end": end,
        "text": doc.text[start:end],
        "exact": exact,
    }
    if cut:
        out["next_start"] = end  # the rest through read_passage
    return out


_PAGE_STARTS: OrderedDict[tuple[int, str, str], tuple[int, ...] | None] = OrderedDict()
_PAGE_STARTS_KEPT = 64
_PAGE_LOCK = threading.Lock()
_NOT_REREAD = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}  # OCR again: far too slow for a read


def page_starts(engine: Engine, source: str, chunks) -> tuple[int, ...] | None:
    """Where each page of the indexed version begins, read again from its file (None when the
    file is not at hand, is another version, or is a picture that would need OCR again)."""
    suffix = Path(source).suffix.lower()
    if suffix in _NOT_REREAD or not chunks:
        return None
    key = (id(engine.corpus), source, chunks[0].id)  # chunk ids change with the file's content
    with _PAGE_LOCK:
        if key in _PAGE_STARTS:
            return _PAGE_STARTS[key]
    starts = None
    data = engine.original(source)
    if data is not None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"document{suffix}"
            path.write_bytes(data)
            doc = load_file(FileEntry(path, source, "", len(data)), max_bytes=len(data) + 1)
        # The version indexed only: every stored passage must be where the reader puts it.
        if (
            isinstance(doc, Document)
            and doc.pages
            and all(doc.text[c.start : c.end] == c.text for c in chunks)
        ):
            starts = doc.pages
    with _PAGE_LOCK:
        _PAGE_STARTS[key] = starts
        while len(_PAGE_STARTS) > _PAGE_STARTS_KEPT:
            _PAGE_STARTS.popitem(last=False)
    return starts
