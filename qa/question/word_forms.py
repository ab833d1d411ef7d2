"""The forms of an English word, read crudely and without a model: its stem ("wrote" and
"written" are "write"), whether it is plural, possessive ("Wang's") or capitalised.
"""

from __future__ import annotations

import re
from functools import lru_cache

from qa.question.word_lists import IRREGULAR_VERBS, STOP_WORDS

WORD = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_](?:[\w’'.-]*\w)?")  # "1,200", "Wang's", "U.S"
POSSESSIVE = re.compile(r"(?:[’']s|s[’'])$")  # "Wang's", "officials'"
POSSESSIVE_S = re.compile(r"[’']s$")  # "Wang's" (not "officials'", which may close a quote)


@lru_cache(maxsize=4096)
def stem(word: str) -> str:
    """A crude stem, enough to match "wrote" with "written" and "visited" with "visit"."""
    w = word.lower().replace("’", "'")
    w = IRREGULAR_VERBS.get(w, w)
    if len(w) > 4 and w.endswith("e"):
        w = w[:-1]  # "accuse" like "accused"
    for suffix in ("ings", "ing", "ied", "ies", "ed", "es", "s"):
        if len(w) > len(suffix) + 3 and w.endswith(suffix):
            w = w[: -len(suffix)]
            if (
                suffix in ("ing", "ings", "ed")
                and len(w) > 3
                and w[-1] == w[-2]
                and w[-1] not in "aeiouls"
            ):
                w = w[:-1]  # "starring" -> "star"
            break
    return w[:6]


@lru_cache(maxsize=512)
def content_stems(text: str) -> frozenset[str]:
    """The stems of a text's content words (for aligning a question with its answer)."""
    return frozenset(
        stem(w) for w in WORD.findall(text) if w.lower() not in STOP_WORDS and len(w) > 1
    )


def is_plural(word: str) -> bool:
    """Whether a noun is plural ("officials", "people"; not "news", "species")."""
    w = word.lower()
    if w in ("people", "men", "women", "children", "police", "staff", "crew", "media", "troops"):
        return True
    return (
        len(w) > 3
        and w.endswith("s")
        and not w.endswith(("ss", "us", "is", "ics", "ous", "news", "series", "species"))
        and w not in STOP_WORDS
    )


def capitalised(tok: str) -> bool:
    """Whether a word starts with a capital ("Wang", "US")."""
    return tok[:1].isupper()
