"""The reader's reading of the passages the answer step reads: each with its answer span.

The reader (``qa.answer.reader``) reads the question against each of the top passages in one
batched call. Its readings give the answer phrase (a span inside the sentence the answer quotes),
a say in which sentence that is (``qa.answer.extract.W_READER``), signals of the decision (the
best relevance, how far its span beats "no answer here", how far the best passage stands above
the next), and a say in the passages' order (``rank``). The answer as quoted is read too
(``reread``). Without the reader there are no readings and the fused order stands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qa.answer.reader import Reader, Reading
from qa.types import Passage, Span

# The passages' order with the reader: the fused score relative to the best passage's, plus these
# times the relevance logit and the squashed span-over-null margin (``Reading.squashed``).
# Reordering by the reader's relevance alone lost (SQuAD hit@1 0.877 -> 0.785: it trained on other
# kinds of text than the fusion was tuned for). With the fused score leading, fitted on the tune
# halves of the six domains for the general4 reader read by the exact int8 kernel
# (``python eval/rerank.py``; the margin then has no say): each left-out domain's first passage
# holds a reference answer as often or more often than in the fused order (SQuAD 0.889 -> 0.900,
# HotpotQA 0.380 -> 0.412, COVID-QA 0.539 -> 0.559, CUAD 0.198 -> 0.206, doc2dial 0.518 -> 0.561,
# TAT-QA 0.698 -> 0.740).
RANK_RELEVANCE = 0.07
RANK_MARGIN = 0.0


@dataclass(frozen=True)
class ReadSpan:
    """The reader's answer span in one passage, in document coordinates, with how likely the
    reader thinks that passage answers."""

    passage_id: str
    span: Span
    relevance: float
    sure: float = 0.0  # how far the reader prefers this span to "no answer here", on [0, 1)


@dataclass(frozen=True)
class Found:
    """The passages an answer reads, best first, with the reader's readings when it ran."""

    passages: tuple[Passage, ...]
    readings: tuple[Reading, ...] | None = None  # aligned with ``passages``
    weights: dict[str, float] | None = None  # the asked words with their IDF in the corpus

    def top(self, k: int) -> Found:
        """The first k passages (and their readings)."""
        readings = self.readings[:k] if self.readings is not None else None
        return Found(self.passages[:k], readings, self.weights)

    @property
    def spans(self) -> tuple[ReadSpan, ...]:
        """The reader's answer spans, the most relevant passage's first (none without a
        reader)."""
        if not self.readings:
            return ()
        order = sorted(range(len(self.readings)), key=lambda i: -self.readings[i].relevance)
        out = []
        for i in order:
            p, r = self.passages[i], self.readings[i]
            if r.end > r.start:
                span = Span(p.start + r.start, p.start + r.end, p.text[r.start : r.end])
                out.append(ReadSpan(p.id, span, r.relevance, max(0.0, r.squashed)))
        return tuple(out)

    @property
    def _best(self) -> Reading | None:
        return max(self.readings, key=lambda r: r.relevance) if self.readings else None

    @property
    def relevance(self) -> float | None:
        """The reader's probability that the most relevant passage answers (None without)."""
        return self._best.relevance if self._best else None

    @property
    def margin(self) -> float | None:
        """How far the reader prefers its span in that passage to "no answer here"."""
        return self._best.margin if self._best else None

    @property
    def gap(self) -> float | None:
        """How far the most relevant passage stands above the next one (its whole relevance
        when it is the only one): one passage that answers, not several that half do."""
        if not self.readings:
            return None
        top = sorted((r.relevance for r in self.readings), reverse=True)
        return top[0] - (top[1] if len(top) > 1 else 0.0)


def reread(reader: Reader, question: str, quoted: str) -> Reading | None:
    """The reader's reading of the answer as quoted (markers stripped): does what the user reads
    answer? Evidence for the decision (``qa.answer.evidence``); None for an empty answer."""
    return reader.score(question, [quoted])[0] if quoted.strip() else None


def spot(reader: Reader, question: str, sentence: str) -> tuple[int, int] | None:
    """The reader's answer span in one sentence read alone (offsets into it; None: none).

    Used where the reader's span in the passage lies outside the sentence the answer quotes
    (never where a sentence answers: ``extract.draft``), before the heuristic's phrase
    (``qa.answer.phrase``; measured by ``python eval/spot_gain.py``)."""
    r = reader.score(question, [sentence])[0]
    return (r.start, r.end) if r.end > r.start else None


def rank(
    passages: Sequence[Passage],
    readings: Sequence[Reading],
    relevance: float = RANK_RELEVANCE,
    margin: float = RANK_MARGIN,
) -> list[int]:
    """The order of the passages (indices) by fused score and reading together, best first;
    ties keep the fused order."""
    top = max((p.score for p in passages), default=0.0) or 1.0
    blend = [
        p.score / top + relevance * r.relevance_logit + margin * r.squashed
        for p, r in zip(passages, readings, strict=True)
    ]
    return sorted(range(len(passages)), key=lambda i: -blend[i])


def read(
    reader: Reader, question: str, passages: Sequence[Passage], weights: dict[str, float]
) -> Found:
    """The passages, each with the reader's reading, in the order of ``rank``."""
    if not passages:
        return Found((), (), weights)
    readings = reader.score(question, [p.text for p in passages])
    order = rank(passages, readings)
    return Found(tuple(passages[i] for i in order), tuple(readings[i] for i in order), weights)
