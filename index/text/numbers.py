"""Number words, written once: the cardinals a text spells out ("twelve", "a hundred")."""

from __future__ import annotations

CARDINAL_WORDS = (
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "twenty", "thirty", "forty", "fifty", "hundred",
)  # fmt: skip
CARDINALS = "|".join(CARDINAL_WORDS)  # "one|two|...|hundred": for a regex group
CARDINAL_VALUES = dict(zip(CARDINAL_WORDS, (*range(1, 13), 20, 30, 40, 50, 100), strict=True))
# The larger round numbers ("a thousand", "two million").
MAGNITUDE_WORDS = ("thousand", "million", "billion")
MAGNITUDES = "|".join(MAGNITUDE_WORDS)
