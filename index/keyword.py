"""The keyword (BM25) side of the index, kept in step with the Chroma collection."""

from __future__ import annotations

import json
import math
import logging
import re
import shutil
import threading
from collections import Counter
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.store import Store, StoredChunk
from qa.settings import Settings

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then "
    "there these they this to was will with what which who whom when where why how does did do "
    "has have had been were from its than can could would should may might".split()
)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed word tokens without stop words."""
    words = [w for w in _TOKEN.findall(text.lower()) if w not in STOPWORDS]
    return _stemmer().stemWords(words)


class KeywordIndex:
    """BM25 over the stored chunks, persisted beside the store and tagged with its generation."""

    def __init__(self, chunks: list[StoredChunk], generation: int):
        import bm25s

        # bm25s forces its logger to DEBUG on import; let the application's config decide.
        logging.getLogger("bm25s").setLevel(logging.NOTSET)
        self.chunks = chunks
        self.generation = generation
        self._bm25 = bm25s.BM25(k1=1.2, b=0.75)
        self._lock = threading.Lock()
        self.idf: dict[str, float] = {}
        if chunks:
            corpus = [tokenize(f"{c.title}\n{c.text}") for c in chunks]
            self._bm25.index(corpus, show_progress=False)
            df: Counter[str] = Counter()
            for toks in corpus:
                df.update(set(toks))
            n = len(corpus)
            self.idf = {t: math.log((n - f + 0.5) / (f + 0.5) + 1.0) for t, f in df.items()}

    def __len__(self) -> int:
        return len(self.chunks)

    def search(self, query: str, k: int) -> list[StoredChunk]:
        """The k best chunks for the query's words, best first (score = BM25)."""
        tokens = tokenize(query)
        if not self.chunks or not tokens:
            return []
        vocab = self._bm25.vocab_dict
        ids = [vocab[t] for t in tokens if t in vocab]
        if not ids:
            return []
        with self._lock:  # bm25s keeps scratch state between calls
            scores = self._bm25.get_scores(tokens)
        k = min(k, len(self.chunks))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [_with_score(self.chunks[i], float(scores[i])) for i in top if scores[i] > 0]

    # ---- persistence

    @staticmethod
    def _dir(settings: Settings) -> Path:
        return Path(settings.store_dir) / "keyword" / settings.collection

    def save(self, settings: Settings) -> None:
        """Write the chunk list atomically (the BM25 matrix is rebuilt from it on load)."""
        folder = self._dir(settings)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / "chunks.json.tmp"
        tmp.write_text(
            json.dumps({"generation": self.generation, "chunks": [asdict(c) for c in self.chunks]})
        )
        tmp.replace(folder / "chunks.json")

    @classmethod
    def load(cls, settings: Settings) -> KeywordIndex | None:
        """The saved index, or None if there is none or it cannot be read."""
        path = cls._dir(settings) / "chunks.json"
        try:
            data = json.loads(path.read_text())
            return cls([StoredChunk(**c) for c in data["chunks"]], int(data["generation"]))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            log.warning("keyword index at %s is unreadable; rebuilding it", path)
            return None

    @classmethod
    def for_store(cls, settings: Settings, store: Store, rebuild: bool = False) -> KeywordIndex:
        """The keyword index matching the store's current generation, rebuilt if stale."""
        generation = store.generation
        if not rebuild:
            saved = cls.load(settings)
            if saved is not None and saved.generation == generation and len(saved) == store.count():
                return saved
        index = cls(store.all_chunks(), generation)
        try:
            index.save(settings)
        except OSError as exc:  # a read-only store still answers; it just rebuilds next time
            log.warning("cannot save keyword index: %s", exc)
        return index

    @classmethod
    def remove(cls, settings: Settings) -> None:
        """Delete the saved keyword index."""
        shutil.rmtree(cls._dir(settings), ignore_errors=True)


def _with_score(c: StoredChunk, score: float) -> StoredChunk:
    return StoredChunk(c.id, c.source, c.start, c.end, c.text, c.title, score)
