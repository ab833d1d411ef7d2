"""Word frequency ranks: how common an English word is, from the embedder's vocabulary.

The bert-base-uncased vocabulary (the MiniLM tokenizer's) lists its whole words from "the" on in
order of frequency; a word's place there is its rank. Without the local model's tokenizer the
list is empty and every word counts as rare.
"""

from __future__ import annotations

import functools
import json
import logging

log = logging.getLogger(__name__)

UNKNOWN_RANK = 1 << 30  # the rank of a word the vocabulary does not hold


@functools.cache
def vocabulary() -> dict[str, int]:
    """The whole words of the bert-base-uncased vocabulary (~21k), with their place in it."""
    try:
        from index.embed import tokenizer_path

        vocab = json.loads(tokenizer_path().read_text(encoding="utf-8"))["model"]["vocab"]
    except Exception as exc:  # no local model installed (openai embeddings): do without
        log.debug("no word list: %s", exc)
        return {}
    return {w: i for w, i in vocab.items() if w.isalpha() and w.isascii()}


def common_rank(word: str) -> int:
    """How common a lowercase word is: 0 for "the", growing with rarity; large when unknown.

    The vocabulary lists whole words from "the" on in order of frequency (single letters come
    before it and count as common).
    """
    vocab = vocabulary()
    if word not in vocab or "the" not in vocab:
        return UNKNOWN_RANK
    return max(vocab[word] - vocab["the"], 0)


@functools.cache
def known_words() -> frozenset[str]:
    """The vocabulary's whole words of two letters or more; empty when the tokenizer is missing."""
    return frozenset(w for w in vocabulary() if len(w) > 1)
