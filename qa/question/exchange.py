"""An earlier question of the chat, with its answer, read for its frame (no model).

The frame is what the question asked ("who" as its subject, as in "Who met Wang?", or as its
object, as in "Who did Blinken meet?"; "who is X?"; "what is X?"), its subject ("did [the US
military] shoot down", "does China say [the balloon] was") and its verb. Both texts are read for
their mentions (``qa.question.mentions``); ``qa.question.antecedents`` then picks from them what a
follow-up's pronoun stands for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa.question.mention import GROUP, NAME, PERSON, PLACE, THING, Mention
from qa.question.mentions import mentions, pronoun_gender
from qa.question.word_forms import is_plural, stem
from qa.question.word_lists import (
    AUXILIARIES,
    IRREGULAR_VERBS,
    PLACE_PREPS,
    ROLE_NOUNS,
    SPEECH_VERBS,
    STOP_WORDS,
    VERB_FORMS,
    word_set,
)

MARKER = re.compile(r"\[\d+(?:\s*[,;]\s*\d+)*\]")
ANSWER_CHARS = 2000  # an answer is read this far (the antecedent is near its start)

_BE = frozenset({"is", "was", "are", "were"})
_WH = word_set("who whom whose what which when where why how")
_PLACE_NOUNS = word_set("city country place town state region location island venue")
TOKEN = re.compile(r"[\w’'-]+")  # a word of a question or an answer
SENTENCE = re.compile(r"(?<=[.!?])\s+")  # the break between two sentences


@dataclass
class Exchange:
    """One earlier question (made standalone) with its answer, read once."""

    question: str
    answer: str
    asked: list[Mention]  # the question's mentions
    given: list[Mention]  # the answer's mentions
    wh: str | None = None
    wh_role: str | None = None  # "subject", "object", "identity" (who is X?), "what-is"
    wh_noun: str = ""  # "which [US President]", "what [document]"
    subject: Mention | None = None
    identity: str | None = None  # "Who is X?", "What is X?": X
    verb: str = ""  # the stem of the question's main verb
    bound: dict[str, Mention] = field(default_factory=dict)  # its own pronouns, resolved
    _aligned: dict = field(default_factory=dict, repr=False)  # scores (alignment.align)


def read_exchange(question: str, answer: str, people: dict, bound: dict) -> Exchange:
    """An earlier question (already standalone) and its answer, read for their frame.

    ``people``: the conversation's persons and genders (``mentions.people_in``); ``bound``: what
    the question's own pronouns were taken to mean when it was made standalone.
    """
    answer = MARKER.sub("", answer)[:ANSWER_CHARS]
    known = set(people)
    asked, given = mentions(question, known), mentions(answer, known)
    for m in given:
        if m.kind == PERSON and m.gender is None:
            m.gender = people.get(m.key) or pronoun_gender(answer, m, given)
    for m in asked:
        if m.kind == PERSON and m.gender is None:
            m.gender = people.get(m.key) or people.get(m.key.split()[-1])
        for cls, b in bound.items():  # who a pronoun was taken to mean: "Watt" for "he"
            if b.key and m.key.split()[-1] == b.key.split()[-1]:
                m.kind = PERSON if cls in ("he", "she") else THING if cls == "it" else m.kind
    ex = Exchange(question, answer, asked, given, bound=bound)
    _frame(ex)
    return ex


def _frame(ex: Exchange) -> None:
    """What the question asks and who or what its subject is."""
    q = ex.question
    words = list(TOKEN.finditer(q))
    low = [w.group(0).lower() for w in words]
    i = 0
    while i < len(low) and low[i] in ("and", "but", "so", "also", "then"):
        i += 1
    if i + 1 < len(low) and low[i] in PLACE_PREPS and low[i + 1] in _WH:
        i += 1  # "In what year ...", "To whom ..."
    if i < len(low) and low[i] in _WH:
        ex.wh = low[i]
        j = i + 1
        if ex.wh in ("what", "which", "whose", "how"):
            while (
                j < len(low) and low[j] not in AUXILIARIES and j - i <= 5 and not _verbish(low[j])
            ):
                j += 1
            ex.wh_noun = " ".join(low[i + 1 : j])
        passive = (
            j + 1 < len(low)
            and low[j] in _BE
            and ex.wh in ("who", "which", "what")
            and _participle(low[j + 1])
        )  # "Which goalkeeper was voted ...?", "Who was born in ...?": the wh-phrase is the subject
        if j < len(low) and low[j] in AUXILIARIES and not passive:
            _wh_then_aux(ex, words, low, j)
        else:
            _wh_as_subject(ex, words, low, j)
    elif low and low[0] in AUXILIARIES:  # "Did the Foreign Ministry say ...?"
        ex.subject = _subject(ex, words, 0)
    s = ex.subject
    if s is None:
        return
    s.role = "subject"
    after = re.match(r"\s+([a-z]+)", q[s.end :])
    if after and not ex.verb:
        ex.verb = stem(after.group(1))
    said = re.match(r"\s+(\w+)\s+(?:whether\s+|that\s+|if\s+)?", q[s.end :])
    if said and said.group(1).lower() in SPEECH_VERBS:
        inner = next((m for m in ex.asked if m.start >= s.end + said.end()), None)
        if inner is not None:  # "What does China say the balloon was?": the balloon
            ex.subject = inner
            inner.role = "subject"


def _wh_then_aux(ex: Exchange, words: list[re.Match], low: list[str], j: int) -> None:
    """ "Who is X?", "Who was responsible for ...?", "What is X?", "Who did X meet?"."""
    rest = ex.question[words[j].end() :].strip(" ?.!")
    nxt = low[j + 1] if j + 1 < len(low) else ""
    noun_phrase = (
        bool(nxt)
        and (nxt in ("the", "a", "an", "this", "that") or words[j + 1].group(0)[:1].isupper())
        and not any(_participle(w) for w in low[j + 2 :])
    )
    if ex.wh in ("who", "whom") and low[j] in _BE and noun_phrase:
        ex.wh_role = "identity"  # "Who is the spokesman?"
        ex.identity = _defined(ex, rest) or rest
    elif (
        ex.wh in ("who", "whom")
        and low[j] in _BE
        and nxt not in ("", "the", "a", "an")
        and words[j + 1].group(0).islower()
    ):
        ex.wh_role = "subject"  # "Who was responsible for ...?"
        return
    elif ex.wh in ("what", "which") and not ex.wh_noun and low[j] in ("is", "was"):
        ex.wh_role, ex.identity = "what-is", rest
    else:
        ex.wh_role = "object"
    ex.subject = _subject(ex, words, j)


def _wh_as_subject(ex: Exchange, words: list[re.Match], low: list[str], j: int) -> None:
    """ "Who met Wang?", "Which US President visited ...?", "Who discovered pottery on ...?"."""
    ex.wh_role = "subject"
    while j < len(low) and (low[j].endswith("ly") or low[j] in AUXILIARIES):
        j += 1  # "Who notably improved ...": the verb
    ex.verb = stem(low[j]) if j < len(low) else ""
    if j + 1 < len(words) and words[j + 1].group(0).islower() and low[j + 1] not in STOP_WORDS:
        obj = _bare_phrase(ex.question, words, j + 1, False)  # "pottery"
        if obj is not None and not any(m.start <= obj.start < m.end for m in ex.asked):
            obj.role = "object"
            ex.asked.append(obj)
            ex.asked.sort(key=lambda m: m.start)


def _subject(ex: Exchange, words: list[re.Match], aux: int) -> Mention | None:
    """The subject after the auxiliary: "did [the US military] shoot down", "do [coordinating
    lead authors] report to" (after "did", the word before a particle or "?" is the verb)."""
    q, asked = ex.question, ex.asked
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
    if det and k < len(words) and words[k].group(0).lower() in ("the", "a", "an"):
        k += 1
    start = words[k - 1].start() if det else None
    taken: list[re.Match] = []
    for w in words[k : k + 5]:
        low = w.group(0).lower()
        if (low in STOP_WORDS and not w.group(0).isupper()) or (taken and _verbish(low)):
            break
        if taken and low in VERB_FORMS:
            break
        taken.append(w)
    if not taken:
        return None
    nxt = words[k + len(taken)].group(0).lower() if k + len(taken) < len(words) else ""
    if do and len(taken) > 1 and (not nxt or nxt in STOP_WORDS):
        taken.pop()
    begin = start if start is not None else taken[0].start()
    head = taken[-1].group(0).lower()
    plural = is_plural(head)
    kind = GROUP if plural else THING
    if head in ROLE_NOUNS or head.rstrip("s") in ROLE_NOUNS:
        kind = GROUP if plural else PERSON
    return Mention(q[begin : taken[-1].end()], begin, taken[-1].end(), kind, plural=plural)


def _defined(ex: Exchange, description: str) -> str | None:
    """ "Who was the 37th President?" answered "Richard Nixon (...) was the 37th President ...":
    the answer defines the person, so its name is who "he" is (the description otherwise: the
    answer "State Department spokesman Ned Price said ..." leaves "the spokesman")."""
    if description[:1].isupper():
        return None  # "Who is Wang Yi?": the name itself
    first = next((m for m in ex.given if m.is_name), None)
    if first is None or first.start > 3 or first.kind not in (PERSON, NAME):
        return None
    sentence = SENTENCE.split(ex.answer[first.end :], maxsplit=1)[0]
    if re.search(r"\b(?:is|was)\s+(?:a|an|the)\b", re.sub(r"\([^)]*\)", "", sentence)):
        return first.text
    return None


def _participle(word: str) -> bool:
    return (word.endswith(("ed", "en")) and len(word) > 4) or word in IRREGULAR_VERBS


def _verbish(word: str) -> bool:
    return word in SPEECH_VERBS or (word.endswith("ed") and len(word) > 4)


def asks_person(ex: Exchange) -> bool:
    """Whether the question asks for a person ("Who met Wang?", "Which US President ...?")."""
    if ex.wh in ("who", "whom"):
        return ex.wh_role in ("subject", "object")
    head = ex.wh_noun.split()[-1] if ex.wh_noun else ""
    return (
        ex.wh in ("which", "what")
        and bool(head)
        and (head in ROLE_NOUNS or head[:-1] in ROLE_NOUNS)
    )  # "Which US President ...?", "Which astronauts ...?"


def asks_place(ex: Exchange) -> bool:
    """Whether the question asks for a place ("Where ...?", "In which city ...?")."""
    return ex.wh == "where" or (bool(ex.wh_noun) and ex.wh_noun.split()[-1] in _PLACE_NOUNS)


def topic_place(ex: Exchange) -> Mention | None:
    """The place a question is about: one it names, else its subject when that is a name."""
    places = [m for m in ex.asked if m.kind == PLACE]
    if places:
        return places[-1]
    s = ex.subject
    return s if s is not None and s.is_name and s.kind in (NAME, PLACE) else None
