"""The keyword (BM25) side of the index, kept in step with the Chroma collection."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
import shutil
import threading
from collections import Counter
from dataclasses import asdict, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.config import StoreConfig
from index.store import Store, StoredChunk

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_PAREN_TAIL = re.compile(r"\s*\([^()]*\)\s*$")
MAX_TITLE_WORDS = 10  # longer "titles" are first lines of prose, not names
_STOP_TEXT = (
    "a an and are as at be but by for if in into is it no not of on or such that the their then "
    "there these they this to was will with what which who whom when where why how does did do "
    "has have had been were from its than can could would should may might"
)
STOPWORDS = frozenset(_STOP_TEXT.split())


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed word tokens without stop words."""
    words = [w for w in _TOKEN.findall(text.lower()) if w not in STOPWORDS]
    return _stemmer().stemWords(words)


def weighted_share(weights: dict[str, float], words: set[str] | frozenset[str]) -> float:
    """The share of the weighted words (see ``KeywordIndex.weights``) found among ``words``."""
    total = sum(weights.values())
    if not total:
        return 0.0
    return sum(w for t, w in weights.items() if t in words) / total


def coverage(weights: dict[str, float], text: str) -> float:
    """IDF-weighted share of the weighted words (e.g. a question's) that the text contains."""
    return weighted_share(weights, set(tokenize(text)))


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
        self.unseen_idf = 1.0
        if chunks:
            corpus = [tokenize(f"{c.title}\n{c.text}") for c in chunks]
            self._bm25.index(corpus, show_progress=False)
            df: Counter[str] = Counter()
            for toks in corpus:
                df.update(set(toks))
            n = len(corpus)
            self.idf = {t: math.log((n - f + 0.5) / (f + 0.5) + 1.0) for t, f in df.items()}
            # A word the corpus never uses is rarer than any it does.
            self.unseen_idf = math.log((n + 0.5) / 0.5 + 1.0)
        self.position = {c.id: i for i, c in enumerate(chunks)}
        self._links, self._link_len = _title_links(chunks)
        self.has_links = bool(self._links)

    def __len__(self) -> int:
        return len(self.chunks)

    def weights(self, text: str) -> dict[str, float]:
        """The text's words with their IDF here (a word the documents never use weighs the most)."""
        return {t: self.idf.get(t, self.unseen_idf) for t in set(tokenize(text))}

    def scores(self, query: str) -> np.ndarray | None:
        """BM25 of every chunk (in ``self.chunks`` order) for the query, or None if no word matches."""
        tokens = [t for t in tokenize(query) if t in self._bm25.vocab_dict] if self.chunks else []
        if not tokens:
            return None
        with self._lock:  # bm25s keeps scratch state between calls
            return self._bm25.get_scores(tokens)

    def top(self, scores: np.ndarray | None, k: int) -> list[StoredChunk]:
        """The k best-scoring chunks with a positive score, best first."""
        if scores is None or k < 1:
            return []
        k = min(k, len(self.chunks))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [_with_score(self.chunks[i], float(scores[i])) for i in top if scores[i] > 0]

    def search(self, query: str, k: int) -> list[StoredChunk]:
        """The k best chunks for the query's words, best first (score = BM25)."""
        return self.top(self.scores(query), k)

    def linked(self, text: str, source: str) -> list[int]:
        """Positions of the first chunks of other documents whose title the text mentions."""
        if not self._links:
            return []
        words = _TOKEN.findall(text.lower())
        found: list[int] = []
        for i in range(len(words)):
            for n in range(1, min(self._link_len, len(words) - i) + 1):
                hit = self._links.get(tuple(words[i : i + n]))
                if hit is not None and self.chunks[hit].source != source and hit not in found:
                    found.append(hit)
        return found

    # ---- persistence

    @staticmethod
    def _dir(config: StoreConfig) -> Path:
        return Path(config.store_dir) / "keyword" / config.collection

    def save(self, config: StoreConfig) -> None:
        """Write the chunk list atomically (the BM25 matrix is rebuilt from it on load)."""
        folder = self._dir(config)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / "chunks.json.tmp"
        tmp.write_text(
            json.dumps({"generation": self.generation, "chunks": [asdict(c) for c in self.chunks]})
        )
        tmp.replace(folder / "chunks.json")
        self._save_state(folder)

    def _save_state(self, folder: Path) -> None:
        # A small tag beside the chunks, so that an unchanged ingest can check them cheaply.
        tag = folder / "state.json.tmp"
        tag.write_text(json.dumps({"generation": self.generation, "chunks": len(self.chunks)}))
        tag.replace(folder / "state.json")

    @classmethod
    def is_current(cls, store: Store) -> bool:
        """True when the saved index matches the store's generation and size (cheap)."""
        config = store.config
        try:
            state = json.loads((cls._dir(config) / "state.json").read_text())
            saved = (int(state["generation"]), int(state["chunks"]))
        except (OSError, ValueError, KeyError, TypeError):
            return False
        return (
            saved == (store.generation, store.count())
            and (cls._dir(config) / "chunks.json").is_file()
        )

    @classmethod
    def load(cls, config: StoreConfig) -> KeywordIndex | None:
        """The saved index, or None if there is none or it cannot be read."""
        path = cls._dir(config) / "chunks.json"
        try:
            data = json.loads(path.read_text())
            return cls([StoredChunk(**c) for c in data["chunks"]], int(data["generation"]))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            log.warning("keyword index at %s is unreadable; rebuilding it", path)
            return None

    @classmethod
    def for_store(cls, store: Store, rebuild: bool = False) -> KeywordIndex:
        """The keyword index matching the store's current generation, rebuilt if stale."""
        config = store.config
        generation = store.generation
        if not rebuild:
            saved = cls.load(config)
            if saved is not None and saved.generation == generation and len(saved) == store.count():
                if not cls.is_current(store):
                    with contextlib.suppress(OSError):  # saved by an older version: add the tag
                        saved._save_state(cls._dir(config))
                return saved
        index = cls(store.all_chunks(), generation)
        try:
            index.save(config)
        except OSError as exc:  # a read-only store still answers; it just rebuilds next time
            log.warning("cannot save keyword index: %s", exc)
        return index

    @classmethod
    def remove(cls, config: StoreConfig) -> None:
        """Delete the saved keyword index."""
        shutil.rmtree(cls._dir(config), ignore_errors=True)


def title_key(title: str) -> tuple[str, ...]:
    """A title as lower-case words, without a trailing "(disambiguation)" part."""
    return tuple(_TOKEN.findall(_PAREN_TAIL.sub("", title).lower()))


def _title_links(chunks: list[StoredChunk]) -> tuple[dict[tuple[str, ...], int], int]:
    """Title words -> position of that document's first chunk, for titles naming one document.

    A title shared by several documents (all paragraphs of one article, "Introduction") names
    none of them, and a title of stop words only would match everywhere; neither links.
    """
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


def _with_score(c: StoredChunk, score: float) -> StoredChunk:
    return replace(c, score=score)
