"""Who "he", "she", "it", "they" and "there" stand for, from one earlier exchange of the chat.

An earlier question is read for its frame: what it asked ("who" as its subject, as in "Who met
Wang?", or as its object, as in "Who did Blinken meet?"; "who is X?"; "what is X?"), its subject
("did [the US military] shoot down", "does China say [the balloon] was") and its verb. A pronoun
then takes the mention that frame makes salient:

- "he"/"she" after a who-question: the person the answer gives, found where the question's
  words (its verb above all) sit in the answer ("sung by [Jim Cummings]"), or the one a
  biography answer is about; otherwise the person the question is about (its subject first),
  never "US", "China", "Saturday" or "State Department";
- "it": the thing the question is about; the new thing its answer gives when the follow-up does
  not go on about the question's subject ("What did the US military shoot down?" ... "Where
  was it flying?"); the place a where-question's answer gives ("its capacity");
- "they": a pair or a list ("Blinken and Wang"), a plural subject ("US officials"), the group
  a who-question's answer gives, a band or a ministry;
- "there": the place a where-question's answer gives, else the place the question names.

A pronoun that the earlier question had goes on meaning what it meant there. Mentions come typed
from ``qa.question.mentions``; ``qa.question.followup`` puts the antecedents in place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa.question.mentions import (
    ATTRIBUTE_NOUNS,
    GROUP,
    IRREGULAR_VERBS,
    NAME,
    ORG,
    PERSON,
    PLACE,
    PLACE_PREPS,
    ROLE_NOUNS,
    SPEECH_VERBS,
    STOP_WORDS,
    THING,
    TIME,
    VERB_FORMS,
    Mention,
    content_stems,
    is_plural,
    mentions,
    norm,
    pronoun_gender,
    stem,
    word_set,
)

MARKER = re.compile(r"\[\d+(?:\s*[,;]\s*\d+)*\]")
ANSWER_CHARS = 2000  # an answer is read this far (the antecedent is near its start)

PRONOUNS = {
    "he": ("he", "him", "his", "himself"),
    "she": ("she", "her", "hers", "herself"),
    "it": ("it", "its", "itself"),
    "they": ("they", "them", "their", "theirs", "themselves"),
}
OWNERS = frozenset({"his", "its", "their", "theirs", "hers"})
ANY_PRONOUN = re.compile(
    r"\b(" + "|".join(w for words in PRONOUNS.values() for w in words) + r")\b", re.IGNORECASE
)
EXPLETIVE = re.compile(
    r"\bit\s+(?:rains?|rained|raining|snows?|snowed|snowing|seems?|seemed|takes?|took"
    r"|is\s+\w+\s+to|was\s+\w+\s+to)\b|\b(?:is|was|be|been|did|does|will)\s+it\s+"
    r"(?:like|true|possible|necessary|likely|important|that|take)\b",
    re.IGNORECASE,
)  # "How long did it take to ...", "What is it like to ...": "it" stands for nothing
WEATHER = re.compile(r"\bit\s+(?:rains?|rained|raining|snows?|snowed|snowing|hails?)\b", re.I)
EXISTENTIAL = re.compile(
    r"\bthere\s+(?:is|are|was|were|be|been|has|have|had|will|seems?|used)\b"
    r"|\b(?:is|are|was|were|be|been|has|have|had)\s+there\s+(?:a|an|any|no|some|many|much|more"
    r"|enough|the|another|other|several|few|plenty|one|two|\d+|[a-z]+s)\b",
    re.IGNORECASE,
)  # "Is there a formal agreement?": not a place
MOTION_BEFORE = re.compile(
    r"\b(?:go|goes|going|went|gone|come|came|coming|travel\w*|move[sd]?|moving|fly|flew|flown"
    r"|return\w*|head\w*|sail\w*|drive|drove|driven|get|got|sent|send|bring|brought)\s+there\b",
    re.IGNORECASE,
)  # "move there" -> "move to X"

_AUX = word_set(
    "did does do is are was were has have had will would can could should may might must"
)
_BE = frozenset({"is", "was", "are", "were"})
_WH = word_set("who whom whose what which when where why how")
_PLACE_NOUNS = word_set("city country place town state region location island venue")
_NOT_THINGS = word_set(
    """year years day days month century time date percentage percent much many long often far
    old big large type kind sort way number amount age size"""
)  # "In what year ...?", "What type of ...?": the answer is no thing "it" could be
_FLAT_PRONOUNS = frozenset(stem(w) for words in PRONOUNS.values() for w in words)
_TOKEN = re.compile(r"[\w’'-]+")
_LOWER = re.compile(r"\b[a-z]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_SENTENCE_BEFORE = re.compile(r"[.!?]\s+(?=[A-Z“\"])")
_SENTENCE_AFTER = re.compile(r"[.!?](?:\s+|$)")
_ASIDE = re.compile(
    r"\b(?:with the support of|along with|together with|according to|as well as)\s+"
    r"(?:[\w’'-]+\s+){0,6}$"
)  # "with the support of ... the minister Bayan": not the one who did it
_AGENT = re.compile(r"(\w+)\s+by\s+(?:(?:the|a|an)\s+)?(?:[\w-]+\s+){0,2}$")  # "sung by [X]"
_FUTURE = re.compile(r"\b(?:will|next|going to|expected|plans?|planned|is to|are to|soon)\b", re.I)
_PAST = re.compile(r"\b(?:already|has|had|have|was|were|last|earlier|previously)\b", re.I)
_BIOGRAPHY = re.compile(r"(?:^|[.!?]\s+)(?:He|She|His|Her)\b")
_HE_SHE = re.compile(r"\b(?:he|she|his|her)\b", re.IGNORECASE)
_PRO_VERB = re.compile(r"\bdo(?:es|ne)?\s+(?:that|this|so|it)\b", re.IGNORECASE)
_PREDICATE_END = re.compile(r"\b(?:is|was|are|were)(?:\s+(?:for|about|like))?\s*\?*\s*$")
_CAPITALISED = re.compile(r"(?<=\s)[A-Z][\w’'.-]*")


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
    _aligned: dict = field(default_factory=dict, repr=False)


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
    words = list(_TOKEN.finditer(q))
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
            while j < len(low) and low[j] not in _AUX and j - i <= 5 and not _verbish(low[j]):
                j += 1
            ex.wh_noun = " ".join(low[i + 1 : j])
        passive = (
            j + 1 < len(low)
            and low[j] in _BE
            and ex.wh in ("who", "which", "what")
            and _participle(low[j + 1])
        )  # "Which goalkeeper was voted ...?", "Who was born in ...?": the wh-phrase is the subject
        if j < len(low) and low[j] in _AUX and not passive:
            _wh_then_aux(ex, words, low, j)
        else:
            _wh_as_subject(ex, words, low, j)
    elif low and low[0] in _AUX:  # "Did the Foreign Ministry say ...?"
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
    while j < len(low) and (low[j].endswith("ly") or low[j] in _AUX):
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
    sentence = _SENTENCE.split(ex.answer[first.end :], maxsplit=1)[0]
    if re.search(r"\b(?:is|was)\s+(?:a|an|the)\b", re.sub(r"\([^)]*\)", "", sentence)):
        return first.text
    return None


def _participle(word: str) -> bool:
    return (word.endswith(("ed", "en")) and len(word) > 4) or word in IRREGULAR_VERBS


def _verbish(word: str) -> bool:
    return word in SPEECH_VERBS or (word.endswith("ed") and len(word) > 4)


def _asks_person(ex: Exchange) -> bool:
    if ex.wh in ("who", "whom"):
        return ex.wh_role in ("subject", "object")
    head = ex.wh_noun.split()[-1] if ex.wh_noun else ""
    return (
        ex.wh in ("which", "what")
        and bool(head)
        and (head in ROLE_NOUNS or head[:-1] in ROLE_NOUNS)
    )  # "Which US President ...?", "Which astronauts ...?"


def _asks_place(ex: Exchange) -> bool:
    return ex.wh == "where" or (bool(ex.wh_noun) and ex.wh_noun.split()[-1] in _PLACE_NOUNS)


# --- where a mention of the answer sits -----------------------------------------------------------


def _align(ex: Exchange, m: Mention, sides: tuple[float, float] | None = None) -> float:
    """How well a mention of the answer sits where the question's wh-word would, in its sentence:
    after the question's words for "Who did X meet?" ("X met ... Wang Yi"), before them for
    "Who met X?"; the question's verb counts double, a number ("the 1960s") on either side
    triple; "sung by [X]" is the passive of "Who sang ...?"; an aside ("with the support of")
    is not who did it; after "next" or "will", a place the answer says will be."""
    key = (m.start, m.end, m.text, sides)
    if key in ex._aligned:
        return ex._aligned[key]
    stems = content_stems(ex.question) - content_stems(m.text)
    left = _SENTENCE_BEFORE.split(ex.answer[max(0, m.start - 80) : m.start])[-1]
    right = _SENTENCE_AFTER.split(ex.answer[m.end : m.end + 80])[0]
    before, after = _TOKEN.findall(left)[-8:], _TOKEN.findall(right)[:8]
    weight = sides or {"subject": (0.5, 1.0), "object": (1.0, 0.5)}.get(ex.wh_role or "", (1, 1))
    close = ex.answer[max(0, m.start - 40) : m.start]
    score = 0.0
    agent = _AGENT.search(close)
    if agent and ex.wh_role == "subject":
        weight = (1.0, weight[1])
        if ex.verb and stem(agent.group(1)) == ex.verb:
            score += 3.0
    seen: set[tuple[int, str]] = set()
    for side, found in ((0, before[::-1]), (1, after)):
        for k, w in enumerate(found):
            st = stem(w)
            if st not in stems or (side, st) in seen:
                continue
            seen.add((side, st))
            near = 1 + 1 / (1 + k)
            if any(c.isdigit() for c in w):
                score += 3.0 * near
            else:
                score += (2.0 if st == ex.verb else 1.0) * weight[side] * near
    if _FUTURE.search(ex.question):
        tense = " ".join(before[-6:])
        score += 1.0 if _FUTURE.search(tense) else -0.5 if _PAST.search(tense) else 0.0
    if _ASIDE.search(ex.answer[max(0, m.start - 60) : m.start]):
        score -= 2.0
    ex._aligned[key] = score
    return score


def _lead(ex: Exchange, m: Mention) -> float:
    """1 for a name that opens the answer or one of its sentences (the answer's own subject)."""
    before = ex.answer[max(0, m.start - 3) : m.start].strip(' "“(')
    return 1.0 if m.start < 3 or before.endswith((".", "!", "?")) else 0.0


def _new(ex: Exchange, m: Mention) -> bool:
    """A mention of the answer that the question does not already make ("Blinken" is not new
    after "Who did Blinken meet?"; "Henry J. Kaiser" is, after "Who founded Kaiser Ventures?")."""
    if m.key in {a.key for a in ex.asked} or f" {m.key} " in f" {norm(ex.question)} ":
        return False
    named = {re.sub(r"[’']s$", "", w.lower()) for w in _CAPITALISED.findall(ex.question)}
    if m.kind in (PERSON, NAME):
        named -= {
            w for a in ex.asked if a.is_name and a.kind in (ORG, PLACE) for w in a.key.split()
        }
    words = m.key.split()
    return bool(words) and words[-1] not in named


def _fits(m: Mention, cls: str, excluded: set[str]) -> bool:
    """Whether a pronoun of ``cls`` can stand for ``m`` (not a name the follow-up says itself)."""
    words = m.key.split()
    if m.key in excluded or (words and words[-1] in excluded) or m.role == "owned":
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


def _best(ex: Exchange, found: list[Mention], cls: str, excluded: set[str]) -> Mention | None:
    found = [m for m in found if _fits(m, cls, excluded)]
    return max(found, key=lambda m: (_align(ex, m), -m.start)) if found else None


def _person_given(ex: Exchange, pool: list[Mention]) -> Mention:
    """The person a who-question's answer gives: where the question's words are, a person more
    than a name, the one a biography ("He ...", "His ...") is about, not a possessor ("Nelson
    Rockefeller's Committee"); one person named twice scores once, by the full name."""
    bio = 1.0 if _BIOGRAPHY.search(ex.answer) else 0.0
    if bio:  # what the question asks, said of "he": said of the one the biography is about
        stems = content_stems(ex.question)
        said = [
            len(content_stems(x) & stems) for x in _SENTENCE.split(ex.answer) if _HE_SHE.search(x)
        ]
        bio += min(3, max(said, default=0))

    def score(g: Mention) -> float:
        return _align(ex, g) + (g.kind == PERSON) + _lead(ex, g) * (1 + bio) - 3.0 * g.possessive

    best: dict[str, tuple[float, Mention]] = {}
    for g in pool:
        same = next((k for k in best if g.key.split()[-1] == k.split()[-1]), None)
        if same is None:
            best[g.key] = (score(g), g)
        else:
            s, h = best[same]
            best[same] = (max(s, score(g)), h if len(h.text) >= len(g.text) else g)
    return max(best.values(), key=lambda x: (x[0], -x[1].start))[1]


def _same_verb(ex: Exchange, follow_up: str, subject: Mention) -> bool:
    """The follow-up goes on about the subject: it repeats the question's words ("refused" ...
    "refused"), says "do that", or uses a word the answer says of the subject ("Beijing ...
    accused the US" ... "What did it accuse the US of?")."""
    if _PRO_VERB.search(follow_up):
        return True
    said = {stem(w) for w in _LOWER.findall(follow_up) if w not in STOP_WORDS} - _FLAT_PRONOUNS
    if said & {stem(w) for w in _LOWER.findall(ex.question) if w not in STOP_WORDS}:
        return True
    return any(
        subject.key
        and subject.key in norm(sentence)
        and said & {stem(w) for w in _LOWER.findall(sentence) if w not in STOP_WORDS}
        for sentence in _SENTENCE.split(ex.answer)
    )


# --- the antecedents ------------------------------------------------------------------------------


def antecedent(cls: str, ex: Exchange, excluded: set[str], follow_up: str = "") -> Mention | None:
    """What a pronoun of ``cls`` ("he", "she", "it", "they", "there") stands for, from one
    earlier exchange; None when nothing there fits. ``excluded``: the names the follow-up says
    itself (a pronoun does not mean them); ``follow_up``: the follow-up question."""
    bound = ex.bound.get(cls)
    if bound is not None and _fits(bound, cls, excluded):
        return bound  # the pronoun goes on meaning what it meant in that question
    given = [m for m in ex.given if _new(ex, m)]
    if cls in ("he", "she"):
        return _person(cls, ex, given, excluded)
    if cls == "it":
        return _thing(ex, given, excluded, follow_up)
    if cls == "they":
        return _group(ex, given, excluded)
    if _asks_place(ex):
        m = _best(ex, [g for g in given if g.kind in (PLACE, NAME)], "there", excluded)
        if m is None:
            m = max((g for g in given if g.kind == NAME), key=lambda g: _align(ex, g), default=None)
        if m is not None:
            return m
    places = [m for m in ex.asked if m.kind == PLACE and m.key not in excluded]
    return places[-1] if places else None


def _person(cls: str, ex: Exchange, given: list[Mention], excluded: set[str]) -> Mention | None:
    if ex.wh_role == "identity" and ex.identity:
        who = Mention(ex.identity, 0, 0, PERSON)
        return who if _fits(who, cls, excluded) else None
    if _asks_person(ex):  # "Who met Wang?", "Who did Blinken meet?": the one the answer gives
        pool = [
            g for g in given if g.is_name and g.kind in (PERSON, NAME) and _fits(g, cls, excluded)
        ]
        if pool:
            return _person_given(ex, pool)
    for pool in (  # the question's subject, else its first person; then the answer's first
        [m for m in ex.asked if m.kind in (PERSON, NAME) and m.is_name],
        [m for m in ex.asked if m.kind == PERSON],
        [m for m in ex.given if m.kind in (PERSON, NAME) and m.is_name],
    ):
        ranked = sorted(pool, key=lambda m: (m.role != "subject", m.start))
        m = next((m for m in ranked if _fits(m, cls, excluded)), None)
        if m is not None:
            return m
    return None


def _thing(
    ex: Exchange, given: list[Mention], excluded: set[str], follow_up: str
) -> Mention | None:
    if ex.wh_role == "what-is" and ex.identity:
        topic = _attribute_owner(ex)
        return topic if _fits(topic, "it", excluded) else None
    s = ex.subject
    subject = s if s is not None and s.kind not in (PERSON, TIME, GROUP) else None
    if subject is not None and subject.kind == NAME and len(subject.text.split()) > 1:
        subject = None  # "William Maclure": a person's name, most likely
    if subject is not None and not _fits(subject, "it", excluded):
        subject = None
    asked_for = _asked_for(ex, given, excluded)
    if subject is not None:
        if asked_for is not None and not _same_verb(ex, follow_up, subject):
            return asked_for  # "What did the US military shoot down?" ... "Where was it flying?"
        return subject  # "What has Beijing refused?" ... "Why has it refused?"
    if _asks_place(ex):  # "Where did the Lewiston Maineiacs play?" ... "its capacity"
        m = _best(ex, [g for g in given if g.kind in (PLACE, THING, NAME)], "it", excluded)
        if m is not None:
            return m
    if asked_for is not None:
        return asked_for
    things = [m for m in ex.asked if m.kind in (THING, ORG, NAME)]
    things.sort(key=lambda m: (m.role != "object", m.kind == NAME, -m.start))
    places = [m for m in reversed(ex.asked) if m.kind == PLACE]
    return next((m for m in [*things, *places] if _fits(m, "it", excluded)), None)


def _asked_for(ex: Exchange, given: list[Mention], excluded: set[str]) -> Mention | None:
    """The thing the question asked for, as its answer gives it ("What did the US military shoot
    down?": "a suspected surveillance balloon"; "To whom did he submit the map?": an organisation).
    """
    thing_wh = ex.wh in ("what", "which") and not (
        ex.wh_noun and ex.wh_noun.split()[-1] in _NOT_THINGS
    )
    if _PREDICATE_END.search(ex.question):
        thing_wh = False  # "What does China say the balloon was?": no new thing in the answer
    whom = ex.wh in ("who", "whom") and ex.wh_role == "object"
    if not ((thing_wh and (ex.wh_role == "subject" or ex.subject is not None)) or whom):
        return None
    kinds = (ORG,) if whom else (THING, ORG, NAME, PLACE)
    pool = [g for g in given if g.kind in kinds and _fits(g, "it", excluded)]
    if not whom:  # "the centrifugal governor": a thing here, whatever a governor may be
        pool += [g for g in given if g.kind == PERSON and not g.is_name and not g.plural
                 and g.key not in excluded]  # fmt: skip
    head = stem(ex.wh_noun.split()[-1]) if ex.wh_noun else ""

    def typed(g: Mention) -> bool:  # "What famous fight ...?": "... the Title fight"
        return bool(head) and stem(g.text.split()[-1]) == head

    if ex.wh_role == "subject" and ex.subject is None:  # it stands before the question's verb
        pool = [g for g in pool if _align(ex, g, sides=(0.0, 1.0)) > 0 or typed(g)]
    if not pool:
        return None
    return max(pool, key=lambda g: (
        _align(ex, g) + g.is_name + _lead(ex, g) - (g.kind == PERSON) + 2 * typed(g), -g.start
    ))  # fmt: skip


def _group(ex: Exchange, given: list[Mention], excluded: set[str]) -> Mention | None:
    s = ex.subject
    if (
        ex.wh_role == "identity"
        and ex.identity
        and ex.question.split()[1].lower() in ("are", "were")
    ):
        return Mention(ex.identity, 0, 0, GROUP, plural=True)  # "Who are the members of X?"
    group = _coordinated(ex.question, ex.asked, None, excluded)
    if group is None and s is not None and s.plural and _fits(s, "they", excluded):
        group = s  # "Who do coordinating lead authors report to?" ... "What are they ...?"
    if group is None:
        group = _coordinated(ex.answer, ex.given, ex, excluded)
    if (
        group is None
        and ex.wh in ("who", "whom")
        and ex.wh_role == "object"
        and (s is not None and s.kind in (PERSON, NAME) and s.is_name)
    ):  # "Who did Blinken meet?" ... "What did they discuss?": Blinken and the one he met
        pool = [
            g for g in given if g.is_name and g.kind in (PERSON, NAME) and g.key not in excluded
        ]
        if pool:
            other = _person_given(ex, pool)
            return Mention(f"{s.text} and {other.text}", 0, 0, GROUP, plural=True)
    if group is None and _asks_person(ex):  # "Who captured him?" "the Tayichi'ud"
        pool = [
            g
            for g in given
            if (g.kind == GROUP and g.plural)
            or (g.is_name and g.kind in (NAME, THING, ORG, PLACE, GROUP) and g.key not in excluded)
        ]
        group = max(pool, key=lambda g: (_align(ex, g), -g.start)) if pool else None
    if group is not None:
        return group
    for m in sorted(ex.asked, key=lambda m: m.role != "subject"):
        if m.plural and _fits(m, "they", excluded):
            return m
    if s is not None and s.kind in (ORG, GROUP) and s.key not in excluded:
        return s  # a band, a team, a ministry
    return _best(ex, ex.given, "they", excluded)


def topic_place(ex: Exchange) -> Mention | None:
    """The place a question is about: one it names, else its subject when that is a name."""
    places = [m for m in ex.asked if m.kind == PLACE]
    if places:
        return places[-1]
    s = ex.subject
    return s if s is not None and s.is_name and s.kind in (NAME, PLACE) else None


def _attribute_owner(ex: Exchange) -> Mention:
    """ "What is X?": X; for "the capacity of X" X; for "the name of the rock" the name given."""
    x = ex.identity or ""
    m = re.match(r"(?:the|a|an)\s+(\w+)\s+of\s+(.+)$", x, re.IGNORECASE)
    if m and m.group(1).lower() in ATTRIBUTE_NOUNS:
        owner = _cut(m.group(2))
        if m.group(1).lower() == "name":  # a name whose head is "Rock"
            head = stem(owner.split()[-1])
            given = [g for g in ex.given if g.is_name and _new(ex, g) and g.kind != PERSON]
            if given:
                return max(given, key=lambda g: (
                    g.kind != NAME, _align(ex, g) + 2 * (stem(g.text.split()[-1]) == head),
                    -g.start))  # fmt: skip
        return Mention(owner, 0, 0, THING)
    return Mention(_cut(x), 0, 0, THING)


def _cut(phrase: str) -> str:
    """A noun phrase without the clause after it ("the rock found during ..." -> "the rock")."""
    m = re.match(r"((?:the|a|an)\s+)?([^,;]+?)(?:\s+(?:(?:that|which|who|whose|where)\b|(?:found"
                 r"|made|used|built|known|called|named|located|based|discovered|written)\s+(?:during"
                 r"|in|by|at|on|for|as|from|with)\b).*)?$", phrase, re.IGNORECASE)  # fmt: skip
    return (phrase if not m else (m.group(1) or "") + m.group(2)).strip()


_AND = re.compile(
    r"\s*(?:,\s*(?:and\s+)?|and\s+|&\s+)(?:[Tt]he\s+)?(?:[A-Z][a-z]+(?:an|ese|ish|ch)\s+)?"
    r"(?:(?:his|her|their)\s+)?(?:(?:[a-z]+)\s+)?",
)  # "Joe Biden and Chinese leader Xi Jinping", "Temüjin and his brother Khasar"


def _coordinated(
    text: str, found: list[Mention], ex: Exchange | None, excluded: set[str]
) -> Mention | None:
    """ "Blinken and Wang", "Lovell, Jack Swigert, and Fred Haise": the group they make (in an
    answer, ``ex`` given, the one that sits best; organisations and groups may be in it)."""
    kinds = (PERSON, NAME) if ex is None else (PERSON, NAME, ORG, GROUP)
    people = [m for m in found if m.kind in kinds and m.role != "title"]
    groups = []
    for i, first in enumerate(people):
        members = [first]
        for nxt in people[i + 1 :]:
            gap = text[members[-1].end : nxt.start]
            filler = re.findall(r"[a-z]+", gap.lower())
            if _AND.fullmatch(gap) and all(
                w in ("and", "the", "his", "her", "their")
                or w in ROLE_NOUNS
                or w.endswith(("an", "ese", "ish", "ch"))
                for w in filler
            ):
                members.append(nxt)
            else:
                break
        if len(members) > 1 and not any(m.key in excluded for m in members):
            end = members[-1].end
            groups.append(Mention(text[first.start : end], first.start, end, GROUP, plural=True))
    if not groups:
        return None
    return groups[0] if ex is None else max(groups, key=lambda g: (_align(ex, g), -g.start))
