"""Sentences: the exact (start, end) spans of a text's sentences.

Chunks are packed from these spans, so changing them re-cuts every index: bump
``index.chunk.CHUNKING_VERSION`` with them.
"""

from __future__ import annotations

import re

# Lines longer than this are segmented in windows cut at a space, so that the segmenter's
# list of boundaries for one giant line (a log, minified data) stays small.
WINDOW = 100_000
LANGUAGE = "en"  # sentencex's rules; they carry over to most languages written in Latin script


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Split text[start:end] into sentences; returns (start, end) spans without outer whitespace.

    Sentences are found by sentencex (Wikimedia's rule-based segmenter: abbreviations, initials,
    decimals, quotes), chosen by eval/segment_bench.py over pysbd, blingfire, syntok and the
    regex used before; a line break always ends a sentence (titles, list items, table rows).
    """
    from sentencex import get_sentence_boundaries

    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text[start:end]):
        ls, le = start + line.start(), start + line.end()
        while ls < le:
            we = le if le - ls <= WINDOW else _window_end(text, ls, le)
            pending: tuple[int, int] | None = None
            for b in get_sentence_boundaries(LANGUAGE, text[ls:we]):
                s, e = ls + b["start_index"], ls + b["end_index"]
                if pending is not None and _glued(text, s):
                    pending = (pending[0], e)  # "window.__pwned": no sentence ends there
                    continue
                if pending is not None:
                    add_trimmed(spans, text, *pending)
                pending = (s, e)
            if pending is not None:
                add_trimmed(spans, text, *pending)
            ls = we
    return spans


def _glued(text: str, cut: int) -> bool:
    """True when a cut falls inside a token: no space on either side, no capital after it."""
    return (
        0 < cut < len(text)
        and not text[cut - 1].isspace()
        and not text[cut].isspace()
        and not text[cut].isupper()
    )


def _window_end(text: str, s: int, e: int) -> int:
    cut = text.rfind(" ", s + WINDOW // 2, s + WINDOW)
    return cut if cut > s else s + WINDOW


def add_trimmed(spans: list[tuple[int, int]], text: str, s: int, e: int) -> None:
    """Append the span ``text[s:e]`` without its outer whitespace, unless nothing is left."""
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        spans.append((s, e))
