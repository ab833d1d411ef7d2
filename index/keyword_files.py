"""The keyword index's files: written whole from a stream of chunks, updated a few sources at a
time, compacted now and then. ``index.keyword.KeywordIndex`` reads them.

One folder per collection (``QA_STORE_DIR/keyword/<collection>/``), this machine's own copy:

- ``index.sqlite3``: the chunks by position (id, source, span, title, pages, text, token
  count), the vocabulary with each term's document frequency, each source's title and first
  position (for title links), and ``meta``: the generation and collection id it matches, the
  segment list, counts;
- ``seg-N.{indptr,docs,tf,dl}.npy``: postings segments (``index.bm25.Postings``), immutable;
- ``dead-N.npy``: positions whose chunks were replaced or removed after their segment was written.

A full build goes into a fresh folder that then replaces the old one; an update writes a new
small segment and a dead list first, then commits the chunk rows, the term counts and ``meta``
in one SQLite transaction: a crash at any point leaves the previous state, and files that no
committed state names are removed at the next update. Writers hold ``writer_lock``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from index import bm25
from index.flock import flocked
from index.stored import StoredChunk
from index.text.tokens import tokenize

log = logging.getLogger(__name__)

FORMAT = 2
DB = "index.sqlite3"
MAX_SEGMENTS = 8  # more segments than this: the small ones are merged into one
COMPACT_DEAD = 0.25  # dead positions above this share of live ones: every segment is merged
RENUMBER = 2.0  # positions above this many times the live chunks: rebuilt from the chunk rows
SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE chunks (pos INTEGER PRIMARY KEY, id TEXT NOT NULL, source TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, title TEXT NOT NULL, page INTEGER,
    page_end INTEGER, text TEXT NOT NULL, dl INTEGER NOT NULL);
CREATE TABLE vocab (term TEXT PRIMARY KEY, id INTEGER NOT NULL, df INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE sources (source TEXT PRIMARY KEY, title TEXT NOT NULL, first_pos INTEGER NOT NULL)
    WITHOUT ROWID;
"""
INDEXES = """
CREATE UNIQUE INDEX chunks_id ON chunks(id);
CREATE INDEX chunks_source ON chunks(source);
"""
COLUMNS = 'pos, id, source, start, "end", title, page, page_end, text'


def connect(folder: Path) -> sqlite3.Connection:
    """A connection to the folder's database (WAL: readers never wait for the writer)."""
    con = sqlite3.connect(folder / DB, timeout=60, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    return con


def read_meta(con: sqlite3.Connection) -> dict:
    """The committed state: format, generation, collection id, counts, segments, dead list."""
    meta = {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM meta")}
    if meta.get("format") != FORMAT:
        raise ValueError(f"keyword index format {meta.get('format')}, not {FORMAT}")
    return meta


def _write_meta(con: sqlite3.Connection, meta: dict) -> None:
    con.executemany(
        "INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in meta.items()]
    )


@contextlib.contextmanager
def writer_lock(folder: Path, wait: bool = True) -> Iterator[bool]:
    """Hold the folder's writer lock; yields False at once instead of waiting when ``wait`` is off."""
    with flocked(folder.with_name(folder.name + ".lock"), wait=wait) as held:
        yield held


def _text(c: StoredChunk) -> str:
    return f"{c.title}\n{c.text}"


def _row(pos: int, c: StoredChunk, dl: int) -> tuple:
    return (pos, c.id, c.source, c.start, c.end, c.title, c.page, c.page_end, c.text, dl)


def build(
    folder: Path, batches: Iterable[list[StoredChunk]], generation: int, collection_id: str
) -> None:
    """Write a whole index of the chunks into a fresh folder that then replaces ``folder``."""
    t0 = time.perf_counter()
    tmp = folder.with_name(f"{folder.name}.build-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    con = sqlite3.connect(tmp / DB, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")  # a crash leaves a folder that is thrown away
    con.execute("PRAGMA synchronous=OFF")
    con.executescript(SCHEMA)
    vocab: dict[str, int] = {}
    df = np.zeros(0, dtype=np.int64)
    parts: list[bm25.Postings] = []
    firsts: dict[str, tuple[int, int, str]] = {}  # source -> (start, position, title)
    pos = total = 0
    con.execute("BEGIN")
    seen: set[str] = set()
    for batch in batches:
        # Pages read from a collection that changes meanwhile can repeat a chunk: once is kept.
        batch = [c for c in batch if not (c.id in seen or seen.add(c.id))]
        if not batch:
            continue
        ids = [[vocab.setdefault(t, len(vocab)) for t in tokenize(_text(c))] for c in batch]
        con.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?)",
            [_row(pos + i, c, len(t)) for i, (c, t) in enumerate(zip(batch, ids, strict=True))],
        )
        for i, c in enumerate(batch):
            if c.source not in firsts or c.start < firsts[c.source][0]:
                firsts[c.source] = (c.start, pos + i, c.title)
        part = bm25.build_part(ids, pos)
        counts = np.diff(part.indptr)  # each (term, chunk) pair once: document frequencies
        df = np.pad(df, (0, max(0, len(vocab) - len(df))))
        df[: len(counts)] += counts
        parts.append(part)
        pos += len(batch)
        total += sum(len(t) for t in ids)
    con.executemany(
        "INSERT INTO vocab VALUES (?,?,?)", ((t, i, int(df[i])) for t, i in vocab.items())
    )
    con.executemany(
        "INSERT INTO sources VALUES (?,?,?)", ((s, f[2], f[1]) for s, f in firsts.items())
    )
    segments = []
    if parts:
        bm25.merge(parts, out=(tmp, "seg-0"))
        segments = [{"name": "seg-0", "first": 0}]
    _write_meta(con, {"format": FORMAT, "generation": generation, "collection_id": collection_id,
                      "n_pos": pos, "n_live": pos, "total_len": total, "segments": segments,
                      "dead": None, "next": 1})  # fmt: skip
    con.execute("COMMIT")
    con.executescript(INDEXES)
    con.close()
    old = folder.with_name(f"{folder.name}.old-{os.getpid()}")
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    log.info("keyword index of %d chunks built in %.1f s", pos, time.perf_counter() - t0)


def rows_in_order(folder: Path, batch: int = 20_000) -> Iterator[list[StoredChunk]]:
    """The live chunk rows by position, a batch at a time (for a rebuild without the store)."""
    con = sqlite3.connect(folder / DB)
    try:
        last = -1
        while True:
            rows = con.execute(
                f"SELECT {COLUMNS} FROM chunks WHERE pos > ? ORDER BY pos LIMIT ?", (last, batch)
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [chunk_from_row(r) for r in rows]
    finally:
        con.close()


def chunk_from_row(r: tuple) -> StoredChunk:
    """A StoredChunk from a row of ``SELECT COLUMNS``."""
    return StoredChunk(r[1], r[2], r[3], r[4], r[8], r[5], 0.0, r[6], r[7])


def update(folder: Path, sources: set[str], chunks: list[StoredChunk], generation: int) -> None:
    """Replace what the index holds of ``sources`` by ``chunks`` (their chunks in the store now)."""
    con = connect(folder)
    try:
        meta = read_meta(con)
        _clean_orphans(folder, meta)
        names = sorted(sources)
        old: list[tuple[int, str, str, int]] = []
        for i in range(0, len(names), 500):
            part = names[i : i + 500]
            old += con.execute(
                f"SELECT pos, title, text, dl FROM chunks WHERE source IN ({','.join('?' * len(part))})",
                part,
            ).fetchall()
        gone = Counter(t for _, title, text, _ in old for t in set(tokenize(f"{title}\n{text}")))
        tokens = [tokenize(_text(c)) for c in chunks]
        came = Counter(t for ts in tokens for t in set(ts))
        known = _vocab(con, set(gone) | set(came))
        next_id = con.execute("SELECT count(*) FROM vocab").fetchone()[0]
        new_terms = {}
        for t in sorted(set(came) - set(known)):
            new_terms[t] = next_id
            next_id += 1
        ids = {**{t: v[0] for t, v in known.items()}, **new_terms}
        first, seq = int(meta["n_pos"]), int(meta["next"])
        segments = list(meta["segments"])
        if chunks:
            name = f"seg-{seq}"
            bm25.build_part([[ids[t] for t in ts] for ts in tokens], first).save(folder, name)
            segments.append({"name": name, "first": first})
        dead = _dead(folder, meta)
        dead = np.union1d(dead, np.array([r[0] for r in old], dtype=np.int64))
        dead_name = f"dead-{seq}.npy" if len(dead) else None
        if dead_name:
            np.save(folder / dead_name, dead)
        con.execute("BEGIN IMMEDIATE")
        con.executemany("DELETE FROM chunks WHERE pos = ?", [(r[0],) for r in old])
        con.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                _row(first + i, c, len(ts))
                for i, (c, ts) in enumerate(zip(chunks, tokens, strict=True))
            ],
        )
        con.executemany("INSERT INTO vocab VALUES (?,?,0)", list(new_terms.items()))
        delta = Counter(came)
        delta.subtract(gone)
        con.executemany(
            "UPDATE vocab SET df = df + ? WHERE term = ?", [(d, t) for t, d in delta.items() if d]
        )
        con.executemany("DELETE FROM sources WHERE source = ?", [(s,) for s in names])
        firsts: dict[str, tuple[int, int, str]] = {}
        for i, c in enumerate(chunks):
            if c.source not in firsts or c.start < firsts[c.source][0]:
                firsts[c.source] = (c.start, first + i, c.title)
        con.executemany(
            "INSERT OR REPLACE INTO sources VALUES (?,?,?)",
            [(s, f[2], f[1]) for s, f in firsts.items()],
        )
        meta.update(
            generation=generation,
            n_pos=first + len(chunks),
            n_live=int(meta["n_live"]) - len(old) + len(chunks),
            total_len=int(meta["total_len"]) - sum(r[3] for r in old) + sum(map(len, tokens)),
            segments=segments, dead=dead_name, next=seq + 1,
        )  # fmt: skip
        _write_meta(con, meta)
        con.execute("COMMIT")
        _clean_orphans(folder, meta)
    finally:
        con.close()


def compact(folder: Path) -> bool:
    """Merge segments when there are many, or drop dead postings when they are many; True if done."""
    con = connect(folder)
    try:
        meta = read_meta(con)
        n_pos, n_live, segs = int(meta["n_pos"]), int(meta["n_live"]), meta["segments"]
        dead = _dead(folder, meta)
        if n_pos > RENUMBER * n_live + 10_000:
            con.close()
            build(folder, rows_in_order(folder), meta["generation"], meta["collection_id"])
            return True
        full = len(dead) > COMPACT_DEAD * max(n_live, 1)
        if not full and len(segs) <= MAX_SEGMENTS:
            return False
        merged = segs if full else segs[1:]
        parts = [bm25.Postings.load(folder, s["name"], s["first"]) for s in merged]
        keep = np.ones(n_pos, dtype=bool)
        keep[dead] = False
        seq = int(meta["next"])
        name = f"seg-{seq}"
        bm25.merge(parts, keep=keep, out=(folder, name))
        rest = dead[dead < merged[0]["first"]] if not full else np.zeros(0, dtype=np.int64)
        dead_name = f"dead-{seq}.npy" if len(rest) else None
        if dead_name:
            np.save(folder / dead_name, rest)
        meta.update(segments=[*([] if full else segs[:1]), {"name": name, "first": merged[0]["first"]}],
                    dead=dead_name, next=seq + 1)  # fmt: skip
        con.execute("BEGIN IMMEDIATE")
        _write_meta(con, meta)
        con.execute("COMMIT")
        _clean_orphans(folder, meta)
        return True
    finally:
        con.close()


def _vocab(con: sqlite3.Connection, terms: set[str]) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    names = sorted(terms)
    for i in range(0, len(names), 500):
        part = names[i : i + 500]
        for t, tid, df in con.execute(
            f"SELECT term, id, df FROM vocab WHERE term IN ({','.join('?' * len(part))})", part
        ):
            out[t] = (tid, df)
    return out


def _dead(folder: Path, meta: dict) -> np.ndarray:
    if not meta.get("dead"):
        return np.zeros(0, dtype=np.int64)
    return np.load(folder / meta["dead"])


def _clean_orphans(folder: Path, meta: dict) -> None:
    """Remove segment and dead-list files that the committed state does not name."""
    keep = {meta.get("dead")} | {
        f"{s['name']}.{k}.npy" for s in meta["segments"] for k in ("indptr", "docs", "tf", "dl")
    }
    for p in folder.iterdir():
        if p.name.startswith(("seg-", "dead-")) and p.name not in keep:
            with contextlib.suppress(OSError):
                p.unlink()
