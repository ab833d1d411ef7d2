"""An embedded store checks itself before Chroma loads it: records and vector index must agree.

Chroma trusts its files. A truncated vector index (``data_level0.bin``) is read past its end and
the process dies with SIGSEGV; a deleted segment folder or ``index_metadata.pickle`` turns into
an empty index that silently answers nothing; a truncated ``chroma.sqlite3`` fails with SQLite's
"malformed". So before a client opens a folder, the files are checked against what they
describe, from outside Chroma and without loading anything big:

- ``chroma.sqlite3``: the SQLite header, a file no shorter than the header says, and the tables
  Chroma needs readable (segments, persisted sequence numbers, record counts);
- each persisted HNSW segment: every file present, ``header.bin`` readable, each data file at
  least as long as the element count in the header needs, ``index_metadata.pickle`` complete,
  and no fewer elements than the records that should be in it.

A check that fails is repeated briefly (a writer in another process may be halfway through
saving), then reported as a StoreCorruptError whose fix is ``qa ingest --rebuild``, which moves
the damaged folder aside (``move_aside``) when it cannot be repaired in place.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import struct
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from index.errors import StoreCorruptError

log = logging.getLogger(__name__)

SQLITE_FILE = "chroma.sqlite3"
HNSW_TYPE = "urn:chroma:segment/vector/hnsw-local-persisted"
METADATA_TYPE = "urn:chroma:segment/metadata/sqlite"
HNSW_FILES = ("header.bin", "data_level0.bin", "length.bin", "link_lists.bin")
HEADER_BYTES = 100  # hnswlib's header as Chroma persists it: a version, then the index's sizes
# SQLite's words for a file that is not (or no longer) a sound database, or lacks Chroma's tables.
_SQLITE_DAMAGE = ("malformed", "not a database", "encrypted", "no such table", "no such column")
TRIES = 4  # a failed check is repeated this often, TRY_WAIT_S apart, before it is reported
TRY_WAIT_S = 0.4


class Damage(Exception):
    """What is wrong with a store folder, in words."""


def damaged(where: str, what: str) -> StoreCorruptError:
    """The error for a damaged store, with the fix."""
    return StoreCorruptError(where, what)


def check_folder(path: Path, collections: Iterable[str] | None = None) -> None:
    """Raise StoreCorruptError when the embedded store in ``path`` is damaged (else return).

    ``collections``: check the vector indexes of these collections only (default: all).
    """
    names = None if collections is None else set(collections)
    for attempt in range(TRIES):
        try:
            _check(Path(path), names)
            return
        except Damage as exc:
            if attempt == TRIES - 1:
                raise damaged(str(path), str(exc)) from None
            log.debug("store check failed (%s); checking again", exc)
            time.sleep(TRY_WAIT_S)


def _check(path: Path, names: set[str] | None = None) -> None:
    db = path / SQLITE_FILE
    if not db.exists():
        if path.is_dir() and any(p.is_dir() for p in path.iterdir()):
            raise Damage(f"{SQLITE_FILE} is missing but vector index folders remain")
        return  # a new store
    _check_sqlite_file(db)
    try:
        # Read-write, as Chroma opens it: a writer that was killed leaves a journal that the
        # next connection rolls back (a read-only one could not, and would fail).
        with contextlib.closing(sqlite3.connect(db, timeout=30)) as con:
            segments = _segments(con)
            ids = {cid for cid, name in con.execute("SELECT id, name FROM collections")
                   if names is None or name in names}  # fmt: skip
    except sqlite3.DatabaseError as exc:
        if any(t in str(exc).lower() for t in _SQLITE_DAMAGE):
            raise Damage(f"{SQLITE_FILE} cannot be read: {exc}") from None
        log.info("store check skipped: %s", exc)  # busy or locked by a writer: nothing known
        return
    for seg in segments:
        if seg["collection"] in ids:
            _check_hnsw(path / seg["id"], seg)


def _check_sqlite_file(db: Path) -> None:
    """The SQLite header, and a file at least as long as the header says (a truncated file)."""
    with db.open("rb") as fh:
        head = fh.read(100)
    size = db.stat().st_size
    if size == 0:
        raise Damage(f"{SQLITE_FILE} is empty")
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        raise Damage(f"{SQLITE_FILE} is not an SQLite database")
    page_size = struct.unpack(">H", head[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    pages, counter, valid_for = (struct.unpack(">I", head[o : o + 4])[0] for o in (28, 24, 92))
    busy = any(db.with_name(db.name + s).exists() for s in ("-journal", "-wal"))
    if not busy and counter == valid_for and pages and size < pages * page_size:
        raise Damage(f"{SQLITE_FILE} is truncated ({size:,} of {pages * page_size:,} bytes)")


def _segments(con: sqlite3.Connection) -> list[dict]:
    """Each vector segment with its persisted sequence number and the records it should hold."""
    rows = con.execute("SELECT id, type, collection FROM segments").fetchall()
    seq = dict(con.execute("SELECT segment_id, seq_id FROM max_seq_id").fetchall())
    meta = {col: sid for sid, kind, col in rows if kind == METADATA_TYPE}
    out = []
    for sid, kind, col in rows:
        if kind != HNSW_TYPE:
            continue
        records = 0
        if col in meta:
            records = con.execute(
                "SELECT count(*) FROM embeddings WHERE segment_id = ?", (meta[col],)
            ).fetchone()[0]
        persisted = _as_int(seq.get(sid, 0))
        pending = con.execute(
            "SELECT count(*) FROM embeddings_queue WHERE topic LIKE ? AND seq_id > ?",
            (f"%/{col}", persisted),
        ).fetchone()[0]
        out.append(dict(id=sid, collection=col, persisted=persisted, records=records,
                        pending=pending))  # fmt: skip
    return out


def _as_int(value) -> int:
    if isinstance(value, bytes):  # older Chroma versions stored it as big-endian bytes
        return int.from_bytes(value, "big")
    return int(value or 0)


def _check_hnsw(folder: Path, seg: dict) -> None:
    """A persisted vector segment: files present and as long as its header says."""
    if not seg["persisted"]:
        return  # nothing saved yet: Chroma rebuilds it from the log
    name = f"vector index {folder.name[:8]}… of collection {seg['collection'][:8]}…"
    if not folder.is_dir():
        raise Damage(f"the {name} is missing ({seg['records']:,} records have no vectors)")
    missing = [f for f in (*HNSW_FILES, "index_metadata.pickle") if not (folder / f).is_file()]
    if missing:
        raise Damage(f"{', '.join(missing)} of the {name} is missing")
    head = (folder / "header.bin").read_bytes()
    if len(head) < HEADER_BYTES:
        raise Damage(f"header.bin of the {name} is truncated")
    _, _, _, count, per_element = struct.unpack("<I4Q", head[:36])
    if per_element == 0 or per_element > 1 << 20:
        raise Damage(f"header.bin of the {name} is unreadable")
    sizes = {f: (folder / f).stat().st_size for f in HNSW_FILES}
    if sizes["data_level0.bin"] < count * per_element:
        raise Damage(
            f"data_level0.bin of the {name} is truncated "
            f"({sizes['data_level0.bin']:,} of {count * per_element:,} bytes)"
        )
    if sizes["length.bin"] < count * 4:  # one float (the vector's norm) per element
        raise Damage(f"length.bin of the {name} is truncated")
    pickle = folder / "index_metadata.pickle"
    with pickle.open("rb") as fh:
        fh.seek(max(0, pickle.stat().st_size - 1))
        if fh.read(1) != b".":  # every complete pickle ends with STOP
            raise Damage(f"index_metadata.pickle of the {name} is truncated")
    if count + seg["pending"] < seg["records"]:
        raise Damage(
            f"the {name} holds {count:,} vectors for {seg['records']:,} records "
            f"({seg['pending']:,} pending)"
        )


def move_aside(path: Path) -> Path:
    """Rename a damaged store folder out of the way; returns where it went."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    path.rename(target)
    log.warning("moved the damaged store %s aside to %s", path, target)
    return target
