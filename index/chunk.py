"""Sentence-aware chunking that keeps the exact character span of every chunk and sentence."""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Callable, Sequence

from index.text.sentences import add_trimmed, sentence_spans
from index.types import Chunk, Document

# Prose runs about 4-5 characters per word piece; no unit may be longer than 8 per token.
CHARS_PER_TOKEN = 8
# The version of how documents are read and cut into chunks: bump it when a reader, the sentence
# splitter (``index.text.sentences``) or the packing changes, so that indexes built before are
# cut again (``recipe``).
CHUNKING_VERSION = 3


def _split_long(text: str, s: int, e: int, n_tokens: int, limit: int) -> list[tuple[int, int]]:
    """Cut an over-long sentence at word boundaries into pieces of about ``limit`` tokens."""
    pieces = max(2, -(-n_tokens // limit))
    words = [m.span() for m in re.finditer(r"\S+", text[s:e])]
    if len(words) < pieces:  # one giant "word": cut by characters
        step = max(1, (e - s) // pieces)
        return [(s + i, min(e, s + i + step)) for i in range(0, e - s, step)]
    per = -(-len(words) // pieces)
    out = []
    for i in range(0, len(words), per):
        group = words[i : i + per]
        out.append((s + group[0][0], s + group[-1][1]))
    return out


def _char_cost(s: int, e: int) -> int:
    """A span costs at least one token per CHARS_PER_TOKEN characters, so chunks stay bounded."""
    return -(-(e - s) // CHARS_PER_TOKEN)


def _cap_chars(text: str, spans: list[tuple[int, int]], max_chars: int) -> list[tuple[int, int]]:
    """Cut spans longer than ``max_chars`` at the last whitespace before the limit (or at it)."""
    out: list[tuple[int, int]] = []
    for s, e in spans:
        while e - s > max_chars:
            limit = s + max_chars
            space = max(text.rfind(c, s + max_chars // 2, limit) for c in " \t\r\f\v")
            cut = space if space > s else limit
            add_trimmed(out, text, s, cut)
            s = cut
            while s < e and text[s].isspace():
                s += 1
        add_trimmed(out, text, s, e)
    return out


def chunk_id(source: str, file_hash: str, start: int, end: int) -> str:
    """A stable id derived from the file's content and the span."""
    return hashlib.sha1(f"{source}\0{file_hash}\0{start}\0{end}".encode()).hexdigest()


def chunk_document(
    doc: Document,
    count_tokens: Callable[[Sequence[str]], list[int]],
    max_tokens: int = 200,
    overlap_tokens: int = 40,
) -> list[Chunk]:
    """Pack whole sentences into chunks of at most ``max_tokens``, overlapping by whole sentences."""
    text = doc.text
    # Cap sentences by characters before counting: a 5 MB line would take the tokenizer
    # minutes, and one giant "word" counts as a single [UNK] token however long it is.
    spans = _cap_chars(text, sentence_spans(text), max_tokens * CHARS_PER_TOKEN)
    if not spans:
        return []
    counts = count_tokens([text[s:e] for s, e in spans])
    units: list[tuple[int, int, int]] = []
    for (s, e), n in zip(spans, counts, strict=True):
        n = max(n, _char_cost(s, e))
        if n > max_tokens:
            pieces = _split_long(text, s, e, n, max_tokens)
            piece_counts = count_tokens([text[ps:pe] for ps, pe in pieces])
            for (ps, pe), pn in zip(pieces, piece_counts, strict=True):
                units.append((ps, pe, max(pn, _char_cost(ps, pe))))
        else:
            units.append((s, e, n))

    groups: list[tuple[int, int]] = []  # [first unit, last unit + 1)
    i = 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and (j == i or total + units[j][2] + 1 <= max_tokens):
            total += units[j][2] + 1
            j += 1
        groups.append((i, j))
        if j >= len(units):
            break
        # Step back over whole sentences for the overlap, but always move forward.
        k, back = j, 0
        while k - 1 > i and back + units[k - 1][2] <= overlap_tokens:
            back += units[k - 1][2]
            k -= 1
        i = k

    chunks = []
    for n, (a, b) in enumerate(groups):
        start, end = units[a][0], units[b - 1][1]
        page, page_end = page_range(doc.pages, start, end)
        chunks.append(
            Chunk(
                id=chunk_id(doc.source, doc.file_hash, start, end),
                source=doc.source,
                start=start,
                end=end,
                text=text[start:end],
                file_hash=doc.file_hash,
                ordinal=n,
                n_chunks=len(groups),
                title=doc.title,
                page=page,
                page_end=page_end,
            )
        )
    return chunks


def page_range(pages: Sequence[int], start: int, end: int) -> tuple[int | None, int | None]:
    """The first and last page (1-based) of text[start:end], given where each page begins."""
    if not pages:
        return None, None
    first = max(1, bisect.bisect_right(pages, start))
    last = max(first, bisect.bisect_right(pages, max(start, end - 1)))
    return first, last


def recipe(max_tokens: int, overlap_tokens: int) -> str:
    """How chunks are cut, as recorded with an index: a different one means index afresh."""
    return f"v{CHUNKING_VERSION} {max_tokens}/{overlap_tokens} tokens"
