"""Extractive answers: the retrieved sentence that best answers the question, focused and quoted.

Every sentence of the retrieved passages is scored against the question; the best one is cut to
the clause that answers (``qa.answer.focus``), with the answer-bearing phrase marked in
``Citation.phrases``. A second sentence joins only when it adds question words the first lacks.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from index.text import (
    CLOCK,
    MONTHS,
    WEEKDAYS,
    YEARS,
    sentence_spans,
    squash_spaces,
    tokenize,
    weighted_share,
)
from qa.answer import bridge, headings, polar
from qa.answer.compare import compare
from qa.answer.focus import FocusWeights, focus
from qa.answer.phrase import PhraseRule, Spot, echoes, lead, option, part, phrase_of
from qa.question.asked import NUMBER, covered, options, sentence_answers
from qa.types import Citation, Passage, Span

if TYPE_CHECKING:
    from qa.answer.reading import ReadSpan

log = logging.getLogger(__name__)

# Constants tuned by eval/tune.py on the TUNE halves of the reference sets (README: tuned
# constants). Embedding every candidate sentence at question time added nothing over word
# overlap (SQuAD, 2 sentences: 0.836 with it, 0.838 without) and cost ~1 s a question.
W_LEXICAL = 0.5  # IDF-weighted share of the question's words found in the sentence
W_PASSAGE = 0.5  # the passage's retrieval score relative to the best passage
W_TYPE = 0.05  # the sentence holds (or lacks) the kind of thing asked for: a date, a number, a name
W_LOCAL = 0.1  # the asked words it holds, weighed by how few of the candidate sentences hold them
W_SHORT = 0.2  # a heading or title line is not an answer
# A sentence holding the reader's answer span gains this times the reader's relevance of its
# passage. Chosen leave-one-domain-out (eval/sentence_reader.py), for the general4 reader: the
# folds picked 0.2 to 0.3 (0.25 three times); fitted on all six, 0.25 (0.2 for general3).
W_READER = 0.25
# ... and this times how far the reader prefers that span to no answer (squashed). Fitted with
# W_READER, the folds picked six different pairs and the left-out test halves lost as often as
# they gained (SQuAD contains 0.870 -> 0.839, doc2dial 0.211 -> 0.228): it stays off.
W_SURE = 0.0
SHORT_WORDS = 6
SECOND_MIN_GAIN = 0.1  # a second sentence must add this share of the question's word weight
SECOND_SENTENCE_RATIO = 0.7  # ... and score at least this close to the best
# Quote the answering clause of a long sentence (True) or the whole sentence, its phrase marked
# and put first (False). Measured over the six domains' answerable questions: whole sentences
# hold the reference more often on every one (e.g. SQuAD 0.778 -> 0.820, COVID-QA 0.457 ->
# 0.513, CUAD 0.058 -> 0.195); the marked phrase is the focused answer either way.
CUT_TO_CLAUSE = False

_YEAR = re.compile(rf"\b({YEARS})s?\b")
_TIME = re.compile(
    rf"\b({MONTHS}|{WEEKDAYS}|century|decade|\d{{1,2}}(st|nd|rd|th))\b|\b(?i:{CLOCK})"
)
_NAME = re.compile(r"\b[A-Z][a-z]+")
_CONTENTS_ENTRY = re.compile(r"…\s*[\divxlc]{1,5}$", re.IGNORECASE)  # as PDFs' contents read
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class AnswerWeights:
    """Every constant of the extractive answer, as eval/tune.py varies them."""

    lexical: float = W_LEXICAL
    passage: float = W_PASSAGE
    kind: float = W_TYPE
    local: float = W_LOCAL
    short: float = W_SHORT
    reader: float = W_READER
    sure: float = W_SURE
    second_gain: float = SECOND_MIN_GAIN
    second_ratio: float = SECOND_SENTENCE_RATIO
    focus: FocusWeights = field(default_factory=FocusWeights)
    cut: bool = CUT_TO_CLAUSE
    phrase: PhraseRule = field(default_factory=PhraseRule)


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


Meaning = Callable[[list[str]], list[float]]  # sentences -> their similarity to the question


def score_sentences(
    question: str,
    passages: list[Passage],
    weights: dict[str, float],
    aw: AnswerWeights | None = None,
    meaning: Meaning | None = None,
    spans: Sequence[ReadSpan] = (),
) -> list[ScoredSentence]:
    """Score every sentence of the passages against the question, best first.

    ``weights``: the question's words with their IDF (``Corpus.weights``). ``meaning``: for a
    question in another language than the documents (a multilingual embedding model), each
    sentence's similarity to the question stands in for the words it shares with it. ``spans``:
    the reader's answer spans; a sentence holding one gains ``aw.reader`` times its relevance.
    """
    aw = aw or AnswerWeights()
    cands = candidate_sentences(passages)
    if meaning is not None and cands:
        sims = meaning([span.text for _, span in cands])
        scored = [ScoredSentence(p, span, aw.lexical * sim + aw.passage * (p.score or 0), sim)
                  for (p, span), sim in zip(cands, sims, strict=True)]  # fmt: skip
        return sorted(scored, key=lambda s: -s.score)
    if not cands:
        return []
    kind = answer_kind(question)
    top = max((p.score for p in passages), default=1.0) or 1.0
    headers, leads = _header_rows(cands), headings.lead_ins(cands)
    local = _local_weights(weights, [span.text for _, span in cands])
    scored = []
    for i, (p, span) in enumerate(cands):
        words = f"{leads.under[i]}\n{span.text}" if i in leads.under else span.text  # its heading's
        lex = covered(weights, span.text)  # what the quote itself holds: the decision's evidence
        headed = covered(weights, words) if i in leads.under else lex
        score = aw.lexical * headed + aw.passage * (p.score / top)
        read = _read_in(spans, p.id, span)
        if read is not None:
            score += aw.reader * read.relevance + aw.sure * read.sure
        score += aw.local * weighted_share(local, set(tokenize(words)))
        if kind is not None:
            score += aw.kind if has_kind(kind, span.text, question) else -aw.kind
        if len(span.text.split()) < SHORT_WORDS:
            score -= aw.short
        if _CONTENTS_ENTRY.search(span.text) or headings.ASKS.search(span.text) or i in headers \
                or i in leads.headings:  # fmt: skip
            # A contents entry points to the answer, a question asks it, a heading names it and a
            # table's header row names its columns; none ever is one: below every real sentence.
            score -= 1.0
        scored.append(ScoredSentence(p, span, score, lex))
    scored.sort(key=lambda s: -s.score)
    return scored


def _read_in(spans: Sequence[ReadSpan], passage_id: str, sentence: Span) -> ReadSpan | None:
    """The reader's span of the passage when it lies in this sentence (None: it does not)."""
    for s in spans:
        if (
            s.passage_id == passage_id
            and sentence.start <= s.span.start <= s.span.end <= sentence.end
        ):
            return s
    return None


def _local_weights(weights: dict[str, float], sentences: list[str]) -> dict[str, float]:
    """The asked words weighed by how few of these sentences hold them: "Wednesday" over "ride"
    in a timetable that says "ride" on every row, however rare both are in the whole corpus (in
    a folder of one document every word is equally rare there)."""
    held = [set(tokenize(s)) for s in sentences]
    n = len(held)
    return {t: math.log(1 + n / (1 + sum(t in h for h in held))) for t in weights}


def cells(text: str) -> int:
    """How many cells a table row has ("Saturday | Coastal loop | 45 km": 3; 0: not a row)."""
    n = text.count(" | ") + 1
    return n if n >= 3 else 0


def _header_rows(cands: list[tuple[Passage, Span]]) -> set[int]:
    """The positions of table header rows: a row without a digit followed, in the same passage,
    by a row of as many cells that has one ("Day | Ride | Distance" over "Saturday | ... | 45 km")."""
    out = set()
    for i in range(len(cands) - 1):
        (p, row), (q, nxt) = cands[i], cands[i + 1]
        n = cells(row.text)
        digits = bool(_DIGIT.search(row.text)), bool(_DIGIT.search(nxt.text))
        if n and p.id == q.id and cells(nxt.text) == n and digits == (False, True):
            out.add(i)
    return out


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
    if cells(best.span.text):
        return chosen  # a table row stands alone: the row its question names answers it
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
    phrase: Span | None = None,
) -> tuple[str, tuple[Citation, ...]]:
    """Quote the chosen sentences with ``[n]`` markers; one citation per passage used.

    The best sentence is cut to its answering clause, with the phrase marked, when ``focused``;
    ``phrase`` (document coordinates, inside the best sentence) is the phrase when it was found
    already (the reader's span). The answer leads with its phrase (``lead``), unless a sentence
    answers the question (``sentence_answers``).
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
            inside = _inside(phrase, s.span)
            f = focus(s.span.text, question, weights, kind, aw.focus, inside)
            quoted[pid].append(part(s.span, f.start, f.end) if aw.cut else s.span)
            phrases[pid] += [part(s.span, a, b) for a, b in f.phrases]
        else:
            quoted[pid].append(s.span)
    # The answering clause leads; other quotes of a passage follow in document order.
    # As one line: a hard-wrapped sentence's breaks and indents read as the spaces they are.
    parts = [
        " ".join(
            squash_spaces(sp.text)
            for sp in quoted[pid][:1] + sorted(quoted[pid][1:], key=lambda sp: sp.start)
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
    first = chosen[0].passage.id if chosen else None
    # A yes/no, "why" or "how do I" question is not answered by a phrase of the text ("the wolf
    # — Biden said ... he would not apologize"): its sentence leads.
    if (
        parts
        and first is not None
        and phrases.get(first)
        and quoted[first]
        and not sentence_answers(question)
    ):
        parts[0] = lead(
            squash_spaces(phrases[first][0].text), squash_spaces(quoted[first][0].text), parts[0]
        )
    return " ".join(parts), citations


def _inside(phrase: Span | None, sentence: Span) -> tuple[int, int] | None:
    """A phrase's offsets in a sentence, when it lies inside it (else None)."""
    if phrase is None or phrase.start < sentence.start or phrase.end > sentence.end:
        return None
    if phrase.end <= phrase.start:
        return None
    return phrase.start - sentence.start, phrase.end - sentence.start


@dataclass(frozen=True)
class Draft:
    """An extractive answer before its outcome: its text, citations, and the best sentence's
    coverage of the asked words (evidence for the decision)."""

    text: str
    citations: tuple[Citation, ...]
    sentence: float
    verdict: bool | None = None  # a yes/no question's answer, when its documents settle it

    @property
    def phrase(self) -> str:
        """The focused answer: the verdict ("Yes", "No"), else the marked phrases."""
        if self.verdict is not None:
            return polar.SAID[self.verdict]
        return " ".join(p.text for c in self.citations for p in c.phrases)


def draft(
    question: str,
    passages: list[Passage],
    weights: dict[str, float],
    max_sentences: int,
    aw: AnswerWeights | None = None,
    focused: bool = True,
    spans: Sequence[ReadSpan] = (),
    meaning: Meaning | None = None,
    spot: Spot | None = None,
) -> Draft:
    """The extractive answer to ``question`` from ``passages``, best first.

    A yes/no question about two named things that their documents settle (``polar``) is answered
    "Yes" or "No", then each thing's sentence, whole. Otherwise the best sentence is the
    best-scoring one, or the second hop it leads to (``bridge``); a
    second sentence joins only when it adds asked words (a choice in time whose options the
    sentences date, ``compare``: the chosen option's sentence, then the other's). ``spans`` are
    the reader's answer phrases, the most relevant first: a sentence holding one scores higher,
    and the first one inside the best sentence is its phrase. When none lies in it, ``spot``
    (the reader reading that sentence alone; not where a sentence answers) gives it, unless the
    heuristic's lies nearer the question's words (``qa.answer.phrase``); without one, the
    heuristic (``focus``) marks one. A "when" question's phrase that holds no date gives way to
    the heuristic's date. The phrase of a question a sentence answers (yes/no, "why", "how do
    I": ``sentence_answers``) is its whole sentence.
    ``focused=False`` quotes whole sentences.
    """
    aw = aw or AnswerWeights()
    scored = score_sentences(question, passages, weights, aw, meaning, spans) if passages else []
    if not scored:
        return Draft("", (), 0.0)
    said = polar.verdict(question, scored, weights) if focused and meaning is None else None
    if said is not None:  # "Are A and B both ...?": yes or no, then each one's sentence
        chosen = list(dict.fromkeys(said.sentences))
        text, citations = compose(chosen, question, weights, aw, focused=False)
        return Draft(f"{polar.SAID[said.yes]} — {text}", citations, chosen[0].lexical, said.yes)
    if meaning is None:  # a two-hop question: the document the best sentence names answers it
        scored = bridge.lead(question, scored, weights)
    # "Who was born first, A or B?": the sentences that date the two, the chosen one's first
    compared = compare(question, [s.span.text for s in scored]) if focused else None
    if compared is not None:
        chosen = [scored[i] for i in compared.sentences[:max_sentences]]
    else:
        chosen = choose(scored, max_sentences, weights, aw)
    best = chosen[0]
    read = next((s.span for s in spans if s.passage_id == best.passage.id
                 and best.span.start <= s.span.start and s.span.end <= best.span.end), None)  # fmt: skip
    whole = sentence_answers(question)
    alone = spot if spot is not None and focused and not whole else None
    kind, pair = answer_kind(question), None
    if focused and whole:
        # "Yes" or "no", a reason or a step is said by a sentence, not by a phrase of it.
        phrase = best.span
    else:
        phrase = (
            phrase_of(question, kind, best.span, read, weights, aw.phrase, alone, aw.focus)
            if focused
            else read
        )
        pair = (compared.option,) if compared else options(question) if focused else None
        if pair is not None:  # "Which is larger, A or B?": the one the sentence names
            phrase = option(pair, best.span, phrase) or phrase
    text, citations = compose(chosen, question, weights, aw, focused, phrase)
    if phrase is None and alone and not aw.phrase.spot_first and not citations[0].phrases:
        at = alone(best.span.text)
        if at:  # the heuristic marked nothing: the reader, reading the sentence alone
            text, citations = compose(chosen, question, weights, aw, focused, part(best.span, *at))
    if focused and not whole and pair is None and echoes(question, citations[0].phrases):
        # a phrase of the question's own words ("What is PHEIC?": "PHEIC") tells nothing
        text, citations = compose(chosen, question, weights, aw, focused, best.span)
    return Draft(text, citations, chosen[0].lexical)
