"""Whether the documents answer a question: answered, not sure (the closest passages), or refused.

Two signals, both on a 0-1 scale that does not depend on the corpus's size:

- **relevance**: the best passage's mean of its cosine similarity to the question and the
  IDF-weighted share of the question's words it holds. Below ``min_relevance`` nothing on the
  topic was found: a refusal, and in generated mode the model is not asked.
- **confidence**: relevance mixed with the share of the question's words that the best answer
  sentence holds. At or above ``answer_confidence`` the answer is given as one; between the two
  thresholds the closest passages are offered as such ("not sure").

Both thresholds and the mix are tuned by eval/tune.py on the TUNE halves: the first refuses as few
answerable questions as possible while refusing questions asked of another corpus, the second
keeps near-miss questions (their answer removed, their topic kept) from confident answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qa.question.asked import covered
from qa.types import ANSWERED, REFUSED, UNCERTAIN, Passage, Status

RELEVANCE_DENSE_WEIGHT = 0.5  # cosine vs word coverage in relevance
W_SENTENCE = 0.25  # share of the best sentence's word coverage in confidence (tuned)


@dataclass(frozen=True)
class Evidence:
    """How well the retrieved passages and the best sentence match the question."""

    relevance: float
    sentence: float  # IDF-weighted share of the question's words in the best answer sentence

    def confidence(self, w_sentence: float = W_SENTENCE) -> float:
        """Relevance mixed with the best sentence's coverage of the question."""
        return (1 - w_sentence) * self.relevance + w_sentence * self.sentence


@dataclass(frozen=True)
class Thresholds:
    """Where a refusal ends and a confident answer begins."""

    min_relevance: float
    answer_confidence: float
    w_sentence: float = W_SENTENCE


def relevance(passages: Sequence[Passage], weights: dict[str, float]) -> float:
    """How well the best passage matches the question, 0-1.

    Per passage, the mean of its cosine similarity to the question and the IDF-weighted share of
    the question's words it contains.
    """
    best = 0.0
    for p in passages:
        cover = covered(weights, p.text)
        cosine = p.dense if p.dense is not None else cover
        best = max(best, RELEVANCE_DENSE_WEIGHT * cosine + (1 - RELEVANCE_DENSE_WEIGHT) * cover)
    return best


def decide(evidence: Evidence, t: Thresholds) -> Status:
    """answered, uncertain or refused."""
    if evidence.relevance < t.min_relevance:
        return REFUSED
    if evidence.confidence(t.w_sentence) >= t.answer_confidence:
        return ANSWERED
    return UNCERTAIN
