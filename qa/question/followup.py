"""Follow-up questions resolved against the conversation without a model: pronouns and ellipsis.

"Where is he going next?" after "Who is Wang Yi?" becomes "Where is Wang Yi going next?";
"And what about Taiwan?" after "What did Blinken say about Russia?" becomes "What did Blinken say
about Taiwan?". Each pronoun takes the mention the previous exchange makes salient, not the
nearest capitalised word (``qa.question.antecedents``): after "Who did Blinken meet?" answered
"... Wang Yi", "he" is Wang Yi; after "What did Wang call the US response?", "he" is Wang; "it"
is the thing the question asked about; "they" a pair, a list or a plural subject; "there" the
place. A name is a person only where the words around it say so ("spokesman Ned Price", "Wang
said"), never "US", "China", "Saturday" or "State Department" (``qa.question.mentions``). An
earlier follow-up is made standalone first, so "he" two questions back keeps its meaning. An
ellipsis puts its words in the slot of the same kind ("And in 2000?" replaces the year). What
cannot be resolved ("And why?") is asked together with the previous question; a question that
stands alone is left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.text import MONTH_NAMES, WEEKDAY_NAMES
from qa.question.antecedents import antecedent
from qa.question.exchange import Exchange, read_exchange, topic_place
from qa.question.mention import NAME, PERSON, TIME, Mention, norm
from qa.question.mentions import mentions, people_in
from qa.question.phrases import TIME_PHRASE, times
from qa.question.pronouns import (
    ANY_PRONOUN,
    EXISTENTIAL,
    EXPLETIVE,
    MOTION_BEFORE,
    OWNERS,
    PRONOUNS,
    WEATHER,
)
from qa.question.word_forms import POSSESSIVE_S, content_stems
from qa.question.word_lists import word_set
from qa.types import Turn

MAX_FOLLOW_UP_WORDS = 12  # longer questions stand on their own

_QUESTION_TEXT = (
    "who whom whose what which when where why how is are was were do does did can could will "
    "would should has have had and but so also then or in on at of for to the a an"
)
_QUESTION_WORDS = frozenset(_QUESTION_TEXT.split())
_PRONOUN_TEXT = "i he she it we you they his her its our their this that these those there here"
_NOT_NAMES = frozenset(_PRONOUN_TEXT.split()) | {w.lower() for w in (*WEEKDAY_NAMES, *MONTH_NAMES)}
_CONNECT = frozenset({"of", "de", "von", "van", "der", "the", "and"})
_WORD = re.compile(r"[^\W\d_][\w’'.-]*[\w]|[^\W\d_]")
_PERSON = re.compile(r"\b(he|she|him|his|her|hers)\b", re.IGNORECASE)
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


# --- the follow-up ------------------------------------------------------------------------------

TURNS_BACK = 4  # earlier questions looked back on, each made standalone against those before it
ANSWER_CHARS = 2000  # an answer is read this far for the people it names

_ELLIPSIS = re.compile(
    r"^(?:(?:and|but|so|ok|okay)[, ]+)?(?:what|how)\s+about\s+(?P<x>.+?)\s*[?.!]*$", re.IGNORECASE
)
_BARE_AND = re.compile(r"^(?:and|but)\s+(?P<x>(?:[\w’'.-]+\s*){1,5}?)\s*[?.!]*$", re.IGNORECASE)
_LEADING = re.compile(r"^(?:and|but|also|so|then)[, ]+", re.IGNORECASE)
_CONNECTIVE = re.compile(r"^(and|but|also|so|then|what else)\b", re.IGNORECASE)
_ABOUT = re.compile(
    r"\b(?:about|regarding|concerning|on|toward|towards)\s+(?P<x>(?:the\s+|a\s+|an\s+)?[^,;?]+?)"
    r"\s*(?:\?|$)",
    re.IGNORECASE,
)
_PREP_X = re.compile(
    r"^(?P<p>in|on|at|of|for|from|during|with|to|by|after|before|since)\s+(?P<y>.+)$",
    re.IGNORECASE,
)
_TIME_PREP = re.compile(r"(on|in|at|during|since|by|before|after|until|from)\s+", re.IGNORECASE)
_PREP_WORDS = word_set("in on at of for from to")
_PATTERNS = {
    cls: re.compile(r"\b(" + "|".join(words) + r")\b", re.IGNORECASE)
    for cls, words in PRONOUNS.items()
}
_MEMBERS = re.compile(r",\s*(?:and\s+)?|\s+and\s+")


def resolve(question: str, history: Sequence[Turn] | None) -> str:
    """The question made standalone against the conversation (unchanged when it already is).

    Each earlier question is first made standalone against the turns before it, so that "he"
    two questions back still means who it meant then.
    """
    turns = [
        t
        for t in history or ()
        if isinstance(t, dict) and isinstance(t.get("content"), str) and t["content"].strip()
    ]
    pairs: list[tuple[str, str]] = []
    for i, t in enumerate(turns):
        if t.get("role") == "user":
            nxt = turns[i + 1] if i + 1 < len(turns) else None
            answer = nxt["content"] if nxt and nxt.get("role") == "assistant" else ""
            pairs.append((t["content"].strip(), answer))
    if not pairs or len(question.split()) > MAX_FOLLOW_UP_WORDS:
        return question
    pairs = pairs[-TURNS_BACK:]
    people: dict[str, str | None] = {}  # the persons the conversation names, with their gender
    for q, a in pairs:
        for text in (q, _MARKER.sub("", a)[:ANSWER_CHARS]):
            for key, gender in people_in(text).items():
                people[key] = people.get(key) or gender
    read: list[Exchange] = []
    for q, a in pairs:
        text, bound = _standalone(q, read, people)
        read.append(read_exchange(text, a, people, bound))
    return _standalone(question, read, people)[0]


def _standalone(
    question: str, read: list[Exchange], people: dict
) -> tuple[str, dict[str, Mention]]:
    """The question made standalone against the exchanges before it, with what its pronouns
    were taken to mean."""
    if not read or len(question.split()) > MAX_FOLLOW_UP_WORDS:
        return question, {}
    previous = read[-1]
    elided = _ellipsis(question, previous.question, people)
    if elided is not None:
        return elided, {}
    asked = _LEADING.sub("", question)
    bound: dict[str, Mention] = {}
    excluded = {m.key for m in mentions(asked, set(people)) if m.is_name}
    excluded |= {k.split()[-1] for k in excluded if k.split()}  # names the follow-up says
    out = _pronouns(asked, read, people, bound, set(excluded))
    out = _there(out, read, bound, excluded)
    if out != asked:
        return out[0].upper() + out[1:], bound
    if _CONNECTIVE.search(question) and len(content_stems(asked)) < 2:
        return f"{previous.question} {question}", {}  # "And why?": leans on it, not resolved
    return question, {}


def _pronouns(
    asked: str, read: list[Exchange], people: dict, bound: dict, excluded: set[str]
) -> str:
    """Each pronoun in its antecedent's place ("What did Wang Yi call ...?"); a name the
    follow-up says itself is no pronoun's antecedent ("What was his meeting with Xi like?")."""
    says_a_name = bool(excluded)
    masked = EXPLETIVE.sub(lambda m: m.group(0).replace("it", "\0"), asked)  # "did it take"
    edits: list[tuple[int, int, str]] = []
    for cls in ("they", "he", "she", "it"):  # "Why did they kill him?": "him" is not one of them
        found = [
            m
            for m in _PATTERNS[cls].finditer(masked)
            if cls not in ("he", "she") or not _bound_here(masked, m, people)
        ]
        if not found:
            continue
        who = next(
            (w for ex in reversed(read) if (w := antecedent(cls, ex, excluded, masked))), None
        )
        if who is None:
            continue
        bound[cls] = who
        edits += [(m.start(), m.end(), _form(masked, m, who)) for m in found]
        parts = [norm(p) for p in _MEMBERS.split(who.text) if norm(p)]
        excluded |= set(parts) | {p.split()[-1] for p in parts}
    for start, end, text in sorted(edits, reverse=True):
        masked = masked[:start] + text + masked[end:]
    out = masked.replace("\0", "it")
    if WEATHER.search(out) and not says_a_name:  # "When does it rain the most?"
        place = next((p for ex in reversed(read) if (p := topic_place(ex))), None)
        if place is not None:
            body = out.rstrip(" ?.!")
            out = f"{body} in {place.text}{out[len(body) :] or '?'}"
    return out


def _there(out: str, read: list[Exchange], bound: dict, excluded: set[str]) -> str:
    """ "What happened there?" -> "What happened in Munich?" ("move there" -> "move to X");
    "Is there a ...?" stays."""
    if not re.search(r"\bthere\b", out, re.IGNORECASE) or EXISTENTIAL.search(out):
        return out
    place = next((p for ex in reversed(read) if (p := antecedent("there", ex, excluded))), None)
    if place is None:
        return out
    bound["there"] = place
    prep = "to" if MOTION_BEFORE.search(out) else "in"
    return re.sub(r"\bthere\b", f"{prep} {place.text}", out, flags=re.IGNORECASE)


def _bound_here(question: str, m: re.Match, people: dict) -> bool:
    """ "Did Biden say he would apologize?": a subject "he" (or "his") after a name in the
    follow-up means that name; an object "him" never does ("Biden ... talk to him")."""
    word = m.group(0).lower()
    if word in ("him", "himself", "herself") or (
        word == "her" and not re.match(r"\s+[a-z]", question[m.end() :])
    ):
        return False
    before = question[: m.start()]
    return any(x.kind in (PERSON, NAME) and x.is_name for x in mentions(before, set(people)))


def _form(question: str, m: re.Match, who: Mention) -> str:
    """The antecedent in the pronoun's place: "his" -> "Watt’s", "them" -> "the Tayichi'ud"."""
    word = m.group(0).lower()
    owner = word in OWNERS or (word == "her" and re.match(r"\s+[a-z]", question[m.end() :]))
    if owner:
        return f"{who.text}’" if who.text.endswith("s") and who.plural else f"{who.text}’s"
    return who.text


# --- ellipsis -------------------------------------------------------------------------------------


def _ellipsis(question: str, previous: str, people: dict) -> str | None:
    """ "And what about X?", "And in 2000?": the previous question asked again, X in its place."""
    m = _ELLIPSIS.match(question) or _BARE_AND.match(question)
    if not m:
        return None
    x = _strip(m.group("x"))
    first = x.split()[0].lower() if x.split() else ""
    if not x or first in _QUESTION_WORDS - _PREP_WORDS or ANY_PRONOUN.search(x):
        return None  # "and what did he say?", "and his job?": not an ellipsis
    prev = previous.strip()
    body = prev.rstrip(" ?.!")
    tail = prev[len(body) :] or "?"
    span = _slot(x, body, people)
    if span is None:
        return f"{body} {x}{tail}"
    start, end, value = span
    return body[:start] + value + body[end:] + tail


def _slot(x: str, prev: str, people: dict) -> tuple[int, int, str] | None:
    """Where X goes in the previous question: the mention of the same kind (a time for a time,
    "of Y" for "of X", a possessive for a possessive, a person for a person), else what it asked
    "about", else its first name (None: nowhere, X is added at its end)."""
    if TIME_PHRASE.fullmatch(x):  # "And on Thursday?", "What about last month?"
        found = times(prev)
        if not found:
            return None
        t = found[-1]
        prep = _TIME_PREP.match(t.text)
        if prep and not _PREP_X.match(x) and not re.match(r"(this|last|next)\b", x, re.I):
            return t.start, t.end, f"{prep.group(1)} {x}"
        return t.start, t.end, x
    p = _PREP_X.match(x)
    if p:  # "And of New South Wales?": "of Victoria" -> "of New South Wales"
        if TIME_PHRASE.fullmatch(p.group("y")):
            return _slot(p.group("y"), prev, people) if not times(prev) else _slot(x, prev, people)
        same = list(
            re.finditer(
                rf"\b{p.group('p')}\s+(?:the\s+)?[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*)*", prev
            )
        )
        return (same[-1].start(), same[-1].end(), x) if same else None
    found = [m for m in mentions(prev, set(people)) if m.kind != TIME]
    own = mentions(x, set(people))
    if own and own[0].possessive:  # "What about Newcomen's?"
        owners = [m for m in found if m.possessive]
        if owners:
            return owners[0].start, owners[0].end, POSSESSIVE_S.sub("", x)
    kind = PERSON if own and own[0].key in people else own[0].kind if own else NAME
    if kind != NAME:
        same_kind = [m for m in found if m.kind == kind and m.is_name]
        if same_kind:
            return same_kind[0].start, same_kind[0].end, x
    about = [a for a in _ABOUT.finditer(prev) if not TIME_PHRASE.fullmatch(a.group("x"))]
    if about:
        return about[-1].start("x"), about[-1].end("x"), x
    named = [m for m in found if m.is_name]
    return (named[0].start, named[0].end, x) if named else None
