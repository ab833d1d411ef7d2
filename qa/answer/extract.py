"""Extractive answers: the retrieved sentence that best answers the question, focused and quoted.

Every sentence of the retrieved passages is scored against the question; the best one is cut to
the clause that answers (``qa.answer.focus``), with the answer-bearing phrase marked in
``Citation.phrases``. A second sentence joins only when it adds question words the first lacks.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace

from index.text import MONTHS, WEEKDAYS, sentence_spans, tokenize, weighted_share
from qa.answer.focus import FocusWeights, focus
from qa.answer.verdict import Evidence, Thresholds, decide, relevance
from qa.question.asked import NUMBER, covered
from qa.question.followup import dangling
from qa.types import ANSWERED, REFUSED, UNCERTAIN, Citation, Passage, Span, Status

log = logging.getLogger(__name__)

# Constants tuned by eval/tune.py on the TUNE halves of the reference sets (README: tuned
# constants). Embedding every candidate sentence at question time added nothing over word
# overlap (SQuAD, 2 sentences: 0.836 with it, 0.838 without) and cost ~1 s a question.
W_LEXICAL = 0.5  # IDF-weighted share of the question's words found in the sentence
W_PASSAGE = 0.5  # the passage's retrieval score relative to the best passage
W_TYPE = 0.05  # the sentence holds (or lacks) the kind of thing asked for: a date, a number, a name
W_SHORT = 0.2  # a heading or title line is not an answer
SHORT_WORDS = 6
SECOND_MIN_GAIN = 0.1  # a second sentence must add this share of the question's word weight
SECOND_SENTENCE_RATIO = 0.7  # ... and score at least this close to the best

NOT_IN_DOCUMENTS = "The documents do not answer this question."
NOT_SURE = "Not sure: the documents may not answer this. The closest they come:"

_YEAR = re.compile(r"\b(1\d{3}|20\d{2})s?\b")
_TIME = re.compile(rf"\b({MONTHS}|{WEEKDAYS}|century|decade|\d{{1,2}}(st|nd|rd|th))\b")
_NAME = re.compile(r"\b[A-Z][a-z]+")
_CONTENTS_ENTRY = re.compile(r"…\s*[\divxlc]{1,5}$", re.IGNORECASE)  # as PDFs' contents read


@dataclass(frozen=True)
class AnswerWeights:
    """Every constant of the extractive answer, as eval/tune.py varies them."""

    lexical: float = W_LEXICAL
    passage: float = W_PASSAGE
    kind: float = W_TYPE
    short: float = W_SHORT
    second_gain: float = SECOND_MIN_GAIN
    second_ratio: float = SECOND_SENTENCE_RATIO
    focus: FocusWeights = field(default_factory=FocusWeights)


@dataclass(frozen=True)
class ScoredSentence:
    """A candidate answer sentence inside a passage."""

    passage: Passage
    span: Span
    score: float
    lexical: float


def candidate_sentences(passages: list[Passage]) -> list[tuple[Passage, Span]]:
    """Every sentence of the passages, with its span in the source document."""
    out = []
    for p in passages:
        for s, e in sentence_spans(p.text):
            out.append((p, Span(p.start + s, p.start + e, p.text[s:e])))
    return out


_VERBS_TEXT = (
    "is are was were do does did has have had can could will would should may might the a an"
)
_NOT_A_NOUN = frozenset(_VERBS_TEXT.split())


_DEFINITION = re.compile(
    r"\s*(?i:who\s+(?:is|was|are|were))\s+(?:the\s+)?[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*)*\s*\??\s*$"
)


def answer_kind(question: str) -> str | None:
    """What the question asks for: 'time', 'number', 'name', 'place', 'entity' (which/what
    + a noun: a team, a country...) or None when it cannot tell."""
    q = question.lower()
    if re.search(r"\b(when|what year|which year|what date|what century|what decade)\b", q):
        return "time"
    if re.search(
        r"\bhow (many|much|long|old|far|large|big|tall|high|often)\b"
        r"|\bwhat (percentage|percent|number|amount)\b",
        q,
    ):
        return "number"
    if re.search(r"\b(who|whom|whose)\b", q):
        # "Who is Wang Yi?" asks what a named one is: a description, not another name.
        return None if _DEFINITION.match(question) else "name"
    if re.search(r"\bwhere\b", q):
        return "place"
    m = re.search(r"\b(which|what)\s+(\w+)", q)
    if m and m.group(2) not in _NOT_A_NOUN:
        return "entity"
    return None


def has_kind(kind: str, sentence: str, question: str) -> bool:
    """True when the sentence holds something of that kind that the question does not."""
    if kind == "time":
        return bool(_YEAR.search(sentence) or _TIME.search(sentence))
    if kind == "number":
        return bool(NUMBER.search(sentence))
    asked = set(re.findall(r"\w+", question.lower()))
    # The sentence's first word is capitalised anyway; it says nothing about names.
    return any(m.start() > 0 and m.group(0).lower() not in asked for m in _NAME.finditer(sentence))


def score_sentences(
    question: str,
    passages: list[Passage],
    weights: dict[str, float],
    aw: AnswerWeights | None = None,
) -> list[ScoredSentence]:
    """Score every sentence of the passages against the question, best first.

    ``weights``: the question's words with their IDF (``Corpus.weights``).
    """
    aw = aw or AnswerWeights()
    cands = candidate_sentences(passages)
    if not cands:
        return []
    kind = answer_kind(question)
    top = max((p.score for p in passages), default=1.0) or 1.0
    scored = []
    for p, span in cands:
        lex = covered(weights, span.text)
        score = aw.lexical * lex + aw.passage * (p.score / top)
        if kind is not None:
            score += aw.kind if has_kind(kind, span.text, question) else -aw.kind
        if len(span.text.split()) < SHORT_WORDS:
            score -= aw.short
        if _CONTENTS_ENTRY.search(span.text):
            score -= 1.0  # it points to the answer, it never is one: below every real sentence
        scored.append(ScoredSentence(p, span, score, lex))
    scored.sort(key=lambda s: -s.score)
    return scored


def choose(
    scored: list[ScoredSentence],
    max_sentences: int,
    weights: dict[str, float],
    aw: AnswerWeights | None = None,
) -> list[ScoredSentence]:
    """The best sentence, plus others only when they add question words the ones before lack."""
    aw = aw or AnswerWeights()
    if not scored:
        return []
    best = scored[0]
    chosen = [best]
    have = set(tokenize(best.span.text))
    for s in scored[1:]:
        if (
            len(chosen) >= max_sentences
            or best.score <= 0
            or s.score < aw.second_ratio * best.score
        ):
            break
        words = set(tokenize(s.span.text))
        gain = weighted_share(weights, words - have)  # the asked words it adds
        if gain >= aw.second_gain and s.span.text != best.span.text:
            chosen.append(s)
            have |= words
    return chosen


def compose(
    chosen: list[ScoredSentence],
    question: str = "",
    weights: dict[str, float] | None = None,
    aw: AnswerWeights | None = None,
    focused: bool = True,
) -> tuple[str, tuple[Citation, ...]]:
    """Quote the chosen sentences with ``[n]`` markers; one citation per passage used.

    The best sentence is cut to its answering clause, with the phrase marked, when ``focused``.
    """
    aw = aw or AnswerWeights()
    numbers: dict[str, int] = {}
    quoted: dict[str, list[Span]] = {}
    sentences: dict[str, list[Span]] = {}
    phrases: dict[str, list[Span]] = {}
    passages: dict[str, Passage] = {}
    kind = answer_kind(question)
    for k, s in enumerate(chosen):
        pid = s.passage.id
        if pid not in numbers:
            numbers[pid] = len(numbers) + 1
            passages[pid] = s.passage
            quoted[pid], sentences[pid], phrases[pid] = [], [], []
        sentences[pid].append(s.span)
        if focused and k == 0 and weights:
            f = focus(s.span.text, question, weights, kind, aw.focus)
            quoted[pid].append(_sub(s.span, f.start, f.end))
            phrases[pid] += [_sub(s.span, a, b) for a, b in f.phrases]
        else:
            quoted[pid].append(s.span)
    # The answering clause leads; other quotes of a passage follow in document order.
    parts = [
        " ".join(
            sp.text for sp in quoted[pid][:1] + sorted(quoted[pid][1:], key=lambda sp: sp.start)
        )
        + f" [{n}]"
        for pid, n in numbers.items()
    ]
    citations = tuple(
        Citation(
            n,
            passages[pid],
            tuple(sorted(sentences[pid], key=lambda sp: sp.start)),
            tuple(sorted(phrases[pid], key=lambda sp: sp.start)),
        )
        for pid, n in numbers.items()
    )
    return " ".join(parts), citations


def _sub(span: Span, start: int, end: int) -> Span:
    """The part ``[start:end]`` of a span's text, in document coordinates."""
    return Span(span.start + start, span.start + end, span.text[start:end])


@dataclass(frozen=True)
class Draft:
    """An extractive answer before timings: its outcome, text, citations and the evidence."""

    status: Status
    text: str
    citations: tuple[Citation, ...]
    evidence: Evidence


def answer(
    question: str,
    passages: list[Passage],
    weights: dict[str, float],
    thresholds: Thresholds,
    max_sentences: int,
    aw: AnswerWeights | None = None,
    focused: bool = True,
) -> Draft:
    """The extractive answer: focused and confident, "not sure" with the closest sentences, or
    a refusal (``qa.answer.verdict`` decides which). ``focused=False`` quotes whole sentences."""
    aw = aw or AnswerWeights()
    if dangling(question):  # "he" names no one here: at most the closest passages
        thresholds = replace(thresholds, answer_confidence=float("inf"))
    rel = relevance(passages, weights) if passages else 0.0
    scored = score_sentences(question, passages, weights, aw) if passages else []
    evidence = Evidence(rel, scored[0].lexical if scored else 0.0)
    status = decide(evidence, thresholds) if scored else REFUSED
    if status == REFUSED:
        return Draft(REFUSED, NOT_IN_DOCUMENTS, (), evidence)
    chosen = choose(scored, max_sentences, weights, aw)
    if status == UNCERTAIN:
        text, citations = compose(chosen, focused=False)
        return Draft(UNCERTAIN, f"{NOT_SURE} {text}", citations, evidence)
    text, citations = compose(chosen, question, weights, aw, focused)
    return Draft(ANSWERED, text, citations, evidence)
