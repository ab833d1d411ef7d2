"""Focused answers: the clause of a long sentence that answers, and the answer-bearing phrase.

A sentence of MIN_WORDS or more is cut into segments at its clause punctuation (commas,
semicolons, colons, dashes, brackets). The clause kept is the segment holding most of the
question's words, with BEFORE segments before it and AFTER after it (the answer often stands
next to the words the question repeats), widened to the nearest phrase of the kind asked for (a
date, a number, a name, a place) when it lies outside. The phrase is that candidate, nearest to
the question's words. Both are spans of the document, so the answer stays a quotation; shorter
sentences are kept whole. Measured on the tune halves, finer cuts lost more answers than they
gained in token F1 (eval/tune.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.text import (
    CARDINALS,
    CLOCK,
    MAGNITUDES,
    MONTHS,
    WEEKDAYS,
    YEARS,
    common_rank,
    found_weight,
    tokenize,
)
from qa.question.followup import entities
from qa.question.phrases import TIME_PHRASE
from qa.question.word_forms import POSSESSIVE_S
from qa.question.word_lists import STOP_WORDS

# Constants tuned by eval/tune.py on the TUNE halves (see the README's table of tuned constants).
MIN_WORDS = 50  # sentences shorter than this are searched whole for the phrase
BEFORE = 0  # segments kept before the one holding most of the question's words
AFTER = 1  # ... and after it
PHRASE_KINDS = frozenset({"time", "number", "name", "place", "entity"})
# A sentence's first word among the most frequent English words is no name ("However"); the size
# of a function-word list, not tuned.
COMMON_WORDS = 500

# Clause punctuation; a comma or colon inside a number ("1,000", "10:30") is not one.
_BREAK = re.compile(
    r"\s*(?:(?<!\d),|,(?!\d)|(?<!\d):|:(?!\d)|[;()\[\]]|\s[\u2014\u2013-]\s|[\u2014\u2013])\s*"
)
_RELATIVE = re.compile(r"(?:who|whom|whose|which)\b", re.IGNORECASE)
_LEFT = " \"'“”‘’"
_RIGHT = " \"'“”‘’.,;:!?"
_DATE = re.compile(
    rf"\b(?:(?:early|late|mid)[- ])?(?:{MONTHS})(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s+\d{{4}})?"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:day\s+of\s+)?(?:{MONTHS})(?:,?\s+\d{{4}})?"
    rf"|\b(?:{MONTHS.upper()})\s+\d{{1,2}}(?:,?\s+\d{{4}})?"  # as contracts write it: "MAY 20, 1992"
    rf"|\b(?:(?:early|late)\s+)?(?:spring|summer|autumn|fall|winter)\s+of\s+(?:{YEARS})\b"
    rf"|\b(?:{WEEKDAYS})\b"
    rf"|\b(?:{YEARS})s?\b"
    r"|\b(?:the\s+)?\d{1,2}(?:st|nd|rd|th)\s+century\b"
    r"|\b(?:last|next|this|earlier this|later this)\s+(?:week|month|year|decade)\b"
    rf"|\b(?i:{CLOCK})"
)
# A number with the word it counts ("60 km", "two independent"), not a function word ("Five of").
_UNIT = rf"(?:[\s-]+(?!(?:{'|'.join(sorted(STOP_WORDS))})\b)[a-z]+)?"
_NUMBER = re.compile(
    r"(?:\$|£|€)?\b\d[\d,.]*(?:\s*(?:%|percent|per cent))?"
    rf"(?:\s+(?:million|billion|thousand|hundred|trillion))?{_UNIT}"
    rf"|\b(?:{CARDINALS}|{MAGNITUDES}|dozen|half|a few|several)\b{_UNIT}",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Focus:
    """The clause of a sentence that answers, and the answer-bearing phrases inside it.

    Offsets are relative to the sentence text.
    """

    start: int
    end: int
    phrases: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class FocusWeights:
    """The constants of clause choice, as eval/tune.py varies them."""

    min_words: int = MIN_WORDS
    before: int = BEFORE
    after: int = AFTER


def segments(text: str) -> list[tuple[int, int]]:
    """The spans of a sentence between its clause punctuation, without edge quotes or spaces."""
    out, pos = [], 0
    for m in [*_BREAK.finditer(text), None]:
        end = m.start() if m else len(text)
        piece = text[pos:end]
        s = pos + len(piece) - len(piece.lstrip(_LEFT))
        e = pos + len(piece.rstrip(_RIGHT))
        if e > s and re.search(r"\w", text[s:e]):
            out.append((s, e))
        if m:
            pos = m.end()
    return out


def candidates(kind: str | None, text: str, question: str) -> list[tuple[int, int]]:
    """Spans of ``text`` that could be the answer to a question of this kind (not its words)."""
    asked = set(tokenize(question))
    if kind == "time":
        found = [(m.start(), m.end()) for m in _DATE.finditer(text)]
    elif kind == "number":
        found = [(m.start(), m.end()) for m in _NUMBER.finditer(text)]
    else:
        found = [(e.start, e.end) for e in entities(text) if not _lone_opener(text, e.start, e.end)]
        if kind != "name":  # "Xi’s" answers no "what role": "Xi’s top foreign policy adviser" does
            found = [_owned(text, s, e) for s, e in found]
    found = [(s, e) for s, e in found if not set(tokenize(text[s:e])) <= asked]
    if kind == "name":  # "Who did Blinken meet in Munich?" is not answered by "Munich ..."
        return [(s, e) for s, e in found if not set(tokenize(text[s:e])) & asked] or found
    return found


_OWNED_WORD = re.compile(r"\s+([a-z][a-z-]*)")
OWNED_WORDS = 6  # at most this many words after a possessive name are what it owns


def _owned(text: str, start: int, end: int) -> tuple[int, int]:
    """A possessive name with what it owns ("Xi’s top foreign policy adviser"): the lower-case
    words after it, up to a function word, a time phrase ("last month") or punctuation. Any
    other span is returned as it is."""
    if not POSSESSIVE_S.search(text[start:end]):
        return start, end
    at = end
    for _ in range(OWNED_WORDS):
        m = _OWNED_WORD.match(text, at)
        if not m or m.group(1) in STOP_WORDS or TIME_PHRASE.match(text, m.start(1)):
            break
        at = m.end()
    return start, at


def _lone_opener(text: str, start: int, end: int) -> bool:
    """A common word capitalised only because it opens the sentence ("However", "During",
    "Two"), not a name: it is not written capitalised anywhere else in the sentence."""
    word = text[start:end]
    if start > 0 or not word.isalpha() or re.search(rf"\W{word}\b", text[end:]):
        return False
    return common_rank(word.lower()) < COMMON_WORDS


def _words_at(text: str, question: str) -> list[int]:
    """Character offsets of the question's words in the text."""
    asked = set(tokenize(question))
    return [m.start() for m in re.finditer(r"\w+", text) if set(tokenize(m.group(0))) & asked]


def focus(
    sentence: str,
    question: str,
    weights: dict[str, float],
    kind: str | None,
    fw: FocusWeights | None = None,
    phrase: tuple[int, int] | None = None,
) -> Focus:
    """The clause of ``sentence`` that answers ``question``, and the phrase in it.

    ``phrase``: the answer phrase already found (the reader's span, offsets in the sentence):
    the clause is the one holding it, and it is the phrase marked.
    """
    fw = fw or FocusWeights()
    if phrase is not None:
        cands = [phrase]
    else:
        cands = candidates(kind, sentence, question) if kind in PHRASE_KINDS else []
    segs = segments(sentence)
    if len(sentence.split()) < fw.min_words or len(segs) < 2:
        s, e = 0, len(sentence)
    else:

        def share(span: tuple[int, int]) -> float:
            return found_weight(weights, set(tokenize(sentence[span[0] : span[1]])))

        b = max(range(len(segs)), key=lambda i: share(segs[i]))
        lo, hi = max(b - fw.before, 0), min(b + fw.after, len(segs) - 1)
        holding = [i for i, (a, z) in enumerate(segs) if any(a <= c and d <= z for c, d in cands)]
        if holding and not any(lo <= i <= hi for i in holding):
            near = min(holding, key=lambda i: abs(i - b))
            lo, hi = min(lo, near), max(hi, near)
        while lo > 0 and _RELATIVE.match(sentence, segs[lo][0]):
            lo -= 1  # "who reiterated ..." needs the one it tells about: "Blinken, who ..."
        s, e = segs[lo][0], segs[hi][1]
    inside = [c for c in cands if s <= c[0] and c[1] <= e]
    if phrase is not None:
        return Focus(min(s, phrase[0]), max(e, phrase[1]), (phrase,))
    return Focus(s, e, _nearest(inside, _words_at(sentence[s:e], question), s))


def _nearest(
    cands: list[tuple[int, int]], anchors: list[int], offset: int
) -> tuple[tuple[int, int], ...]:
    """The candidate closest to the question's words (the first one when none is matched)."""
    if not cands:
        return ()
    if not anchors:
        return (cands[0],)
    anchors = [a + offset for a in anchors]
    return (min(cands, key=lambda c: _distance(c, anchors)),)


def _distance(span: tuple[int, int], anchors: list[int]) -> int:
    """How far a span's nearer edge lies from the nearest of these offsets."""
    return min(min(abs(x - span[0]), abs(x - span[1])) for x in anchors)


def nearer(sentence: str, question: str, first: tuple[int, int], second: tuple[int, int]) -> bool:
    """Whether ``first`` lies strictly closer to the question's words in ``sentence`` than
    ``second`` (False when the sentence holds none of them)."""
    anchors = _words_at(sentence, question)
    return bool(anchors) and _distance(first, anchors) < _distance(second, anchors)
