"""The keyword (BM25) side of the index, kept in step with the Chroma collection.

Each process (and each replica, on its own disk) keeps the index in files that open without
being read (``index.keyword_files``): postings memory-mapped, chunk texts and term counts in
SQLite, looked up per question. A million chunks open in well under a second and take memory
only for what questions touch.

The index follows the collection by generation (``for_store``): when the store is a few
generations ahead, the change feed (``index.ledger``) names the sources those bumps changed and
only they are read again from Chroma; a recreated collection, an unknown change or a damaged
index are built again from the whole collection.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from index import bm25, keyword_files
from index.config import StoreConfig
from index.store import Store, StoredChunk
from index.text.titles import is_name, title_key
from index.text.tokens import tokenize, words

__all__ = ["KeywordIndex", "title_key"]

log = logging.getLogger(__name__)

FOLLOW_SHARE = 0.5  # more changed sources than this share of all: build again instead
REBUILD_TRIES = 3  # a build the collection changed under is done again, at most this often


class KeywordIndex:
    """BM25 over the stored chunks, as of one generation of the collection.

    ``KeywordIndex(chunks, generation)`` builds a throwaway index in a temporary folder (tests,
    tools); ``for_store`` opens (and keeps current) the one beside a store.
    """

    def __init__(
        self,
        chunks: Iterable[StoredChunk] | None = None,
        generation: int = 0,
        *,
        folder: Path | None = None,
        collection_id: str = "",
    ):
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="qa-keyword-")) / "index"
            weakref.finalize(self, shutil.rmtree, folder.parent, True)
        self.folder = Path(folder)
        if chunks is not None:
            keyword_files.build(self.folder, [list(chunks)], generation, collection_id)
        self._local = threading.local()
        meta = keyword_files.read_meta(self._db())
        self.generation = int(meta["generation"])
        self.collection_id = str(meta["collection_id"])
        self.n_live = int(meta["n_live"])
        # Positions this snapshot scores; rows a later update adds (in the same files) lie
        # beyond it and are left out, so a question never mixes two states of the index.
        self.n_pos = int(meta["n_pos"])
        self.segments = [
            bm25.Postings.load(self.folder, s["name"], int(s["first"])) for s in meta["segments"]
        ]
        dead = keyword_files._dead(self.folder, meta)
        avgdl = int(meta["total_len"]) / max(self.n_live, 1)
        self._norm = bm25.norms(self.segments, self.n_pos, dead, avgdl)
        self.unseen_idf = math.log((self.n_live + 0.5) / 0.5 + 1.0)
        self.chunks = _Chunks(self)
        self.position = _Positions(self)
        self._links: tuple[dict[tuple[str, ...], int], int] | None = None

    def _db(self) -> sqlite3.Connection:
        """This thread's connection to the index's database."""
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(
                f"file:{self.folder / keyword_files.DB}?mode=ro", uri=True, timeout=60
            )
            self._local.con = con
        return con

    def __len__(self) -> int:
        return self.n_live

    # ---- scoring

    def _terms(self, tokens: Iterable[str]) -> dict[str, tuple[int, int]]:
        """term -> (id, document frequency) for the tokens the index knows."""
        return keyword_files._vocab(self._db(), set(tokens))

    def frequencies(self, terms: Iterable[str]) -> dict[str, int]:
        """How many chunks hold each term the index knows (stemmed terms, as ``tokenize`` gives)."""
        return {t: v[1] for t, v in self._terms(terms).items() if v[1] > 0}

    def weights(self, text: str) -> dict[str, float]:
        """The text's words with their IDF here (a word the documents never use weighs the most)."""
        toks = set(tokenize(text))
        known = self._terms(toks)
        return {t: self._idf(known[t][1]) if t in known else self.unseen_idf for t in toks}

    def _idf(self, df: int) -> float:
        return float(bm25.idf(df, self.n_live)) if df > 0 else self.unseen_idf

    def scores(self, query: str, sources: Iterable[str] | None = None) -> bm25.QueryScores | None:
        """BM25 of the query at every position (``scores[position]``, computed on demand), or
        None if no word of it is indexed. With ``sources`` only their chunks score (the rest 0);
        IDF stays that of the whole index, so a score means the same with or without."""
        toks = tokenize(query)
        known = {t: v for t, v in self._terms(toks).items() if v[1] > 0}
        toks = [t for t in toks if t in known]
        if not toks:
            return None
        idf = [np.float32(bm25.idf(known[t][1], self.n_live)) for t in toks]
        norm = self._norm if sources is None else self._only(sources)
        return bm25.QueryScores(self.segments, [known[t][0] for t in toks], idf, norm)

    def _only(self, sources: Iterable[str]) -> np.ndarray:
        """The length norms with every position outside ``sources`` made unscorable."""
        norm = np.full_like(self._norm, np.inf)
        pos = self.positions_of(sources)
        norm[pos] = self._norm[pos]
        return norm

    def positions_of(self, sources: Iterable[str]) -> np.ndarray:
        """The positions of these sources' chunks in this snapshot."""
        names = sorted(set(sources))
        found = [np.zeros(0, dtype=np.int64)]
        for i in range(0, len(names), 500):
            part = names[i : i + 500]
            rows = self._db().execute(
                f"SELECT pos FROM chunks WHERE source IN ({','.join('?' * len(part))})", part
            )
            found.append(np.fromiter((r[0] for r in rows), dtype=np.int64))
        pos = np.concatenate(found)
        return pos[pos < self.n_pos]

    def live(self) -> tuple[list[str], list[int]]:
        """Every chunk this snapshot scores: ids and positions, in position order."""
        ids, positions = [], []
        for pos, cid in self._db().execute(
            "SELECT pos, id FROM chunks WHERE pos < ? ORDER BY pos", (self.n_pos,)
        ):
            if np.isfinite(self._norm[pos]):
                ids.append(cid)
                positions.append(pos)
        return ids, positions

    def known_sources(self, sources: Iterable[str]) -> set[str]:
        """Which of these sources the index holds."""
        names = sorted(set(sources))
        found: set[str] = set()
        for i in range(0, len(names), 500):
            part = names[i : i + 500]
            found.update(r[0] for r in self._db().execute(
                f"SELECT source FROM sources WHERE source IN ({','.join('?' * len(part))})", part
            ))  # fmt: skip
        return found

    def top(self, scores: bm25.QueryScores | np.ndarray | None, k: int) -> list[StoredChunk]:
        """The k best-scoring chunks with a positive score, best first (ties: in document order)."""
        if scores is None or k < 1:
            return []
        if isinstance(scores, bm25.QueryScores):
            pos, val = scores.top(k)
        else:
            pos = np.flatnonzero(np.asarray(scores) > 0)
            val = np.asarray(scores)[pos]
        keep = val > 0
        pos, val = pos[keep], val[keep]
        if not len(pos):
            return []
        k2 = min(k, len(pos))
        best = np.argpartition(-val, k2 - 1)[:k2]
        sel = val >= val[best].min()
        if sel.sum() > 4 * k2 + 100:  # a flood of equal scores: no order among them to keep
            sel = np.zeros(len(pos), dtype=bool)
            sel[best] = True
        score = dict(zip(pos[sel].tolist(), val[sel].tolist(), strict=True))
        rows = self.rows(list(score))
        # The order a whole build by (source, start) gave, whatever order updates left.
        order = sorted(rows, key=lambda p: (-score[p], *_order(rows[p])))[:k]
        return [replace(rows[p], score=score[p]) for p in order]

    def search(self, query: str, k: int, sources: Iterable[str] | None = None) -> list[StoredChunk]:
        """The k best chunks for the query's words, best first (score = BM25)."""
        return self.top(self.scores(query, sources), k)

    def rows(self, positions: Sequence[int]) -> dict[int, StoredChunk]:
        """The chunks at these positions (positions beyond this snapshot are left out)."""
        out: dict[int, StoredChunk] = {}
        positions = [p for p in positions if p < self.n_pos]
        for i in range(0, len(positions), 500):
            part = positions[i : i + 500]
            for r in self._db().execute(
                f"SELECT {keyword_files.COLUMNS} FROM chunks WHERE pos IN "
                f"({','.join('?' * len(part))})",
                part,
            ):
                out[r[0]] = keyword_files.chunk_from_row(r)
        return out

    # ---- title links

    @property
    def has_links(self) -> bool:
        """Whether any title names exactly one document (then mentions of it link to it)."""
        return bool(self._title_links()[0])

    def _title_links(self) -> tuple[dict[tuple[str, ...], int], int]:
        if self._links is None:
            sources: dict[tuple[str, ...], list[int]] = {}
            for title, first in self._db().execute("SELECT title, first_pos FROM sources"):
                key = title_key(title)
                if is_name(key):
                    sources.setdefault(key, []).append(first)
            links = {k: v[0] for k, v in sources.items() if len(v) == 1}
            self._links = (links, max((len(k) for k in links), default=0))
        return self._links

    def linked(self, text: str, source: str) -> list[int]:
        """Positions of the first chunks of other documents whose title the text mentions."""
        links, longest = self._title_links()
        if not links:
            return []
        ws = words(text)
        found: list[int] = []
        for i in range(len(ws)):
            for n in range(1, min(longest, len(ws) - i) + 1):
                hit = links.get(tuple(ws[i : i + n]))
                if hit is not None and hit not in found:
                    found.append(hit)
        rows = self.rows(found)
        return [p for p in found if p in rows and rows[p].source != source]

    # ---- kept beside a store

    @staticmethod
    def _dir(config: StoreConfig) -> Path:
        return Path(config.store_dir) / "keyword" / config.collection

    def matches(self, store: Store) -> bool:
        """Whether this index is of the store's collection at its current generation."""
        return (self.generation, self.collection_id) == (store.generation, store.collection_id)

    @classmethod
    def load(cls, config: StoreConfig) -> KeywordIndex | None:
        """The saved index, or None if there is none or it cannot be read."""
        folder = cls._dir(config)
        if not (folder / keyword_files.DB).is_file():
            return None
        for attempt in range(3):
            try:
                return cls(folder=folder)
            except FileNotFoundError:  # a writer replaced the folder or a file meanwhile
                time.sleep(0.2 * (attempt + 1))
            except (sqlite3.Error, ValueError, KeyError, TypeError, OSError) as exc:
                log.warning("keyword index at %s is unreadable (%s); rebuilding it", folder, exc)
                return None
        return None

    @classmethod
    def _saved(cls, config: StoreConfig) -> tuple[int, str, int] | None:
        """The saved index's generation, collection id and chunk count (None: none readable)."""
        folder = cls._dir(config)
        try:
            with contextlib.closing(sqlite3.connect(f"file:{folder / keyword_files.DB}?mode=ro",
                                                    uri=True)) as con:  # fmt: skip
                meta = keyword_files.read_meta(con)
        except (sqlite3.Error, ValueError, KeyError, TypeError, OSError):
            return None
        return int(meta["generation"]), str(meta["collection_id"]), int(meta["n_live"])

    @classmethod
    def is_current(cls, store: Store) -> bool:
        """True when the saved index matches the store's generation and size (cheap)."""
        saved = cls._saved(store.config)
        return saved == (store.generation, store.collection_id, store.count())

    @classmethod
    def for_store(
        cls,
        store: Store,
        rebuild: bool = False,
        current: KeywordIndex | None = None,
        wait: bool = True,
    ) -> KeywordIndex:
        """The keyword index at the store's current generation: kept, followed or built.

        ``current``: the index this process already has (returned if still current, or if
        another process is updating the files and ``wait`` is off). A saved index that is
        current is opened without the writer lock (nothing is written to read it); where the
        folder cannot be written (a read-only store), an index that is not current is built in
        a private temporary folder instead.
        """
        if not rebuild and current is not None and current.matches(store):
            return current
        folder = cls._dir(store.config)
        saved_state = None if rebuild else cls._saved(store.config)
        if saved_state is not None and saved_state[:2] == (store.generation, store.collection_id):
            saved = cls.load(store.config)
            if saved is not None and saved.matches(store):
                return saved
        if not _writable(folder):
            log.warning("the keyword index folder %s is read-only: building a private copy "
                        "in a temporary folder", folder)  # fmt: skip
            chunks = (c for part in store.iter_chunks() for c in part)
            return cls(chunks, store.generation, collection_id=store.collection_id)
        with keyword_files.writer_lock(folder, wait=wait or current is None) as held:
            if not held:
                return current  # another process is updating it: answer from this one meanwhile
            saved = None if rebuild else cls.load(store.config)
            if saved is not None and saved.collection_id == store.collection_id:
                if saved.generation == store.generation:
                    return saved
                if saved.generation < store.generation:
                    followed = saved._follow(store)
                    if followed is not None and followed._in_step(store):
                        return followed
            return cls._build(store, folder)

    @classmethod
    def _build(cls, store: Store, folder: Path) -> KeywordIndex:
        for _ in range(REBUILD_TRIES):
            generation = store.generation
            keyword_files.build(folder, store.iter_chunks(), generation, store.collection_id)
            # Read while another process wrote: pages may have shifted past some chunks.
            # The change feed repairs the sources it names, not those, so read again.
            if store.refresh_generation() == generation:
                break
        return cls(folder=folder)

    def _in_step(self, store: Store) -> bool:
        """False when no writer is at work and the chunk counts still differ (then rebuild)."""
        if len(self) == store.count() or store.ledger.unfinished(self.generation):
            return True
        log.warning("keyword index out of step (%d chunks, the store %d); rebuilding it",
                    len(self), store.count())  # fmt: skip
        return False

    def _follow(self, store: Store) -> KeywordIndex | None:
        """Re-read only the sources changed since this index's generation (None: cannot)."""
        generation = store.generation
        changed = store.ledger.changes(self.generation, generation)
        if changed is None:
            return None
        n_sources = self._db().execute("SELECT count(*) FROM sources").fetchone()[0]
        if len(changed) > max(100, FOLLOW_SHARE * n_sources):
            return None
        chunks = store.chunks_of(changed) if changed else []
        keyword_files.update(self.folder, changed, chunks, generation)
        keyword_files.compact(self.folder)
        log.info("keyword index followed %d changed sources to generation %d",
                 len(changed), generation)  # fmt: skip
        return KeywordIndex(folder=self.folder)

    @classmethod
    def remove(cls, config: StoreConfig) -> None:
        """Delete the saved keyword index."""
        shutil.rmtree(cls._dir(config), ignore_errors=True)


class _Chunks(Sequence):
    """``index.chunks[position]``: a chunk by its position (read on demand)."""

    def __init__(self, index: KeywordIndex):
        self._index = index

    def __len__(self) -> int:
        return self._index.n_live

    def __getitem__(self, pos):
        if isinstance(pos, slice):
            raise TypeError("chunks are read one position at a time")
        row = self._index.rows([int(pos)]).get(int(pos))
        if row is None:
            raise IndexError(f"no chunk at position {pos}")
        return row

    def __iter__(self):
        for part in keyword_files.rows_in_order(self._index.folder):
            yield from part


class _Positions(Mapping):
    """``index.position[chunk id]``: the position of a chunk (cached per index)."""

    def __init__(self, index: KeywordIndex):
        self._index = index
        self._cache: dict[str, int | None] = {}

    def _get(self, cid: str) -> int | None:
        if cid not in self._cache:
            if len(self._cache) > 100_000:
                self._cache.clear()
            row = (
                self._index._db().execute("SELECT pos FROM chunks WHERE id = ?", (cid,)).fetchone()
            )
            self._cache[cid] = row[0] if row and row[0] < self._index.n_pos else None
        return self._cache[cid]

    def __getitem__(self, cid: str) -> int:
        pos = self._get(cid)
        if pos is None:
            raise KeyError(cid)
        return pos

    def __contains__(self, cid) -> bool:
        return isinstance(cid, str) and self._get(cid) is not None

    def __iter__(self):
        return (c.id for c in self._index.chunks)

    def __len__(self) -> int:
        return self._index.n_live


def _writable(folder: Path) -> bool:
    """Whether this process may write the folder (or, while it does not exist, create it)."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return os.access(folder, os.W_OK)


def _order(c: StoredChunk) -> tuple[str, int, str]:
    return (c.source, c.start, c.id)
