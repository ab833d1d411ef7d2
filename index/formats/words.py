"""Known English words (``index.text.ranks``, the embedder's vocabulary): to tell a hyphenated
line break from a hyphenated compound, and to put back the spaces OCR drops between words."""

from __future__ import annotations

import math
import re

from index.text.ranks import known_words, vocabulary

SOFT_HYPHEN = "\u00ad"  # what a reader puts at a line end that the PDF marks as hyphenation

# Two-letter words that may stand alone when a run of letters is split again; other short pieces
# ("st", "ist") are more often the end of a longer word the vocabulary lacks.
_SHORT = frozenset(
    "an as at be by do go he if in is it me my no of on or so to up us we".split()  # noqa: SIM905
)
COMMON_RANK = 3500  # a three-letter piece must be at least this common (its vocabulary rank)
MIN_PIECES = 3  # a run is split only into this many words or more: "photosynthesis" stays whole
_RUN = re.compile(r"[A-Za-z]{9,}")
_GLUED_STOP = re.compile(r"(?<=[a-z])\.(?=[A-Z][a-z])")


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
    vocab = vocabulary()
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


def join_wrapped(prev: str, text: str, vocabulary: set[str]) -> tuple[str, str]:
    """The previous line and the separator that joins the next, wrapped line to it."""
    if prev.endswith(SOFT_HYPHEN):
        return prev[:-1], ""
    m = re.search(r"(\w+)-$", prev)
    if not m:
        return prev, " "
    if not text[:1].islower():
        return prev, ""  # "Yarrow-" + "Schlick", "AS-" + "101": a hyphen inside a name
    head = m.group(1).lower()
    tail = re.match(r"\w*", text).group(0).lower()
    return (prev if _compound(head, tail, vocabulary) else prev[:-1]), ""


_SUFFIXES = (
    "ing", "ings", "ed", "er", "ers", "est", "es", "s", "ly", "ion", "ions", "tion", "ment",
    "ments", "ness", "able", "ible", "al", "ial", "ous", "ive", "ile", "ity", "ism", "ist",
    "ists", "ure", "ance", "ence", "ant", "ent", "ary", "ory", "ful", "less", "ship", "ize",
    "ise", "ized", "ised", "ization", "ic", "ical", "ally", "age", "ages",
)  # fmt: skip


def _compound(head: str, tail: str, vocabulary: set[str]) -> bool:
    """Is ``head-`` + ``tail`` at a line break a compound (keep the hyphen), not hyphenation?"""
    joined = head + tail
    if joined in vocabulary:
        return False
    if f"{head}-{tail}" in vocabulary or head[-1:].isdigit():
        return True  # written so elsewhere in the document; "5-cylinder"
    if head[-1:] in "aeiou" and head[-1:] == tail[:1]:
        return True  # "re-evaporation", "co-operate": the hyphen keeps the vowels apart
    known = known_words()
    if _is_word(joined, known) or tail in _SUFFIXES:
        return False  # "inter-national", "harness-ing", "duct-ile"
    # "eight-year", "multi-member": both halves are words, together they are not one.
    return all(
        (_is_word(part, known) or part in vocabulary) and len(part) > 1 for part in (head, tail)
    )


def _is_word(word: str, known: frozenset[str]) -> bool:
    """A known word, or one with a common ending on a known stem ("harnessing", "ductile")."""
    if word in known:
        return True
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            if (
                stem in known
                or stem + "e" in known
                or (stem[:-1] in known and stem[-1] == stem[-2])
            ):
                return True
    return False
