"""Records as the store keeps them: a chunk read back, what is stored of a file, Chroma metadata."""

from __future__ import annotations

from dataclasses import dataclass

from index.types import Chunk


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as read back from the store, with a retrieval score where one applies."""

    id: str
    source: str
    start: int
    end: int
    text: str
    title: str = ""
    score: float = 0.0
    page: int | None = None
    page_end: int | None = None


@dataclass(frozen=True)
class FileState:
    """What the store holds for one source file."""

    hashes: dict[str, int]  # file hash -> chunks present
    n_chunks: int  # chunks the newest ingest of that file wrote
    title: str = ""
    pages: int | None = None  # the last page a chunk reaches, for a paginated document

    def complete(self, file_hash: str) -> bool:
        """True when exactly the chunks of this version, and all of them, are stored."""
        return set(self.hashes) == {file_hash} and self.hashes[file_hash] == self.n_chunks


def chunk_metadata(c: Chunk) -> dict:
    """The Chroma metadata of a chunk (Chroma holds no None, so pages are left out when absent)."""
    meta = {
        "source": c.source,
        "start": c.start,
        "end": c.end,
        "file_hash": c.file_hash,
        "ordinal": c.ordinal,
        "n_chunks": c.n_chunks,
        "title": c.title[:500],
    }
    if c.page is not None:
        meta["page"] = c.page
        meta["page_end"] = c.page_end if c.page_end is not None else c.page
    return meta


def stored_chunk(cid: str, doc: str | None, meta: dict, score: float = 0.0) -> StoredChunk:
    """A StoredChunk from what Chroma returns for one record."""
    page = meta.get("page")
    return StoredChunk(
        id=cid,
        source=meta["source"],
        start=int(meta["start"]),
        end=int(meta["end"]),
        text=doc or "",
        title=meta.get("title", ""),
        score=score,
        page=int(page) if page is not None else None,
        page_end=int(meta.get("page_end", page)) if page is not None else None,
    )
