"""Hybrid retrieval: dense (Chroma) and keyword (BM25) candidates, fused by normalised scores.

A search gathers a ``Pool`` of candidates (the dense top n and the BM25 top n, each scored on
both sides), then ``rank`` fuses and orders them and follows title links one hop (and, with
``QA_FOCUS``, one hop inside a document the question names: ``_focus``). The two steps
are apart so that eval/tune_retrieval.py can gather once and rank under many constants, through
the very code the product runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import numpy as np

from index import Corpus, KeywordIndex, StoredChunk
from index.text import tokenize, weighted_share
from qa.settings import Settings
from qa.types import Passage

log = logging.getLogger(__name__)

LINK_FROM = 3  # the best few passages whose title mentions pull in the named documents
FOCUS_FROM = 10  # candidates per side inside a named document


@dataclass(frozen=True)
class Fusion:
    """The retrieval constants a ranking depends on (from Settings, or a tuning grid)."""

    candidates: int = 10
    dense_weight: float = 0.5
    link_weight: float = 0.15
    method: str = "minmax"  # a key of FUSIONS
    focus: bool = False  # a named document's best other passage placed second (``_focus``)

    @classmethod
    def of(cls, settings: Settings) -> Fusion:
        """The constants in force for these settings."""
        return cls(
            settings.candidates,
            settings.dense_weight,
            settings.link_weight,
            settings.fusion,
            settings.focus,
        )


@dataclass
class Pool:
    """One question's candidates: chunks, cosines and BM25 scores; linked documents on demand."""

    question: str
    vector: np.ndarray
    keyword: KeywordIndex
    corpus: Corpus
    bm25: np.ndarray | None
    dense_ids: list[str]  # best first, as the vector store returned them
    keyword_ids: list[str]  # best first, positive BM25 only
    chunks: dict[str, StoredChunk] = field(default_factory=dict)
    cos: dict[str, float] = field(default_factory=dict)
    sources: frozenset[str] | None = None  # the documents asked of (None: all)
    _links: dict[str, list[StoredChunk]] = field(default_factory=dict)
    _trust: float | None = None

    def complete(self) -> None:
        """Every candidate's cosine, as the store holds its vector, so both sides are whole.

        A candidate the store no longer holds was removed since the keyword snapshot was taken
        (an ingest in progress, here or in another process): it is dropped, so a deleted
        document is never quoted while the keyword side (and the exact dense side, read with
        it: ``Corpus.nearest``) catches up.
        """
        missing = [cid for cid in self.chunks if cid not in self.cos]
        if missing:
            self.cos.update(self.corpus.store.cosine(missing, self.vector))
            gone = {cid for cid in missing if cid not in self.cos}
            if gone:
                log.debug("%d candidates removed from the store since", len(gone))
                for cid in gone:
                    del self.chunks[cid]
                self.keyword_ids = [cid for cid in self.keyword_ids if cid not in gone]
                self.dense_ids = [cid for cid in self.dense_ids if cid not in gone]

    def linked(self, cid: str) -> list[StoredChunk]:
        """The first chunks of other documents whose title this candidate's text names."""
        if cid not in self._links:
            c = self.chunks[cid]
            linked = [self.keyword.chunks[p] for p in self.keyword.linked(c.text, c.source)]
            self._links[cid] = [
                t for t in linked if self.sources is None or t.source in self.sources
            ]
        return self._links[cid]

    def sides(self, ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Dense (cosine) and keyword (BM25) scores of the given candidates."""
        d = np.array([self.cos.get(i, 0.0) for i in ids], dtype=np.float64)
        if self.bm25 is None:
            return d, np.zeros(len(ids))
        pos = self.keyword.position
        return d, np.array([float(self.bm25[pos[i]]) if i in pos else 0.0 for i in ids])


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
        sources: frozenset[str] | None = None,
    ) -> list[Passage]:
        """The k best passages for the question, best first; of ``sources`` only, if given
        (the dense side filtered by Chroma, the keyword side scoring only their chunks)."""
        s = self.settings
        k = k or s.top_k
        mode = mode or s.retrieval
        keyword = self.corpus.keyword  # one consistent snapshot, even if a refresh swaps it
        if mode == "bm25":
            hits = keyword.search(question, k, sources)
            held = self.corpus.store.get([c.id for c in hits])  # as in ``Pool.complete``
            hits = [c for c in hits if c.id in held]
            return [_passage(c, i, c.score, keyword=c.score) for i, c in enumerate(hits)]
        vector = self.corpus.embed_query(question) if vector is None else vector
        if mode == "dense":
            dense = self.corpus.nearest(vector, k, sources, keyword)
            held = self.corpus.store.cosine([c.id for c in dense], vector)  # as ``Pool.complete``
            dense = [c for c in dense if c.id in held]
            return [_passage(c, i, held[c.id], dense=held[c.id]) for i, c in enumerate(dense)]
        fusion = Fusion.of(s)
        pool = self.pool(question, vector, max(fusion.candidates, k), keyword, sources)
        return rank(pool, fusion, k)

    def pool(
        self,
        question: str,
        vector: np.ndarray,
        n: int,
        keyword: KeywordIndex | None = None,
        sources: frozenset[str] | None = None,
    ) -> Pool:
        """The dense top n and the BM25 top n, each scored on both sides."""
        return gather(self.corpus, keyword or self.corpus.keyword, question, vector, n, sources)


def gather(
    corpus: Corpus,
    keyword: KeywordIndex,
    question: str,
    vector: np.ndarray,
    n: int,
    sources: frozenset[str] | None = None,
) -> Pool:
    """The dense top n (of ``vector``) and the BM25 top n (of ``question``'s words), each scored
    on both sides; of ``sources`` only, if given."""
    dense = corpus.nearest(vector, n, sources, keyword)
    bm25 = keyword.scores(question, sources)
    top = keyword.top(bm25, n)
    pool = Pool(
        question, vector, keyword, corpus, bm25, [c.id for c in dense],
        [c.id for c in top], sources=sources,
    )  # fmt: skip
    pool.chunks.update({c.id: c for c in top})
    pool.chunks.update({c.id: c for c in dense})
    pool.complete()  # every cosine as the store holds the vector; removed chunks dropped
    return pool


def rank(pool: Pool, fusion: Fusion, k: int) -> list[Passage]:
    """The pool's best k under these constants: fused scores, then one hop of title links."""
    n = max(fusion.candidates, k)
    ids = list(dict.fromkeys(pool.keyword_ids[:n] + pool.dense_ids[:n]))
    d, b = pool.sides(ids)
    fused = FUSIONS[fusion.method](pool, d, b, fusion.dense_weight)
    bonus: dict[str, float] = {}
    if fusion.link_weight > 0 and pool.keyword.has_links:
        for j in np.argsort(-fused, kind="stable")[:LINK_FROM]:
            for target in pool.linked(ids[j]):
                pool.chunks.setdefault(target.id, target)
                bonus[target.id] = max(bonus.get(target.id, 0.0), fusion.link_weight * fused[j])
        known = set(ids)
        new = [t for t in bonus if t not in known]
        if new:
            pool.complete()  # drops a linked chunk the store no longer holds
            ids += [t for t in new if t in pool.chunks]
            d, b = pool.sides(ids)
            fused = FUSIONS[fusion.method](pool, d, b, fusion.dense_weight)
        fused = fused + np.array([bonus.get(i, 0.0) for i in ids])
    order = np.argsort(-fused, kind="stable")[:k]
    out = [
        _passage(pool.chunks[ids[j]], r, float(fused[j]), dense=float(d[j]), keyword=float(b[j]))
        for r, j in enumerate(order)
    ]
    if fusion.focus and len(out) > 1:
        out = _focus(pool, out, fusion, k)
    return out


def _focus(pool: Pool, ranked: list[Passage], fusion: Fusion, k: int) -> list[Passage]:
    """One hop inside a named document.

    A question that names a document ("When does the Supply Agreement between MediWound and
    Challenge Bioproducts expire?") matches that document's opening best: the title and the
    parties are there, the answer ("a term of five years") is further in. When the best passage
    opens a document and the question has words that opening lacks, the document's passage that
    best matches those words (and the question's meaning) is placed second, level with the
    opening: the reader's reading decides which of the two leads (without the reader, the
    opening).
    """
    top = ranked[0]
    if top.start != 0:
        return ranked
    held = set(tokenize(top.text))
    rest = [w for w in tokenize(pool.question) if w not in held]
    if not rest:
        return ranked
    inner = gather(pool.corpus, pool.keyword, " ".join(rest), pool.vector, FOCUS_FROM,
                   frozenset([top.source]))  # fmt: skip
    if not inner.keyword_ids:  # none of those words in the document: nothing to look for
        return ranked
    plain = Fusion(fusion.candidates, fusion.dense_weight, 0.0, fusion.method, focus=False)
    best = next((p for p in rank(inner, plain, 2) if p.id != top.id), None)
    if best is None:
        return ranked
    kept = [p for p in ranked if p.id != best.id]
    merged = [top, replace(best, score=top.score), *kept[1:]]
    return [replace(p, rank=r) for r, p in enumerate(merged[:k])]


def fuse_scores(dense: np.ndarray, keyword: np.ndarray, dense_weight: float) -> np.ndarray:
    """Weighted sum of min-max-normalised scores (measured above RRF on both shared sets)."""
    return dense_weight * _minmax(dense) + (1 - dense_weight) * _minmax(keyword)


def _zscore(x: np.ndarray) -> np.ndarray:
    sd = float(x.std()) if x.size else 0.0
    return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)


def keyword_trust(pool: Pool) -> float:
    """How much of the question's IDF weight the best keyword candidate holds (0-1)."""
    if pool._trust is None:
        best = pool.chunks[pool.keyword_ids[0]].text if pool.keyword_ids else ""
        pool._trust = 0.0
        if best:
            pool._trust = weighted_share(pool.keyword.weights(pool.question), set(tokenize(best)))
    return pool._trust


def _fuse_minmax(pool: Pool, d: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    return fuse_scores(d, b, w)


def _fuse_zscore(pool: Pool, d: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    return w * _zscore(d) + (1 - w) * _zscore(b)


def _fuse_adaptive(pool: Pool, d: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    # The keyword side counts as much as its best match covers the question's rare words: a
    # question worded like its passage leans on BM25, a paraphrase on the dense side.
    return w * _minmax(d) + (1 - w) * keyword_trust(pool) * _minmax(b)


FUSIONS = {"minmax": _fuse_minmax, "zscore": _fuse_zscore, "adaptive": _fuse_adaptive}


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
