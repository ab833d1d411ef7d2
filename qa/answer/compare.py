"""A choice in time or in count: "Who was born first, A or B?", "Which genus has more species,
A or B?".

The documents give each option's year in a sentence that names it (a biography's first sentence
its birth, a film's its release, a battle's when it was fought). The answer is the option whose
year comes first (or last, as the question asks), its sentence quoted first, and the other
option's dated sentence beside it: the two facts compared, each cited. A question about a death
or an end compares no first-named years, and is left to the usual choice (``phrase.option``).
A count the same way: the option whose sentence counts more (or fewer) of the asked noun ("about
66 species", "two species"). Measured by ``python eval/question_forms.py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.text import CARDINAL_VALUES, CARDINALS, YEARS, tokenize, words
from qa.answer.phrase import named_at
from qa.question.asked import options
from qa.question.word_lists import (
    EARLIER_WORDS,
    FEWER_WORDS,
    LATER_WORDS,
    MORE_WORDS,
    UNDATED_WORDS,
)

_YEAR = re.compile(rf"(?<![\d,.])({YEARS})(?![\d,])")  # not inside "12,019" or "3.1918"
# A count: "66", "1,200", "two" (not a year's or a decimal's part).
_COUNT = re.compile(
    rf"(?<![\w.,])(\d{{1,3}}(?:,\d{{3}})+|\d+)(?![\w,]|\.\d)|\b({CARDINALS})\b", re.I
)
COUNTED_WITHIN = 2  # words between a count and its noun ("66 accepted species")
_AMOUNT_WORDS = MORE_WORDS | FEWER_WORDS


@dataclass(frozen=True)
class Compared:
    """The option that comes first (or last) and the two sentences that date the options."""

    option: str
    sentences: tuple[int, int]  # positions among the sentences compared, the chosen option's first


def direction(question: str) -> int | None:
    """-1: the question asks for the earlier ("born first", "older"); 1: the later ("younger",
    "more recently"); None: neither, both, or a date the first-named year is not ("died")."""
    asked = set(words(question))
    if asked & UNDATED_WORDS:
        return None
    earlier, later = bool(asked & EARLIER_WORDS), bool(asked & LATER_WORDS)
    return None if earlier == later else (-1 if earlier else 1)


def dated(name: str, sentences: Sequence[str]) -> tuple[int, int] | None:
    """The first of the sentences (best first) naming ``name`` that holds a year after it: its
    position and that year (None: none does)."""
    for i, text in enumerate(sentences):
        at = named_at(name, text)
        if at is not None:
            m = _YEAR.search(text, at[1])
            if m:
                return i, int(m.group(1))
    return None


def compare(question: str, sentences: Sequence[str]) -> Compared | None:
    """The option a choice in time or in count asks for (``in_time``, else ``in_count``)."""
    return in_time(question, sentences) or in_count(question, sentences)


def in_time(question: str, sentences: Sequence[str]) -> Compared | None:
    """The option a choice in time asks for, when the sentences (best first) date both options
    (None: not such a question, or they do not, or in the same year or sentence)."""
    pair, way = options(question), direction(question)
    if pair is None or way is None:
        return None
    a, b = dated(pair[0], sentences), dated(pair[1], sentences)
    if a is None or b is None or a[1] == b[1] or a[0] == b[0]:
        return None
    (first, year_a), (second, year_b) = a, b
    if (year_a < year_b) == (way < 0):
        return Compared(pair[0], (first, second))
    return Compared(pair[1], (second, first))


def counted(question: str) -> tuple[str, int] | None:
    """The noun a choice in count counts (its stem) and the way: 1 more, -1 fewer. "Which genus
    has more species, A or B?": ("speci", 1). None: not such a question."""
    pair = options(question)
    at = named_at(pair[0], question) if pair else None
    head = words(question[: at[0]] if at else question)
    ways = [i for i, w in enumerate(head) if w in _AMOUNT_WORDS]
    if not ways or ways[-1] == len(head) - 1:
        return None
    noun = tokenize(head[-1])  # the last word before the options: "albums" in "more studio albums"
    return (noun[0], 1 if head[ways[-1]] in MORE_WORDS else -1) if noun else None


def count_of(name: str, noun: str, sentences: Sequence[str]) -> tuple[int, int] | None:
    """The first of the sentences (best first) naming ``name`` that counts the noun (its stem)
    after it: its position and the count (None: none does)."""
    for i, text in enumerate(sentences):
        at = named_at(name, text)
        if at is None:
            continue
        for m in _COUNT.finditer(text, at[1]):
            after = words(text[m.end() :])[: COUNTED_WITHIN + 1]
            if noun in (t for w in after for t in tokenize(w)):
                value = m.group(1) or m.group(2)
                return i, CARDINAL_VALUES.get(value.lower()) or int(value.replace(",", ""))
    return None


def in_count(question: str, sentences: Sequence[str]) -> Compared | None:
    """The option a choice in count asks for, when the sentences (best first) count the noun for
    both options (None: not such a question, or they do not, or the same count or sentence)."""
    pair, asked = options(question), counted(question)
    if pair is None or asked is None:
        return None
    noun, way = asked
    a, b = count_of(pair[0], noun, sentences), count_of(pair[1], noun, sentences)
    if a is None or b is None or a[1] == b[1] or a[0] == b[0]:
        return None
    if (a[1] > b[1]) == (way > 0):
        return Compared(pair[0], (a[0], b[0]))
    return Compared(pair[1], (b[0], a[0]))
