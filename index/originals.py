"""Indexed files' own bytes, kept in Chroma so that every replica can serve them.

Replicas of the web app share a Chroma server and nothing else: a PDF uploaded to one of them
is in that machine's documents folder only, yet the source viewer on any replica renders its
pages from the file. So with a Chroma server each indexed file is also written, base64 in
parts of ``PART_BYTES``, into the collection ``<collection>__files`` (metadata, which Chroma
stores as it is; a document would be full-text indexed). Records are keyed by source and file
hash, so a new version is complete before the old one is deleted.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re

from index.connection import Connection
from index.names import files_name, source_key

log = logging.getLogger(__name__)

PART_BYTES = 3 << 20  # 4 MiB of base64 per record
PARTS_PER_CALL = 2
_ID = re.compile(r"^file:(?P<key>[0-9a-f]{40}):(?P<hash>[0-9a-f]+):(?P<n>\d+)of(?P<parts>\d+)$")


class Originals:
    """The files of one collection, as bytes."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.name = files_name(connection.name)

    def _col(self):
        return self.connection.side(self.name)

    def _ids(self, where: dict | None = None) -> list[str]:
        return self.connection.call(lambda: self._col().get(where=where, include=[]))["ids"]

    def put(self, source: str, file_hash: str, data: bytes) -> None:
        """Keep a file's bytes (unless this version is already kept), then drop older versions."""
        if self.has(source, file_hash):
            return
        parts = [data[i : i + PART_BYTES] for i in range(0, len(data), PART_BYTES)] or [b""]
        key, h = source_key(source), file_hash[:32]
        for s in range(0, len(parts), PARTS_PER_CALL):
            ids, metas = [], []
            for n in range(s, min(s + PARTS_PER_CALL, len(parts))):
                ids.append(f"file:{key}:{h}:{n}of{len(parts)}")
                metas.append({"kind": "file", "source": source, "file_hash": file_hash,
                              "size": len(data),
                              "data": base64.b64encode(parts[n]).decode("ascii")})  # fmt: skip
            self.connection.call(
                lambda i=ids, m=metas: self._col().upsert(
                    ids=i, embeddings=[[1.0]] * len(i), metadatas=m
                ),
                write=True,
            )
        stale = {"$and": [{"source": source}, {"file_hash": {"$ne": file_hash}}]}
        self.connection.call(lambda: self._col().delete(where=stale), write=True)

    def has(self, source: str, file_hash: str) -> bool:
        """Whether every part of this version of the file is kept."""
        ids = self._ids({"$and": [{"source": source}, {"file_hash": file_hash}]})
        parsed = [m for i in ids if (m := _ID.match(i))]
        return bool(parsed) and len(parsed) == int(parsed[0]["parts"])

    def get(self, source: str, file_hash: str | None = None) -> bytes | None:
        """A file's bytes (the given version, else any complete one), or None if not kept."""
        where: dict = {"source": source}
        if file_hash:
            where = {"$and": [{"source": source}, {"file_hash": file_hash}]}
        got = self.connection.call(lambda: self._col().get(where=where, include=["metadatas"]))
        versions: dict[str, dict[int, str]] = {}
        total: dict[str, int] = {}
        for rid, meta in zip(got["ids"], got["metadatas"], strict=True):
            m = _ID.match(rid)
            if m is None:
                continue
            versions.setdefault(meta["file_hash"], {})[int(m["n"])] = meta["data"]
            total[meta["file_hash"]] = int(m["parts"])
        for h, parts in versions.items():
            if len(parts) == total[h]:
                data = b"".join(base64.b64decode(parts[n]) for n in range(total[h]))
                if hashlib.sha256(data).hexdigest() == h:
                    return data
                log.warning("the kept copy of %s does not match its hash; ignored", source)
        return None

    def delete(self, source: str) -> None:
        """Forget a file."""
        self.connection.call(lambda: self._col().delete(where={"source": source}), write=True)

    def prune(self, keep: set[str]) -> int:
        """Forget the files of sources not in ``keep``; returns how many records went."""
        keys = {source_key(s) for s in keep}
        gone = [i for i in self._ids() if (m := _ID.match(i)) and m["key"] not in keys]
        for s in range(0, len(gone), 1000):
            part = gone[s : s + 1000]
            self.connection.call(lambda p=part: self._col().delete(ids=p), write=True)
        return len(gone)
