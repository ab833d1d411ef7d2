"""Pure rendering: answers, sources and documents to HTML fragments for the web chat.

Every piece of document text goes through ``_esc`` (``html.escape``): a document that contains
``<script>`` is shown as text and never runs. Fragments have no newlines, so the chat's Markdown
pass treats each message as one raw HTML block and leaves the escaped text alone.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

from index.types import DocumentInfo
from qa.folder import UPLOAD_TYPES, format_size
from qa.markers import MARKER, marker_numbers
from qa.types import Answer, Citation, Passage, Span

if TYPE_CHECKING:
    from qa.settings import Settings

TITLE = "Document Q&A"


def _esc(text: str) -> str:
    return html.escape(text, quote=True).replace("\r\n", "\n").replace("\n", "<br>")


def _badges(numbers: Sequence[int]) -> str:
    return "".join(f'<sup class="qa-cite" title="Source {n}">[{n}]</sup>' for n in numbers)


def _with_markers(text: str, cited: set[int] | None) -> str:
    """Escaped text whose ``[n]`` markers (for cited n, or all when cited is None) are badges."""
    out, pos = [], 0
    for m in MARKER.finditer(text):
        numbers = marker_numbers(m)
        if cited is not None and not cited.issuperset(numbers):
            continue  # e.g. a "[3]" the document itself contains: shown as the text it is
        out += [_esc(text[pos : m.end(1)]), _badges(numbers)]
        pos = m.end()
    out.append(_esc(text[pos:]))
    return "".join(out)


def highlight_ranges(passage: Passage, spans: Sequence[Span]) -> list[tuple[int, int]]:
    """Where the supporting sentences lie inside the passage text, merged and in order."""
    ranges = []
    for s in spans:
        a, b = s.start - passage.start, s.end - passage.start
        if 0 <= a < b <= len(passage.text) and passage.text[a:b] == s.text:
            ranges.append((a, b))
        elif s.text and (i := passage.text.find(s.text)) >= 0:
            ranges.append((i, i + len(s.text)))
    merged: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def render_passage(passage: Passage, spans: Sequence[Span]) -> str:
    """The passage, escaped, with the supporting sentences inside ``<mark>``."""
    out, pos = [], 0
    for a, b in highlight_ranges(passage, spans):
        out.append(_esc(passage.text[pos:a]))
        out.append(f'<mark class="qa-support">{_esc(passage.text[a:b])}</mark>')
        pos = b
    out.append(_esc(passage.text[pos:]))
    return "".join(out)


def render_citation(c: Citation) -> str:
    """One collapsible source entry: number, document, position, and the highlighted passage."""
    p = c.passage
    title = ""
    if p.title and p.title != p.source:
        short = p.title if len(p.title) <= 80 else p.title[:77] + "…"
        title = f'<span class="qa-doc-title">{_esc(short)}</span>'
    return (
        f'<details class="qa-source" data-n="{c.n}">'
        f'<summary><span class="qa-n">{c.n}</span>'
        f'<span class="qa-doc">{_esc(p.source)}</span>{title}'
        f'<span class="qa-loc">chars {p.start:,}–{p.end:,}</span></summary>'
        f'<div class="qa-passage">{render_passage(p, c.sentences)}</div>'
        "</details>"
    )


def _answer_text(answer: Answer) -> str:
    """The answer, escaped, with [n] badges and its unsupported sentences marked."""
    text, cited = answer.text, {c.n for c in answer.citations}
    out, pos = [], 0
    for s in answer.unsupported:
        i = text.find(s.text, pos) if s.text else -1
        if i < 0:
            continue
        out.append(_with_markers(text[pos:i], cited))
        out.append(
            '<span class="qa-unsupported" title="Not supported by the passages it cites">'
            f"{_with_markers(s.text, cited)}</span>"
        )
        pos = i + len(s.text)
    out.append(_with_markers(text[pos:], cited))
    return "".join(out)


def render_answer(answer: Answer) -> str:
    """A finished answer: text with [n] badges, notices, and one entry per cited source."""
    parts = ['<div class="qa-answer">']
    if answer.refused:
        parts.append(
            '<div class="qa-refused"><strong>Not in the documents.</strong> '
            f"{_esc(answer.text or 'The documents do not answer this question.')}</div>"
        )
    else:
        parts.append(f'<div class="qa-text">{_answer_text(answer)}</div>')
    if answer.notice:
        parts.append(f'<div class="qa-notice">{_esc(answer.notice)}</div>')
    if answer.unsupported:
        n = len(answer.unsupported)
        parts.append(
            f'<div class="qa-warn">{n} sentence{"s" if n > 1 else ""} of this answer '
            f"{'are' if n > 1 else 'is'} not supported by the passages cited and "
            f"{'are' if n > 1 else 'is'} marked; check {'them' if n > 1 else 'it'} against the "
            "sources.</div>"
        )
    if answer.citations:
        parts.append('<div class="qa-sources"><div class="qa-sources-title">Sources</div>')
        parts.extend(render_citation(c) for c in answer.citations)
        parts.append("</div>")
    meta = [answer.mode]
    if answer.latency_ms:
        ms = answer.latency_ms
        meta.append(f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s")
    parts.append(f'<div class="qa-meta">{_esc(" · ".join(meta))}</div></div>')
    return "".join(parts)


def render_streaming(text: str) -> str:
    """An answer still being written (or, with no text yet, still being looked up)."""
    if not text:
        return '<div class="qa-answer qa-pending">Searching the documents…</div>'
    return (
        f'<div class="qa-answer qa-streaming"><div class="qa-text">'
        f'{_with_markers(text, None)}<span class="qa-caret"></span></div></div>'
    )


def render_error(message: str) -> str:
    """A readable error in place of an answer."""
    return (
        '<div class="qa-answer qa-error" role="alert"><strong>Could not answer.</strong> '
        f"{_esc(message)}</div>"
    )


def render_question(question: str) -> str:
    """The user's question, escaped."""
    return f'<div class="qa-question">{_esc(question)}</div>'


def mode_label(mode: str) -> str:
    """``Engine.mode`` in words: extractive, or the name of the model that writes answers."""
    kind, _, model = mode.partition(":")
    return f"Generated · {model}" if kind == "generated" else "Extractive"


def render_header(settings: Settings, mode: str) -> str:
    """Title, one line on what the app does, and the active answer mode."""
    if settings.use_llm:
        hint = "A language model writes each answer from the retrieved passages, citing them."
    else:
        hint = "Each answer quotes the sentences of the documents that answer the question."
    return (
        '<div class="qa-header"><div><h1>' + _esc(TITLE) + "</h1>"
        "<p>Answers come only from your documents, with the passages they rely on.</p></div>"
        f'<div class="qa-mode" id="qa-mode" title="{_esc(hint)}"><span>Answer mode</span>'
        f"<strong>{_esc(mode_label(mode))}</strong></div></div>"
    )


def render_documents(docs: Sequence[DocumentInfo]) -> str:
    """The indexed files with their chunk counts and status."""
    if not docs:
        return '<div class="qa-docs-empty">No documents are indexed yet. Add one below.</div>'
    rows = "".join(
        f'<tr><td class="qa-docname" title="{_esc(d.source)}">{_esc(d.source)}</td>'
        f'<td class="qa-num">{d.chunks:,}</td>'
        f'<td><span class="qa-status qa-status-{_esc(d.status)}">'
        f"{_esc(d.status)}</span></td></tr>"
        for d in docs
    )
    total = sum(d.chunks for d in docs)
    return (
        '<table class="qa-docs"><thead><tr><th>Document</th><th>Chunks</th><th>Status</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
        f'<div class="qa-docs-total">{len(docs):,} document{"s" if len(docs) != 1 else ""} · '
        f"{total:,} chunks</div>"
    )


def render_status(lines: Sequence[tuple[str, str]]) -> str:
    """Messages about uploads and removals; kind is 'ok' or 'error'."""
    return "".join(f'<div class="qa-msg qa-msg-{kind}">{_esc(text)}</div>' for kind, text in lines)


def render_upload_hint(max_upload_bytes: int) -> str:
    """The line under the upload box: accepted types, size limit, indexing at once."""
    types = " ".join(UPLOAD_TYPES)
    return (
        f'<div class="qa-hint">{_esc(types)} · up to {format_size(max_upload_bytes)} '
        "each · indexed at once</div>"
    )
