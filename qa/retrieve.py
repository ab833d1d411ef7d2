"""Hybrid retrieval: dense (Chroma) and keyword (BM25) candidates, fused by normalised scores."""

from __future__ import annotations

import logging

import numpy as np

from index.corpus import Corpus
from index.keyword import KeywordIndex
from index.store import StoredChunk
from qa.settings import Settings
from qa.types import Passage

log = logging.getLogger(__name__)

LINK_FROM = 3  # the best few passages whose title mentions pull in the named documents


class Retriever:
    """Finds the passages for a question in a corpus, with the retrieval settings of one engine."""

    def __init__(self, settings: Settings, corpus: Corpus):
        self.settings = settings
        self.corpus = corpus

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
        keyword = self.corpus.keyword  # one consistent snapshot, even if a refresh swaps it
        if mode == "bm25":
            hits = keyword.search(question, k)
            return [_passage(c, i, c.score, keyword=c.score) for i, c in enumerate(hits)]
        vector = self.corpus.embed_query(question) if vector is None else vector
        dense = self.corpus.store.query(vector, n if mode == "hybrid" else k)
        if mode == "dense":
            return [_passage(c, i, c.score, dense=c.score) for i, c in enumerate(dense)]
        return self._fuse(keyword, question, vector, dense, k)

    def _fuse(
        self,
        keyword: KeywordIndex,
        question: str,
        vector: np.ndarray,
        dense: list[StoredChunk],
        k: int,
    ) -> list[Passage]:
        """Both sides' candidates, scored on both sides, fused; then one hop of title links."""
        s = self.settings
        bm25 = keyword.scores(question)
        chunks = {c.id: c for c in keyword.top(bm25, max(s.candidates, k))}
        chunks.update({c.id: c for c in dense})
        cos = {c.id: c.score for c in dense}
        self._complete(chunks, cos, vector)
        ids = list(chunks)
        d, b = self._sides(keyword, ids, cos, bm25)
        fused = fuse_scores(d, b, s.dense_weight)
        bonus: dict[str, float] = {}
        if s.link_weight > 0 and keyword.has_links:
            for j in np.argsort(-fused, kind="stable")[:LINK_FROM]:
                c = chunks[ids[j]]
                for pos in keyword.linked(c.text, c.source):
                    target = keyword.chunks[pos]
                    chunks.setdefault(target.id, target)
                    bonus[target.id] = max(bonus.get(target.id, 0.0), s.link_weight * fused[j])
            if len(chunks) > len(ids):
                self._complete(chunks, cos, vector)
                ids = list(chunks)
                d, b = self._sides(keyword, ids, cos, bm25)
                fused = fuse_scores(d, b, s.dense_weight)
            fused = fused + np.array([bonus.get(i, 0.0) for i in ids])
        order = np.argsort(-fused, kind="stable")[:k]
        return [
            _passage(chunks[ids[j]], rank, float(fused[j]), dense=float(d[j]), keyword=float(b[j]))
            for rank, j in enumerate(order)
        ]

    def _complete(self, chunks: dict[str, StoredChunk], cos: dict[str, float], vector) -> None:
        """Exact cosine for candidates the dense side did not return, so both sides are whole."""
        missing = [cid for cid in chunks if cid not in cos]
        if missing:
            cos.update(self.corpus.store.cosine(missing, vector))

    @staticmethod
    def _sides(keyword: KeywordIndex, ids: list[str], cos: dict[str, float], bm25):
        d = np.array([cos.get(i, 0.0) for i in ids], dtype=np.float64)
        if bm25 is None:
            return d, np.zeros(len(ids))
        pos = keyword.position
        b = np.array([float(bm25[pos[i]]) if i in pos else 0.0 for i in ids])
        return d, b


def fuse_scores(dense: np.ndarray, keyword: np.ndarray, dense_weight: float) -> np.ndarray:
    """Weighted sum of min-max-normalised scores (measured above RRF on both shared sets)."""
    return dense_weight * _minmax(dense) + (1 - dense_weight) * _minmax(keyword)


def _minmax(x: np.ndarray) -> np.ndarray:
    if x.size == 0:
        return x
    lo, hi = float(x.min()), float(x.max())
    return (x - lo) / (hi - lo) if hi > lo else np.ones_like(x) * (1.0 if hi > 0 else 0.0)


def _passage(
    c: StoredChunk,
    rank: int,
    score: float,
    dense: float | None = None,
    keyword: float | None = None,
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
        page=c.page,
        page_end=c.page_end,
    )
