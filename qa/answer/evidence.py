"""The evidence an outcome is decided on: what the retrieved passages say about the question.

Every signal is on a scale that does not grow with the corpus, so one calibration serves a folder
of ten documents and one of ten thousand:

- ``cosine``: the best passage's cosine similarity to the question (the embedding model's view
  of meaning; its scale differs by model, hence calibrations per embedding model);
- ``coverage``: the largest IDF-weighted share of the asked words one passage holds (words);
- ``sentence``: that share for the best answer sentence;
- ``reader``: the reader model's calibrated probability that the best passage answers (None
  with the reader off);
- ``margin``: how far the reader prefers its best span in that passage to "no answer here";
- ``quoted`` and ``quoted_margin``: the same two, read on the answer as quoted (the sentences
  the user reads, not the passage around them): whether what is shown answers. Leave-one-domain-
  out they more than doubled the questions answered with confidence (eval/calibrate.py, README);
- ``gap``: how far the reader's most relevant passage stands above the next one. One passage
  that clearly answers is more often right than several that half do: leave-one-domain-out it
  raised the share of confident answers that are right on SQuAD, COVID-QA and TAT-QA (README);
- the answer's shape (``Shape``): what the question asks for (a time, a number, a name, a place,
  an entity: ``extract.answer_kind``), whether it is a yes/no or a what-to-do question, and how
  long the answer as quoted is. How often an extractive answer is right depends on it (a date
  asked for is found or not; a procedure is rarely one sentence). Read by the ``right`` model
  only: leave-one-domain-out it answered 37% of the answerable questions with confidence instead
  of 25%, at 70% right instead of 63% (eval/calibrate.py, README).

``features`` is the vector the calibrated decision (``qa.answer.verdict``) reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qa.answer.extract import answer_kind
from qa.answer.reader import Reading, squash
from qa.question.asked import covered, how_to, yes_no
from qa.types import Passage

KINDS = ("time", "number", "name", "place", "entity")  # what ``answer_kind`` tells apart
SHAPE_FEATURES = (*KINDS, "yes_no", "how_to", "length")  # read by the right model only
FEATURES = (
    "cosine", "coverage", "relevance", "sentence", "reader", "margin", "quoted", "quoted_margin",
    "gap", *SHAPE_FEATURES,
)  # fmt: skip
LENGTH_SCALE = 60  # words of the answer as quoted that read as 1.0 (capped at twice that)


@dataclass(frozen=True)
class Shape:
    """What a question asks for, and how long the answer given to it is."""

    kind: str | None = None  # ``extract.answer_kind``
    yes_no: bool = False
    how_to: bool = False
    words: int = 0  # of the answer as quoted
    settled: bool = False  # a yes or no both things' documents settle (a rule, not a feature)

    def features(self) -> tuple[float, ...]:
        return (
            *(1.0 if self.kind == k else 0.0 for k in KINDS),
            float(self.yes_no),
            float(self.how_to),
            min(self.words, 2 * LENGTH_SCALE) / LENGTH_SCALE,
        )


def shape_of(question: str, answer: str, settled: bool = False) -> Shape:
    """The shape of the question as the user wrote it and of the answer as quoted (no markers);
    ``settled``: the answer is a yes or no that the documents settle (``Draft.verdict``)."""
    return Shape(
        kind=answer_kind(question),
        yes_no=yes_no(question),
        how_to=how_to(question),
        words=len(answer.split()),
        settled=settled,
    )


@dataclass(frozen=True)
class Evidence:
    """How well the retrieved passages, and the best sentence in them, match the question."""

    cosine: float = 0.0
    coverage: float = 0.0
    sentence: float = 0.0
    reader: float | None = None
    margin: float | None = None
    quoted: float | None = None
    quoted_margin: float | None = None
    gap: float | None = None
    shape: Shape = Shape()

    @property
    def settled(self) -> bool:
        """The answer is a yes or no the documents of both things asked about settle."""
        return self.shape.settled

    @property
    def relevance(self) -> float:
        """Meaning and words together: the mean of the best cosine and the best coverage."""
        return 0.5 * self.cosine + 0.5 * self.coverage

    def features(self) -> tuple[float, ...]:
        """The signals in ``FEATURES`` order; a missing reader reads as 0 (its own calibration)."""
        return (
            self.cosine,
            self.coverage,
            self.relevance,
            self.sentence,
            self.reader if self.reader is not None else 0.0,
            _squashed(self.margin),
            self.quoted if self.quoted is not None else 0.0,
            _squashed(self.quoted_margin),
            self.gap if self.gap is not None else 0.0,
            *self.shape.features(),
        )


def _squashed(margin: float | None) -> float:
    """A span-over-null margin on (-1, 1) (``reader.squash``); 0 without a reader."""
    return squash(margin) if margin is not None else 0.0


def weigh(
    passages: Sequence[Passage],
    weights: dict[str, float],
    sentence: float = 0.0,
    reader: float | None = None,
    margin: float | None = None,
    quoted: Reading | None = None,
    gap: float | None = None,
    shape: Shape = Shape(),
) -> Evidence:
    """The evidence of these passages for a question whose asked words are ``weights``;
    ``quoted``: the reader's reading of the answer as quoted; ``gap``: ``Found.gap``;
    ``shape``: ``shape_of`` the question and the answer."""
    cosine = max((p.dense for p in passages if p.dense is not None), default=0.0)
    coverage = max((covered(weights, p.text) for p in passages), default=0.0)
    if quoted is None:
        return Evidence(cosine, coverage, sentence, reader, margin, gap=gap, shape=shape)
    return Evidence(
        cosine, coverage, sentence, reader, margin, quoted.relevance, quoted.margin, gap, shape
    )
