"""Extractive answers: the retrieved sentences that best answer the question, quoted as written."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from index.chunk import sentence_spans
from index.keyword import coverage
from qa.types import Citation, Passage, Span

log = logging.getLogger(__name__)

# Weights of the sentence score, measured on the shared SQuAD and HotpotQA sets and the seed
# questions (eval/bench.py). Embedding every candidate sentence at question time added nothing
# over word overlap there (SQuAD, 2 sentences: 0.836 with it, 0.838 without) and cost ~1 s.
W_LEXICAL = 0.5  # IDF-weighted share of the question's words found in the sentence
W_PASSAGE = 0.5  # the passage's retrieval score relative to the best passage
W_TYPE = 0.1  # the sentence holds (or lacks) the kind of thing asked for: a date, a number, a name
W_SHORT = 0.2  # a heading or title line is not an answer
SHORT_WORDS = 6
SECOND_SENTENCE_RATIO = 0.7  # a second sentence joins when it scores this close to the best

_YEAR = re.compile(r"\b(1\d{3}|20\d{2})s?\b")
_TIME = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|October|November|"
    r"December|century|decade|\d{1,2}(st|nd|rd|th))\b"
)
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|hundred|thousand|million|billion|dozen|half)\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"\b[A-Z][a-z]+")


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


def answer_kind(question: str) -> str | None:
    """What the question asks for: 'time', 'number', 'name', or None when it cannot tell."""
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
        return "name"
    return None


def has_kind(kind: str, sentence: str, question: str) -> bool:
    """True when the sentence holds something of that kind that the question does not."""
    if kind == "time":
        return bool(_YEAR.search(sentence) or _TIME.search(sentence))
    if kind == "number":
        return bool(_NUMBER.search(sentence))
    asked = set(re.findall(r"\w+", question.lower()))
    # The sentence's first word is capitalised anyway; it says nothing about names.
    return any(m.start() > 0 and m.group(0).lower() not in asked for m in _NAME.finditer(sentence))


def score_sentences(
    question: str, passages: list[Passage], weights: dict[str, float]
) -> list[ScoredSentence]:
    """Score every sentence of the passages against the question, best first.

    ``weights``: the question's words with their IDF (``Corpus.weights``).
    """
    cands = candidate_sentences(passages)
    if not cands:
        return []
    kind = answer_kind(question)
    top = max((p.score for p in passages), default=1.0) or 1.0
    scored = []
    for p, span in cands:
        lex = coverage(weights, span.text)
        score = W_LEXICAL * lex + W_PASSAGE * (p.score / top)
        if kind is not None:
            score += W_TYPE if has_kind(kind, span.text, question) else -W_TYPE
        if len(span.text.split()) < SHORT_WORDS:
            score -= W_SHORT
        scored.append(ScoredSentence(p, span, score, lex))
    scored.sort(key=lambda s: -s.score)
    return scored


def choose(scored: list[ScoredSentence], max_sentences: int) -> list[ScoredSentence]:
    """The best sentence, plus runners-up that score nearly as well (at most ``max_sentences``)."""
    if not scored:
        return []
    best = scored[0]
    chosen = [best]
    for s in scored[1:]:
        if len(chosen) >= max_sentences:
            break
        if (
            best.score > 0
            and s.score >= SECOND_SENTENCE_RATIO * best.score
            and s.span.text != best.span.text
        ):
            chosen.append(s)
    return chosen


def compose(chosen: list[ScoredSentence]) -> tuple[str, tuple[Citation, ...]]:
    """Quote the chosen sentences with ``[n]`` markers; one citation per passage used."""
    numbers: dict[str, int] = {}
    spans: dict[str, list[Span]] = {}
    passages: dict[str, Passage] = {}
    # Sentences of one passage read in document order; passages in order of best sentence.
    order = []
    for s in chosen:
        if s.passage.id not in numbers:
            numbers[s.passage.id] = len(numbers) + 1
            passages[s.passage.id] = s.passage
            spans[s.passage.id] = []
            order.append(s.passage.id)
        spans[s.passage.id].append(s.span)
    parts = []
    for pid in order:
        ordered = sorted(spans[pid], key=lambda sp: sp.start)
        parts.append(" ".join(sp.text for sp in ordered) + f" [{numbers[pid]}]")
    citations = tuple(
        Citation(numbers[pid], passages[pid], tuple(sorted(spans[pid], key=lambda sp: sp.start)))
        for pid in order
    )
    return " ".join(parts), citations
