"""The bookkeeping collection beside each collection: writer leases, the change feed, removals.

It lives in the same Chroma (embedded folder or server) as the chunks, named
``<collection>__qa`` (``index.names``), so that every process and every machine that uses the
collection sees it. Its records carry a one-number placeholder vector; what matters is their
metadata:

- ``lease:<owner>``  a writer's claim on the collection (see ``index.lock.ChromaLease``);
- ``change:<generation>:<part>``  the sources a generation bump changed, so that a process
  whose keyword index is a few generations behind re-reads only those sources;
- ``tomb:<hash of source>``  a document removed on purpose (file hash and time), so that the
  file (still in the documents folder, or a replica's own copy) does not bring it back at the
  next start; naming the file, or a newer copy of it, adds it back;
- ``added:<hash of source>``  a document a replica added (an upload): a ``qa ingest`` that
  mirrors a folder leaves it alone, since it was never in that folder.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable

from index.connection import Connection
from index.names import ledger_name, source_key

KEEP_GENERATIONS = 1000  # change records older than this many generations are pruned
SOURCES_PER_RECORD = 2000
_PLACEHOLDER = [1.0]


class Ledger:
    """Reads and writes the bookkeeping records of one store's collection."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.name = ledger_name(connection.name)

    def _col(self):
        return self.connection.side(self.name)

    def now(self) -> float:
        """Seconds since the epoch on the store's clock (a lease's expiry is kept on it)."""
        return self.connection.now()

    def _get(self, where: dict, limit: int | None = None) -> list[tuple[str, dict]]:
        got = self.connection.call(
            lambda: self._col().get(where=where, include=["metadatas"], limit=limit)
        )
        return list(zip(got["ids"], got["metadatas"], strict=True))

    def _put(self, ids: list[str], metas: list[dict], fenced: bool = True) -> None:
        if ids:
            self.connection.call(
                lambda: self._col().upsert(
                    ids=ids, embeddings=[_PLACEHOLDER] * len(ids), metadatas=metas
                ),
                write=True,
                fenced=fenced,
            )

    def delete(self, ids: list[str], fenced: bool = True) -> None:
        """Delete records by id (``fenced``: only while this writer holds its lease)."""
        if ids:
            self.connection.call(lambda: self._col().delete(ids=ids), write=True, fenced=fenced)

    # ---- leases

    def leases(self) -> list[tuple[str, dict]]:
        """Every lease record (id, metadata)."""
        return self._get({"kind": "lease"})

    def put_lease(self, owner: str, meta: dict) -> None:
        """Write (or renew) this owner's lease record."""
        self._put([f"lease:{owner}"], [{**meta, "kind": "lease", "owner": owner}], fenced=False)

    # ---- the change feed

    def record_change(
        self, generation: int, sources: Iterable[str] | None, phase: str = "end"
    ) -> None:
        """Say which sources the bump to ``generation`` changes (None: unknown, rebuild all).

        An ingest records its sources twice: "begin" before its first write, "end" after its
        last; a "begin" never followed by an "end" is a writer that died halfway.
        """
        names = sorted(set(sources)) if sources is not None else None
        parts = (
            [names[i : i + SOURCES_PER_RECORD] for i in range(0, len(names), SOURCES_PER_RECORD)]
            if names
            else [[]]
        )
        ids, metas = [], []
        for n, part in enumerate(parts):
            ids.append(f"change:{generation}:{n}")
            metas.append({"kind": "change", "generation": generation, "part": n,
                          "parts": len(parts), "unknown": names is None, "phase": phase,
                          "sources": json.dumps(part)})  # fmt: skip
        self._put(ids, metas)
        if generation > KEEP_GENERATIONS and generation % 100 == 0:
            old = self._get(
                {
                    "$and": [
                        {"kind": "change"},
                        {"generation": {"$lt": generation - KEEP_GENERATIONS}},
                    ]
                }
            )
            self.delete([i for i, _ in old])

    def changes(self, after: int, upto: int) -> set[str] | None:
        """The sources changed by the bumps after ``after`` up to ``upto``; None if unknown."""
        if upto <= after:
            return set()
        where = [{"kind": "change"}, {"generation": {"$gt": after}}, {"generation": {"$lte": upto}}]
        records = self._get({"$and": where})
        seen: dict[int, set[int]] = {}
        out: set[str] = set()
        for _, meta in records:
            if meta.get("unknown"):
                return None
            seen.setdefault(int(meta["generation"]), set()).add(int(meta["part"]))
            out.update(json.loads(meta.get("sources") or "[]"))
        parts = {int(m["generation"]): int(m["parts"]) for _, m in records}
        for g in range(after + 1, upto + 1):
            if g not in seen or len(seen[g]) != parts[g]:
                return None  # a bump without its record (pruned, or written by an old version)
        return out

    def clear_changes(self) -> None:
        """Forget the change feed (a rebuilt collection counts its generations afresh)."""
        old = self.connection.call(lambda: self._col().get(where={"kind": "change"}, include=[]))
        self.delete(old["ids"])

    def unfinished(self, generation: int) -> set[str]:
        """The sources of a "begin" at ``generation`` (the last bump) that no "end" followed."""
        records = self._get({"$and": [{"kind": "change"}, {"generation": generation}]})
        if not records or records[0][1].get("phase") != "begin":
            return set()
        return {s for _, m in records for s in json.loads(m.get("sources") or "[]")}

    # ---- removals

    def add_tombstones(self, removed: dict[str, str]) -> None:
        """Record sources removed on purpose, with the hash of the file version removed."""
        now = time.time()
        items = sorted(removed.items())
        self._put(
            [f"tomb:{source_key(s)}" for s, _ in items],
            [{"kind": "tomb", "source": s, "file_hash": h, "at": now} for s, h in items],
        )

    def tombstones(self, sources: Iterable[str]) -> dict[str, tuple[str, float]]:
        """Of these sources, those removed on purpose: source -> (file hash, time removed)."""
        names = sorted(set(sources))
        out: dict[str, tuple[str, float]] = {}
        for i in range(0, len(names), 500):
            part = names[i : i + 500]
            got = self.connection.call(
                lambda p=part: self._col().get(
                    ids=[f"tomb:{source_key(s)}" for s in p], include=["metadatas"]
                )
            )
            for meta in got["metadatas"]:
                out[meta["source"]] = (meta["file_hash"], float(meta["at"]))
        return out

    def clear_tombstones(self, sources: Iterable[str]) -> None:
        """Forget removals of sources that are indexed again."""
        self.delete([f"tomb:{source_key(s)}" for s in sorted(set(sources))])

    # ---- documents added by replicas

    def mark_added(self, sources: Iterable[str]) -> None:
        """Record sources a replica added, which a folder's ingest must not prune."""
        names = sorted(set(sources))
        self._put([f"added:{source_key(s)}" for s in names],
                  [{"kind": "added", "source": s} for s in names])  # fmt: skip

    def added(self) -> set[str]:
        """Every source a replica added."""
        return {m["source"] for _, m in self._get({"kind": "added"})}

    def unmark_added(self, sources: Iterable[str]) -> None:
        """Forget that replicas added these sources (removed, or now in a mirrored folder)."""
        self.delete([f"added:{source_key(s)}" for s in sorted(set(sources))])
