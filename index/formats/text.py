"""Plain text and Markdown: decoded as written, hard-wrapped paragraphs read as paragraphs
(``index.formats.wrap``: each character at its offset); a Markdown title is its first heading."""

from __future__ import annotations

import re

from index.formats.base import MAX_TEXT_CHARS, LoadError, Parsed, decode_text
from index.formats.wrap import unwrap

_ATX = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FRONT_MATTER_TITLE = re.compile(r"^title:\s*['\"]?(.+?)['\"]?\s*$", re.IGNORECASE)


def read_text(data: bytes) -> Parsed:
    """A .txt file."""
    return Parsed(unwrap(_checked(decode_text(data))))


def read_markdown(data: bytes) -> Parsed:
    """A .md file: the text as written, titled by its first heading without the ``#``."""
    text = _checked(decode_text(data))
    return Parsed(unwrap(text), markdown_title(text))


def markdown_title(text: str) -> str:
    """The first heading of a Markdown text (ATX ``# x`` or setext ``x\\n===``), else ''."""
    lines = text[:20_000].splitlines()
    front = lines[:1] == ["---"]
    previous = ""
    for n, line in enumerate(lines[:200]):
        if front:
            if n and line.strip() in ("---", "..."):
                front = False
            elif m := _FRONT_MATTER_TITLE.match(line):
                return m.group(1).strip()
            continue
        if m := _ATX.match(line):
            return m.group(1).strip()
        if previous.strip() and _SETEXT.match(line):
            return previous.strip()
        previous = line
    return ""


def _checked(text: str) -> str:
    if len(text) > MAX_TEXT_CHARS:
        raise LoadError(f"too much text (more than {MAX_TEXT_CHARS:,} characters)")
    return text
