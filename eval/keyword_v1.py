"""The keyword index as it was before issue 16, kept only so eval/scale_bench.py can show before
and after: a JSON copy of every chunk beside the store, loaded whole, BM25 (bm25s) rebuilt in
memory from it at every load, rebuilt whole whenever the collection's generation changes.

It answers the same calls as ``index.keyword.KeywordIndex`` does for ``qa.retrieval.hybrid``.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections import Counter
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from index.keyword import title_key
from index.store import StoredChunk
from index.text import STOPWORDS, tokenize
from index.text import words as word_tokens

MAX_TITLE_WORDS = 10


class KeywordIndexV1:
    """BM25 over the stored chunks, all in memory."""

    def __init__(self, chunks: list[StoredChunk], generation: int):
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.NOTSET)
        self.chunks = chunks
        self.generation = generation
        self._bm25 = bm25s.BM25(k1=1.2, b=0.75)
        self._lock = threading.Lock()
        self.idf: dict[str, float] = {}
        self.unseen_idf = 1.0
        if chunks:
            corpus = [tokenize(f"{c.title}\n{c.text}") for c in chunks]
            self._bm25.index(corpus, show_progress=False)
            df: Counter[str] = Counter()
            for toks in corpus:
                df.update(set(toks))
            n = len(corpus)
            self.idf = {t: math.log((n - f + 0.5) / (f + 0.5) + 1.0) for t, f in df.items()}
            self.unseen_idf = math.log((n + 0.5) / 0.5 + 1.0)
        self.position = {c.id: i for i, c in enumerate(chunks)}
        self._links = _title_links(chunks)
        self.has_links = bool(self._links[0])

    def __len__(self) -> int:
        return len(self.chunks)

    def weights(self, text: str) -> dict[str, float]:
        """IDF of the text's words."""
        return {t: self.idf.get(t, self.unseen_idf) for t in set(tokenize(text))}

    def scores(self, query: str) -> np.ndarray | None:
        """BM25 of every chunk."""
        tokens = [t for t in tokenize(query) if t in self._bm25.vocab_dict] if self.chunks else []
        if not tokens:
            return None
        with self._lock:
            return self._bm25.get_scores(tokens)

    def top(self, scores: np.ndarray | None, k: int) -> list[StoredChunk]:
        """The k best chunks."""
        if scores is None or k < 1:
            return []
        k = min(k, len(self.chunks))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [replace(self.chunks[i], score=float(scores[i])) for i in top if scores[i] > 0]

    def search(self, query: str, k: int) -> list[StoredChunk]:
        """The k best chunks for the query."""
        return self.top(self.scores(query), k)

    def linked(self, text: str, source: str) -> list[int]:
        """Positions of first chunks of documents whose title the text names."""
        links, longest = self._links
        words = word_tokens(text)
        found: list[int] = []
        for i in range(len(words)):
            for n in range(1, min(longest, len(words) - i) + 1):
                hit = links.get(tuple(words[i : i + n]))
                if hit is not None and self.chunks[hit].source != source and hit not in found:
                    found.append(hit)
        return found

    def save(self, path: Path) -> None:
        """The JSON copy of every chunk."""
        path.write_text(
            json.dumps({"generation": self.generation, "chunks": [asdict(c) for c in self.chunks]})
        )

    @classmethod
    def load(cls, path: Path) -> KeywordIndexV1:
        """Read the JSON copy and rebuild BM25 from it."""
        data = json.loads(path.read_text())
        return cls([StoredChunk(**c) for c in data["chunks"]], int(data["generation"]))


def _title_links(chunks: list[StoredChunk]) -> tuple[dict[tuple[str, ...], int], int]:
    sources: dict[tuple[str, ...], set[str]] = {}
    first: dict[str, int] = {}
    for i, c in enumerate(chunks):
        if c.source not in first or c.start < chunks[first[c.source]].start:
            first[c.source] = i
        key = title_key(c.title)
        if key and len(" ".join(key)) >= 4 and any(w not in STOPWORDS for w in key):
            sources.setdefault(key, set()).add(c.source)
    links = {
        k: first[next(iter(s))]
        for k, s in sources.items()
        if len(s) == 1 and len(k) <= MAX_TITLE_WORDS
    }
    return links, max((len(k) for k in links), default=0)
