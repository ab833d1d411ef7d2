"""BM25 over an inverted index kept as numpy arrays: postings, merging, scoring.

The terms are ``index.text.tokens.tokenize``'s.

Postings of a segment are stored by term (CSC): ``indptr[t]:indptr[t+1]`` slices ``docs`` (the
global positions of the chunks holding term t, ascending) and ``tf`` (how often). Arrays can be
memory-mapped ``.npy`` files, so a million-chunk index opens without reading its postings.

Scores follow bm25s' "lucene" variant exactly (k1 1.2, b 0.75), computed at query time from the
term counts: idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5)), and each posting adds
idf(t) * tf / (tf + k1 * (1 - b + b * dl / avgdl)). So an index grown by small updates scores
exactly as one built at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

K1, B = 1.2, 0.75


def idf(df: np.ndarray | float, n: int) -> np.ndarray | float:
    """Lucene's BM25 idf of terms held by ``df`` of ``n`` chunks."""
    return np.log(1.0 + (n - df + 0.5) / (df + 0.5))


@dataclass(frozen=True)
class Postings:
    """One segment's postings by term, and the token count of each chunk it holds."""

    indptr: np.ndarray  # int64, n_terms + 1
    docs: np.ndarray  # int32 global positions
    tf: np.ndarray  # uint16 term counts
    first: int  # the first position this segment holds
    dl: np.ndarray  # float32 token counts of positions first, first + 1, ...

    @property
    def n_terms(self) -> int:
        """Terms this segment has postings slots for."""
        return len(self.indptr) - 1

    def term(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions, counts) of one term."""
        if t >= self.n_terms:
            return _EMPTY_I, _EMPTY_T
        a, b = int(self.indptr[t]), int(self.indptr[t + 1])
        return self.docs[a:b], self.tf[a:b]

    def save(self, folder: Path, name: str) -> None:
        """Write the arrays as ``<name>.<array>.npy`` (memory-mappable)."""
        for key in ("indptr", "docs", "tf", "dl"):
            np.save(folder / f"{name}.{key}.npy", getattr(self, key))

    @classmethod
    def load(cls, folder: Path, name: str, first: int) -> Postings:
        """Open a saved segment memory-mapped (nothing is read until used)."""
        arrays = {k: np.load(folder / f"{name}.{k}.npy", mmap_mode="r")
                  for k in ("indptr", "docs", "tf", "dl")}  # fmt: skip
        return cls(first=first, **arrays)


_EMPTY_I = np.zeros(0, dtype=np.int32)
_EMPTY_T = np.zeros(0, dtype=np.uint16)


def build_part(term_ids: Sequence[Sequence[int]], first: int) -> Postings:
    """The postings of consecutive chunks (their term ids, in order) from position ``first``."""
    n = len(term_ids)
    lengths = np.fromiter((len(t) for t in term_ids), dtype=np.int64, count=n)
    flat = np.fromiter((t for ts in term_ids for t in ts), dtype=np.int64, count=int(lengths.sum()))
    local = np.repeat(np.arange(n, dtype=np.int64), lengths)
    keys, counts = np.unique(flat * max(n, 1) + local, return_counts=True)
    terms = keys // max(n, 1)
    n_terms = int(terms[-1]) + 1 if len(terms) else 0
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(np.bincount(terms, minlength=n_terms), out=indptr[1:])
    docs = (keys % max(n, 1) + first).astype(np.int32)
    tf = np.minimum(counts, np.iinfo(np.uint16).max).astype(np.uint16)
    return Postings(indptr, docs, tf, first, lengths.astype(np.float32))


def merge(
    parts: Sequence[Postings],
    keep: np.ndarray | None = None,
    out: tuple[Path, str] | None = None,
) -> Postings:
    """One segment from consecutive ones, term by term, without the positions ``keep`` drops.

    Positions are kept as they are (dropped ones stay as holes). With ``out`` the arrays are
    written straight into ``.npy`` files there, so a large merge holds little in memory.
    """
    n_terms = max((p.n_terms for p in parts), default=0)
    counts = []
    for p in parts:
        terms = np.repeat(np.arange(p.n_terms, dtype=np.int64), np.diff(p.indptr))
        if keep is not None:
            terms = terms[keep[p.docs]]
        counts.append(np.bincount(terms, minlength=n_terms).astype(np.int64))
    total = np.sum(counts, axis=0) if counts else np.zeros(n_terms, dtype=np.int64)
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(total, out=indptr[1:])
    size = int(indptr[-1])
    docs = _array(out, "docs", size, np.int32)
    tf = _array(out, "tf", size, np.uint16)
    before = np.zeros(n_terms, dtype=np.int64)  # postings of earlier parts, per term
    for p, c in zip(parts, counts, strict=True):
        terms = np.repeat(np.arange(p.n_terms, dtype=np.int64), np.diff(p.indptr))
        d, f = np.asarray(p.docs), np.asarray(p.tf)
        if keep is not None:
            mask = keep[d]
            terms, d, f = terms[mask], d[mask], f[mask]
        starts = np.cumsum(c) - c  # where each term begins among this part's kept postings
        dest = indptr[terms] + before[terms] + (np.arange(len(terms)) - starts[terms])
        docs[dest], tf[dest] = d, f
        before += c
    first = parts[0].first if parts else 0
    dl = np.concatenate([np.asarray(p.dl) for p in parts]) if parts else np.zeros(0, np.float32)
    if out is not None:
        folder, name = out
        np.save(folder / f"{name}.indptr.npy", indptr)
        np.save(folder / f"{name}.dl.npy", dl)
        docs.flush()
        tf.flush()
        return Postings.load(folder, name, first)
    return Postings(indptr, docs, tf, first, dl)


def _array(out: tuple[Path, str] | None, key: str, size: int, dtype) -> np.ndarray:
    if out is None:
        return np.empty(size, dtype=dtype)
    folder, name = out
    return np.lib.format.open_memmap(
        folder / f"{name}.{key}.npy", mode="w+", dtype=dtype, shape=(size,)
    )


def norms(segments: Sequence[Postings], n_pos: int, dead: np.ndarray, avgdl: float) -> np.ndarray:
    """k1 * (1 - b + b * dl / avgdl) per position; infinite (no score) where nothing lives."""
    out = np.full(n_pos, np.inf, dtype=np.float32)
    for s in segments:
        dl = np.asarray(s.dl, dtype=np.float32)
        out[s.first : s.first + len(dl)] = K1 * (1 - B + B * dl / np.float32(avgdl or 1.0))
    out[dead] = np.inf
    return out


class QueryScores:
    """BM25 of one query at every position, exact, but computed only where it is needed.

    ``top(k)`` finds the k best without scoring every chunk for every term (MaxScore): terms go
    heaviest (rarest) first, each scored over its whole posting list, until the terms left
    could add less, even all together, than the k-th best score so far; a chunk none of the
    scored terms touched cannot then reach the top, and the terms left are looked up for the
    remaining candidates only. ``qs[position]`` is the exact score of any position (for the
    dense side's candidates). Contributions are added in one fixed term order everywhere, so
    every route gives the same number.
    """

    def __init__(
        self,
        segments: Sequence[Postings],
        terms: Sequence[int],
        weights: Sequence[float],
        norm: np.ndarray,
    ):
        merged: dict[int, float] = {}
        for t, w in zip(terms, weights, strict=True):  # a repeated term counts again (bm25s)
            merged[t] = merged.get(t, 0.0) + float(w)
        self.terms = sorted(merged.items(), key=lambda tw: (-tw[1], tw[0]))
        self.segments, self.norm = segments, norm
        self._known: dict[int, float] = {}

    def _add(self, out: np.ndarray, w: float, d: np.ndarray, f: np.ndarray, at=None) -> None:
        f = f.astype(np.float32)
        part = np.float32(w) * f / (f + self.norm[d])
        if at is None:
            out[d] += part
        else:
            out[at] += part

    def _lookup(self, out: np.ndarray, positions: np.ndarray, term: int, w: float) -> None:
        """Add one term's contributions at sorted, distinct positions."""
        for s in self.segments:
            d, f = s.term(term)
            if not len(d):
                continue
            idx = np.searchsorted(d, positions)
            inside = idx < len(d)
            hit = np.zeros(len(positions), dtype=bool)
            hit[inside] = d[idx[inside]] == positions[inside]
            if hit.any():
                j = idx[hit]
                self._add(out, w, np.asarray(d[j]), np.asarray(f[j]), at=np.flatnonzero(hit))

    def at(self, positions: Sequence[int]) -> np.ndarray:
        """Exact scores of these positions (float32, in the order given)."""
        pos = np.asarray(positions, dtype=np.int64)
        order = np.argsort(pos, kind="stable")
        sorted_pos = np.unique(pos[order])
        vals = np.zeros(len(sorted_pos), dtype=np.float32)
        for t, w in self.terms:
            self._lookup(vals, sorted_pos, t, w)
        out = np.empty(len(pos), dtype=np.float32)
        out[order] = vals[np.searchsorted(sorted_pos, pos[order])]
        return out

    def __getitem__(self, position: int) -> float:
        position = int(position)
        if position not in self._known:
            self._known[position] = float(self.at([position])[0])
        return self._known[position]

    def __len__(self) -> int:
        return len(self.norm)

    def dense(self) -> np.ndarray:
        """The score of every position."""
        out = np.zeros(len(self.norm), dtype=np.float32)
        for t, w in self.terms:
            for s in self.segments:
                d, f = s.term(t)
                if len(d):
                    self._add(out, w, d, f)
        return out

    def __array__(self, dtype=None, copy=None):
        out = self.dense()
        return out if dtype is None else out.astype(dtype)

    def top(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions and exact scores of every chunk that can be among the k best (all ties)."""
        acc = np.zeros(len(self.norm), dtype=np.float32)
        rest = sum(w for _, w in self.terms)
        done, kth = 0, 0.0
        for t, w in self.terms:
            for s in self.segments:
                d, f = s.term(t)
                if len(d):
                    self._add(acc, w, d, f)
            done += 1
            rest -= w
            if done < len(self.terms) and rest < float(acc.max()):
                touched = np.flatnonzero(acc)
                if len(touched) >= k:
                    kth = float(np.partition(acc[touched], len(touched) - k)[len(touched) - k])
                    if rest < kth:
                        break  # no untouched chunk can reach the k-th score any more
        touched = np.flatnonzero(acc)
        if done == len(self.terms):
            vals = acc[touched]
        else:
            touched = touched[acc[touched] + np.float32(rest) >= np.float32(kth)]
            vals = acc[touched]
            for t, w in self.terms[done:]:
                self._lookup(vals, touched, t, w)
        self._known.update(zip(touched.tolist(), vals.tolist(), strict=True))
        return touched, vals
