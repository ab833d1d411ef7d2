"""Follow-up questions resolved against the conversation without a model: pronouns and ellipsis.

"Where is he going next?" after "Who is Wang Yi?" becomes "Where is Wang Yi going next?";
"And what about Taiwan?" after "What did Blinken say about Russia?" becomes "What did Blinken say
about Taiwan?". The antecedent comes from the previous question (or, when that asked "who", from
the answer given to it). What cannot be resolved is asked together with the previous question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from qa.question.mentions import (
    _ATTRIBUTES,
    _PLACE_PREPS,
    _ROLES,
    _SPEECH,
    _TIME_PHRASE,
    GROUP,
    NAME,
    ORG,
    PERSON,
    PLACE,
    THING,
    TIME,
    Mention,
    _words,
    content_stems,
    is_plural,
    mentions,
    norm,
    people_in,
    pronoun_gender,
    stem,
    times,
)
from qa.question.mentions import (
    _IRREGULAR as _IRREGULAR_FORMS,
)
from qa.question.mentions import (
    _STOP as _STOP_WORDS,
)
from qa.question.mentions import (
    _VERBISH as _VERB_WORDS,
)
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


# --- the conversation as it was understood -----------------------------------------------------

_PRONOUNS = {
    "he": ("he", "him", "his", "himself"),
    "she": ("she", "her", "hers", "herself"),
    "it": ("it", "its", "itself"),
    "they": ("they", "them", "their", "theirs", "themselves"),
}
_CLASS = {w: c for c, words in _PRONOUNS.items() for w in words}
_OWNER = frozenset({"his", "its", "their", "theirs", "hers"})
_ANY_PRONOUN = re.compile(r"\b(" + "|".join(_CLASS) + r")\b", re.IGNORECASE)
_AUX = _words(
    """
    did does do is are was were has have had will would can could should may might must
    """
)
_WH = _words(
    """
    who whom whose what which when where why how
    """
)
_EXPLETIVE = re.compile(
    r"\bit\s+(?:rains?|rained|raining|snows?|snowed|snowing|seems?|seemed|takes?|took"
    r"|is\s+\w+\s+to|was\s+\w+\s+to)\b|\b(?:is|was|be|been|did|does|will)\s+it\s+"
    r"(?:like|true|possible|necessary|likely|important|that|take)\b",
    re.IGNORECASE,
)
_EXISTENTIAL = re.compile(
    r"\bthere\s+(?:is|are|was|were|be|been|has|have|had|will|seems?|used)\b"
    r"|\b(?:is|are|was|were|be|been|has|have|had)\s+there\s+(?:a|an|any|no|some|many|much|more"
    r"|enough|the|another|other|several|few|plenty|one|two|\d+|[a-z]+s)\b",
    re.IGNORECASE,
)
_MOTION_BEFORE = re.compile(
    r"\b(?:go|goes|going|went|gone|come|came|coming|travel\w*|move[sd]?|moving|fly|flew|flown"
    r"|return\w*|head\w*|sail\w*|drive|drove|driven|get|got|sent|send|bring|brought)\s+there\b",
    re.IGNORECASE,
)
_PLACE_NOUNS = _words(
    """
    city country place town state region location island venue
    """
)


@dataclass
class _Turn:
    """One earlier question (resolved) with its answer, read once."""

    question: str
    answer: str
    asked: list[Mention]  # the question's mentions
    given: list[Mention]  # the answer's mentions
    wh: str | None = None
    wh_role: str | None = None  # "subject", "object", "identity"
    wh_noun: str = ""
    subject: Mention | None = None
    identity: str | None = None  # "Who is X?": X
    bound: dict[str, Mention] = field(default_factory=dict)  # the pronouns it had, resolved


def _read(question: str, answer: str, people: dict, bound: dict) -> _Turn:
    answer = _MARKER.sub("", answer)[:2000]
    asked = mentions(question, set(people))
    given = mentions(answer, set(people))
    for m in given:
        if m.kind == PERSON and m.gender is None:
            m.gender = people.get(m.key) or pronoun_gender(answer, m, given)
    for m in asked:
        if m.kind == PERSON and m.gender is None:
            m.gender = people.get(m.key) or people.get(m.key.split()[-1])
    turn = _Turn(question, answer, asked, given, bound=bound)
    words = [w for w in re.finditer(r"[\w’'-]+", question)]
    low = [w.group(0).lower() for w in words]
    i = 0
    while i < len(low) and low[i] in ("and", "but", "so", "also", "then"):
        i += 1
    if i + 1 < len(low) and low[i] in _PLACE_PREPS and low[i + 1] in _WH:
        i += 1  # "In what year ...", "To whom ..."
    if i < len(low) and low[i] in _WH:
        turn.wh = low[i]
        j = i + 1
        if turn.wh in ("what", "which", "whose", "how"):
            while j < len(low) and low[j] not in _AUX and j - i <= 5 and not _verbish(low[j]):
                j += 1
            turn.wh_noun = " ".join(low[i + 1 : j])
        passive = (
            j + 1 < len(low)
            and low[j] in ("is", "was", "are", "were")
            and turn.wh in ("who", "which", "what")
            and _participle(low[j + 1])
        )  # "Which goalkeeper was voted ...?", "Who was born in ...?": the wh-phrase is the subject
        if j < len(low) and low[j] in _AUX and not passive:
            rest = question[words[j].end() :].strip(" ?.!")
            np_rest = (
                j + 1 < len(words)
                and (
                    low[j + 1] in ("the", "a", "an", "this", "that")
                    or words[j + 1].group(0)[:1].isupper()
                )
                and not any(_participle(w) for w in low[j + 2 :])
            )
            if turn.wh in ("who", "whom") and low[j] in ("is", "was", "are", "were") and np_rest:
                turn.wh_role, turn.identity = "identity", rest  # "Who is the spokesman?"
                turn.identity = _defined(turn) or rest
            elif (
                turn.wh in ("who", "whom")
                and low[j] in ("is", "was", "are", "were")
                and (
                    j + 1 < len(words)
                    and not _participle(low[j + 1])
                    and low[j + 1] not in ("the", "a")
                    and words[j + 1].group(0).islower()
                )
            ):
                turn.wh_role = "subject"  # "Who was responsible for ...?"
            elif turn.wh in ("what", "which") and not turn.wh_noun and low[j] in ("is", "was"):
                turn.wh_role, turn.identity = "what-is", rest
            else:
                turn.wh_role = "object"
            if turn.wh_role != "subject":
                turn.subject = _subject(turn, words, j)
        else:
            turn.wh_role = "subject"
            while j < len(low) and (low[j].endswith("ly") or low[j] in _AUX):
                j += 1  # "Who notably improved ...": the verb
            if (
                j + 1 < len(words)
                and words[j + 1].group(0).islower()
                and low[j + 1] not in _STOP_WORDS
            ):
                obj = _bare_phrase(
                    question, words, j + 1, False
                )  # "Who discovered pottery on ...?"
                if obj is not None and not any(m.start <= obj.start < m.end for m in asked):
                    obj.role = "object"
                    asked.append(obj)
                    asked.sort(key=lambda m: m.start)
    elif low and low[0] in _AUX:
        turn.subject = _subject(turn, words, 0)
    if turn.subject is not None:
        turn.subject.role = "subject"
        nxt = re.match(r"\s+(\w+)\s+(?:whether\s+|that\s+|if\s+)?", question[turn.subject.end :])
        if nxt and nxt.group(1).lower() in _SPEECH:
            inner = next((m for m in asked if m.start >= turn.subject.end + nxt.end()), None)
            if inner is not None:
                turn.subject = inner  # "What does China say the balloon was?": the balloon
                if inner.role == "owned":
                    inner.role = "subject"
    return turn


def _subject(turn: _Turn, words: list[re.Match], aux: int) -> Mention | None:
    """The subject after the auxiliary: "did [the US military] shoot down", "do [coordinating
    lead authors] report to" (after "did", the word before a particle or "?" is the verb)."""
    q, asked = turn.question, turn.asked
    after = words[aux].end()
    m = next((m for m in asked if m.start >= after), None)
    do = words[aux].group(0).lower() in ("did", "does", "do")
    if m is not None and q[after : m.start].strip() == "":
        if m.is_name or not do:
            return m
        trimmed = _bare_phrase(q, words, aux + 1, True, det=True)
        if trimmed is not None and trimmed.end < m.end:
            asked[asked.index(m)] = trimmed
            return trimmed
        return m
    if aux + 1 < len(words) and words[aux + 1].group(0).islower():
        bare = _bare_phrase(q, words, aux + 1, do)
        if bare is not None:
            asked.append(bare)
            asked.sort(key=lambda x: x.start)
            return bare
    return m


def _bare_phrase(
    q: str, words: list[re.Match], k: int, do: bool, det: bool = False
) -> Mention | None:
    """A noun phrase of lower-case words from word ``k`` on; with ``do`` its last word, when
    a particle or the end follows, is the verb ("the US military shoot down")."""
    taken: list[re.Match] = []
    if det and k < len(words) and words[k].group(0).lower() in ("the", "a", "an"):
        k += 1
    start = words[k - 1].start() if det else None
    for w in words[k : k + 5]:
        low = w.group(0).lower()
        if (low in _STOP_WORDS and not w.group(0).isupper()) or (taken and _verbish(low)):
            break
        if low in _VERB_WORDS and taken:
            break
        taken.append(w)
    if not taken:
        return None
    nxt = words[k + len(taken)].group(0).lower() if k + len(taken) < len(words) else ""
    if do and len(taken) > 1 and (not nxt or nxt in _STOP_WORDS):
        taken.pop()
    begin = start if start is not None else taken[0].start()
    text = q[begin : taken[-1].end()]
    head = taken[-1].group(0).lower()
    kind = GROUP if is_plural(head) else THING
    if head in _ROLES or head.rstrip("s") in _ROLES:
        kind = GROUP if is_plural(head) else PERSON
    return Mention(text, begin, taken[-1].end(), kind, plural=is_plural(head))


def _defined(turn: _Turn) -> str | None:
    """ "Who was the 37th President?" answered "Richard Nixon (...) was the 37th President ...":
    the answer defines the person, so its name is who "he" is (the description otherwise)."""
    if not turn.identity or turn.identity[:1].isupper():
        return None  # "Who is Wang Yi?": the name itself
    first = next((m for m in turn.given if m.is_name), None)
    if first is None or first.start > 3 or first.kind not in (PERSON, NAME):
        return None
    sentence = re.split(r"(?<=[.!?])\s+", turn.answer[first.end :], maxsplit=1)[0]
    if re.search(r"\b(?:is|was)\s+(?:a|an|the)\b", re.sub(r"\([^)]*\)", "", sentence)):
        return first.text
    return None


def _participle(word: str) -> bool:
    return (word.endswith(("ed", "en")) and len(word) > 4) or word in _IRREGULAR_FORMS


def _verbish(word: str) -> bool:
    return word in _SPEECH or (word.endswith("ed") and len(word) > 4)


def _asks_person(turn: _Turn) -> bool:
    if turn.wh in ("who", "whom"):
        return turn.wh_role in ("subject", "object")
    head = turn.wh_noun.split()[-1] if turn.wh_noun else ""
    return turn.wh in ("which", "what") and bool(head) and (head in _ROLES or head[:-1] in _ROLES)


def _align(turn: _Turn, m: Mention, sides: tuple[float, float] | None = None) -> float:
    """How well a mention in the answer sits where the question's wh-word would: after the
    question's words for "who did X meet?" (X met ... Wang Yi), before them for "who met X?"."""
    stems = content_stems(turn.question) - content_stems(m.text)
    before = re.findall(r"[\w’'-]+", turn.answer[max(0, m.start - 80) : m.start])[-8:]
    after = re.findall(r"[\w’'-]+", turn.answer[m.end : m.end + 80])[:8]
    weight = sides or {"subject": (0.5, 1.0), "object": (1.0, 0.5)}.get(
        turn.wh_role or "", (1.0, 1.0)
    )
    aside = re.search(r"\b(?:with the support of|along with|together with|"
                      r"according to|as well as)\s+(?:[\w’'-]+\s+){0,6}$",
                      turn.answer[max(0, m.start - 60) : m.start])  # fmt: skip
    score, seen = 0.0, set()
    for side, words in ((0, list(reversed(before))), (1, after)):
        for k, w in enumerate(words):
            st = stem(w)
            if st in stems and (side, st) not in seen:
                seen.add((side, st))
                score += weight[side] * (1 + 1 / (1 + k))
    return score - (2.0 if aside else 0.0)


def _person_given(turn: _Turn, pool: list[Mention]) -> Mention:
    """The person a who-question's answer gives: where the question's words are, a person more
    than a name, the one the answer (a biography: "He ...", "His ...") is about, not a
    possessor ("Nelson Rockefeller's Committee"); one person named twice scores once, in full."""
    bio = 1.0 if re.search(r"(?:^|[.!?]\s+)(?:He|She|His|Her)\b", turn.answer) else 0.0
    if bio:  # what the question asks, said of "he"/"she": said of the one the biography is about
        stems = content_stems(turn.question)
        said = [content_stems(x) & stems for x in re.split(r"(?<=[.!?])\s+", turn.answer)
                if re.search(r"\b(?:he|she|his|her)\b", x, re.IGNORECASE)]  # fmt: skip
        bio += min(3, max((len(x) for x in said), default=0))

    def score(g: Mention) -> float:
        return (_align(turn, g) + (g.kind == PERSON) + _lead(turn, g) * (1 + bio)
                - 1.5 * g.possessive)  # fmt: skip

    best: dict[str, tuple[float, Mention]] = {}
    for g in pool:
        same = next((k for k in best if g.key.split()[-1] == k.split()[-1]), None)
        if same is None:
            best[g.key] = (score(g), g)
        else:
            s, h = best[same]
            full = h if len(h.text) >= len(g.text) else g
            best[same] = (max(s, score(g)), full)
    return max(best.values(), key=lambda x: (x[0], -x[1].start))[1]


def _lead(turn: _Turn, m: Mention) -> float:
    """The answer's own subject: a name that opens the answer or one of its sentences."""
    before = turn.answer[max(0, m.start - 3) : m.start].strip(' "“(')
    return 1.0 if m.start < 3 or before.endswith((".", "!", "?")) else 0.0


def _new(turn: _Turn, m: Mention) -> bool:
    """A mention of the answer that the question does not already make ("Blinken" is not new
    after "Who did Blinken meet?"; "Henry J. Kaiser" is, after "Who founded Kaiser Ventures?")."""
    if m.key in {a.key for a in turn.asked}:
        return False
    other = {w for a in turn.asked if a.is_name and a.kind in (ORG, PLACE) for w in a.key.split()}
    named = {
        re.sub(r"[’']s$", "", w.lower())
        for w in re.findall(r"(?<=\s)[A-Z][\w’'.-]*", turn.question)
    }
    if m.kind in (PERSON, NAME):
        named -= other
    return not (set(m.key.split()) & named)


def _fits(m: Mention, cls: str, excluded: set[str]) -> bool:
    if m.key in excluded or (m.key.split() and m.key.split()[-1] in excluded):
        return False
    if m.role == "owned":
        return False  # "its reliance": a thing of something else's
    if cls in ("he", "she"):
        if m.kind not in (PERSON, NAME) or m.plural or m.role == "title":
            return False
        return m.gender is None or m.gender == ("m" if cls == "he" else "f")
    if cls == "it":
        return m.kind in (THING, ORG, PLACE, NAME) and not m.plural
    if cls == "they":
        return m.kind == GROUP or m.plural
    return m.kind == PLACE  # there


def _best(turn: _Turn, found: list[Mention], cls: str, excluded: set[str]) -> Mention | None:
    found = [m for m in found if _fits(m, cls, excluded)]
    if not found:
        return None
    return max(found, key=lambda m: (_align(turn, m), -m.start))


_NOT_THINGS = _words(
    """
    year years day days month century time date percentage percent much many long often far
    old big large type kind sort way number amount age size
    """
)


def _same_verb(turn: _Turn, follow_up: str, subject: Mention) -> bool:
    """The follow-up goes on about the subject: it repeats the question's words ("refused" ...
    "refused"), says "do that", or uses a word the answer says of the subject ("Beijing ...
    accused the US" ... "What did it accuse the US of?")."""
    if re.search(r"\bdo(?:es|ne)?\s+(?:that|this|so|it)\b", follow_up, re.IGNORECASE):
        return True
    said = {stem(w) for w in re.findall(r"\b[a-z]+", follow_up) if w not in _STOP_WORDS}
    said -= {stem(w) for w in _PRONOUNS_FLAT}
    asked = {stem(w) for w in re.findall(r"\b[a-z]+", turn.question) if w not in _STOP_WORDS}
    if said & asked:
        return True
    for sentence in re.split(r"(?<=[.!?])\s+", turn.answer):
        if subject.key and subject.key in norm(sentence):
            words = {stem(w) for w in re.findall(r"\b[a-z]+", sentence) if w not in _STOP_WORDS}
            if said & words:
                return True
    return False


_PRONOUNS_FLAT = ("it", "its", "they", "them", "their", "he", "him", "his", "she", "her")


def _candidate(cls: str, turn: _Turn, excluded: set[str], follow_up: str = "") -> Mention | None:
    """What a pronoun of ``cls`` stands for, from one earlier turn (None: nothing fits)."""
    bound = turn.bound.get(cls)
    if bound is not None and _fits(bound, cls, excluded):
        return bound  # the pronoun goes on meaning what it meant in that question
    given = [m for m in turn.given if _new(turn, m)]
    if cls in ("he", "she"):
        if turn.wh_role == "identity" and turn.identity:
            who = Mention(turn.identity, 0, 0, PERSON)
            return who if _fits(who, cls, excluded) else None
        if _asks_person(turn):  # "Who met Wang?", "Who did Blinken meet?": the one the answer gave
            pool = [g for g in given if g.is_name and g.kind in (PERSON, NAME)]
            pool = [g for g in pool if _fits(g, cls, excluded)]
            if pool:
                return _person_given(turn, pool)
        for pool in (
            [m for m in turn.asked if m.kind == PERSON and m.is_name],
            [m for m in turn.asked if m.kind == NAME],
            [m for m in turn.asked if m.kind == PERSON],
            [m for m in turn.given if m.kind == PERSON and m.is_name],
        ):
            ranked = sorted(pool, key=lambda m: m.role != "subject")
            m = next((m for m in ranked if _fits(m, cls, excluded)), None)
            if m is not None:
                return m
        return None
    if cls == "it":
        if turn.wh_role == "what-is" and turn.identity:
            topic = _attribute_owner(turn)
            if topic is not None:
                return topic if _fits(topic, cls, excluded) else None
        s = turn.subject
        subject = s if s is not None and s.kind not in (PERSON, TIME, GROUP) else None
        if subject is not None and subject.kind == NAME and len(subject.text.split()) > 1:
            subject = None  # "William Maclure": a person's name, most likely
        if subject is not None and not _fits(subject, cls, excluded):
            subject = None
        asked_for = None
        thing_wh = turn.wh in ("what", "which") and not (
            turn.wh_noun and turn.wh_noun.split()[-1] in _NOT_THINGS
        )
        if re.search(r"\b(?:is|was|are|were)(?:\s+(?:for|about|like))?\s*\?*\s*$", turn.question):
            thing_wh = False  # "What does China say the balloon was?": no new thing in the answer
        if (thing_wh and (turn.wh_role == "subject" or s is not None)) or (
            turn.wh in ("who", "whom") and turn.wh_role == "object"
        ):  # what the question asked for: a thing the answer gives (or an organisation for whom)
            kinds = (ORG,) if turn.wh in ("who", "whom") else (THING, ORG, NAME, PLACE)
            pool = [g for g in given if g.kind in kinds and _fits(g, cls, excluded)]
            head = stem(turn.wh_noun.split()[-1]) if turn.wh_noun else ""
            if turn.wh_role == "subject" and s is None:  # the thing asked for comes before the verb
                pool = [g for g in pool if _align(turn, g, sides=(0.0, 1.0)) > 0
                        or (head and stem(g.text.split()[-1]) == head)]  # fmt: skip
            if pool:
                asked_for = max(pool, key=lambda g: (
                    _align(turn, g) + g.is_name + _lead(turn, g)
                    + 2 * bool(head and stem(g.text.split()[-1]) == head),
                    -g.start))  # fmt: skip
        if subject is not None:
            if asked_for is not None and not _same_verb(turn, follow_up, subject):
                return (
                    asked_for  # "What did the US military shoot down?" ... "Where was it flying?"
                )
            return subject  # "What has Beijing refused?" ... "Why has it refused?"
        if turn.wh == "where" or _asks_place(turn):
            m = _best(turn, [g for g in given if g.kind in (PLACE, THING, NAME)], cls, excluded)
            if m is not None:
                return m
        if asked_for is not None:
            return asked_for
        things = [m for m in turn.asked if m.kind in (THING, ORG, NAME)]
        things = sorted(things, key=lambda m: (m.role != "object", -m.start))
        places = [m for m in reversed(turn.asked) if m.kind == PLACE]
        return next((m for m in [*things, *places] if _fits(m, cls, excluded)), None)
    if cls == "they":
        if (
            turn.wh_role == "identity"
            and turn.identity
            and turn.question.split()[1].lower() in ("are", "were")
        ):
            return Mention(turn.identity, 0, 0, GROUP, plural=True)  # "Who are the members of X?"
        group = _coordinated(turn.question, turn.asked, None, excluded)
        s = turn.subject
        if group is None and s is not None and s.plural and _fits(s, cls, excluded):
            group = s  # "Who do coordinating lead authors report to?" ... "What are they ...?"
        if group is None:
            group = _coordinated(turn.answer, turn.given, turn, excluded)
        if (
            group is None
            and turn.wh in ("who", "whom")
            and turn.wh_role == "object"
            and (s is not None and s.kind in (PERSON, NAME) and s.is_name)
        ):  # "Who did Blinken meet?" ... "What did they discuss?": Blinken and the one he met
            pool = [
                g for g in given if g.is_name and g.kind in (PERSON, NAME) and g.key not in excluded
            ]
            if pool:
                other = _person_given(turn, pool)
                return Mention(f"{s.text} and {other.text}", 0, 0, GROUP, plural=True)
        if group is None and _asks_person(turn):  # "Who captured him?" "the Tayichi'ud"
            pool = [
                g
                for g in given
                if (g.kind == GROUP and g.plural)
                or (
                    (g.is_name and g.kind in (NAME, THING, ORG, PLACE, GROUP))
                    and g.key not in excluded
                )
            ]
            group = max(pool, key=lambda g: (_align(turn, g), -g.start)) if pool else None
        if group is not None:
            return group
        for m in sorted(turn.asked, key=lambda m: m.role != "subject"):
            if m.plural and _fits(m, cls, excluded):
                return m
        s = turn.subject
        if s is not None and s.kind in (ORG, GROUP) and s.key not in excluded:
            return s  # a band, a team, a ministry
        return _best(turn, turn.given, cls, excluded)
    if cls == "there":
        if turn.wh == "where" or _asks_place(turn):
            m = _best(turn, [g for g in given if g.kind in (PLACE, NAME)], "there", excluded)
            if m is None:
                named = [g for g in given if g.kind == NAME]
                m = max(named, key=lambda g: _align(turn, g), default=None)
            if m is not None:
                return m
        places = [m for m in turn.asked if m.kind == PLACE and m.key not in excluded]
        return places[-1] if places else None
    return None


_WEATHER = re.compile(
    r"\bit\s+(?:rains?|rained|raining|snows?|snowed|snowing|freezes|hails?)\b", re.I
)


def _topic_place(turn: _Turn) -> Mention | None:
    """The place a question is about: one it names, else its subject when that is a name."""
    places = [m for m in turn.asked if m.kind == PLACE]
    if places:
        return places[-1]
    s = turn.subject
    return s if s is not None and s.is_name and s.kind in (NAME, PLACE) else None


def _asks_place(turn: _Turn) -> bool:
    return bool(turn.wh_noun) and turn.wh_noun.split()[-1] in _PLACE_NOUNS


def _attribute_owner(turn: _Turn) -> Mention | None:
    """ "What is X?": X, or for "the capacity of X" X; for "the name of X" the name given."""
    x = turn.identity or ""
    m = re.match(r"(?:the|a|an)\s+(\w+)\s+of\s+(.+)$", x, re.IGNORECASE)
    if m and m.group(1).lower() in _ATTRIBUTES:
        if m.group(1).lower() == "name":
            given = [g for g in turn.given if g.is_name and _new(turn, g)]
            if given:
                return max(given, key=lambda g: (_align(turn, g), -g.start))
        owner = _cut(m.group(2))
        return Mention(owner, 0, 0, THING)
    return Mention(_cut(x), 0, 0, THING)


def _cut(phrase: str) -> str:
    """A noun phrase without the clause after it ("the rock found during ..." -> "the rock")."""
    m = re.match(r"((?:the|a|an)\s+)?([^,;]+?)(?:\s+(?:(?:that|which|who|whose|where)\b|(?:found"
                 r"|made|used|built|known|called|named|located|based|discovered|written)\s+(?:during"
                 r"|in|by|at|on|for|as|from|with)\b).*)?$", phrase, re.IGNORECASE)  # fmt: skip
    return (m.group(0) if not m else (m.group(1) or "") + m.group(2)).strip()


_AND = re.compile(
    r"\s*(?:,\s*(?:and\s+)?|and\s+|&\s+)(?:[Tt]he\s+)?(?:[A-Z][a-z]+(?:an|ese|ish|ch)\s+)?"
    r"(?:(?:his|her|their)\s+)?(?:(?:[a-z]+)\s+)?",
)  # "Joe Biden and Chinese leader Xi Jinping"


def _coordinated(text, found, turn, excluded) -> Mention | None:
    """ "Blinken and Wang", "Lovell, Jack Swigert, and Fred Haise": the group they make."""
    kinds = (PERSON, NAME) if turn is None else (PERSON, NAME, ORG, GROUP)
    people = [m for m in found if m.kind in kinds and m.role != "title"]
    groups = []
    for i, first in enumerate(people):
        members = [first]
        for nxt in people[i + 1 :]:
            gap = text[members[-1].end : nxt.start]
            filler = re.findall(r"[a-z]+", gap.lower())
            if _AND.fullmatch(gap) and all(
                w in ("and", "the", "his", "her", "their")
                or w in _ROLES
                or w.endswith(("an", "ese", "ish", "ch"))
                for w in filler
            ):
                members.append(nxt)
            else:
                break
        if len(members) > 1 and not any(m.key in excluded for m in members):
            groups.append(Mention(text[first.start : members[-1].end], first.start,
                                  members[-1].end, GROUP, plural=True))  # fmt: skip
    if not groups:
        return None
    if turn is None:
        return groups[0]
    return max(groups, key=lambda g: (_align(turn, g), -g.start))


# --- the follow-up ------------------------------------------------------------------------------

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
_PREP_X = re.compile(r"^(?P<p>in|on|at|of|for|from|during|with|to|by|after|before|since)\s+"
                     r"(?P<y>.+)$", re.IGNORECASE)  # fmt: skip


def _ellipsis(question: str, previous: str, people: dict) -> str | None:
    """ "And what about X?", "And in 2000?": the previous question asked again, X in its place."""
    m = _ELLIPSIS.match(question) or _BARE_AND.match(question)
    if not m:
        return None
    x = _strip(m.group("x"))
    first = x.split()[0].lower() if x.split() else ""
    if not x or first in _QUESTION_WORDS - _PREP_WORDS or _ANY_PRONOUN.search(x):
        return None  # "and what did he say?", "and his job?": not an ellipsis
    prev = previous.strip()
    body = prev.rstrip(" ?.!")
    tail = prev[len(body) :] or "?"
    span = _slot(x, body, people)
    if span is None:
        return f"{body} {x}{tail}"
    start, end, value = span
    return body[:start] + value + body[end:] + tail


_PREP_WORDS = _words(
    """
    in on at of for from to
    """
)


def _slot(x: str, prev: str, people: dict) -> tuple[int, int, str] | None:
    """Where X goes in the previous question: the mention of the same kind (a time for a time,
    a person for a person, "of Y" for "of X", a possessive for a possessive)."""
    if _TIME_PHRASE.fullmatch(x):
        found = times(prev)
        if found:
            t = found[-1]
            prep = re.match(r"(on|in|at|during|since|by|before|after|until|from)\s+", t.text, re.I)
            if prep and not _PREP_X.match(x) and not re.match(r"(this|last|next)\b", x, re.I):
                return t.start, t.end, f"{prep.group(1)} {x}"
            return t.start, t.end, x
        return None
    p = _PREP_X.match(x)
    if p:
        y = p.group("y")
        if _TIME_PHRASE.fullmatch(y):
            return _slot(y, prev, people) if not times(prev) else _slot(x, prev, people)
        same = list(re.finditer(rf"\b{p.group('p')}\s+(?:the\s+)?[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*)*",
                                prev))  # fmt: skip
        if same:
            s = same[-1]
            return s.start(), s.end(), x
        return None
    found = [m for m in mentions(prev, set(people)) if m.kind != TIME]
    own = mentions(x, set(people))
    kind = own[0].kind if own else NAME
    if own and own[0].key in people:
        kind = PERSON
    if own and own[0].possessive:
        owners = [m for m in found if m.possessive]
        if owners:
            o = owners[0]
            return o.start, o.end, _POSSESSIVE_SUB.sub("", x)
    if kind != NAME:
        same_kind = [m for m in found if m.kind == kind and m.is_name]
        if same_kind:
            return same_kind[0].start, same_kind[0].end, x
    about = [a for a in _ABOUT.finditer(prev) if not _TIME_PHRASE.fullmatch(a.group("x"))]
    if about:
        a = about[-1]
        return a.start("x"), a.end("x"), x
    named = [m for m in found if m.is_name]
    if named:
        return named[0].start, named[0].end, x
    return None


_POSSESSIVE_SUB = re.compile(r"[’']s$")


def _form(question: str, m: re.Match, who: Mention) -> str:
    """The antecedent in the pronoun's place: "his" -> "Watt’s", "them" -> "the Tayichi'ud"."""
    word = m.group(0).lower()
    owner = word in _OWNER or (word == "her" and re.match(r"\s+[a-z]", question[m.end() :]))
    if owner:
        return f"{who.text}’" if who.text.endswith("s") and who.plural else f"{who.text}’s"
    return who.text


def _bound_here(question: str, cls: str, people: dict) -> bool:
    """ "Did Biden say he would apologize?": "he" means the name before it, not someone earlier."""
    if cls not in ("he", "she"):
        return False
    first = re.search(r"\b(" + "|".join(_PRONOUNS[cls]) + r")\b", question, re.IGNORECASE)
    if first is None or first.group(1).lower() in ("him",):
        return False
    before = question[: first.start()]
    return any(m.kind in (PERSON, NAME) for m in mentions(before, set(people)))


def _resolve(question: str, turns: list[_Turn], people: dict) -> tuple[str, dict[str, Mention]]:
    if not turns or len(question.split()) > MAX_FOLLOW_UP_WORDS:
        return question, {}
    previous = turns[-1]
    elided = _ellipsis(question, previous.question, people)
    if elided is not None:
        return elided, {}
    out = _LEADING.sub("", question)
    bound: dict[str, Mention] = {}
    excluded = {m.key for m in mentions(out, set(people)) if m.is_name}
    excluded |= {k.split()[-1] for k in excluded}
    names_nothing = not excluded
    masked = _EXPLETIVE.sub(lambda m: m.group(0).replace("it", "\0"), out)
    edits: list[tuple[int, int, str]] = []
    for cls in ("they", "he", "she", "it"):
        pattern = re.compile(r"\b(" + "|".join(_PRONOUNS[cls]) + r")\b", re.IGNORECASE)
        if not pattern.search(masked) or _bound_here(masked, cls, people):
            continue
        who = None
        for turn in reversed(turns):
            who = _candidate(cls, turn, excluded, masked)
            if who is not None:
                break
        if who is None:
            continue
        bound[cls] = who
        edits += [(m.start(), m.end(), _form(masked, m, who)) for m in pattern.finditer(masked)]
        parts = [norm(p) for p in re.split(r",\s*(?:and\s+)?|\s+and\s+", who.text)]
        excluded |= {p for p in parts if p} | {p.split()[-1] for p in parts if p}
    for start, end, text in sorted(edits, reverse=True):
        masked = masked[:start] + text + masked[end:]
    out = masked.replace("\0", "it")
    if _WEATHER.search(out) and names_nothing:
        place = next((p for t in reversed(turns) if (p := _topic_place(t))), None)
        if place is not None:  # "When does it rain the most?" after "... Jacksonville ...?"
            body = out.rstrip(" ?.!")
            out = f"{body} in {place.text}{out[len(body) :] or '?'}"
    if re.search(r"\bthere\b", out, re.IGNORECASE) and not _EXISTENTIAL.search(out):
        place = next((p for t in reversed(turns) if (p := _candidate("there", t, excluded))), None)
        if place is not None:
            bound["there"] = place
            prep = "to" if _MOTION_BEFORE.search(out) else "in"
            out = re.sub(r"\bthere\b", f"{prep} {place.text}", out, flags=re.IGNORECASE)
    if out != _LEADING.sub("", question):
        return out[0].upper() + out[1:], bound
    if _CONNECTIVE.search(question):
        return f"{previous.question} {question}", {}  # leans on it in a way not resolved
    return question, {}


def resolve(question: str, history: Sequence[Turn] | None) -> str:
    """The question made standalone against the conversation (unchanged when it already is).

    Each earlier question is first made standalone against the turns before it, so that "he"
    two questions back still means who it meant then.
    """
    turns = [t for t in history or () if isinstance(t.get("content"), str) and t["content"].strip()]
    pairs: list[tuple[str, str]] = []
    for i, t in enumerate(turns):
        if t.get("role") == "user":
            nxt = turns[i + 1] if i + 1 < len(turns) else None
            answer = nxt["content"] if nxt and nxt.get("role") == "assistant" else ""
            pairs.append((t["content"].strip(), answer))
    if not pairs or len(question.split()) > MAX_FOLLOW_UP_WORDS:
        return question
    pairs = pairs[-_TURNS_BACK:]
    people: dict[str, str | None] = {}
    for q, a in pairs:
        for text in (q, a):
            for k, g in people_in(_MARKER.sub("", text)[:2000]).items():
                people[k] = people.get(k) or g
    read: list[_Turn] = []
    for q, a in pairs:
        text, bound = _resolve(q, read, people)
        read.append(_read(text, a, people, bound))
    return _resolve(question, read, people)[0]


_TURNS_BACK = 4  # earlier questions looked back on (each resolved against those before it)
