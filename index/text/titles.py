"""Document titles as names: the words a title is known by, and where a text names it.

A title names its document in another text ("... the novel of the same name by Hunter Davies"
names the document titled "Hunter Davies") when its words stand there together, without a
trailing qualifier ("Kiss and Tell (1945 film)" is named "Kiss and Tell"). The keyword index
links a chunk to the documents whose titles' words (``title_key``, those that can name:
``is_name``) it holds, in any case, looked up word by word; the answer step follows a mention
from its best sentence (``qa.answer.bridge``) only where it reads as a name: capitalised as the
title is, and no part of a longer number (``names_title``).
"""

from __future__ import annotations

import re

from index.text.tokens import STOPWORDS, words, written_words

MAX_TITLE_WORDS = 10  # longer "titles" are first lines of prose, not names
_PAREN_TAIL = re.compile(r"\s*\([^()]*\)\s*$")


def title_key(title: str) -> tuple[str, ...]:
    """A title as lower-case words, without a trailing "(disambiguation)" part."""
    return tuple(words(_PAREN_TAIL.sub("", title)))


def is_name(key: tuple[str, ...]) -> bool:
    """Whether a title's words can name its document elsewhere: a few characters at least, not
    only stop words, and not a first line of prose."""
    return (
        bool(key)
        and len(" ".join(key)) >= 4
        and any(w not in STOPWORDS for w in key)
        and len(key) <= MAX_TITLE_WORDS
    )


def names_title(text: str, title: str, any_case: bool = False) -> bool:
    """Whether the text names the document titled ``title`` as a name: its words together, any
    spacing, a word the title capitalises capitalised there too ("the introduction of the euro"
    does not name "Introduction"; ``any_case``: in any case, as a question typed in lower case
    does), and no part of a longer number ("Exhibit 10" is not named by "Exhibit 10.43"). A title
    written all in lower case ("notes", a file's name) names nothing.
    """
    return title_at(text, title, any_case) is not None


def title_at(text: str, title: str, any_case: bool = False) -> tuple[int, int] | None:
    """Where the text first names the document titled ``title`` (``names_title``), or None."""
    if not is_name(title_key(title)) or title == title.lower():
        return None
    cased = (
        rf"{re.escape(w[0])}(?i:{re.escape(w[1:])})"
        if w[0].isupper() and not any_case
        else rf"(?i:{re.escape(w)})"
        for w in written_words(_PAREN_TAIL.sub("", title))
    )
    gap = r"\W+"
    at = re.search(rf"(?<![\w.]){gap.join(cased)}(?!\w|[.,/]\d)", text)
    return at.span() if at else None
