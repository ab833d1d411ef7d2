"""Exact nearest neighbours for a collection small enough to hold its vectors in memory.

Chroma's HNSW graph is approximate, and in embedded mode it is built again from the write log
each time a process opens a collection that has not reached its sync threshold, on several
threads: two processes asking the same question of the same folder did not always get the
same passages. Measured on the evaluation's 13 collections (10 to 5,534 chunks), 396, 420 and
389 of 7,422 questions, in three runs, missed one of their 10 nearest chunks, a different set in
each process, however large ``n_results`` or ``ef_search`` was (eval/exact_gain.py). Most were questions
the documents are not about, where every cosine is low and the graph's greedy walk stops
early; some missed their best chunk.

Up to ``EXACT_UP_TO`` chunks (the folders people ask of) the nearest chunks are found by one
matrix product over every live chunk of the keyword snapshot: exact, the same in every process,
ties broken by chunk id. Larger collections use Chroma's index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EXACT_UP_TO = 20_000  # chunks: 30 MB of float32 vectors, about 3 ms a question on 2 cores
# Rows per matrix-vector product. OpenBLAS runs a product this size on one thread; a larger one it
# spreads over every core, and on a busy 2-core machine (a test run beside it) 5,000 rows at
# once took 12 ms a question where five blocks of 1,024 took 0.13 ms (20,000 rows: 12 vs 3.4 ms).
BLOCK = 1_024


@dataclass(frozen=True)
class Vectors:
    """The vectors of one keyword snapshot's live chunks (``rows`` of ``ids`` and positions)."""

    ids: tuple[str, ...]
    positions: np.ndarray  # keyword-index position of each row
    matrix: np.ndarray  # float32, one row per chunk
    norms: np.ndarray  # each row's length (cosines are taken as the store takes them)

    @classmethod
    def build(cls, ids: list[str], positions: list[int], vectors: dict[str, np.ndarray]) -> Vectors:
        """Rows for the chunks the store returned a vector for, in the given order."""
        keep = [(cid, pos) for cid, pos in zip(ids, positions, strict=True) if cid in vectors]
        dim = next(iter(vectors.values())).shape[0] if vectors else 0
        matrix = np.zeros((len(keep), dim), dtype=np.float32)
        for row, (cid, _) in enumerate(keep):
            matrix[row] = vectors[cid]
        norms = np.clip(np.linalg.norm(matrix, axis=1), 1e-12, None)
        return cls(
            tuple(c for c, _ in keep),
            np.array([p for _, p in keep], dtype=np.int64),
            matrix,
            norms.astype(np.float32),
        )

    def __len__(self) -> int:
        return len(self.ids)

    def nearest(
        self, vector: np.ndarray, n: int, allowed: np.ndarray | None = None
    ) -> list[tuple[str, int, float]]:
        """The n rows of highest cosine to ``vector`` as (id, position, cosine), best first;
        of the rows whose position is in ``allowed`` only, if given. Equal cosines: by id."""
        if n < 1 or not len(self):
            return []
        v = vector.astype(np.float32)
        sims = np.empty(len(self), dtype=np.float32)
        for i in range(0, len(self), BLOCK):
            np.matmul(self.matrix[i : i + BLOCK], v, out=sims[i : i + BLOCK])
        sims /= self.norms
        if allowed is not None:
            inside = np.isin(self.positions, allowed)
            sims = np.where(inside, sims, -np.inf)
            n = min(n, int(inside.sum()))
            if n < 1:
                return []
        n = min(n, len(sims))
        best = np.argpartition(-sims, n - 1)[:n]
        tied = np.flatnonzero(sims >= sims[best].min())  # every row level with the n-th
        order = sorted(tied.tolist(), key=lambda r: (-float(sims[r]), self.ids[r]))[:n]
        return [(self.ids[r], int(self.positions[r]), float(sims[r])) for r in order]
