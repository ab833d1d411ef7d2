"""An opened index: the Chroma store, its keyword side kept in step, and the embedder that fills it.

One Corpus per (store, collection, embedding model) serves every question and every per-call
option; it follows the collection when another process (or another machine) ingests. It owns
its ingests too: they write through its open store (``Corpus.ingest``), and it follows at once.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np

from index.config import IngestConfig, StoreConfig
from index.embed import Embedder
from index.exact import EXACT_UP_TO, Vectors
from index.ingest import ingest
from index.keyword import KeywordIndex
from index.store import Store, StoredChunk, open_store
from index.types import DocumentInfo, DocumentText, IngestReport

log = logging.getLogger(__name__)


class Corpus:
    """The store, the keyword index matching its generation, and the query embedder."""

    def __init__(self, config: StoreConfig, embedder: Embedder, create: bool = False):
        self.config = config
        self.embedder = embedder
        self.store: Store = open_store(config, embedder.name, embedder.dim, create=create)
        self.store.check()  # a vector index that disagrees with its records fails here, clearly
        self._keyword = KeywordIndex.for_store(self.store)
        self._lock = threading.Lock()
        self._vectors: tuple[KeywordIndex, Vectors] | None = None  # of one keyword snapshot
        self._vectors_lock = threading.Lock()

    @property
    def keyword(self) -> KeywordIndex:
        """The keyword index as of now (a consistent snapshot, even if a refresh swaps it)."""
        return self._keyword

    @property
    def where(self) -> str:
        """The store's location in words."""
        return self.store.where

    @property
    def identity(self) -> str:
        """Names this store among all: the store folder's full path, or the server's URL."""
        return self.store.backend.identity

    @property
    def mirrors_folder(self) -> bool:
        """Whether the app's ingest removes documents that left its folder (embedded: yes;
        replicas over a Chroma server: no, only a removal removes)."""
        return self.store.backend.mirrors_folder

    def ingest(self, config: IngestConfig, paths=None, **options) -> IngestReport:
        """Index documents through this corpus' open store (``index.ingest.ingest``'s options),
        then follow: the next question sees them."""
        report = ingest(config, paths, store=self.store, embedder=self.embedder, **options)
        self.refresh(force=True)
        return report

    def __len__(self) -> int:
        return len(self._keyword)

    def refresh(self, force: bool = False) -> None:
        """Follow the collection if it changed since the keyword index was built.

        Without ``force`` a question never waits for another process that is updating the
        keyword files: it is answered from the index as it was, and the next one catches up.
        """
        self.store.refresh_generation()
        current = self._keyword
        if force or not current.matches(self.store):
            with self._lock:
                if self._keyword is current:
                    self._keyword = KeywordIndex.for_store(
                        self.store, rebuild=False, current=current, wait=force
                    )

    def embed_query(self, text: str) -> np.ndarray:
        """The unit vector of a question."""
        return self.embedder.embed_query(text)

    def nearest(
        self,
        vector: np.ndarray,
        n: int,
        sources: frozenset[str] | None = None,
        keyword: KeywordIndex | None = None,
    ) -> list[StoredChunk]:
        """The n chunks nearest ``vector`` by cosine, best first (of ``sources`` only, if given).

        Exact over the keyword snapshot's chunks up to ``index.exact.EXACT_UP_TO`` of them (the
        same answer in every process), Chroma's approximate index above. A chunk removed from
        the store since the snapshot is still returned: the caller checks against the store
        (``qa.retrieval.hybrid.Pool.complete``).
        """
        keyword = keyword or self.keyword
        if len(keyword) > EXACT_UP_TO:
            return self.store.query(vector, n, sources)
        allowed = None if sources is None else keyword.positions_of(sources)
        hits = self._vectors_of(keyword).nearest(vector, n, allowed)
        rows = keyword.rows([pos for _, pos, _ in hits])
        return [replace(rows[pos], score=cos) for _, pos, cos in hits if pos in rows]

    def warm(self) -> None:
        """Read the vectors exact search needs now, not at the first question."""
        keyword = self.keyword
        if len(keyword) <= EXACT_UP_TO:
            self._vectors_of(keyword)

    def _vectors_of(self, keyword: KeywordIndex) -> Vectors:
        """The vectors of a keyword snapshot's chunks, read from the store once per snapshot."""
        held = self._vectors
        if held is not None and held[0] is keyword:
            return held[1]
        with self._vectors_lock:
            if self._vectors is None or self._vectors[0] is not keyword:
                ids, positions = keyword.live()
                vectors = Vectors.build(ids, positions, self.store.vectors(ids))
                log.debug("%d vectors of %s read for exact search", len(vectors), self.where)
                self._vectors = (keyword, vectors)
            return self._vectors[1]

    def frequencies(self, terms) -> dict[str, int]:
        """How many chunks hold each (stemmed) term the keyword index knows."""
        return self.keyword.frequencies(terms)

    def weights(self, text: str) -> dict[str, float]:
        """The text's words with their IDF in this corpus."""
        return self._keyword.weights(text)

    def documents(self) -> list[DocumentInfo]:
        """The indexed files: title, chunk count, pages and whether the stored version is whole."""
        out = []
        for src, st in sorted(self.store.file_states().items()):
            chunks = sum(st.hashes.values())
            whole = len(st.hashes) == 1 and chunks == st.n_chunks
            out.append(
                DocumentInfo(src, st.title, chunks, st.pages, "indexed" if whole else "partial")
            )
        return out

    def document(self, source: str) -> DocumentText | None:
        """A document's text rebuilt from its stored chunks (None when it is not indexed).

        Chunks hold every non-blank character of the document at its exact offset; what lies
        between two chunks is blank, shown as line breaks so the offsets stay exact. The text
        lives in Chroma, so every replica over one Chroma server can show it.
        """
        chunks = self.store.source_chunks(source)
        if not chunks:
            return None
        text: list[str] = []
        end = 0
        for c in chunks:
            if c.start > end:
                text.append("\n" * (c.start - end))
            if c.end > end:
                text.append(c.text[max(0, end - c.start) :])
                end = c.end
        return DocumentText(source, chunks[0].title, "".join(text))

    def original(self, source: str, local: Path | None = None) -> bytes | None:
        """The bytes of the indexed version of a document's file, or None if none is at hand.

        ``local``: this machine's copy (the documents folder), used when it is the version
        indexed (or when nothing else is kept); a Chroma server keeps every indexed file, so
        another replica's upload is served from there.
        """
        state = self.store.file_states([source]).get(source)
        data = _read(local)
        if state is None:
            return None
        if data is not None and hashlib.sha256(data).hexdigest() in state.hashes:
            return data
        files = self.store.files  # None: no copies kept, the folder's file is all there is
        for file_hash in state.hashes if files is not None else ():
            kept = files.get(source, file_hash)
            if kept is not None:
                return kept
        return data

    def remove(self, source: str) -> None:
        """Drop a document from the index (the file itself is left alone).

        The removal is remembered, so that the file (still in the documents folder, or a
        replica's own copy) does not add it back at the next start: only naming it, or a newer
        file, does (``index.ingest``). A copy of the file kept for replicas is dropped.
        """
        with self.store.write_lock():
            state = self.store.file_states([source]).get(source)
            self.store.delete_source(source)
            if state is not None:
                newest = max(state.hashes, key=state.hashes.__getitem__)
                self.store.ledger.add_tombstones({source: newest})
            self.store.ledger.unmark_added([source])
            files = self.store.files
            if files is not None:
                files.delete(source)
            self.store.bump_generation([source])
        self.refresh(force=True)


def _read(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None
