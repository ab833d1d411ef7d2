"""Answered, not sure, or refused: the one decision, made from the evidence and the question.

``decide`` is the only place an outcome is chosen (extractive and generated answers alike):

- **refused** only on a clear miss: the calibrated topic model (``qa.answer.calibration``) says
  the documents are not about the question at all, and no passage matches it in meaning as
  closely as the calibration's ``meaning_floor``: such a passage is never answered with "the
  documents do not answer this". A follow-up to an answered question is never refused outright
  (the conversation is on a topic the documents cover): at worst "not sure". A question in
  another language, read by an English-only embedding model, is refused as such (the surfaces
  name the setting that reads it), not as "not in the documents";
- **answered** when the calibrated probability that the extractive answer is right reaches
  ``confident_at`` (set where confident answers are right at least 80% of the time, on domains
  the calibration was fitted on), or when the answer is a yes or no that the documents of both
  things asked about settle (``qa.answer.polar``: right 18 times of 21 on HotpotQA's test half);
- **uncertain** ("not sure") otherwise: the best answer is still given first, said to be a guess;
  also when the question says "he" and names no one it could mean.

The outcome travels as data (``Verdict`` -> ``Answer.status`` and ``Answer.reason``); each
surface phrases it (``qa.outcomes.reply`` for text, the web chat its own way).
"""

from __future__ import annotations

from dataclasses import dataclass

from index.text import ENGLISH
from qa.answer.calibration import Calibration
from qa.answer.evidence import Evidence
from qa.outcomes import (
    ANSWERED,
    CONFIDENT,
    DANGLING,
    FOLLOW_UP,
    LANGUAGE,
    NO_PASSAGES,
    NOT_CONFIDENT,
    OFF_TOPIC,
    REFUSED,
    SETTLED,
    UNCERTAIN,
    Status,
)
from qa.question.read import Asked


@dataclass(frozen=True)
class Verdict:
    """The outcome and why, with the two calibrated probabilities behind it."""

    status: Status
    reason: str
    topic: float = 0.0  # probability that the documents are about the question
    right: float = 0.0  # probability that the extractive answer is right


def decide(
    evidence: Evidence | None,
    calibration: Calibration,
    asked: Asked,
    reads_language: bool = True,
) -> Verdict:
    """The outcome for a question with this evidence (None: nothing was retrieved).

    ``reads_language``: whether the embedding model reads the question's language (False for a
    non-English question under an English-only model).
    """
    language = f"{LANGUAGE}:{asked.language}"
    if evidence is None:
        return Verdict(REFUSED, language if not reads_language else NO_PASSAGES)
    topic = calibration.topic_probability(evidence)
    right = calibration.right_probability(evidence)
    if topic < calibration.refuse_below and not calibration.close_in_meaning(evidence):
        if asked.follows_answer:
            return Verdict(UNCERTAIN, FOLLOW_UP, topic, right)
        return Verdict(REFUSED, OFF_TOPIC if reads_language else language, topic, right)
    if not reads_language:
        return Verdict(UNCERTAIN, language, topic, right)
    if asked.dangling:
        return Verdict(UNCERTAIN, DANGLING, topic, right)
    if right >= calibration.confident_at:
        return Verdict(ANSWERED, CONFIDENT, topic, right)
    if evidence.settled:
        return Verdict(ANSWERED, SETTLED, topic, right)
    return Verdict(UNCERTAIN, NOT_CONFIDENT, topic, right)


def reads(language: str, multilingual: bool) -> bool:
    """Whether an embedding model reads a question in ``language``."""
    return multilingual or language == ENGLISH
