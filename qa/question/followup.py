"""Follow-up questions resolved against the conversation without a model: pronouns and ellipsis.

"Where is he going next?" after "Who is Wang Yi?" becomes "Where is Wang Yi going next?";
"And what about Taiwan?" after "What did Blinken say about Russia?" becomes "What did Blinken say
about Taiwan?". The antecedent comes from the previous question (or, when that asked "who", from
the answer given to it). What cannot be resolved is asked together with the previous question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa.types import Turn

MAX_FOLLOW_UP_WORDS = 12  # longer questions stand on their own

_QUESTION_TEXT = (
    "who whom whose what which when where why how is are was were do does did can could will "
    "would should has have had and but so also then or in on at of for to the a an"
)
_QUESTION_WORDS = frozenset(_QUESTION_TEXT.split())
_CALENDAR_TEXT = (
    "i he she it we you they his her its our their this that these those there here "
    "monday tuesday wednesday thursday friday saturday sunday january february march april may "
    "june july august september october november december"
)
_NOT_NAMES = frozenset(_CALENDAR_TEXT.split())
_CONNECT = frozenset({"of", "de", "von", "van", "der", "the", "and"})
_WORD = re.compile(r"[^\W\d_][\w’'.-]*[\w]|[^\W\d_]")
_PERSON = re.compile(r"\b(he|she|him|his|her|hers)\b", re.IGNORECASE)
_THING = re.compile(r"\b(it|its)\b", re.IGNORECASE)
_GROUP = re.compile(r"\b(they|them|their|theirs)\b", re.IGNORECASE)
_THERE = re.compile(r"\bthere\b(?!\s+(is|are|was|were|be|been)\b)", re.IGNORECASE)
_ELLIPSIS = re.compile(
    r"^(?:(?:and|but|so|ok|okay)[, ]+)?(?:what|how)\s+about\s+(?P<x>.+?)\s*[?.!]*$", re.IGNORECASE
)
_BARE_AND = re.compile(r"^and\s+(?P<x>(?:[\w’'-]+\s*){1,4}?)\s*\?+$", re.IGNORECASE)
_LEADING = re.compile(r"^(?:and|but|also|so|then)[, ]+", re.IGNORECASE)
_CONNECTIVE = re.compile(r"^(and|but|also|so|then|what else)\b", re.IGNORECASE)
_WHO_IS = re.compile(r"^\s*who\s+(?:is|was|are|were)\s+(?P<x>.+?)\s*\?*$", re.IGNORECASE)
_WHAT_IS = re.compile(r"^\s*what\s+(?:is|was|are|were)\s+(?P<x>.+?)\s*\?*$", re.IGNORECASE)
_ABOUT = re.compile(
    r"\b(?:about|regarding|concerning|on|toward|towards)\s+(?P<x>(?:the\s+|a\s+|an\s+)?[^,;?]+?)"
    r"\s*(?:\?|$)",
    re.IGNORECASE,
)
_NOUN_PHRASE = re.compile(r"\b(?:the|a|an)\s+(?P<x>[\w’'-]+(?:\s+[\w’'-]+){0,2})", re.IGNORECASE)
_PLACE = re.compile(r"\b(?:in|at|to|from)\s+(?P<x>[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*)")
_MARKER = re.compile(r"\[\d+(?:\s*[,;]\s*\d+)*\]")


@dataclass(frozen=True)
class Entity:
    """A run of capitalised words in a text (a name, a place, an organisation)."""

    start: int
    end: int
    text: str


def entities(text: str) -> list[Entity]:
    """Runs of capitalised words ("Wang Yi", "Munich Security Conference"), in order."""
    words = list(_WORD.finditer(text))
    out: list[Entity] = []
    run: list[re.Match] = []

    def flush() -> None:
        while run and run[-1].group(0).lower() in _CONNECT:
            run.pop()
        if run:
            out.append(Entity(run[0].start(), run[-1].end(), text[run[0].start() : run[-1].end()]))
        run.clear()

    for k, m in enumerate(words):
        w = m.group(0)
        lower = w.lower().rstrip(".")
        gap = text[words[k - 1].end() : m.start()] if k else ""
        capital = w[0].isupper() and lower not in _NOT_NAMES
        first = k == 0 or re.search(r"[.?!]\s*$", text[: m.start()]) is not None
        if capital and first and lower in _QUESTION_WORDS:
            capital = False
        if run and gap.strip() not in ("", "-"):
            flush()
        if capital or (run and lower in _CONNECT and gap.strip() == ""):
            run.append(m)
        else:
            flush()
    flush()
    return [e for e in out if e.text.lower() not in _QUESTION_WORDS]


def dangling(question: str) -> bool:
    """True when the question says "he" or "she" but names no one it could mean."""
    return bool(_PERSON.search(question)) and not entities(question)


def _strip(text: str) -> str:
    return " ".join(_MARKER.sub("", text).split()).strip(" ?.!")


def _person(previous: str, answer: str) -> str | None:
    """Who "he" / "she" is: the person the previous question named, or the one its answer gave."""
    m = _WHO_IS.match(previous)
    if m:
        return _strip(m.group("x"))
    asked = entities(previous)
    if re.match(r"^\s*who\b", previous, re.IGNORECASE) and answer:
        named = {w for w in re.findall(r"\w+", previous.lower())}
        given = [e for e in entities(answer) if not named & set(re.findall(r"\w+", e.text.lower()))]
        given.sort(key=lambda e: -len(e.text.split()))  # "Wang Yi" before "China"
        if given:
            return given[0].text
    return asked[0].text if asked else None


def _thing(previous: str) -> str | None:
    """What "it" is: the subject of "what is X?", else the previous question's last noun phrase."""
    m = _WHAT_IS.match(previous)
    if m:
        return _strip(m.group("x"))
    phrases = list(_NOUN_PHRASE.finditer(previous))
    if phrases:
        return "the " + _strip(phrases[-1].group("x"))
    found = entities(previous)
    return found[-1].text if found else None


def _group(previous: str, answer: str) -> str | None:
    """Who "they" are: an "X and Y" of the previous question or answer, else its last name."""
    for text in (previous, answer):
        m = re.search(r"([A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*\s+and\s+[A-Z][\w’'-]*)", text)
        if m:
            return m.group(1)
    found = entities(previous)
    return found[-1].text if found else _thing(previous)


def _place(previous: str) -> str | None:
    m = list(_PLACE.finditer(previous))
    return m[-1].group("x") if m else None


def _substitute(question: str, pattern: re.Pattern, who: str | None, possessive: tuple) -> str:
    if not who:
        return question

    def repl(m: re.Match) -> str:
        word = m.group(0).lower()
        rest = question[m.end() :]
        owner = word in possessive or (word == "her" and re.match(r"\s+[a-z]", rest) is not None)
        return f"{who}’s" if owner else who

    return pattern.sub(repl, question)


def _ellipsis(question: str, previous: str) -> str | None:
    """ "And what about X?": the previous question asked again about X instead."""
    m = _ELLIPSIS.match(question) or _BARE_AND.match(question)
    if not m:
        return None
    x = _strip(m.group("x"))
    first = x.split()[0].lower() if x.split() else ""
    if not x or first in _QUESTION_WORDS or _PERSON.search(x) or _GROUP.search(x):
        return None  # "and what did he say?", "and his job?": not an ellipsis
    prev = previous.strip()
    about = list(_ABOUT.finditer(prev))
    if about:
        a = about[-1]
        return prev[: a.start("x")] + x + prev[a.end("x") :]
    found = entities(prev)
    if found:
        e = found[-1]
        return prev[: e.start] + x + prev[e.end :]
    return f"{prev.rstrip('?')} {x}?"


def resolve(question: str, history: Sequence[Turn] | None) -> str:
    """The question made standalone against the conversation (unchanged when it already is)."""
    turns = [t for t in history or () if isinstance(t.get("content"), str) and t["content"].strip()]
    users = [i for i, t in enumerate(turns) if t.get("role") == "user"]
    if not users or len(question.split()) > MAX_FOLLOW_UP_WORDS:
        return question
    last = users[-1]
    previous = turns[last]["content"].strip()
    answer = next((t["content"] for t in turns[last + 1 :] if t.get("role") == "assistant"), "")
    elided = _ellipsis(question, previous)
    if elided is not None:
        return elided
    out = _LEADING.sub("", question)
    out = _substitute(out, _PERSON, _person(previous, answer) if _PERSON.search(out) else None,
                      ("his", "hers"))  # fmt: skip
    out = _substitute(out, _THING, _thing(previous) if _THING.search(out) else None, ("its",))
    out = _substitute(out, _GROUP, _group(previous, answer) if _GROUP.search(out) else None,
                      ("their", "theirs"))  # fmt: skip
    if _THERE.search(out) and (place := _place(previous)):
        out = _THERE.sub(f"in {place}", out)
    if out != _LEADING.sub("", question):
        return out[0].upper() + out[1:]
    if _CONNECTIVE.search(question):
        return f"{previous} {question}"  # leans on the previous question in a way not resolved
    return question
