"""Which language a question is written in, when it is plainly not English.

The default embedding model (all-MiniLM-L6-v2) and the extractive answer's word matching read
English only: a Spanish question over English documents matches nothing and would be refused as
if the documents did not cover it. Telling the user why (and which setting reads other languages)
needs only a rough guess, made from two things a short question still shows:

- the script: mostly Cyrillic, Greek, Arabic, Hebrew, Devanagari, Thai, Hangul, Kana or Han
  letters is not English;
- function words: the short words every sentence of a language uses ("¿con quién se reunió?" has
  "con", "quién", "se"). A question holding at least two of one language's and more of them than
  of English's is taken for that language. Names and borrowed words do not count: they are not
  function words.

The word lists are general grammar, and deliberately short: only words that are not also common
English words ("de" is, in names; "die" is an English verb). The German list was first written
with the base forms only; its inflected forms ("welchem", "viele", "diesem") were added after
XQuAD's German questions showed a short question often holds only those (detection on XQuAD is
therefore in-sample; the 30 seed-article questions of eval/multilingual_qa.jsonl came first).
"""

from __future__ import annotations

import re
import unicodedata

ENGLISH = "en"
# Language code -> its name, for the message that names it.
NAMES = {
    "en": "English", "es": "Spanish", "fr": "French", "de": "German", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "ru": "Russian", "el": "Greek", "ar": "Arabic",
    "he": "Hebrew", "hi": "Hindi", "th": "Thai", "ko": "Korean", "ja": "Japanese",
    "zh": "Chinese", "uk": "Ukrainian", "pl": "Polish", "sv": "Swedish", "tr": "Turkish",
}  # fmt: skip

_FUNCTION_TEXT = {
    "en": "the of and to is are was were what who whom which when where why how did does do "
    "with from this that these those for about has have had will would can could should",
    "es": "el la los las del con por para qué quién quien cuál cuándo cuándo dónde donde cómo "
    "es son fue fueron está están se su sus una uno unos unas pero muy también según sobre "
    "hay ha han lo le les al y",
    "fr": "le la les des du une un est sont qui que quoi quel quelle quels quelles où quand à cet "
    "comment pourquoi avec pour dans sur par au aux ce cette ces son sa ses et été était "
    "selon il elle ils elles ne pas",
    "de": "der das den dem des ein eine einen einem einer eines ist sind war waren wer wen wem "
    "wessen was welche welcher welches welchem welchen wann wo wie warum wieso weshalb wieviel "
    "wieviele viel viele vielen mit für von vom zu zum zur auf und nicht auch hat haben hatte "
    "hatten wurde wurden wird werden im sich bei nach seit durch gegen über unter zwischen "
    "diese dieser dieses diesem diesen sein seine seiner ihr ihre ihrer es",
    "it": "il lo gli della dello delle degli che chi cosa quale quali quando dove come perché "
    "è sono era erano con per nel nella sul sulla una uno e non anche secondo",
    "pt": "os das dos uma um que quem qual quais quando onde como porquê porque é são foi "
    "foram com para pelo pela nos nas não também segundo ao aos",
    "nl": "het een van wie wat welke wanneer waar hoe waarom is zijn was waren met voor "
    "naar op niet ook heeft hebben werd de en",
    "sv": "och att det som för på är av med till den har inte om ett vem vad vilken när var "
    "hur varför",
    "pl": "jest są był była było czy kto co który która które kiedy gdzie jak dlaczego się "
    "nie na w z do od",
    "tr": "ve bir bu ne kim hangi nerede zaman nasıl neden için ile da de mi mı mu mü",
}  # fmt: skip
FUNCTION_WORDS = {lang: frozenset(text.split()) for lang, text in _FUNCTION_TEXT.items()}
# A word that is also an English word is no evidence against English: drop it from the others.
for _lang, _words in list(FUNCTION_WORDS.items()):
    if _lang != ENGLISH:
        FUNCTION_WORDS[_lang] = _words - FUNCTION_WORDS[ENGLISH] - {"a", "i", "in", "die", "on"}

_SCRIPTS = (  # Unicode name prefix -> language (or the script's most common language)
    ("CYRILLIC", "ru"), ("GREEK", "el"), ("ARABIC", "ar"), ("HEBREW", "he"),
    ("DEVANAGARI", "hi"), ("THAI", "th"), ("HANGUL", "ko"), ("HIRAGANA", "ja"),
    ("KATAKANA", "ja"), ("CJK", "zh"),
)  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+")
MIN_WORDS = 2  # function words of one language needed before a question is taken for it
# (one is enough in a question of three words or more with no English function word at all)


def _script(ch: str) -> str | None:
    name = unicodedata.name(ch, "")
    for prefix, lang in _SCRIPTS:
        if name.startswith(prefix):
            return lang
    return None


def detect(text: str) -> str:
    """The question's language code: "en" unless it plainly is another language."""
    letters = [ch for ch in text if ch.isalpha()]
    if letters:
        scripts: dict[str, int] = {}
        for ch in letters:
            lang = _script(ch)
            if lang:
                scripts[lang] = scripts.get(lang, 0) + 1
        if scripts:
            lang, n = max(scripts.items(), key=lambda kv: kv[1])
            if n * 2 > len(letters):
                # Kana anywhere makes Han text Japanese.
                return "ja" if lang == "zh" and "ja" in scripts else lang
    words = [w.lower() for w in _WORD.findall(text)]
    counts = {lang: sum(w in fw for w in words) for lang, fw in FUNCTION_WORDS.items()}
    counts["es"] += 2 * ("¿" in text or "¡" in text)  # only Spanish opens a question so
    english = counts.pop(ENGLISH)
    if not counts:
        return ENGLISH
    lang, n = max(counts.items(), key=lambda kv: kv[1])
    if n >= MIN_WORDS and n > english:
        return lang
    lone = [w for w in words if w in FUNCTION_WORDS[lang] and len(w) > 2]
    return lang if n == 1 and lone and english == 0 and len(words) > 2 else ENGLISH


def language_name(code: str) -> str:
    """The language's name in English ("Spanish"), or its code when unknown."""
    return NAMES.get(code, code)
