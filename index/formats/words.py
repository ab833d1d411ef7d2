"""A list of known English words, to tell a hyphenated line break from a hyphenated compound."""

from __future__ import annotations

import functools
import json
import logging

log = logging.getLogger(__name__)


@functools.cache
def known_words() -> frozenset[str]:
    """The whole words of the bert-base-uncased vocabulary (~21k) that ships with the embedder.

    Empty when the tokenizer file is missing: hyphenation is then judged by the document alone.
    """
    try:
        from index.embed import tokenizer_path

        vocab = json.loads(tokenizer_path().read_text(encoding="utf-8"))["model"]["vocab"]
    except Exception as exc:  # no local model installed (openai embeddings): do without
        log.debug("no word list for hyphenation: %s", exc)
        return frozenset()
    return frozenset(w for w in vocab if w.isalpha() and w.isascii() and len(w) > 1)
