"""The answer phrase of the quoted sentence, where the reader's span in its passage lies outside it,
and the phrase of a question that asks for a date.

The reader's span in the best sentence is the phrase when there is one. Otherwise the reader reads
that sentence alone (``qa.answer.reading.spot``) and its span is the phrase, before the
heuristic's (``qa.answer.focus``), unless, for a "who" question, the heuristic's name lies nearer
the question's words. A "when" question's phrase that holds no date gives way to the heuristic's
date in the same sentence (``typed``).

Chosen on the tune halves, leave-one-domain-out, by ``python eval/spot_gain.py`` (token F1 of the
marked phrase; no number fitted):

- SPOT_FIRST: the sentence read alone before the heuristic (False: the heuristic's, the sentence
  read alone only where it marks none). Tune mean 0.269 -> 0.276, every test half better;
- SPOT_NEARER: the kinds of question for which the heuristic's phrase stays where it lies nearer
  the question's words ("State Department spokesman Ned Price", not the "Blinken" the sentence
  opens with): chosen by five folds of six (tune mean 0.277 -> 0.278); for every kind it lost;
- TYPED_KINDS / TYPED_SHARE: a question of these kinds whose phrase holds nothing of the kind
  making up this share of its words (set beforehand, not fitted) gets the heuristic's phrase of
  that kind: "Saturday", not the "since ... earlier this month" clause. Dates only: numbers lost
  ("Five of", "62 and": the number pattern's edges), and tied once those were mended.

A question that names two things to choose between ("Which is larger, A or B?":
``asked.options``) is answered by the one the sentence names (``option``), not by a phrase
around it; measured by ``python eval/question_forms.py``.

The phrase then leads the answer, before its quote (``lead``), unless the quote opens with it.
A phrase made only of the question's own words ("What is PHEIC?": "PHEIC", not a choice's
option) tells the reader nothing: the whole sentence is the phrase instead (``echoes``;
``python eval/echo_gain.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from index.text import tokenize
from qa.answer.focus import FocusWeights, candidates, focus, nearer
from qa.types import Span

SPOT_FIRST = True
SPOT_NEARER = frozenset({"name"})
TYPED_KINDS = frozenset({"time"})
TYPED_SHARE = 0.5

Spot = Callable[[str], "tuple[int, int] | None"]  # a sentence -> the answer's offsets in it


@dataclass(frozen=True)
class PhraseRule:
    """The constants of the phrase choice, as eval/spot_gain.py varies them."""

    spot_first: bool = SPOT_FIRST
    spot_nearer: frozenset[str] = SPOT_NEARER
    typed: frozenset[str] = TYPED_KINDS
    typed_share: float = TYPED_SHARE


def part(span: Span, start: int, end: int) -> Span:
    """The part ``[start:end]`` of a span's text, in document coordinates."""
    return Span(span.start + start, span.start + end, span.text[start:end])


def phrase_of(
    question: str,
    kind: str | None,
    sentence: Span,
    read: Span | None,
    weights: dict[str, float],
    rule: PhraseRule,
    spot: Spot | None = None,
    fw: FocusWeights | None = None,
) -> Span | None:
    """The phrase to mark in ``sentence``: ``read`` (the reader's span in it, or None), else the
    sentence read alone by ``spot`` (None: not read), then ``typed``. None: the heuristic's.
    ``fw``: the clause focus the heuristic's phrase is found with."""
    phrase = read
    if phrase is None and spot is not None and rule.spot_first:
        at = spot(sentence.text)
        if at and not heuristic_nearer(question, kind, sentence, at, weights, rule, fw):
            phrase = part(sentence, *at)
    if phrase is not None and weights:
        phrase = typed(question, kind, sentence, phrase, weights, rule, fw)
    return phrase


def typed(
    question: str,
    kind: str | None,
    sentence: Span,
    phrase: Span,
    weights: dict[str, float],
    rule: PhraseRule,
    fw: FocusWeights | None = None,
) -> Span:
    """The phrase, or, when the question asks for a kind of thing (``rule.typed``: a date) and
    the phrase holds none, the heuristic's phrase of that kind in the same sentence: "When did
    Blinken meet Wang Yi?" is answered by "Saturday", not by the clause the reader marks."""
    if kind not in rule.typed:
        return phrase
    words = len(phrase.text.split()) or 1
    found = candidates(kind, phrase.text, question)
    if any(len(phrase.text[a:b].split()) >= rule.typed_share * words for a, b in found):
        return phrase
    f = focus(sentence.text, question, weights, kind, fw)
    return part(sentence, *f.phrases[0]) if f.phrases else phrase


def heuristic_nearer(
    question: str,
    kind: str | None,
    sentence: Span,
    at: tuple[int, int],
    weights: dict[str, float],
    rule: PhraseRule,
    fw: FocusWeights | None = None,
) -> bool:
    """Whether, for a question of a kind in ``rule.spot_nearer``, the heuristic's phrase lies
    closer to the question's words than ``at`` (the span of the sentence read alone)."""
    if not weights or kind not in rule.spot_nearer:
        return False
    f = focus(sentence.text, question, weights, kind, fw)
    return bool(f.phrases) and nearer(sentence.text, question, f.phrases[0], at)


# Capitalised words a text may hold inside a name ("Pavel [Sergeyevich] Alexandrov").
MIDDLE_NAMES = 2


def named_at(name: str, text: str) -> tuple[int, int] | None:
    """Where the text names ``name`` (any case, any spacing between its words); else, for a name
    of two words or more, where it names it with up to MIDDLE_NAMES capitalised words after its
    first ("Mahesh Shrinivas Bhupathi" for "Mahesh Bhupathi"); None: nowhere."""
    words = [re.escape(w) for w in name.split()]
    gap = r"\s+"
    m = re.search(rf"(?<!\w)(?i:{gap.join(words)})(?!\w)", text)
    if m is None and len(words) > 1:
        middle = rf"(?:\s+[A-Z][\w.’'-]*){{1,{MIDDLE_NAMES}}}"
        rest = gap.join(words[1:])
        m = re.search(rf"(?<!\w)(?i:{words[0]}){middle}\s+(?i:{rest})(?!\w)", text)
    return m.span() if m else None


def option(options: tuple[str, ...], sentence: Span, phrase: Span | None) -> Span | None:
    """The option the sentence names, as it is written there: the one ``phrase`` overlaps when
    it names both, else the first named. None: it names neither."""
    found = []
    for name in options:
        at = named_at(name, sentence.text)
        if at:
            found.append(part(sentence, *at))
    if phrase is not None:
        for f in found:
            if f.start < phrase.end and phrase.start < f.end:
                return f
    return min(found, key=lambda f: f.start) if found else None


LEAD_WORDS = 8  # a phrase longer than this is not put before its quote
LEAD_AFTER = 3  # ... nor one that already stands among the quote's first words


def lead(phrase: str, quote: str, cited: str) -> str:
    """The answer first: "June 12, 2022 — The 75th Tony Awards, which ..., took place on ..."

    When the quote opens with other matter, the answer-bearing phrase is put before it; a quote
    that starts with its phrase (or a long phrase) is left as it is.
    """
    phrase = phrase.strip()
    at = quote.find(phrase)
    if not phrase or len(phrase.split()) > LEAD_WORDS or at < 0:
        return cited
    if len(quote[:at].split()) < LEAD_AFTER:
        return cited
    return f"{phrase} — {cited}"


def echoes(question: str, phrases: Sequence[Span]) -> bool:
    """Whether the marked phrases hold words, all of them the question's own."""
    said = set(tokenize(" ".join(p.text for p in phrases)))
    return bool(said) and said <= set(tokenize(question))
