"""A yes/no question about two named things, answered "yes" or "no" from their documents.

"Are Giuseppe Verdi and Ambroise Thomas both opera composers?" Each thing has its document
among the passages (its title named in the question, as ``bridge`` reads titles), and the
question asks something of both: a property ("both opera composers": every asked word that
is not a name is in each document: yes; in one and less than half of it in the other: no) or a
likeness ("of the same nationality", "released in the same year": the nationality its opening
sentence gives, the years of its sentence on what is asked; shared: yes, none shared: no;
"different" the other way round). The answer leads with the verdict and quotes each thing's
sentence, so the reader sees both halves of it.

Anything else is left to the sentence that answers it (``extract.draft``): one named thing, two
things in one document, a relation between them ("Did A meet B?": the names are not joined by
"and"), a likeness not of those kinds, or evidence that settles neither way.
``eval/polar_gain.py`` measures it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic

from index.text import YEARS, title_at, title_key, tokenize
from qa.answer.bridge import S
from qa.question.asked import covered, yes_no
from qa.question.word_lists import DEMONYMS, FRAMING_VERBS, NATIONS, PLACES

SAID = {True: "Yes", False: "No"}  # how the answer opens
ALL = 1.0  # a document has the property when it holds every asked word ...
LACKS = 0.5  # ... and lacks it when it holds less than half of them while the other holds all

_LIKENESS = re.compile(r"\b(same|different)\s+(?:\w+\s+of\s+)?(\w+)", re.IGNORECASE)
_NATION_NOUNS = frozenset(tokenize("nationality country language origin nation"))
_PEOPLE = re.compile(r"(?:ian|ese|ish|ean|can)$")  # "Italian", "Chinese", "Korean"
_CAPITALISED = re.compile(r"\b[A-Z][\w.'-]*")
_PREDICATE = re.compile(r"\b(?:is|was|are|were)\b(.*)", re.DOTALL)
_YEAR = re.compile(rf"\b(?:{YEARS})\b")
_FRAMING = frozenset(tokenize(" ".join(FRAMING_VERBS))) | {"both"}  # not what is asked
_JOINED = re.compile(r"\band\W*$", re.IGNORECASE)  # "A and B", "A a mountain and B"


@dataclass(frozen=True)
class Verdict(Generic[S]):
    """Yes or no, and the sentence of each thing that says so, in the question's order."""

    yes: bool
    sentences: tuple[S, S]


@dataclass(frozen=True)
class _Thing(Generic[S]):
    title: str
    at: tuple[int, int]  # where the question names it
    sentences: tuple[S, ...]  # its document's, in document order


def verdict(question: str, scored: list[S], weights: dict[str, float]) -> Verdict[S] | None:
    """Yes or no to a yes/no question about two named things, when their documents settle it."""
    if not yes_no(question):
        return None
    things = _things(question, scored)
    if len(things) != 2 or not _JOINED.search(question[things[0].at[1] : things[1].at[0]]):
        return None
    likeness = _LIKENESS.search(question)
    if likeness:
        found = _likeness(likeness.group(2).lower(), things, weights)
        if found is None:
            return None
        yes, sentences = found
        return Verdict(yes if likeness.group(1).lower() == "same" else not yes, sentences)
    return _property(question, things, weights)


def _things(question: str, scored: list[S]) -> list[_Thing[S]]:
    """The documents the question names by their titles, in the order it names them; of titles
    alike but for a "(film)" tail, the bare one."""
    at = {t: title_at(question, t, any_case=True) for t in {s.passage.title for s in scored}}
    named: dict[tuple[str, ...], S] = {}
    for s in scored:
        title = s.passage.title
        if not title or at[title] is None:
            continue
        key = title_key(title)
        if key not in named or ("(" in named[key].passage.title and "(" not in title):
            named[key] = s
    titles = {s.passage.title for s in named.values()}
    # "Guildford" is not a second thing beside "Guildford Cathedral"
    titles = {t for t in titles if not any(t != o and t.lower() in o.lower() for o in titles)}
    sources = {s.passage.source for s in named.values() if s.passage.title in titles}
    if len(sources) != len(titles):
        return []  # two titles of one document
    things = [
        _Thing(
            t,
            at[t] or (0, 0),
            tuple(sorted((s for s in scored if s.passage.title == t), key=lambda s: s.span.start)),
        )
        for t in titles
    ]
    return sorted(things, key=lambda t: t.at)


def _property(
    question: str, things: list[_Thing[S]], weights: dict[str, float]
) -> Verdict[S] | None:
    """Both things have the asked property, or one has it and the other plainly not."""
    names = set(tokenize(" ".join([t.title for t in things] + _name_tails(question, things))))
    asked = {w: v for w, v in weights.items() if w not in names and w not in _FRAMING}
    if not asked:
        return None
    shares = [covered(asked, _with_nations(" ".join(s.span.text for s in t.sentences)))
              for t in things]  # fmt: skip
    best = tuple(
        max(t.sentences, key=lambda s: (covered(asked, _with_nations(s.span.text)), s.score))
        for t in things
    )
    if min(shares) >= ALL:
        return Verdict(True, best)
    if max(shares) >= ALL and min(shares) < LACKS * ALL:
        return Verdict(False, best)
    return None


def _likeness(
    noun: str, things: list[_Thing[S]], weights: dict[str, float]
) -> tuple[bool, tuple[S, S]] | None:
    """Whether the two things share the asked value (a nationality, a year), with the sentence
    of each that gives it; None when either gives none or the value is of another kind."""
    stem = next(iter(tokenize(noun)), "")
    if stem in _NATION_NOUNS:
        found = [_first(t, _nations) for t in things]
    elif stem == "year":
        asked = {w: v for w, v in weights.items() if w not in {"year", "same", "different"}}
        found = [_first(t, _years, asked) for t in things]
    else:
        return None
    if any(f is None for f in found):
        return None
    (a, sa), (b, sb) = found  # type: ignore[misc]
    return bool(a & b), (sa, sb)


def _first(
    thing: _Thing[S],
    values: Callable[[str], frozenset[str]],
    asked: dict[str, float] | None = None,
) -> tuple[frozenset[str], S] | None:
    """The values the thing's document gives, with the sentence that gives them: its opening
    sentence (a nationality is said there or not at all), or with ``asked`` the one holding most
    asked words of those that give any (the year it was released)."""
    ordered = [s for s in thing.sentences if s.span.text.strip() != thing.title]  # not its title
    if asked is None:
        ordered = ordered[:1]
    else:
        ordered.sort(key=lambda s: -covered(asked, s.span.text))
    return next(((found, s) for s in ordered if (found := values(s.span.text))), None)


def _nations(sentence: str) -> frozenset[str]:
    """The nationalities a sentence gives its subject ("is an American director"), as peoples."""
    said = _PREDICATE.search(sentence)
    out = set()
    for word in _CAPITALISED.findall(said.group(1) if said else sentence):
        w = word.lower().rstrip(".")
        if w in NATIONS:
            out.add(NATIONS[w])
        elif w in DEMONYMS or w in NATIONS.values() or (_PEOPLE.search(w) and w not in PLACES):
            out.add(w)
    return frozenset(out)


def _years(sentence: str) -> frozenset[str]:
    return frozenset(_YEAR.findall(sentence))


def _with_nations(text: str) -> str:
    """The text with the places its nationalities name: "an American band" is from the United
    States."""
    people = {w.lower() for w in _CAPITALISED.findall(text)}
    places = [place for place, p in NATIONS.items() if p in people]
    return f"{text} {' '.join(places)}" if places else text


def _name_tails(question: str, things: list[_Thing[S]]) -> list[str]:
    """Capitalised words right after a named title, part of the name as the question writes it
    ("Tibouchina Aubl"), unless they say a nationality or place ("... George Archainbaud
    American?")."""
    tails = []
    for t in things:
        m = re.match(r"\s+((?:[A-Z][\w.]*\s*)+)", question[t.at[1] :])
        if not m:
            continue
        tails += [
            w
            for w in m.group(1).split()
            if w.lower() not in {"and", "both"} and not _nations(w) and w.lower() not in PLACES
        ]
    return tails
