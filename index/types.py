"""Plain records passed between the indexing stages."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Document:
    """A loaded document: its path relative to the documents folder and its full text."""

    source: str
    text: str
    file_hash: str
    title: str = ""
    # Where each page begins in ``text`` (page n starts at pages[n-1]); () when not paginated.
    pages: tuple[int, ...] = ()
    # What the reader left out and why, one line each (scanned pages without the OCR extra).
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skipped:
    """A file that could not be indexed and why."""

    source: str
    reason: str


@dataclass(frozen=True)
class Chunk:
    """A span of a document: ``document.text[start:end] == text``."""

    id: str
    source: str
    start: int
    end: int
    text: str
    file_hash: str
    ordinal: int
    n_chunks: int
    title: str = ""
    page: int | None = None  # first page (1-based) of a paginated document
    page_end: int | None = None  # last page the chunk reaches


@dataclass(frozen=True)
class DocumentInfo:
    """One indexed document as the store knows it."""

    source: str
    title: str
    chunks: int
    pages: int | None  # page count of a paginated document (the last page any chunk reaches)
    status: str  # "indexed", or "partial" while (or after an interrupted) ingest writes it


@dataclass(frozen=True)
class DocumentText:
    """The text of an indexed document, for showing a cited passage in its place.

    Offsets match the stored chunks: ``text[chunk.start:chunk.end] == chunk.text``.
    """

    source: str
    title: str
    text: str
    pages: tuple[int, ...] = ()  # where each page begins, when known


@dataclass(frozen=True)
class IngestReport:
    """What an ingest run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    chunks_embedded: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # what else the user should know, one a line

    def summary(self) -> str:
        """A short human-readable report."""
        lines = [
            *self.notes,
            f"added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)}, "
            f"unchanged {self.unchanged}, skipped {len(self.skipped)} files; "
            f"{self.chunks_embedded} chunks embedded, {self.chunks_total} in the index; "
            f"{self.seconds:.1f} s",
        ]
        lines += [f"  skipped {s.source}: {s.reason}" for s in self.skipped]
        lines += [f"  note {n}" for n in self.notes]
        return "\n".join(lines)
