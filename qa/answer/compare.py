"""A choice in time: "Who was born first, A or B?", "Which came out later, A or B?".

The documents give each option's year in a sentence that names it (a biography's first sentence
its birth, a film's its release, a battle's when it was fought). The answer is the option whose
year comes first (or last, as the question asks), its sentence quoted first, and the other
option's dated sentence beside it: the two facts compared, each cited. A question about a death
or an end compares no first-named years, and is left to the usual choice (``phrase.option``).
Measured by ``python eval/question_forms.py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.text import YEARS, words
from qa.answer.phrase import named_at
from qa.question.asked import options
from qa.question.word_lists import EARLIER_WORDS, LATER_WORDS, UNDATED_WORDS

_YEAR = re.compile(rf"(?<![\d,.])({YEARS})(?![\d,])")  # not inside "12,019" or "3.1918"


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
