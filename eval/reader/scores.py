"""Scores shared by training and evaluation: AUC and calibration error."""

from __future__ import annotations

import numpy as np


def auc(pos: list[float], neg: list[float]) -> float | None:
    """Probability that a positive scores above a negative (ties count half)."""
    if not pos or not neg:
        return None
    allv = np.concatenate([np.asarray(pos), np.asarray(neg)])
    ranks = np.argsort(np.argsort(allv, kind="mergesort"), kind="mergesort") + 1.0
    for v in np.unique(allv):  # average ranks of ties
        m = allv == v
        ranks[m] = ranks[m].mean()
    r = ranks[: len(pos)].sum()
    return float((r - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def ece(probs: list[float], labels: list[int], bins: int = 10) -> float | None:
    """Expected calibration error: |mean probability - share positive| per bin, weighted."""
    if not probs:
        return None
    p, y = np.asarray(probs), np.asarray(labels, dtype=float)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    return float(sum(abs(p[idx == b].mean() - y[idx == b].mean()) * (idx == b).sum()
                     for b in range(bins) if (idx == b).any()) / len(p))  # fmt: skip
