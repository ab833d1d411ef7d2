"""Extractive answers: the retrieved sentences that best answer the question, quoted as written."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from index.chunk import sentence_spans
from index.embed import Embedder
from index.keyword import tokenize
from qa.types import Citation, Passage, Span

log = logging.getLogger(__name__)

# Weights of the sentence score, chosen on the shared SQuAD set (see eval/bench.py).
W_COSINE = 0.5
W_LEXICAL = 0.35
W_PASSAGE = 0.15
SECOND_SENTENCE_RATIO = 0.85  # a second sentence joins when it scores this close to the best


@dataclass(frozen=True)
class ScoredSentence:
    """A candidate answer sentence inside a passage."""

    passage: Passage
    span: Span
    score: float
    cosine: float
    lexical: float


def candidate_sentences(passages: list[Passage]) -> list[tuple[Passage, Span]]:
    """Every sentence of the passages, with its span in the source document."""
    out = []
    for p in passages:
        for s, e in sentence_spans(p.text):
            out.append((p, Span(p.start + s, p.start + e, p.text[s:e])))
    return out


def lexical_overlap(question_tokens: list[str], sentence: str, idf: dict[str, float]) -> float:
    """IDF-weighted share of the question's words that the sentence contains."""
    if not question_tokens:
        return 0.0
    words = set(tokenize(sentence))
    weights = [idf.get(t, 1.0) for t in set(question_tokens)]
    hit = sum(idf.get(t, 1.0) for t in set(question_tokens) if t in words)
    return hit / (sum(weights) or 1.0)


def score_sentences(
    question: str,
    question_vector: np.ndarray,
    passages: list[Passage],
    embedder: Embedder,
    idf: dict[str, float],
) -> list[ScoredSentence]:
    """Score every sentence of the passages against the question, best first."""
    cands = candidate_sentences(passages)
    if not cands:
        return []
    vectors = embedder.embed([span.text for _, span in cands])
    cos = vectors @ question_vector
    q_tokens = tokenize(question)
    top = max((p.score for p in passages), default=1.0) or 1.0
    scored = []
    for (p, span), c in zip(cands, cos, strict=True):
        lex = lexical_overlap(q_tokens, span.text, idf)
        score = W_COSINE * float(c) + W_LEXICAL * lex + W_PASSAGE * (p.score / top)
        scored.append(ScoredSentence(p, span, score, float(c), lex))
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
        if s.score >= SECOND_SENTENCE_RATIO * best.score and s.span.text != best.span.text:
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
