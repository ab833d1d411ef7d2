"""The shared vocabulary of text (``index.text``): one control-character set and its variants.

Five filters with their own character sets became ``control_chars`` with parameters; the sets
each caller had before are written out here once more, to show that none of them moved.
"""

from __future__ import annotations

import html
import re

from index.text import CONTROLS, control_chars, printable
from qa.cli import terminal
from qa.library import folder
from qa.question import clean
from qa.web import markup

BMP = "".join(map(chr, range(0x10000)))  # every pattern is in the BMP (surrogates included)


def _matched(pattern: re.Pattern[str]) -> set[str]:
    return set(BMP) - set(pattern.sub("", BMP))


def test_each_filter_matches_the_characters_it_always_did():
    before = {
        "terminal": r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]",
        "terminal json": r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]",
        "file name": r"[\x00-\x1f\x7f-\x9f]",
        "question": r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]",
    }
    now = {
        "terminal": terminal._CONTROL,
        "terminal json": terminal._JSON_UNSAFE,
        "file name": folder._CONTROL,
        "question": clean._CONTROL,
    }
    for name, pattern in before.items():
        assert _matched(now[name]) == _matched(re.compile(pattern)), name
    assert _matched(control_chars()) == set(CONTROLS)
    assert "\t" not in CONTROLS and "\n" not in CONTROLS and "\x1b" in CONTROLS


def test_the_web_page_shows_every_character_as_before():
    """The page's own set lacked CR, VT, FF and NEL, which it turns into line breaks first."""
    breaks = re.compile(r"\r\n|[\n\r\v\f\x85\u2028\u2029]")
    controls = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069]")

    def esc_before(text: str) -> str:
        plain = controls.sub("", breaks.sub("\n", text)).replace("\t", " ")
        return html.escape(plain, quote=True).replace("\n", "<br>")

    text = BMP + "a\r\nb\rc\x85d\x0be\x0cf"
    assert markup.esc(text) == esc_before(text)
    assert _matched(markup._CONTROLS) - set(CONTROLS) == set()


def test_printable_is_the_readers_own_definition():
    assert printable("a\x00b\tc\u00a0d") == "a b\tc d"  # a no-break space too: indexed text
    assert printable("plain text") == "plain text"
