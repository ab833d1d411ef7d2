"""Pure metric functions: SQuAD-normalised exact match, token F1, containment, hit@k, MRR, means.

Nothing here knows about datasets, answers or records: each function takes strings, flags or
numbers, so the benchmarks and ``qa eval`` compute a metric the same way.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

from index.text import squash_spaces

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation)


def _is_punct(ch: str) -> bool:
    return ch in _PUNCT or unicodedata.category(ch).startswith("P")


def normalize(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, articles or extra spaces.

    Unicode punctuation (curly quotes, dashes) goes too, as in MLQA's extension of the SQuAD
    script: otherwise a quoted ``“disturbing”`` would never match the reference ``disturbing``.
    """
    text = "".join(ch for ch in text.lower() if not _is_punct(ch))
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, references: Sequence[str]) -> float:
    """1.0 if the normalised prediction equals a normalised reference."""
    p = normalize(prediction)
    return float(any(p == normalize(r) for r in references))


def token_f1(prediction: str, references: Sequence[str]) -> float:
    """Best token-overlap F1 of the prediction against the references (SQuAD)."""
    best = 0.0
    p_tokens = normalize(prediction).split()
    for ref in references:
        r_tokens = normalize(ref).split()
        common = Counter(p_tokens) & Counter(r_tokens)
        same = sum(common.values())
        if not p_tokens or not r_tokens:
            f1 = float(p_tokens == r_tokens)
        elif same == 0:
            f1 = 0.0
        else:
            precision, recall = same / len(p_tokens), same / len(r_tokens)
            f1 = 2 * precision * recall / (precision + recall)
        best = max(best, f1)
    return best


def contains_answer(prediction: str, references: Sequence[str]) -> float:
    """1.0 if a normalised reference occurs, on word boundaries, in the normalised prediction."""
    p = f" {normalize(prediction)} "
    return float(any(normalize(r) and f" {normalize(r)} " in p for r in references))


LONG_ANSWER_WORDS = 8  # a reference this long (a clause, a sentence) is found by recall
LONG_ANSWER_RECALL = 0.8  # ... when this share of its words is in the prediction


def holds_answer(prediction: str, references: Sequence[str]) -> float:
    """1.0 if the prediction holds a reference: it contains it (``contains_answer``), or, for a
    reference of LONG_ANSWER_WORDS or more (a contract clause, a sentence of a web page), holds
    LONG_ANSWER_RECALL of its words.

    Reference clauses are cut where an annotator chose; a quoted sentence that holds 80% of one
    answers the question, while ``contains_answer`` would ask for the annotator's exact cut.
    """
    if contains_answer(prediction, references):
        return 1.0
    p = Counter(normalize(prediction).split())
    for ref in references:
        r = Counter(normalize(ref).split())
        total = sum(r.values())
        if total >= LONG_ANSWER_WORDS and sum((p & r).values()) >= LONG_ANSWER_RECALL * total:
            return 1.0
    return 0.0


def first_gold_rank(gold_flags: Sequence[bool]) -> int | None:
    """1-based rank of the first relevant item, or None."""
    for i, g in enumerate(gold_flags, 1):
        if g:
            return i
    return None


def hit_at(gold_flags: Sequence[bool], k: int) -> float:
    """1.0 if a relevant item is within the first k."""
    return float(any(gold_flags[:k]))


def mrr_at(gold_flags: Sequence[bool], k: int = 10) -> float:
    """Reciprocal rank of the first relevant item within k (0 if none)."""
    rank = first_gold_rank(gold_flags[:k])
    return 1.0 / rank if rank else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; 0 for no values."""
    if not values:
        return 0.0
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def mean(values: Iterable[float | None]) -> float | None:
    """The mean of the values that are not None, to 4 decimals; None when there are none."""
    xs = [v for v in values if v is not None]
    return round(sum(xs) / len(xs), 4) if xs else None


def contains_text(haystack: str, needle: str) -> bool:
    """True if ``needle`` occurs in ``haystack`` once whitespace is normalised in both."""
    n = squash_spaces(needle)
    return bool(n) and n in squash_spaces(haystack)
