"""The pieces of a training step: the lower layers' cache, batches, losses, prediction.

``train.py`` trains with them; ``check.py`` checks the split model with ``pad``. The model splits
at layer ``k``: the embeddings and the first k layers run once per example and are cached (fp16,
on disk, shared by every run with the same data and k); each step runs the other layers and the
heads on a batch of similar-length examples.
"""

from __future__ import annotations

import logging
import random
import time
from pathlib import Path

import numpy as np
import torch
from model import ReaderModel
from torch.nn import functional as F

log = logging.getLogger("train")

# ------------------------------------------------------------------ cache of lower layers


class Cache:
    """The output of the embeddings and the first k layers per example, fp16, on disk."""

    def __init__(self, path: Path, lengths: np.ndarray):
        self.offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        self.path = path
        self.lengths = lengths

    def ready(self) -> bool:
        return self.path.with_suffix(".done").is_file()

    def build(self, model: ReaderModel, examples: list[dict], k: int, batch: int = 64) -> None:
        total = int(self.offsets[-1])
        mm = np.lib.format.open_memmap(self.path, mode="w+", dtype=np.float16,
                                       shape=(total, 384))  # fmt: skip
        order = sorted(range(len(examples)), key=lambda i: len(examples[i]["ids"]))
        t0 = time.perf_counter()
        model.eval()
        with torch.inference_mode():
            for n in range(0, len(order), batch):
                idx = order[n : n + batch]
                ids, types, mask = pad([examples[i] for i in idx])
                h = model.lower(ids, types, mask, k).to(torch.float16).numpy()
                for row, i in enumerate(idx):
                    a, b = self.offsets[i], self.offsets[i + 1]
                    mm[a:b] = h[row, : b - a]
                if n // batch % 20 == 0:
                    log.info("cache %d/%d (%.0f s)", n, len(order), time.perf_counter() - t0)
        mm.flush()
        del mm
        self.path.with_suffix(".done").write_text("ok\n")

    def open(self) -> np.ndarray:
        return np.load(self.path, mmap_mode="r")


def pad(batch: list[dict]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    width = max(len(e["ids"]) for e in batch)
    ids = torch.zeros((len(batch), width), dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for row, e in enumerate(batch):
        n = len(e["ids"])
        ids[row, :n] = torch.tensor(e["ids"])
        types[row, :n] = torch.tensor(e["types"])
        mask[row, :n] = 1
    return ids, types, mask


def hidden(batch: list[dict], width: int) -> torch.Tensor:
    """The cached lower-layer output of each example (``e["h"]``: store, first, end), padded."""
    h = np.zeros((len(batch), width, 384), dtype=np.float32)
    for row, e in enumerate(batch):
        store, a, b = e["h"]
        h[row, : b - a] = store[a:b]
    return torch.from_numpy(h)


# ------------------------------------------------------------------ training


def batches(lengths: list[int], size: int, rng: random.Random) -> list[list[int]]:
    """Examples in batches of similar length (little padding), in a shuffled order."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunks = [order[i : i + size * 50] for i in range(0, len(order), size * 50)]
    out = []
    for c in chunks:  # sort within pools of 50 batches: similar lengths, still random
        c.sort(key=lambda i: lengths[i])
        out += [c[i : i + size] for i in range(0, len(c), size)]
    rng.shuffle(out)
    return out


def losses(start, end, rel, labels: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """Span loss over the examples it counts on, relevance loss over the labelled ones."""
    allowed = labels["allowed"]
    start = start.masked_fill(~allowed, -1e4)
    end = end.masked_fill(~allowed, -1e4)
    on = labels["span_on"]
    if on.any():
        span = (F.cross_entropy(start[on], labels["start"][on])
                + F.cross_entropy(end[on], labels["end"][on])) / 2  # fmt: skip
    else:
        span = start.sum() * 0
    known = labels["rel"] >= 0
    if known.any():
        r = F.binary_cross_entropy_with_logits(rel[known], labels["rel"][known].float())
    else:
        r = rel.sum() * 0
    return span, r


def label_tensors(batch: list[dict], width: int) -> dict:
    allowed = torch.zeros((len(batch), width), dtype=torch.bool)
    for row, e in enumerate(batch):
        allowed[row, 0] = True
        allowed[row, e["ctx"] : len(e["ids"]) - 1] = True
    return dict(
        allowed=allowed,
        span_on=torch.tensor([e["span_on"] for e in batch]),
        start=torch.tensor([e["start"] for e in batch]),
        end=torch.tensor([e["end"] for e in batch]),
        rel=torch.tensor([e["rel"] for e in batch]),
    )


def run_upper(model, k: int, batch: list[dict]):
    """The trained part of the model over a batch: (start, end, relevance), labels."""
    width = max(len(e["ids"]) for e in batch)
    ids, types, mask = pad(batch)
    if k == 0:
        with torch.no_grad():
            h = model.embed(ids, types)
    else:
        h = hidden(batch, width)
    return model.upper(h, mask, types, k), label_tensors(batch, width)


def predict(model, k: int, examples: list[dict]) -> tuple[list, list, np.ndarray]:
    """Start/end logits (per example, unpadded) and relevance logits, no dropout."""
    model.eval()
    starts, ends, rels = [None] * len(examples), [None] * len(examples), np.zeros(len(examples))
    order = sorted(range(len(examples)), key=lambda i: len(examples[i]["ids"]))
    with torch.inference_mode():
        for n in range(0, len(order), 64):
            idx = order[n : n + 64]
            (s, e, r), _ = run_upper(model, k, [examples[i] for i in idx])
            for row, i in enumerate(idx):
                n_tok = len(examples[i]["ids"])
                starts[i], ends[i] = s[row, :n_tok].numpy(), e[row, :n_tok].numpy()
                rels[i] = float(r[row])
    model.train()
    return starts, ends, rels


def platt(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """a, b minimising the log loss of sigmoid(a * logit + b) (Newton's method)."""
    a, b = 1.0, 0.0
    x, y = logits.astype(np.float64), labels.astype(np.float64)
    for _ in range(50):
        p = 1 / (1 + np.exp(-(a * x + b)))
        g = np.array([np.sum((p - y) * x), np.sum(p - y)])
        w = p * (1 - p) + 1e-9
        hess = np.array([[np.sum(w * x * x), np.sum(w * x)], [np.sum(w * x), np.sum(w)]])
        step = np.linalg.solve(hess + 1e-6 * np.eye(2), g)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-8:
            break
    return float(a), float(b)
