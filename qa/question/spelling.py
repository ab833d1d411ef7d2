"""Typos corrected against the documents' own words: "ivermectn" is asked as "ivermectin".

A word of the question (letters a-z) that the documents never use, that is no English word either
(the embedder's vocabulary), and that is one edit away (a letter left out, added, changed or two
swapped) from words the documents do use, is read as the most frequent of those. Short words
are left alone (one edit turns most of them into another word), and so are words the documents
or the language know: a correct name the documents lack is not "corrected" into another.

An English word the documents never use whose other spelling they do ("centre" in documents
that write "center", "licence", "organise", "colour", "travelled") is read as theirs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

from index.text import known_words, tokenize

MIN_LETTERS = 5  # shorter words are never corrected
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_WORD = re.compile(r"(?<!\w)[^\W\d_]+(?!\w)")  # whole words of letters (not "Orion4"), accents too

# British and American spellings of the same word, each way: (ending, the other's ending). A
# double l after "e" only: "travelled", not "filled" (read as "filed").
_SPELLINGS = (
    ("tre", "ter"), ("tres", "ters"), ("our", "or"), ("ours", "ors"), ("ise", "ize"),
    ("ised", "ized"), ("ises", "izes"), ("ising", "izing"), ("isation", "ization"),
    ("yse", "yze"), ("ysed", "yzed"), ("ence", "ense"), ("ogue", "og"), ("elled", "eled"),
    ("elling", "eling"), ("eller", "eler"), ("mme", "m"),
)  # fmt: skip
_OTHER_ENDINGS = (*_SPELLINGS, *((b, a) for a, b in _SPELLINGS))

Frequencies = Callable[[Iterable[str]], dict[str, int]]  # stemmed terms -> chunks holding them


def _edits(word: str) -> set[str]:
    """Every string one edit away from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    out |= {a + c + b for a, b in splits for c in _LETTERS}
    out.discard(word)
    return out


@functools.cache
def _english_stems() -> frozenset[str]:
    """The stems of the vocabulary's words: "tiring" is English because "tire" is."""
    return frozenset(t for w in known_words() for t in tokenize(w))


def other_spellings(word: str) -> list[str]:
    """The word's other English spellings that the endings allow ("centre" -> "center")."""
    lower = word.lower()
    return [lower[: -len(a)] + b for a, b in _OTHER_ENDINGS if lower.endswith(a)
            and len(lower) - len(a) >= 3]  # fmt: skip


def _spelt_otherwise(words: set[str], frequencies: Frequencies) -> dict[str, str]:
    """The words the documents spell another way, and that way ("Centre" -> "Center")."""
    vocabulary = known_words()
    others = {w: [o for o in other_spellings(w) if o in vocabulary] for w in words}
    terms = {
        t for w, alts in others.items() if alts for t in tokenize(" ".join([w.lower(), *alts]))
    }
    seen = frequencies(terms) if terms else {}
    out: dict[str, str] = {}
    for word, options in others.items():
        own = tokenize(word.lower())
        if not own or own[0] in seen:
            continue  # the documents spell it this way too (or it is a stop word)
        used = [o for o in options if tokenize(o) and tokenize(o)[0] in seen]
        if used:
            out[word] = used[0].capitalize() if word[0].isupper() else used[0]
    return out


def corrections(text: str, frequencies: Frequencies) -> dict[str, str]:
    """The question's misspelt words (and words the documents spell otherwise) and what they
    are read as (an empty dict: none)."""
    vocabulary, english = known_words(), _english_stems()
    words = {w for w in _WORD.findall(text) if len(w) >= MIN_LETTERS and w.isascii()}
    unknown = [w for w in words if w.lower() not in vocabulary
               and not set(tokenize(w.lower())) & english]  # fmt: skip
    out = _spelt_otherwise(set(words) - set(unknown), frequencies)
    stems = {w: tokenize(w.lower()) for w in unknown}
    seen = frequencies({s[0] for s in stems.values() if s})
    for word in unknown:
        if not stems[word] or stems[word][0] in seen:
            continue  # a word the documents use, or a stop word
        options: dict[str, str] = {}  # stem -> the spelling it is read as
        for candidate in sorted(_edits(word.lower())):
            term = tokenize(candidate)
            if len(term) == 1 and (term[0] not in options or candidate in vocabulary):
                options[term[0]] = candidate  # an English spelling of the stem, if one is there
        if not word[0].isupper():  # a name may be rare; a common word's typo is of an English one
            options = {t: c for t, c in options.items() if c in vocabulary}
        found = frequencies(options)
        if found:
            best = max(found, key=lambda t: (found[t], t))
            fixed = options[best]
            out[word] = fixed.capitalize() if word[0].isupper() else fixed
    return out


def corrected(text: str, frequencies: Frequencies) -> str:
    """``text`` with its misspelt words replaced (``corrections``)."""
    fixes = corrections(text, frequencies)
    if not fixes:
        return text
    return _WORD.sub(lambda m: fixes.get(m.group(0), m.group(0)), text)
