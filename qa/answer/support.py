"""The support check of a generated answer: is each sentence backed by the passages it cites?

Each answer sentence is scored against the passages it cites: the best cosine between it and one
of their sentences, and the IDF-weighted share of its words they contain. Below the threshold
(``QA_SUPPORT_THRESHOLD``) it is flagged; only cited passages become citations.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from index import Embedder
from index.text import sentence_spans, tokenize, weighted_share
from qa.answer.markers import MARKER, marker_numbers
from qa.types import AnswerSentence, Citation, Passage, Span

# Support = W_COSINE * best sentence cosine + the rest * IDF-weighted word overlap. Overlap
# separates invented names, places and dates better than MiniLM cosine does; 0.3 with the 0.7
# threshold (QA_SUPPORT_THRESHOLD) splits the labelled seed cases in tests/test_llm.py.
W_COSINE = 0.3

_ONLY_MARKERS = re.compile(r"^[\s\[\]\d,;.]*$")
_REFUSAL = re.compile(
    r"\b(documents?|passages?|context|sources?)\s+(do|does|did|can)\s*(not|n't)\s+"
    r"(answer|say|contain|mention|cover|provide|address)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Checked:
    """A generated answer after the citation check."""

    text: str
    citations: tuple[Citation, ...]
    sentences: tuple[AnswerSentence, ...]
    refused: bool


def answer_sentences(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """The answer's sentences with the citation numbers each carries (markers after a full stop
    belong to the sentence before them)."""
    out: list[tuple[str, list[int]]] = []
    for s, e in sentence_spans(text):
        sentence = text[s:e]
        numbers = [n for m in MARKER.finditer(sentence) for n in marker_numbers(m)]
        if out and _ONLY_MARKERS.match(sentence):
            out[-1][1].extend(n for n in numbers if n not in out[-1][1])
            out[-1] = (out[-1][0] + " " + sentence, out[-1][1])
            continue
        out.append((sentence, list(dict.fromkeys(numbers))))
    return [(s, tuple(n)) for s, n in out]


def is_refusal(text: str) -> bool:
    """Whether the reply says that the documents do not answer."""
    return bool(_REFUSAL.search(text))


def check(
    text: str,
    order: Sequence[int],
    given: Sequence[Passage],
    embedder: Embedder,
    weigh: Callable[[str], dict[str, float]],
    threshold: float,
) -> Checked:
    """Score each sentence against the passages it cites; only cited passages become citations.

    ``text`` carries the rewritten markers: ``[i]`` names ``given[order[i-1]-1]``; ``weigh``
    gives a text's words with their IDF (the keyword index's ``weights``).
    """
    cited = {i + 1: given[n - 1] for i, n in enumerate(order)}
    sentences = answer_sentences(text)
    if not text.strip():
        return Checked(text, (), (), refused=True)
    plain = [MARKER.sub("", s).strip() for s, _ in sentences]
    # Every sentence of every cited passage, embedded once, to find the best supporting one.
    psent: dict[int, list[Span]] = {}
    for i, p in cited.items():
        psent[i] = [Span(p.start + a, p.start + b, p.text[a:b]) for a, b in sentence_spans(p.text)]
    flat = [(i, sp) for i, spans in psent.items() for sp in spans]
    vecs = embedder.embed(plain + [sp.text for _, sp in flat]) if plain else np.zeros((0, 1))
    svecs, pvecs = vecs[: len(plain)], vecs[len(plain) :]
    ptokens = {i: set(tokenize(p.text)) for i, p in cited.items()}
    used_spans: dict[int, list[Span]] = {i: [] for i in cited}
    out = []
    for k, ((sentence, numbers), clean) in enumerate(zip(sentences, plain, strict=True)):
        best, best_span = 0.0, None
        weights = weigh(clean)
        for i in numbers:
            rows = [j for j, (pi, _) in enumerate(flat) if pi == i]
            if not rows:
                continue
            cos = pvecs[rows] @ svecs[k]
            j = int(np.argmax(cos))
            score = W_COSINE * max(float(cos[j]), 0.0) + (1 - W_COSINE) * weighted_share(
                weights, ptokens[i]
            )
            if score > best:
                best, best_span = score, (i, flat[rows[j]][1])
        refusal = not numbers and is_refusal(clean)
        supported = refusal or (bool(numbers) and best >= threshold)
        if best_span and supported:
            used_spans[best_span[0]].append(best_span[1])
        out.append(AnswerSentence(sentence, tuple(numbers), supported, round(best, 4)))
    citations = tuple(
        Citation(i, p, tuple(sorted(set(used_spans[i]), key=lambda s: s.start)))
        for i, p in sorted(cited.items())
    )
    refused = not citations and any(is_refusal(s) for s in plain)
    return Checked(text, citations, tuple(out), refused)
