"""The support check of a generated answer: which passage backs each sentence, and how well.

Each answer sentence is scored against every passage the model was given: the best cosine
between it and one of the passage's sentences, and the IDF-weighted share of its words the
passage contains. A sentence keeps the citations the model gave it when one of them supports it
(at or above ``QA_SUPPORT_THRESHOLD``); otherwise, when another given passage supports it, that
one is cited instead, and the sentence records the citation as the checker's
(``AnswerSentence.added``). A sentence nothing supports is flagged. Only cited passages become
citations, numbered by first use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from index import Embedder
from index.text import sentence_spans, tokenize, weighted_share
from qa.answer.markers import MARKER, marker_numbers, rewrite_markers
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
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*\s*$")


@dataclass(frozen=True)
class Checked:
    """A generated answer after the citation check."""

    text: str
    citations: tuple[Citation, ...]
    sentences: tuple[AnswerSentence, ...]
    refused: bool
    read: tuple[Citation, ...] = ()  # what the model was given (``Prompt.read``)


def sentence_parts(text: str) -> list[tuple[int, int, tuple[int, ...]]]:
    """The answer's sentences as (start, end, citation numbers); markers after a full stop
    belong to the sentence before them."""
    out: list[tuple[int, int, list[int]]] = []
    for s, e in sentence_spans(text):
        numbers = [n for m in MARKER.finditer(text[s:e]) for n in marker_numbers(m)]
        if out and _ONLY_MARKERS.match(text[s:e]):
            out[-1][2].extend(n for n in numbers if n not in out[-1][2])
            out[-1] = (out[-1][0], e, out[-1][2])
            continue
        out.append((s, e, list(dict.fromkeys(numbers))))
    return [(s, e, tuple(n)) for s, e, n in out]


def answer_sentences(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """The answer's sentences with the citation numbers each carries."""
    return [(text[s:e], n) for s, e, n in sentence_parts(text)]


def is_refusal(text: str) -> bool:
    """Whether the reply says that the documents do not answer."""
    return bool(_REFUSAL.search(text))


def cite_at_end(sentence: str, numbers: Sequence[int]) -> str:
    """The sentence with its markers replaced by ``numbers``, placed before its full stop."""
    bare = MARKER.sub("", sentence)
    marks = "".join(f"[{n}]" for n in numbers)
    m = _SENTENCE_END.search(bare)
    at = m.start() if m else len(bare.rstrip())
    return f"{bare[:at].rstrip()} {marks}{bare[at:]}" if marks else bare


def check(
    text: str,
    order: Sequence[int],
    given: Sequence[Passage],
    embedder: Embedder,
    weigh: Callable[[str], dict[str, float]],
    threshold: float,
) -> Checked:
    """Find the passage that supports each sentence; cite it where the model did not.

    ``text`` carries the rewritten markers: ``[i]`` names ``given[order[i-1]-1]``; ``weigh``
    gives a text's words with their IDF (the keyword index's ``weights``). The text that comes
    back carries the final markers, renumbered by first use.
    """
    if not text.strip():
        return Checked(text, (), (), refused=True)
    parts = sentence_parts(text)
    plain = [MARKER.sub("", text[s:e]).strip() for s, e, _ in parts]
    # Every sentence of every given passage, embedded once, to find the best supporting one.
    flat = [
        (g, Span(p.start + a, p.start + b, p.text[a:b]))
        for g, p in enumerate(given, 1)
        for a, b in sentence_spans(p.text)
    ]
    vecs = embedder.embed(plain + [sp.text for _, sp in flat])
    svecs, pvecs = vecs[: len(plain)], vecs[len(plain) :]
    rows = {g: [j for j, (pg, _) in enumerate(flat) if pg == g] for g in range(1, len(given) + 1)}
    ptokens = {g: set(tokenize(p.text)) for g, p in enumerate(given, 1)}

    def support(k: int, g: int, weights: dict[str, float]) -> tuple[float, Span | None]:
        if not rows[g]:
            return 0.0, None
        cos = pvecs[rows[g]] @ svecs[k]
        j = int(np.argmax(cos))
        share = weighted_share(weights, ptokens[g])
        return W_COSINE * max(float(cos[j]), 0.0) + (1 - W_COSINE) * share, flat[rows[g][j]][1]

    # Decide each sentence in the given passages' numbering, then renumber by first use.
    pieces, pos, decided = [], 0, []
    for k, ((s, e, numbers), clean) in enumerate(zip(parts, plain, strict=True)):
        weights = weigh(clean)
        model = [order[i - 1] for i in numbers if 1 <= i <= len(order)]
        scores = {g: support(k, g, weights) for g in range(1, len(given) + 1)}
        cited_best = max((scores[g][0] for g in model), default=0.0)
        refusal = not model and is_refusal(clean)
        cites, added, supported, score = model, [], bool(model) and cited_best >= threshold, 0.0
        if refusal:
            supported, score = True, 1.0
        elif supported:
            score = cited_best
        else:
            g = max(scores, key=lambda g: scores[g][0], default=None)
            if g is not None and scores[g][0] >= threshold:
                cites, added, supported, score = [g], [g], True, scores[g][0]
            else:
                score = cited_best
        found: list[tuple[int, Span]] = []  # the supporting sentence, in the passage it is in
        if supported and cites and not refusal:
            g = added[0] if added else max(model, key=lambda g: scores[g][0])
            if scores[g][1] is not None:
                found.append((g, scores[g][1]))
        sentence = text[s:e]
        written = cite_at_end(sentence, cites) if added else _given_numbers(sentence, order)
        pieces += [_given_numbers(text[pos:s], order), written]
        pos = e
        decided.append((written, cites, added, supported, score, found))
    pieces.append(_given_numbers(text[pos:], order))
    final, new_order = rewrite_markers("".join(pieces), len(given))
    final = final.rstrip()
    number = {g: i for i, g in enumerate(new_order, 1)}
    used: dict[int, list[Span]] = {g: [] for g in new_order}
    out = []
    for written, cites, added, supported, score, found in decided:
        for g, sp in found:
            if g in used:
                used[g].append(sp)
        out.append(
            AnswerSentence(
                _renumbered(written, number).strip(),
                tuple(number[g] for g in cites if g in number),
                supported,
                round(score, 4),
                tuple(number[g] for g in added if g in number),
            )
        )
    citations = tuple(
        Citation(number[g], given[g - 1], tuple(sorted(set(used[g]), key=lambda s: s.start)))
        for g in new_order
    )
    refused = not citations and any(is_refusal(s) for s in plain)
    return Checked(final, citations, tuple(out), refused)


def _given_numbers(text: str, order: Sequence[int]) -> str:
    """Markers renumbered from the streamed numbering back to the prompt's."""

    def sub(m: re.Match) -> str:
        ns = [order[i - 1] for i in marker_numbers(m) if 1 <= i <= len(order)]
        return m.group(1) + "".join(f"[{n}]" for n in ns) if ns else ""

    return MARKER.sub(sub, text)


def _renumbered(text: str, number: dict[int, int]) -> str:
    """Markers in the prompt's numbering turned into the final numbering."""

    def sub(m: re.Match) -> str:
        ns = [number[g] for g in marker_numbers(m) if g in number]
        return m.group(1) + "".join(f"[{n}]" for n in ns) if ns else ""

    return MARKER.sub(sub, text)
