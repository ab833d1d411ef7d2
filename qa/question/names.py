"""The names of a text: runs of capitalised words ("Wang Yi", "Carnegie Foundation for the
Advancement of Teaching", "Apollo 13"), a title split from the person it names ("US Secretary of
State Antony Blinken": the title and "Antony Blinken"), each typed by ``qa.question.name_kinds``.

A capital that only opens a sentence ("However", "Earlier"), a pronoun, a month or a weekday is
no name.
"""

from __future__ import annotations

import copy
import re
from functools import lru_cache

from qa.question.mention import PERSON, Mention
from qa.question.name_kinds import ORG_PLURAL, name_mention
from qa.question.word_forms import POSSESSIVE, WORD, capitalised
from qa.question.word_lists import (
    ABBREVIATIONS,
    NAME_PARTICLES,
    OPENERS,
    ORG_HEADS,
    PLACE_HEADS,
    PLACES,
    STOP_WORDS,
    TIME_WORDS,
    TITLES,
)

_LINKS = NAME_PARTICLES | {"for", "on", "the"}
_PRONOUN_WORDS = frozenset({"he", "she", "it", "they", "his", "her", "its", "their", "i"})


def _tokens(text: str) -> list[re.Match]:
    return list(WORD.finditer(text))


def _sentence_start(text: str, pos: int) -> bool:
    before = text[max(0, pos - 6) : pos].rstrip(" \"“”’'()[]\n")
    return not before or before[-1] in ".?!:;" or not text[:pos].strip()


def names(text: str) -> list[Mention]:
    """Runs of capitalised words, typed by the words around them (``qa.question.name_kinds``)."""
    return [copy.copy(m) for m in _names(text)]


@lru_cache(maxsize=512)
def _names(text: str) -> tuple[Mention, ...]:
    toks = _tokens(text)
    out: list[Mention] = []
    run: list[re.Match] = []

    def flush() -> None:
        while run and run[-1].group(0).lower() in _LINKS:
            run.pop()
        if run:
            out.extend(_typed(text, run))
        run.clear()

    for k, m in enumerate(toks):
        w = m.group(0)
        lower = w.lower()
        gap = text[toks[k - 1].end() : m.start()] if k else ""
        joined = gap in (" ", "-", "") or (
            gap.startswith(".") and gap[1:] == " " and run and _abbrev(run[-1].group(0))
        )
        if run and not joined:
            flush()
        if run and POSSESSIVE.search(run[-1].group(0)):
            flush()
        capital = capitalised(w) and (w.isupper() or lower not in STOP_WORDS)
        if w.isupper() and len(w) > 1:
            capital = lower not in ("i",)
        if capital and (lower in TIME_WORDS or lower in _PRONOUN_WORDS):
            capital = False
        if (
            capital
            and (lower in OPENERS or (lower.endswith("ly") and len(w) > 4))
            and not run
            and _sentence_start(text, m.start())
        ):
            capital = False  # "However, ...", "Earlier, Wang ..."
        if capital or (run and lower in NAME_PARTICLES and gap == " "):
            run.append(m)
        elif run and gap == " " and lower == "on" and len(run) > 1 and _title_on(toks, k):
            run.append(m)  # "Seven Brief Lessons on Physics"
        elif run and gap == " " and _org_link(run, lower, toks, k):
            run.append(m)  # "Carnegie Foundation for the Advancement of Teaching"
        elif run and w.isdigit() and len(w) <= 3 and gap == " ":
            run.append(m)  # "Apollo 13", "Group of 20"
        else:
            flush()
    flush()
    return tuple(out)


def _title_on(toks: list[re.Match], k: int) -> bool:
    nxt = toks[k + 1].group(0) if k + 1 < len(toks) else ""
    return capitalised(nxt) and nxt.lower() not in TIME_WORDS and nxt.lower() not in PLACES


def _org_link(run: list[re.Match], lower: str, toks: list[re.Match], k: int) -> bool:
    """ "for"/"on" (and "the" after them) inside an organisation's name, before a capital."""
    last = run[-1].group(0).lower()
    nxt = toks[k + 1].group(0) if k + 1 < len(toks) else ""
    if lower in ("for", "on") and last in ORG_HEADS:
        return capitalised(nxt) or (
            nxt == "the" and k + 2 < len(toks) and capitalised(toks[k + 2].group(0))
        )
    return lower == "the" and last in ("for", "on") and capitalised(nxt)


def _abbrev(tok: str) -> bool:
    return (len(tok) == 1 and tok.isupper()) or tok.lower() in ABBREVIATIONS


def _typed(text: str, run: list[re.Match]) -> list[Mention]:
    """A run of capitalised words as mentions: "US Secretary of State Antony Blinken" is the
    title "US Secretary of State" and the person "Antony Blinken"."""
    words = [m.group(0) for m in run]
    possessive = bool(POSSESSIVE.search(words[-1]))
    title_end = 0
    for i, w in enumerate(words):
        if w.lower().rstrip(".") in TITLES:
            j = i + 1
            if j + 1 < len(words) and words[j] == "of":
                j += 2
            title_end = j
    while (
        len(run) > 1
        and run[-1].group(0).isupper()
        and len(run[-1].group(0)) > 1
        and not re.fullmatch(r"[IVX]+", run[-1].group(0))
    ):
        run = run[:-1]  # "Peter Schmeichel MBE", "Alexander Ferguson CBE"
        words = words[:-1]
    rest = run[title_end:] if 0 < title_end < len(run) else []
    last = rest[-1].group(0).lower() if rest else ""
    if rest and not ORG_PLURAL.search(last) and last not in ORG_HEADS | PLACE_HEADS:
        head = name_mention(text, run[:title_end], PERSON, False)
        person = name_mention(text, rest, PERSON, possessive)
        head.role = "title"
        return [head, person]
    m = name_mention(text, run, None, possessive)
    if (
        words[0].lower().rstrip(".") in TITLES
        and m.kind == PERSON
        and (len(words) == 1 or words[1] == "of" or len(words) > 3)
    ):
        m.role = "title"  # "Prince", "Governor of Victoria", "Director of Flight Crew Operations"
    return [m]


def forget_names() -> None:
    """Forget the texts read so far."""
    _names.cache_clear()
