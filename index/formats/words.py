"""Known English words (the embedder's vocabulary): to tell a hyphenated line break from a
hyphenated compound, and to put back the spaces OCR drops between words."""

from __future__ import annotations

import functools
import json
import logging
import math
import re

log = logging.getLogger(__name__)

# Two-letter words that may stand alone when a run of letters is split again; other short pieces
# ("st", "ist") are more often the end of a longer word the vocabulary lacks.
_SHORT = frozenset(
    "an as at be by do go he if in is it me my no of on or so to up us we".split()  # noqa: SIM905
)
COMMON_RANK = 3500  # a three-letter piece must be at least this common (the vocabulary's order)
MIN_PIECES = 3  # a run is split only into this many words or more: "photosynthesis" stays whole
_RUN = re.compile(r"[A-Za-z]{9,}")
_GLUED_STOP = re.compile(r"(?<=[a-z])\.(?=[A-Z][a-z])")


@functools.cache
def _vocabulary() -> dict[str, int]:
    """The whole words of the bert-base-uncased vocabulary (~21k), with their place in it."""
    try:
        from index.embed import tokenizer_path

        vocab = json.loads(tokenizer_path().read_text(encoding="utf-8"))["model"]["vocab"]
    except Exception as exc:  # no local model installed (openai embeddings): do without
        log.debug("no word list: %s", exc)
        return {}
    return {w: i for w, i in vocab.items() if w.isalpha() and w.isascii()}


def common_rank(word: str) -> int:
    """How common a lowercase word is: 0 for "the", growing with rarity; large when unknown.

    The vocabulary lists whole words from "the" on in order of frequency (single letters come
    before it and count as common).
    """
    vocab = _vocabulary()
    if word not in vocab or "the" not in vocab:
        return 1 << 30
    return max(vocab[word] - vocab["the"], 0)


@functools.cache
def known_words() -> frozenset[str]:
    """The vocabulary's whole words of two letters or more; empty when the tokenizer is missing.

    Without it, hyphenation is judged by the document alone and OCR text is left as read.
    """
    return frozenset(w for w in _vocabulary() if len(w) > 1)


def _piece_cost(word: str, vocab: dict[str, int]) -> float | None:
    rank = vocab.get(word)
    if rank is None or (len(word) <= 2 and word not in _SHORT):
        return None
    if len(word) == 3 and rank > COMMON_RANK:
        return None
    return math.log(rank + 1) + 3.0  # fewer, more common words win


def _split(run: str, vocab: dict[str, int]) -> list[str] | None:
    """The cheapest reading of a lower-case run of letters as known words, or None."""
    n = len(run)
    best: list[tuple[float, list[str]] | None] = [(0.0, [])] + [None] * n
    for j in range(1, n + 1):
        for i in range(max(0, j - 20), j):
            if best[i] is None:
                continue
            cost = _piece_cost(run[i:j], vocab)
            if cost is not None and (best[j] is None or best[i][0] + cost < best[j][0]):
                best[j] = (best[i][0] + cost, [*best[i][1], run[i:j]])
    return best[n][1] if best[n] else None


def respace(text: str) -> str:
    """Text read by OCR with the spaces it dropped put back: "termofofficeisnow" -> "term of
    office is now". Only runs that are no known word and split into MIN_PIECES known words."""
    vocab = _vocabulary()
    if not vocab:
        return text
    text = _GLUED_STOP.sub(". ", text)

    def fix(m: re.Match) -> str:
        run = m.group(0)
        if run.lower() in vocab:
            return run
        pieces = _split(run.lower(), vocab)
        if not pieces or len(pieces) < MIN_PIECES:
            return run
        out, at = [], 0
        for p in pieces:  # the run's own letters, so that capitals stay
            out.append(run[at : at + len(p)])
            at += len(p)
        return " ".join(out)

    return _RUN.sub(fix, text)
