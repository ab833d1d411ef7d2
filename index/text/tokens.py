"""Word tokens: the lower-cased words of a text, and the stemmed terms BM25 and word shares use.

Changing what a token is changes every keyword index: ``index.keyword_files`` builds afresh when
its ``FORMAT`` says so (bump it).
"""

from __future__ import annotations

import re
from functools import lru_cache

# Superscripts and subscripts (a footnote mark, an exponent) are not part of the word they
# follow: "1872¹²" is the year 1872.
_TOKEN = re.compile(r"[^\W_\u00b2\u00b3\u00b9\u2070-\u209f\u1d2c-\u1d6a\u1d9b-\u1dbf\u2c7d]+")
_STOP_TEXT = (
    "a an and are as at be but by for if in into is it no not of on or such that the their then "
    "there these they this to was will with what which who whom when where why how does did do "
    "has have had been were from its than can could would should may might"
)
STOPWORDS = frozenset(_STOP_TEXT.split())


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def squash_spaces(text: str) -> str:
    """Runs of whitespace (newlines and a wrapped line's indent included) as one space, ends trimmed."""
    return " ".join(text.split())


def words(text: str) -> list[str]:
    """Lower-case word tokens, unstemmed."""
    return _TOKEN.findall(text.lower())


def written_words(text: str) -> list[str]:
    """Word tokens as written (``words`` before lower-casing)."""
    return _TOKEN.findall(text)


_STEMS: dict[str, str | None] = {}  # word -> its stem, or None for a stop word
_MAX_STEMS = 1_000_000


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed word tokens without stop words."""
    out = []
    stems = _STEMS
    for w in _TOKEN.findall(text.lower()):
        s = stems.get(w, 0)
        if s == 0:  # first sight of this word: stemming a word costs far more than a look-up
            if len(stems) >= _MAX_STEMS:
                stems.clear()
            s = stems[w] = None if w in STOPWORDS else _stemmer().stemWord(w)
        if s is not None:
            out.append(s)
    return out
