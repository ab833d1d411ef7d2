"""The people, things, groups, places and times a text mentions, typed without a model.

A follow-up's "he", "it", "they" and "there" take one of the mentions of the conversation
(``qa.question.followup``). A mention is a name ("Wang Yi", "the Genesis Rock", "US"), a noun
phrase ("the balloon", "US intelligence officials") or a time ("on Saturday", "in 2010"). Its
kind comes from the words around it: a title or a role before a name ("spokesman Ned Price",
"President Grover Cleveland") or a speech verb after it ("Wang called") make a person; a
country, a place word ("Harvard Yard", "St. Johns River") or "in"/"from" before it a place; an
organisation word or an acronym ("State Department", "CGTN") an organisation; "the" before a
name ("the Apple Remote") a thing. "Wang" is a person wherever "Wang Yi" is one.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache

from index.text import MONTH_NAMES, WEEKDAY_NAMES

PERSON, GROUP, THING, PLACE, ORG, TIME, NAME = (
    "person", "group", "thing", "place", "org", "time", "name",
)  # fmt: skip


def word_set(text: str, sep: str | None = None) -> frozenset[str]:
    return frozenset(w.strip() for w in text.split(sep))


STOP_WORDS = word_set(
    """
    a an the and or but if then so of in on at to for from by with without about into onto
    over under after before during since until between among through across against as than
    that this these those there here it its they them their theirs he him his she her hers we
    our you your i me my who whom whose what which when where why how is are was were be been
    being am do does did done doing has have had having will would shall should can could may
    might must not no nor also too very just only even still yet ever never else more most
    less least much many some any all each every both either neither other another such same
    own one ones up down out off again once
    """
)
_OPENERS = STOP_WORDS | word_set(
    """
    however earlier later meanwhile today yesterday tomorrow although though while despite
    according instead originally currently unlike like because now thus therefore furthermore
    moreover finally first second next last recently eventually initially previously prior
    following within around near several few culturally yes ok okay please tell name list give
    """
)
# "May" and "March" as names are rare in questions.
_TIME = frozenset(w.lower() for w in (*WEEKDAY_NAMES, *MONTH_NAMES))
TIME_PHRASE = re.compile(
    r"\b(?:(?:on|in|at|during|since|by|before|after|until|from)\s+)?(?:(?:this|last|next|that)"
    r"\s+(?:week|month|year|weekend|morning|evening|night|spring|summer|autumn|fall|winter)"
    r"|(?:early|late|mid)[- ](?:[A-Z]\w+|\d{4}s?)|today|yesterday|tomorrow|tonight"
    r"|(?:" + "|".join(sorted(_TIME, key=len, reverse=True)) + r")(?:\s+\d{1,2})?(?:,?\s+\d{4})?"
    r"|\d{4}s?(?:[–-]\d{2,4})?)\b",
    re.IGNORECASE,
)
_TITLES = word_set(
    """
    president secretary minister governor queen king prince princess emperor empress sir dame
    lord lady general gen admiral captain capt colonel col lieutenant lt sergeant sgt mayor
    senator sen rep chancellor chairman chairwoman chief director professor prof dr mr mrs ms
    miss pope bishop rev judge justice ambassador commissioner speaker premier tsar czar
    sultan shah khan
    """
)
_FEMALE = word_set(
    """
    she her hers herself woman women wife mother daughter sister queen princess actress girl
    lady mrs ms miss aunt niece grandmother empress duchess countess dame businesswoman
    spokeswoman chairwoman
    """
)
_MALE = word_set(
    """
    he him his himself man men husband father son brother king prince actor boy lord mr sir
    uncle nephew grandfather emperor duke businessman spokesman chairman
    """
)
ROLE_NOUNS = (
    _FEMALE
    | _MALE
    | word_set(
        """
    spokesperson official diplomat president secretary minister leader chief general admiral
    captain commander soldier officer explorer author writer novelist poet director producer
    singer songwriter guitarist drummer musician model photographer painter artist sculptor
    composer player footballer goalkeeper coach manager governor mayor senator representative
    ambassador chancellor adviser advisor aide astronaut scientist physicist chemist
    mathematician engineer inventor economist historian philosopher journalist reporter editor
    founder merchant trader priest bishop pope monk shaman child friend partner rival
    successor predecessor teacher student professor doctor physician lawyer judge entrepreneur
    industrialist politician statesman dictator ruler monarch heir hostage prisoner member
    person people analyst analysts cosmonaut crew staff miner worker farmer settler colonist
    citizen resident voter troop troops student students fan fans team descendant ancestor
    khan
    """
    )
)
_ORG_HEADS = word_set(
    """
    department ministry office agency council committee commission university college school
    institute academy foundation company corporation corp inc ltd group bank church party
    union league association club team army navy force forces police court parliament congress
    senate government administration conference summit program programme times post news
    network channel press museum library hospital society organization organisation service
    services nations media studios records entertainment
    """
)
_PLACE_HEADS = word_set(
    """
    river lake sea ocean bay island islands mountain mountains mount hill valley desert city
    county state states province region street avenue road square park bridge airport station
    coast beach harbour harbor port canal gulf strait peninsula village town district
    territory kingdom republic empire castle palace stadium arena hall tower center centre
    yard campus plain plains forest falls
    """
)
_PLACES = word_set(
    """afghanistan|albania|algeria|andorra|angola|argentina|armenia|australia|austria|azerbaijan|
    bahamas|bahrain|bangladesh|barbados|belarus|belgium|belize|benin|bhutan|bolivia|bosnia|
    botswana|brazil|brunei|bulgaria|burkina faso|burma|burundi|cambodia|cameroon|canada|chad|
    chile|china|colombia|congo|costa rica|croatia|cuba|cyprus|czechia|czechoslovakia|denmark|
    djibouti|dominica|ecuador|egypt|el salvador|eritrea|estonia|eswatini|ethiopia|fiji|finland|
    france|gabon|gambia|georgia|germany|ghana|greece|grenada|guatemala|guinea|guyana|haiti|
    honduras|hungary|iceland|india|indonesia|iran|iraq|ireland|israel|italy|jamaica|japan|jordan|
    kazakhstan|kenya|kiribati|korea|north korea|south korea|kosovo|kuwait|kyrgyzstan|laos|latvia|
    lebanon|lesotho|liberia|libya|liechtenstein|lithuania|luxembourg|madagascar|malawi|malaysia|
    maldives|mali|malta|mauritania|mauritius|mexico|micronesia|moldova|monaco|mongolia|
    montenegro|morocco|mozambique|myanmar|namibia|nauru|nepal|netherlands|new zealand|nicaragua|
    niger|nigeria|norway|oman|pakistan|palau|palestine|panama|paraguay|persia|peru|philippines|
    poland|portugal|qatar|romania|russia|rwanda|samoa|san marino|saudi arabia|senegal|serbia|
    seychelles|sierra leone|singapore|slovakia|slovenia|somalia|south africa|south sudan|spain|
    sri lanka|sudan|suriname|sweden|switzerland|syria|taiwan|tajikistan|tanzania|thailand|tibet|
    togo|tonga|tunisia|turkey|turkmenistan|tuvalu|uganda|ukraine|united arab emirates|
    united kingdom|united states|united states of america|america|uruguay|uzbekistan|vanuatu|
    vatican|venezuela|vietnam|yemen|zambia|zimbabwe|us|u.s|usa|uk|eu|ussr|prc|soviet union|
    england|scotland|wales|britain|great britain|europe|asia|africa|antarctica|oceania|
    north america|south america|latin america|middle east|crimea|hong kong|macau|siberia|
    beijing|moscow|washington|london|paris|berlin|rome|madrid|tokyo|seoul|delhi|new delhi|
    kyiv|kiev|brussels|vienna|munich|geneva|new york|los angeles|chicago|shanghai|taipei|
    jerusalem|cairo|istanbul|ankara|tehran|baghdad|kabul|islamabad|riyadh|dubai|sydney|
    melbourne|toronto|ottawa|mexico city|rio de janeiro|buenos aires|lisbon|athens|warsaw|
    prague|budapest|stockholm|oslo|copenhagen|helsinki|amsterdam|dublin|edinburgh|boston|
    hollywood|alabama|alaska|arizona|arkansas|california|colorado|connecticut|delaware|florida|
    hawaii|idaho|illinois|indiana|iowa|kansas|kentucky|louisiana|maine|maryland|massachusetts|
    michigan|minnesota|mississippi|missouri|montana|nebraska|nevada|new hampshire|new jersey|
    new mexico|north carolina|north dakota|ohio|oklahoma|oregon|pennsylvania|rhode island|
    south carolina|south dakota|tennessee|texas|utah|vermont|virginia|west virginia|wisconsin|
    wyoming""",
    "|",
)
PLACE_PREPS = word_set(
    """
    in at from near into across alongside outside inside around throughout within via off to
    """
)  # "to" only after a motion word (_MOTION)
_MOTION = word_set(
    """
    go goes going went gone come came travel travels travelled traveled travelling trip visit
    visits visited move moves moved moving fly flew flown sail sailed return returned
    returning head headed heading sent send drive drove bring brought arrive arrived move
    route way
    """
)
SPEECH_VERBS = word_set(
    """
    say says said tell tells told call calls called criticize criticized criticise criticised
    confirm confirmed declare declared express expressed warn warned hope hoped want wanted
    think thought believe believed write wrote written sing sang sung marry married die died
    ask asked reply replied argue argued claim claimed deny denied accuse accused stress
    stressed reiterate reiterated emphasize emphasized insist insisted announce announced
    maintain maintains maintained explain explained admit admitted meet met speak spoke spoken
    discuss discussed
    """
)
IRREGULAR_VERBS = {
    "wrote": "write", "written": "write", "sang": "sing", "sung": "sing", "met": "meet",
    "led": "lead", "flew": "fly", "flown": "fly", "built": "build", "found": "find",
    "made": "make", "took": "take", "taken": "take", "gave": "give", "given": "give",
    "began": "begin", "begun": "begin", "ran": "run", "won": "win", "fought": "fight",
    "taught": "teach", "held": "hold", "said": "say", "told": "tell", "saw": "see",
    "seen": "see", "went": "go", "gone": "go", "came": "come", "chose": "choose",
    "chosen": "choose", "drew": "draw", "drawn": "draw", "spoke": "speak", "spoken": "speak",
    "shot": "shoot", "brought": "bring", "bought": "buy", "sold": "sell", "sent": "send",
    "left": "leave", "lost": "lose", "paid": "pay", "became": "become", "thought": "think",
    "knew": "know", "known": "know", "grew": "grow", "grown": "grow", "threw": "throw",
    "drove": "drive", "driven": "drive", "rode": "ride", "rose": "rise", "fell": "fall",
    "hid": "hide", "hidden": "hide", "bore": "bear", "born": "bear", "struck": "strike",
    "stood": "stand", "sat": "sit", "kept": "keep", "meant": "mean", "felt": "feel",
    "died": "die", "married": "marry", "flies": "fly", "was": "be", "were": "be", "is": "be",
}  # fmt: skip
VERB_FORMS = frozenset(IRREGULAR_VERBS) | word_set(
    """
    is are was were be been being am do does did has have had will would can could should may
    might must shall tell say see make go get give take find know think come meet bring begin
    keep hold write hear let seem become try ask feel provide include continue learn follow
    create speak allow add spend grow open win remember consider appear buy serve die send
    expect reach kill remain suggest raise require decide pull discuss describe explain hide
    escape invent marry attend represent improve motivate criticize criticise confirm declare
    express warn deny accuse stress reiterate emphasize insist announce admit
    """
)
ATTRIBUTE_NOUNS = word_set(
    """
    name capacity population size area length height width depth age cost price value capital
    title meaning purpose role rank number amount date year type kind part budget weight speed
    distance
    """
)
_DEMONYMS = word_set(
    "german roman tibetan afghan thai dutch french greek swiss czech iraqi israeli pakistani "
    "saudi welsh irish scottish british english spanish polish turkish finnish swedish"
)
_DEMONYM = re.compile(r"(?:ish|ch|ese|ans|ians)$")  # "the British", "the Mongolians"
_ADJECTIVE = re.compile(r"(?:ian|ese|ish|ean|can)$")  # "Italian", "Korean", "American"
_WORD = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_](?:[\w’'.-]*\w)?")
_POSSESSIVE = re.compile(r"(?:[’']s|s[’'])$")
_ABBREV = word_set(
    """
    st dr mr mrs ms jr sr mt ft gen col lt sgt rev prof capt sen rep
    """
)
_CONNECT = frozenset({"of", "de", "von", "van", "der", "del", "da", "di", "la", "le", "bin"})


@dataclass
class Mention:
    """One mention: its text as it would stand in a question, where it is, and what it is."""

    text: str
    start: int
    end: int
    kind: str
    plural: bool = False
    gender: str | None = None  # "f", "m"
    possessive: bool = False
    is_name: bool = False
    role: str = "other"  # "subject", "object", "title" (no one's name), "owned" ("its X")

    @cached_property
    def key(self) -> str:
        return norm(self.text)


@lru_cache(maxsize=4096)
def norm(text: str) -> str:
    """A mention's words, lower-case, without accents, "the" and possessive endings (to compare:
    "Temüjin" and "Temujin" are one name)."""
    text = text.replace("’", "'").lower()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"'s\b|s'(?=\s|$)", "", text)
    return " ".join(w for w in re.findall(r"[\w.-]+", text) if w not in ("the", "a", "an"))


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
        stem(w) for w in _WORD.findall(text) if w.lower() not in STOP_WORDS and len(w) > 1
    )


def is_plural(word: str) -> bool:
    w = word.lower()
    if w in ("people", "men", "women", "children", "police", "staff", "crew", "media", "troops"):
        return True
    return (
        len(w) > 3
        and w.endswith("s")
        and not w.endswith(("ss", "us", "is", "ics", "ous", "news", "series", "species"))
        and w not in STOP_WORDS
    )


def _tokens(text: str) -> list[re.Match]:
    return list(_WORD.finditer(text))


def _capital(tok: str) -> bool:
    return tok[:1].isupper()


def _sentence_start(text: str, pos: int) -> bool:
    before = text[max(0, pos - 6) : pos].rstrip(" \"“”’'()[]\n")
    return not before or before[-1] in ".?!:;" or not text[:pos].strip()


def names(text: str) -> list[Mention]:
    """Runs of capitalised words, typed by the words around them (see the module docstring)."""
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
        if run and _POSSESSIVE.search(run[-1].group(0)):
            flush()
        capital = _capital(w) and (w.isupper() or lower not in STOP_WORDS)
        if w.isupper() and len(w) > 1:
            capital = lower not in ("i",)
        if capital and (lower in _TIME or lower in _PRONOUN_WORDS):
            capital = False
        if (
            capital
            and (lower in _OPENERS or (lower.endswith("ly") and len(w) > 4))
            and not run
            and _sentence_start(text, m.start())
        ):
            capital = False  # "However, ...", "Earlier, Wang ..."
        if capital or (run and lower in _CONNECT and gap == " "):
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


_LINKS = _CONNECT | {"for", "on", "the"}
_PRONOUN_WORDS = frozenset({"he", "she", "it", "they", "his", "her", "its", "their", "i"})
_IN_CITY_STATE = re.compile(r"\b(?:in|at|from|near)\s+[A-Z][\w.-]*(?:\s+[A-Z][\w.-]*)*,\s*$")
_ORG_PLURAL = re.compile(r"(?:ies|ures|ions)$")
_WHO_OR_BORN = re.compile(r"\s*(?:,\s*who\b|\((?:born|[^)]*\d{4}))")
_THEN_PLACE = re.compile(r"\s*,\s*[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?\s*(?:[,.;)]|$)")
_APPOSITIVE = re.compile(r"\s*,\s*(?:the|a|an)\s+([^,;.()]*)")
_LOWER_WORD = re.compile(r"[a-z]+")


def _title_on(toks: list[re.Match], k: int) -> bool:
    nxt = toks[k + 1].group(0) if k + 1 < len(toks) else ""
    return _capital(nxt) and nxt.lower() not in _TIME and nxt.lower() not in _PLACES


def _org_link(run: list[re.Match], lower: str, toks: list[re.Match], k: int) -> bool:
    """ "for"/"on" (and "the" after them) inside an organisation's name, before a capital."""
    last = run[-1].group(0).lower()
    nxt = toks[k + 1].group(0) if k + 1 < len(toks) else ""
    if lower in ("for", "on") and last in _ORG_HEADS:
        return _capital(nxt) or (
            nxt == "the" and k + 2 < len(toks) and _capital(toks[k + 2].group(0))
        )
    return lower == "the" and last in ("for", "on") and _capital(nxt)


def _abbrev(tok: str) -> bool:
    return (len(tok) == 1 and tok.isupper()) or tok.lower() in _ABBREV


def _typed(text: str, run: list[re.Match]) -> list[Mention]:
    """A run of capitalised words as mentions: "US Secretary of State Antony Blinken" is the
    title "US Secretary of State" and the person "Antony Blinken"."""
    words = [m.group(0) for m in run]
    possessive = bool(_POSSESSIVE.search(words[-1]))
    title_end = 0
    for i, w in enumerate(words):
        if w.lower().rstrip(".") in _TITLES:
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
    if rest and not _ORG_PLURAL.search(last) and last not in _ORG_HEADS | _PLACE_HEADS:
        head = _make(text, run[:title_end], PERSON, False)
        person = _make(text, rest, PERSON, possessive)
        head.role = "title"
        return [head, person]
    m = _make(text, run, None, possessive)
    if (
        words[0].lower().rstrip(".") in _TITLES
        and m.kind == PERSON
        and (len(words) == 1 or words[1] == "of" or len(words) > 3)
    ):
        m.role = "title"  # "Prince", "Governor of Victoria", "Director of Flight Crew Operations"
    return [m]


def _make(text: str, run: list[re.Match], kind: str | None, possessive: bool) -> Mention:
    start, end = run[0].start(), run[-1].end()
    raw = text[start:end]
    if possessive:
        raw = _POSSESSIVE.sub("", raw)
        end = start + len(raw)
    words = raw.split()
    m = Mention(raw, start, end, kind or NAME, possessive=possessive, is_name=True)
    if kind is None:
        m.kind = _name_kind(text, m, words)
    if m.kind == PERSON:
        m.gender = _gender(text, m)
    m.plural = m.kind == GROUP and (is_plural(words[-1]) or _DEMONYM.search(words[-1]) is not None)
    return m


def _name_kind(text: str, m: Mention, words: list[str]) -> str:
    lower = [w.lower().rstrip(".") for w in words]
    key = " ".join(lower)
    before = [w.lower() for w in _WORD.findall(text[max(0, m.start - 40) : m.start])][-3:]
    after_text = text[m.end : m.end + 40]
    after = [w.lower() for w in _WORD.findall(after_text)][:2]
    if key in _PLACES or key.replace(".", "") in _PLACES:
        return PLACE
    if _IN_CITY_STATE.search(text[max(0, m.start - 60) : m.start]):
        return PLACE  # "in Ontario, California"
    if lower[0] in _TITLES or (len(lower) > 1 and lower[-2] in _TITLES):
        return PERSON  # "Governor of Victoria", "Queen of Australia"
    if lower[-1] in _ORG_HEADS or lower[0] in _ORG_HEADS:
        return ORG
    if len(words) > 1 and _ORG_PLURAL.search(lower[-1]):
        return ORG  # "Kaiser Ventures", "Steel Industries", "United Nations"
    if lower[-1] in _PLACE_HEADS or lower[0] in ("st", "mount", "lake", "fort", "port", "cape"):
        return PLACE
    if words[0].isupper() and len(words[0]) > 1 and not words[0].endswith("."):
        return ORG  # an acronym: CNN, CGTN, NASA, "UEFA Euro"
    if before and before[-1] in ("the",) and not (after and after[0] in ROLE_NOUNS):
        if len(words) == 1 and _DEMONYM.search(words[0]) and not (after and after[0][:1].isupper()):
            return GROUP  # "the British", "the Chinese"
        return GROUP if is_plural(lower[-1]) else THING
    if before and before[-1] in ROLE_NOUNS and before[-1] not in ("team", "group", "member"):
        return PERSON  # "spokesman Ned Price", "his future wife Börte"
    if _WHO_OR_BORN.match(after_text):
        return PERSON
    if after and after[0] in SPEECH_VERBS:
        return PERSON
    if before and before[-1] in PLACE_PREPS and (before[-1] != "to" or set(before) & _MOTION):
        return PLACE
    if _THEN_PLACE.match(after_text) and (before and before[-1] in PLACE_PREPS):
        return PLACE
    appositive = _APPOSITIVE.match(after_text)
    if appositive and set(_LOWER_WORD.findall(appositive.group(1))[:5]) & ROLE_NOUNS:
        return PERSON  # "Deke Slayton, the grounded Mercury astronaut"
    if len(words) > 1:
        return NAME
    if (_ADJECTIVE.search(lower[0]) or lower[0] in _DEMONYMS) and (
        not before or before[-1] != "the"
    ):
        return "adjective"  # "(Italian: ...)", "the Italian physicist"
    if (
        re.search(r"(?:an|ic)$", lower[0])
        and after
        and after[0].isalpha()
        and (after[0] not in SPEECH_VERBS and after[0] not in STOP_WORDS)
    ):
        return "adjective"  # "Chinese officials", "Olympic games"
    return NAME


def _gender(text: str, m: Mention) -> str | None:
    before = [w.lower() for w in _WORD.findall(text[max(0, m.start - 30) : m.start])][-2:]
    for w in reversed(before):
        if w in _FEMALE and w not in ("her", "hers", "she"):
            return "f"
        if w in _MALE and w not in ("his", "him", "he"):
            return "m"
    first = m.text.split()[0].lower().rstrip(".")
    if first in _FEMALE:
        return "f"
    if first in _MALE:
        return "m"
    return None


_NP = re.compile(
    r"(?<![\w’'])(?P<det>the|a|an|this|these|those|some|many|several|most|both|all|its|their)"
    r"\s+(?=(?P<body>[\w’'-]+(?:\s+[\w’'-]+){0,8}))",
    re.IGNORECASE,
)  # a determiner and the words after it (looked ahead: noun phrases may start inside others)


def noun_phrases(text: str) -> list[Mention]:
    """ "the balloon", "the US intelligence officials", "US officials", "some students"."""
    return [copy.copy(m) for m in _noun_phrases(text)]


@lru_cache(maxsize=512)
def _noun_phrases(text: str) -> tuple[Mention, ...]:
    out: list[Mention] = []
    for m in _NP.finditer(text):
        body = _np_body(m.group("body"))
        if not body:
            continue
        det = m.group("det")
        start = m.start()
        words = body.split()
        head = re.sub(r"\s+of\s+.*$", "", body).split()[-1].lower()
        if all(_capital(w) or w.lower() in _CONNECT for w in words):
            continue  # a name: names() has it
        det = det.lower()
        if re.match(r"other hand|same time|meantime|long run|end of the day", body, re.IGNORECASE):
            continue
        definite = det in ("the", "a", "an", "this", "these", "those", "its", "their")
        text_ = f"{'the' if definite else det} {body}"  # taken up again: "the invitation"
        kind = PERSON if head in ROLE_NOUNS or head.rstrip("s") in ROLE_NOUNS else THING
        plural = is_plural(head)
        if plural and kind == PERSON:
            kind = GROUP
        elif plural:
            kind = GROUP if head.rstrip("s") in ROLE_NOUNS or head in ROLE_NOUNS else THING
        g = "f" if head in _FEMALE else "m" if head in _MALE else None
        role = "owned" if det in ("its", "their") else "other"  # "its balloon": owned by another
        out.append(
            Mention(text_, start, m.end() + len(body), kind, plural=plural, gender=g, role=role)
        )
    for m in re.finditer(
        r"(?<![\w’'])(?P<mod>(?:[A-Z][\w.]*\s+)+)(?P<head>[a-z][\w-]*)\b", text
    ):  # "US officials", "British troops"
        head = m.group("head")
        if is_plural(head) and (head.rstrip("s") in ROLE_NOUNS or head in ROLE_NOUNS):
            mod = m.group("mod").split()
            if mod[0].lower() in _OPENERS and len(mod) == 1:
                continue
            out.append(Mention(m.group(0), m.start(), m.end(), GROUP, plural=True))
    for m in re.finditer(r"\b(?:by|of|the)\s+(?P<head>[a-z][\w-]*s)\b", text):
        head = m.group("head")
        if head not in STOP_WORDS and (
            head.rstrip("s") in ROLE_NOUNS or head in ROLE_NOUNS
        ):  # "by miners", "of the miners"
            out.append(Mention(head, m.start("head"), m.end("head"), GROUP, plural=True))
    return tuple(out)


def _np_body(body: str) -> str:
    words = body.split()
    kept: list[str] = []
    if len(words) > 1 and words[0].lower().endswith("ed") and words[1].lower() in STOP_WORDS:
        return ""  # "This triggered one of ...": a verb, not a noun
    for i, w in enumerate(words):
        lower = w.lower().replace("’", "'")
        if lower == "of" and kept and i + 1 < len(words):
            rest = words[i + 1 :]
            if rest[0].lower() == "the":
                rest = rest[1:]
            names_ = []
            for r in rest:
                if not _capital(r):
                    break
                names_.append(r.rstrip(",.;:?!"))
                if r[-1:] in ",.;:?!":
                    break
            after_names = rest[len(names_)] if len(rest) > len(names_) else ""
            if names_ and after_names[:1].islower() and after_names.lower() not in STOP_WORDS:
                break  # "the location of the World Heavyweight Title fight": not "of" a name
            if names_:  # "the members of WINNER"
                kept.append(
                    "of " + ("the " if words[i + 1].lower() == "the" else "") + " ".join(names_)
                )
                break
        if (lower in STOP_WORDS and not w.isupper()) or lower in VERB_FORMS or lower in _TIME:
            break
        if i and lower.endswith("ed") and not _capital(w):
            break  # "the balloon shot down": a verb after the noun
        if _POSSESSIVE.search(w) and i:
            break
        kept.append(w.rstrip(",.;:?!"))
        if w[-1:] in ",.;:?!":
            break
    while kept and (kept[-1].lower().endswith("ly") or kept[-1].lower() in _CONNECT):
        kept.pop()
    return " ".join(kept)


def times(text: str) -> list[Mention]:
    return [Mention(m.group(0), m.start(), m.end(), TIME) for m in TIME_PHRASE.finditer(text)]


def mentions(text: str, people: set[str] | None = None) -> list[Mention]:
    """Every mention in a text, in order; a name a known person has ("Wang") is a person."""
    found = [m for m in names(text) if m.kind != "adjective"]
    if people:
        for m in found:
            if m.kind == NAME and _known(m.key, people):
                m.kind = PERSON
                m.gender = m.gender or _gender(text, m)
    for np in noun_phrases(text):
        inside = [m for m in found if np.start <= m.start and m.end <= np.end]
        if any(m.start < np.end and np.start < m.end for m in found if m not in inside):
            continue
        if inside and re.sub(r"\s+of\s+.*$", "", np.text).split()[-1][:1].isupper():
            continue  # "the Genesis Rock": the name is the mention
        found = [m for m in found if m not in inside]
        found.append(np)
    found.sort(key=lambda m: m.start)
    return _titles_with_and(text, found)


def _titles_with_and(text: str, found: list[Mention]) -> list[Mention]:
    """ "Kiss and Tell is a 1945 film", "was Kiss and Tell released": one title, not two names."""
    out: list[Mention] = []
    for m in found:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.is_name
            and m.is_name
            and len(prev.text.split()) == 1
            and len(m.text.split()) == 1
            and text[prev.end : m.start] == " and "
            and (
                re.match(r"\s+(?:is|was|has)\b", text[m.end :])
                or re.search(r"\b(?:is|was|has)\s+$", text[: prev.start])
            )
        ):
            out[-1] = Mention(text[prev.start : m.end], prev.start, m.end, THING, is_name=True)
            continue
        out.append(m)
    return out


def _known(key: str, people: set[str]) -> bool:
    """ "Wang" and "Shirley Temple" are known where "Wang Yi" and "Shirley Temple Black" are."""
    if key in people or key.split()[-1] in people:
        return True
    return any(p.startswith(key + " ") for p in people)


def people_in(text: str) -> dict[str, str | None]:
    """The persons a text names, each with the gender the text gives it (to type other texts)."""
    out: dict[str, str | None] = {}
    for m in names(text):
        if m.kind == PERSON and m.role != "title":
            for key in (m.key, m.key.split()[-1]):
                out[key] = out.get(key) or m.gender
    return out


def pronoun_gender(text: str, m: Mention, others: list[Mention]) -> str | None:
    """ "she" or "he" that follows a person in its sentence before any other person does."""
    end = len(text)
    for o in others:
        if o.start > m.end and o.kind == PERSON:
            end = o.start
            break
    span = text[m.end : end]
    stop = re.search(r"[.!?]\s+(?!(?:She|He|Her|His)\b)", span)
    span = span[: stop.start()] if stop else span
    if re.search(r"\b(?:she|her|herself)\b", span, re.IGNORECASE):
        return "f"
    if re.search(r"\b(?:he|him|his|himself)\b", span, re.IGNORECASE):
        return "m"
    return None


def clear_caches() -> None:
    """Forget the texts read so far (to time reading them afresh)."""
    for cached in (_names, _noun_phrases, content_stems, stem, norm):
        cached.cache_clear()
