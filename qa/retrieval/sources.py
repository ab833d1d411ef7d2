"""The documents a question is asked of: all of them, or the ones named, checked against the index.

``ask(..., sources=[...])``, ``qa ask --source NAME``, the API's ``sources`` field and the web
chat's check boxes all come through here; a name the index does not hold is one clear error.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from index.corpus import Corpus
from qa.errors import BadQuestionError

MAX_SOURCES = 10_000  # names in one question's filter
MAX_NAME_CHARS = 1_000


def chosen_sources(names: Iterable[str] | None, corpus: Corpus) -> frozenset[str] | None:
    """None for every document, else the named ones (BadQuestionError if any is not indexed)."""
    if names is None:
        return None
    if isinstance(names, str | bytes) or not isinstance(names, Iterable):
        raise BadQuestionError("sources must be a list of document names, as `qa docs` lists them.")
    names = list(names)
    if len(names) > MAX_SOURCES or not all(
        isinstance(n, str) and 0 < len(n) <= MAX_NAME_CHARS for n in names
    ):
        raise BadQuestionError(
            f"sources must be at most {MAX_SOURCES:,} document names (each a non-empty string "
            f"of at most {MAX_NAME_CHARS:,} characters), as `qa docs` lists them."
        )
    if not names:
        raise BadQuestionError(
            "No document is chosen to ask: name at least one, or leave sources out to ask them all."
        )
    wanted = frozenset(names)
    unknown = sorted(wanted - corpus.keyword.known_sources(wanted))
    if unknown:
        known = [d.source for d in corpus.documents()] if len(unknown) == 1 else []
        close = difflib.get_close_matches(unknown[0], known, n=1)
        hint = f" Did you mean {close[0]}?" if close else " `qa docs` lists the documents."
        listed = ", ".join(unknown[:3]) + (
            f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        )
        raise BadQuestionError(f"Not in the index: {listed}.{hint}")
    return wanted
