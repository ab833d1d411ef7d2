"""The product's vocabulary of text, written once, low down: both ``index`` and ``qa`` use it.

Each module is one idea and imports nothing else of the project (``ranks`` reads the embedder's
vocabulary file when first asked):

- ``tokens``: words and the stemmed terms without stop words (``tokenize``) that BM25 indexes
  and word shares count.
- ``sentences``: the exact spans of a text's sentences (``sentence_spans``).
- ``dates``: month and weekday names, times of day.
- ``numbers``: number words ("twelve", "a thousand").
- ``shares``: the IDF-weighted share of a question's words that a text holds (``weighted_share``).
- ``ranks``: how common an English word is (``common_rank``), and the known words.
- ``controls``: the one set of control characters (``control_chars``), and ``printable``.
- ``titles``: a document's title as the words that name it (``title_key``) and where a text
  names it (``names_title``).
- ``languages``: which language a question is plainly written in (``detect``), by script and
  function words, and the languages' names.

``qa`` imports these names from ``index.text``; modules of ``index`` from the submodule.
"""

from __future__ import annotations

from index.text.controls import CONTROLS, control_chars, printable
from index.text.dates import CLOCK, MONTH_NAMES, MONTHS, WEEKDAY_NAMES, WEEKDAYS, YEARS
from index.text.languages import ENGLISH, detect, language_name
from index.text.numbers import CARDINAL_VALUES, CARDINALS, MAGNITUDES
from index.text.ranks import common_rank, known_words, vocabulary
from index.text.sentences import sentence_spans
from index.text.shares import found_weight, weighted_share
from index.text.titles import names_title, title_at, title_key
from index.text.tokens import STOPWORDS, squash_spaces, tokenize, words

__all__ = [
    "CARDINALS",
    "CARDINAL_VALUES",
    "CLOCK",
    "CONTROLS",
    "ENGLISH",
    "MAGNITUDES",
    "MONTHS",
    "MONTH_NAMES",
    "STOPWORDS",
    "WEEKDAYS",
    "WEEKDAY_NAMES",
    "YEARS",
    "common_rank",
    "control_chars",
    "detect",
    "found_weight",
    "known_words",
    "language_name",
    "names_title",
    "printable",
    "sentence_spans",
    "squash_spaces",
    "title_at",
    "title_key",
    "tokenize",
    "vocabulary",
    "weighted_share",
    "words",
]
