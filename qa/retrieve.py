"""Hybrid retrieval: dense (Chroma) and keyword (BM25) candidates, fused by normalised scores."""

from __future__ import annotations

import logging
import threading

import numpy as np

from index.embed import Embedder
from index.keyword import KeywordIndex
from index.store import Store, StoredChunk
from qa.settings import Settings
from qa.types import Passage

log = logging.getLogger(__name__)


class Retriever:
    """Finds the passages for a question; follows the store when an ingest changes it."""

    def __init__(self, settings: Settings, store: Store, keyword: KeywordIndex, embedder: Embedder):
        self.settings = settings
        self.store = store
        self.keyword = keyword
        self.embedder = embedder
        self._lock = threading.Lock()

    def refresh(self, force: bool = False) -> None:
        """Reload the keyword side if the collection changed since it was built."""
        generation = self.store.refresh_generation()
        if force or generation != self.keyword.generation:
            with self._lock:
                self.keyword = KeywordIndex.for_store(self.settings, self.store)

    def __len__(self) -> int:
        return len(self.keyword)

    def embed_query(self, question: str) -> np.ndarray:
        """The question's vector."""
        return self.embedder.embed([question])[0]

    def search(
        self,
        question: str,
        k: int | None = None,
        mode: str | None = None,
        vector: np.ndarray | None = None,
    ) -> list[Passage]:
        """The k best passages for the question, best first."""
        s = self.settings
        k = k or s.top_k
        mode = mode or s.retrieval
        n = max(s.candidates, k)
        if mode == "bm25":
            hits = self.keyword.search(question, k)
            return [_passage(c, i, c.score, keyword=c.score) for i, c in enumerate(hits)]
        vector = self.embed_query(question) if vector is None else vector
        dense = self.store.query(vector, n if mode == "hybrid" else k)
        if mode == "dense":
            return [_passage(c, i, c.score, dense=c.score) for i, c in enumerate(dense)]
        return self._fuse(question, vector, dense, self.keyword.search(question, n), k)

    def _fuse(
        self,
        question: str,
        vector: np.ndarray,
        dense: list[StoredChunk],
        keyword: list[StoredChunk],
        k: int,
    ) -> list[Passage]:
        """Combine both sides with min-max-normalised scores, weighted by ``dense_weight``."""
        chunks = {c.id: c for c in keyword} | {c.id: c for c in dense}
        dense_score = {c.id: c.score for c in dense}
        missing = [cid for cid in chunks if cid not in dense_score]
        if missing:  # exact cosine for keyword-only candidates, so both sides are complete
            dense_score.update(self.store.cosine(missing, vector))
        kw_score = {c.id: c.score for c in keyword}
        ids = list(chunks)
        d = np.array([dense_score.get(i, 0.0) for i in ids])
        b = np.array([kw_score.get(i, 0.0) for i in ids])
        w = self.settings.dense_weight
        fused = w * _minmax(d) + (1 - w) * _minmax(b)
        order = np.argsort(-fused, kind="stable")[:k]
        return [
            _passage(chunks[ids[j]], rank, float(fused[j]), dense=float(d[j]), keyword=float(b[j]))
            for rank, j in enumerate(order)
        ]


def _minmax(x: np.ndarray) -> np.ndarray:
    if x.size == 0:
        return x
    lo, hi = float(x.min()), float(x.max())
    return (x - lo) / (hi - lo) if hi > lo else np.ones_like(x) * (1.0 if hi > 0 else 0.0)


def _passage(
    c: StoredChunk, rank: int, score: float, dense: float | None = None, keyword: float | None = None
) -> Passage:
    return Passage(
        id=c.id,
        source=c.source,
        start=c.start,
        end=c.end,
        text=c.text,
        score=score,
        rank=rank,
        title=c.title,
        dense=dense,
        keyword=keyword,
    )
