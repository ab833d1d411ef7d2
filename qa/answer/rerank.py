"""The reader's reading of the retrieved passages: reranked, each with its answer span.

The reader (``qa.answer.reader``) reads the question against each fused candidate in one
batched call. The passages are then ordered by its relevance, and the best one's span is the
answer phrase. Without the reader the fused order stands and there are no readings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qa.answer.reader import Reader, Reading
from qa.types import Passage, Span


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
    def span(self) -> Span | None:
        """The best passage's answer span, in document coordinates (None without a reader)."""
        if not self.readings or not self.passages:
            return None
        p, r = self.passages[0], self.readings[0]
        if r.end <= r.start:
            return None
        return Span(p.start + r.start, p.start + r.end, p.text[r.start : r.end])

    @property
    def relevance(self) -> float | None:
        """The reader's probability that the best passage answers (None without a reader)."""
        return self.readings[0].relevance if self.readings else None

    @property
    def margin(self) -> float | None:
        """How far the reader prefers its span in the best passage to "no answer here"."""
        return self.readings[0].margin if self.readings else None


def read(
    reader: Reader, question: str, passages: Sequence[Passage], weights: dict[str, float]
) -> Found:
    """The passages reranked by the reader's relevance (ties keep the fused order)."""
    if not passages:
        return Found((), (), weights)
    readings = reader.score(question, [p.text for p in passages])
    order = sorted(range(len(passages)), key=lambda i: -readings[i].relevance)
    return Found(
        tuple(passages[i] for i in order), tuple(readings[i] for i in order), weights
    )
