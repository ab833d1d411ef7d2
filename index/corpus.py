"""An opened index: the Chroma store, its keyword side kept in step, and the embedder that fills it.

One Corpus per (store, collection, embedding model) serves every question and every per-call
option; it follows the collection when another process (or this one) ingests.
"""

from __future__ import annotations

import threading

import numpy as np

from index.config import StoreConfig
from index.embed import Embedder
from index.keyword import KeywordIndex
from index.store import Store, open_store
from index.types import DocumentInfo, DocumentText


class Corpus:
    """The store, the keyword index matching its generation, and the query embedder."""

    def __init__(self, config: StoreConfig, embedder: Embedder, create: bool = False):
        self.config = config
        self.embedder = embedder
        self.store: Store = open_store(config, embedder.name, embedder.dim, create=create)
        self._keyword = KeywordIndex.for_store(self.store)
        self._lock = threading.Lock()

    @property
    def keyword(self) -> KeywordIndex:
        """The keyword index as of now (a consistent snapshot, even if a refresh swaps it)."""
        return self._keyword

    @property
    def where(self) -> str:
        """The store's location in words."""
        return self.store.where

    def __len__(self) -> int:
        return len(self._keyword)

    def refresh(self, force: bool = False) -> None:
        """Reload the keyword side if the collection changed since it was built."""
        generation = self.store.refresh_generation()
        if force or generation != self._keyword.generation:
            with self._lock:
                self._keyword = KeywordIndex.for_store(self.store)

    def embed_query(self, text: str) -> np.ndarray:
        """The unit vector of a question."""
        return self.embedder.embed_query(text)

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
        between two chunks is blank, shown as line breaks so the offsets stay exact.
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

    def remove(self, source: str) -> None:
        """Drop a document's chunks from the index (the file itself is left alone)."""
        with self.store.write_lock():
            self.store.delete_source(source)
            self.store.bump_generation()
        self.refresh(force=True)
