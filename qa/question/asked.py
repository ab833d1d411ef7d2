"""The question's words as an answer must match them.

A question's words do not all name its topic. Some only shape it: modal and light verbs, verbs
and phrases that ask for an event ("happen", "take place", "was held") or a meaning, first- and
second-person pronouns ("my", "I", "you" name the people in the conversation, not the documents'
subject; "he" does, and stays), the pieces of contractions, hedges ("what exactly", "actually"),
and the phrases that only say the asker wants to know ("I wanted to know", "could you tell me",
"information about"). An answer seldom repeats them, so they must not count against a passage.
The degree word after "how" ("how often", "how old") asks for a quantity: any number in a text
answers it ("every 6 weeks"), and a text without one does not, however many other words it
shares.

The lists are general English, written from grammar before any measurement.
"""

from __future__ import annotations

import re

from index.text import CARDINALS, MAGNITUDES, tokenize, weighted_share
from index.text import words as lower_words
from qa.question.word_lists import (
    AUXILIARIES,
    FILLERS,
    HOW_TO_OPENINGS,
    NAME_PARTICLES,
    REQUEST_OPENERS,
)

NUMBER_WORD = "#number"  # stands for the degree word(s) of a "how ..." question in the weights
NUMBER = re.compile(
    rf"\d|\b({CARDINALS}|{MAGNITUDES}|dozen|half|once|twice|several|few)\b", re.IGNORECASE
)
_COUNT = rf"(\d[\d,.]*|an?|{CARDINALS}|several|few|many)"
_TIME_UNIT = r"(seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|centur(y|ies))"
_LENGTH_UNIT = r"(miles?|km|kilomet(re|er)s?|met(re|er)s?|feet|foot|yards?|inch(es)?|cm|mm)"
# What each degree word asks for: "how often" is answered by a frequency, "how old" by an age,
# "how long" by a span of time or a length; the rest by any number.
_QUANTITY = {
    "often": re.compile(
        rf"\b(every|each|per|once|twice|daily|weekly|monthly|yearly|annually|times?)\b"
        rf"|\b{_COUNT}\s+times\b",
        re.IGNORECASE,
    ),
    "old": re.compile(
        rf"\b{_COUNT}[\s-]+years?[\s-]+old\b|\baged?\s+(of\s+)?\d|\bborn\b|\b(founded|built|"
        r"established|created|formed)\b.{0,40}\b\d{4}\b",
        re.IGNORECASE,
    ),
    "long": re.compile(
        rf"\b{_COUNT}\s+{_TIME_UNIT}\b|\b{_COUNT}\s+{_LENGTH_UNIT}\b|\d\s*{_LENGTH_UNIT}\b",
        re.IGNORECASE,
    ),
    "far": re.compile(rf"\b{_COUNT}\s+{_LENGTH_UNIT}\b|\d\s*{_LENGTH_UNIT}\b", re.IGNORECASE),
}
_QUANTITY["frequently"] = _QUANTITY["often"]


# Irregular past forms the stemmer leaves apart from the question's verb ("Who did he meet?" /
# "he met"): a sentence holding one also holds the base form, for matching the question's words.
_IRREGULAR_TEXT = (
    "met:meet said:say went:go gone:go held:hold took:take taken:take made:make gave:give "
    "given:give won:win began:begin begun:begin came:come found:find led:lead left:leave "
    "built:build became:become wrote:write written:write told:tell knew:know known:know saw:see "
    "seen:see thought:think brought:bring bought:buy fought:fight sold:sell sent:send "
    "spent:spend paid:pay lost:lose chose:choose chosen:choose fell:fall grew:grow grown:grow "
    "drew:draw drawn:draw ran:run rose:rise spoke:speak spoken:speak shot:shoot struck:strike "
    "flew:fly flown:fly kept:keep felt:feel meant:mean stood:stand taught:teach caught:catch "
    "ate:eat eaten:eat drove:drive driven:drive broke:break broken:break froze:freeze sang:sing "
    "swam:swim threw:throw thrown:throw wore:wear worn:wear hid:hide forbade:forbid sought:seek"
)
_IRREGULAR = dict(pair.split(":") for pair in _IRREGULAR_TEXT.split())
_IRREGULAR_WORD = re.compile(r"\b(" + "|".join(_IRREGULAR) + r")\b", re.IGNORECASE)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


FORM_WORDS = _words(
    """must shall ought happen happens happened happening mean means meant get gets got getting
    i me my mine myself you your yours yourself we us our ours m s re ve ll d
    actually really exactly just basically precisely"""
)
# Phrases that, like "happen", only say that an event occurred: "take place", "was held".
# ("Who held the record?" keeps "held": it is the phrase, not the word, that shapes the question.)
_EVENT_FRAME = re.compile(
    r"\b(?:take|takes|took|taken|taking)\s+place\b|\b(?:is|are|was|were|be|been|being)\s+held\b"
    r"|\bheld(?=\W*$)",  # "Where was the meeting held?"
    re.IGNORECASE,
)
# Phrases that only say the asker wants to know: "I wanted to know", "I'm wondering", "could you
# tell me", "information about", "questions about". They are the asker's stance, not the topic
# (an answer seldom repeats them); the same words elsewhere stay ("What information is needed?").
_ASK_FRAME = re.compile(
    r"\b(?:want|wants|wanted|wanting|like|need|needs|needed|trying|hoping)\s+to\s+"
    r"(?:know|ask|find\s+out|learn|understand)\b"
    r"|\bwonder(?:s|ed|ing)?\b"
    r"|(?:\b(?:you|please)\s+|^\W*)(?:tell|explain|describe|show)(?:\s+(?:me|us))?(?:\s+about)?\b"
    r"|\blet\s+me\s+know\b|\b(?:do|does|did)\s+you\s+know\b"
    r"|\b(?:(?:need|needs|needed|want|wanted|looking\s+for|search(?:ing)?(?:\s+for)?|get|have"
    r"|had|got)\s+(?:some\s+|more\s+|any\s+|a\s+few\s+|a\s+)?)?(?:information|info|details"
    r"|help|advice|questions?)\s+(?:about|on|regarding|concerning|with)\b",
    re.IGNORECASE,
)
DEGREE_WORDS = _words("often frequently much many long far old big large tall high wide deep heavy")
_HOW = re.compile(r"\bhow\s+(\w+)", re.IGNORECASE)


def form_words(question: str) -> frozenset[str]:
    """The question's words (lower-cased) that only shape it: "must", "my", "take place", "I
    wanted to know", "information about"."""
    found = [*_EVENT_FRAME.finditer(question), *_ASK_FRAME.finditer(_unfilled(question))]
    frames = {w.lower() for m in found for w in re.findall(r"\w+", m.group(0))}
    return frozenset(w.lower() for w in re.findall(r"\w+", question)) & FORM_WORDS | frames


_OPENING_FILLERS = re.compile(rf"^(?:\W*\b(?:{'|'.join(sorted(FILLERS))})\b)+", re.IGNORECASE)


def _unfilled(question: str) -> str:
    """The question without the fillers a spoken turn opens with ("Yeah, um, tell me ...")."""
    return _OPENING_FILLERS.sub("", question)


def degree_words(question: str) -> frozenset[str]:
    """The degree words that follow "how" in the question: "often" in "how often"."""
    return frozenset(m.group(1).lower() for m in _HOW.finditer(question)) & DEGREE_WORDS


def asked_weights(weights: dict[str, float], question: str) -> dict[str, float]:
    """The question's word weights (``Corpus.weights``) as an answer must match them.

    Form words are dropped; the degree words become NUMBER_WORD (``#number:often``), weighing as
    much as the mean asked word (how rare "often" is in the documents says nothing about how rare
    its answers are).
    A question of nothing but form words keeps its weights as they were.
    """
    form = set(tokenize(" ".join(form_words(question))))
    asked = sorted(degree_words(question))
    degree = set(tokenize(" ".join(asked)))
    out = {t: w for t, w in weights.items() if t not in form and t not in degree}
    number = [weights[t] for t in degree if t in weights]
    if number:
        rest = list(out.values()) or number
        out[f"{NUMBER_WORD}:{asked[0]}"] = sum(rest) / len(rest)
    return out or weights


def yes_no(question: str) -> bool:
    """True when the question opens with an auxiliary verb ("Did Beijing provide evidence?"): its
    answer is yes or no, not a phrase of the text."""
    first = lower_words(question)[:1]
    return bool(first) and first[0] in AUXILIARIES


def how_to(question: str) -> bool:
    """True when the question asks what to do ("How do I renew ...?", "Can I ...?")."""
    opening = " ".join(lower_words(question)[:3])
    return any(opening == o or opening.startswith(f"{o} ") for o in HOW_TO_OPENINGS)


def request(question: str) -> bool:
    """True for a request that asks no question ("I need help with the loan simulator.", "Tell
    me about on-site investigation"): no question mark, and it opens, after any fillers ("Yeah,
    um, ..."), with the asker or a verb that asks (``REQUEST_OPENERS``)."""
    if question.rstrip().endswith("?"):
        return False
    opening = [w for w in lower_words(question)[:6] if w not in FILLERS][:1]
    return bool(opening) and opening[0] in REQUEST_OPENERS


def sentence_answers(question: str) -> bool:
    """True when a sentence answers the question, not a phrase of it: yes or no ("Did ...?"), a
    reason ("Why ...?"), a step ("How do I ...?") or a request about a topic ("I need help
    with ..."). Measured by ``python eval/long_phrase.py`` (token F1 of the marked phrase):
    better on the six domains' tune halves. The folds chose every "How ...?" too; but "How was
    Blinken described?" is answered by a quote, and the seed article (news) loses with it, so a
    manner stays a phrase. Requests: ``python eval/question_forms.py``."""
    return (
        yes_no(question)
        or how_to(question)
        or lower_words(question)[:1] == ["why"]
        or request(question)
    )


# A question that names what it chooses between: "Which is larger, the Leonberger or the Basset
# Hound?", "Who was born first Am Rong or Ava DuVernay?". Its answer is one of the two.
_CHOOSERS = frozenset({"which", "who", "whom", "whose", "what"})
_LISTED = re.compile(r"(?:,|:|;|--|—|–)\s*(?P<a>[^,:;—–?]+?)\s+or\s+(?P<b>[^,:;—–?]+?)[\s?.!]*$")
_BETWEEN = re.compile(  # "In between A and B which one ...?", "Between A and B, who ...?"
    r"\s*(?:in\s+)?between\s+(?P<a>[^,?]+?)\s+and\s+(?P<b>[^,?]+?)\s*,?\s+(?:which|who|what)\b",
    re.IGNORECASE,
)
_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
OPTION_WORDS = 8  # an option longer than this is a clause, not a thing chosen


def options(question: str) -> tuple[str, str] | None:
    """The two things a "which/who ..." question asks to choose between, articles dropped: after
    a comma, colon or dash ("..., A or B?"), or, without one, two names (capitalised) either side
    of the last "or"; or named first ("Between A and B, which ...?"). None for any other
    question (a yes/no one included)."""
    m = _BETWEEN.match(question)
    if m:
        a, b = m.group("a"), m.group("b")
    elif not _CHOOSERS & set(lower_words(question)[:2]):  # "Which ...", "In which ..."
        return None
    elif m := _LISTED.search(question):
        a, b = m.group("a"), m.group("b")
    else:
        head, sep, b = question.rstrip(" ?.!").rpartition(" or ")
        a = " ".join(_named_tail(head.split()))
        if not sep or not a or not _named(b.split()):
            return None
    pair = tuple(_ARTICLE.sub("", x.strip()) for x in (a, b))
    if not all(pair) or any(len(x.split()) > OPTION_WORDS for x in pair):
        return None
    return pair[0], pair[1]


def _capital(word: str) -> bool:
    return word[:1].isupper() or word[:1].isdigit()


def _named(words: list[str]) -> bool:
    """Whether the words are a name: capitalised, but for particles inside ("Battle of X")."""
    return (
        bool(words)
        and _capital(words[0])
        and _capital(words[-1])
        and all(_capital(w) or w.lower() in NAME_PARTICLES for w in words)
    )


def _named_tail(words: list[str]) -> list[str]:
    """The capitalised name the words end with ("born first Am Rong": "Am Rong"), particles
    inside it kept ("Battle of Belleau Wood")."""
    out: list[str] = []
    for w in reversed(words):
        if _capital(w) or (out and w.lower() in NAME_PARTICLES):
            out.insert(0, w)
        else:
            break
    while out and out[0].lower() in NAME_PARTICLES:
        out.pop(0)
    return out if len(out) < len(words) else []  # the whole question is no name


def covered(weights: dict[str, float], text: str) -> float:
    """IDF-weighted share of the asked words (``asked_weights``) that the text holds.

    A text holding an irregular past form ("met") holds its base form ("meet") too.
    """
    bases = " ".join(_IRREGULAR[m.group(1).lower()] for m in _IRREGULAR_WORD.finditer(text))
    words = set(tokenize(f"{text} {bases}" if bases else text))
    for key in weights:
        if key.startswith(NUMBER_WORD) and _QUANTITY.get(
            key[len(NUMBER_WORD) + 1 :], NUMBER
        ).search(text):
            words.add(key)
    return weighted_share(weights, words)
