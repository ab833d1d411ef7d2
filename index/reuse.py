"""Vectors already in the store for a file's exact bytes: a renamed or copied file, or one whose
ingest was cut short, is written again without embedding what is stored.

A chunk is the same when its file version (the hash of its bytes), its span and its text are:
the collection is tagged with one embedding model and one chunking recipe, so its vector is too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from index.store import Store
from index.types import Chunk

HASHES_PER_QUERY = 100  # file hashes named in one `$in` filter


def stored_vectors(store: Store, file_hashes: Iterable[str]) -> dict[tuple, np.ndarray]:
    """The stored vectors of chunks of these file versions, by (file hash, start, end, text)."""
    hashes = sorted(set(file_hashes))
    found: dict[tuple, np.ndarray] = {}
    for i in range(0, len(hashes), HASHES_PER_QUERY):
        where = {"file_hash": {"$in": hashes[i : i + HASHES_PER_QUERY]}}
        got = store.call(
            # The collection itself: Store keeps no reader of vectors by file version.
            lambda w=where: store._col.get(
                where=w, include=["metadatas", "documents", "embeddings"]
            )
        )
        for meta, text, vector in zip(
            got["metadatas"], got["documents"], got["embeddings"], strict=True
        ):
            key = (meta["file_hash"], int(meta["start"]), int(meta["end"]), text)
            found[key] = np.asarray(vector, dtype=np.float32)
    return found


def key(chunk: Chunk) -> tuple:
    """What makes a chunk's vector the same as a stored one's."""
    return (chunk.file_hash, chunk.start, chunk.end, chunk.text)


def missing(group: Sequence[Chunk], found: dict[tuple, np.ndarray]) -> list[int]:
    """Positions of the chunks whose vector is not stored yet."""
    return [i for i, c in enumerate(group) if key(c) not in found]
