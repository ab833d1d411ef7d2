"""Pure rendering of the chat: answers first with their evidence, turns, the header.

Every string from a document, a question or a model goes through ``markup.esc``: escaped, one
line, no control characters (see ``qa.web.markup``). ``[n]`` markers become links that open the
source viewer (``data-turn``/``data-n`` name the citation; the page's script asks the server).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from qa.answer.extract import NOT_SURE
from qa.answer.markers import MARKER, marker_numbers, strip_markers
from qa.types import Answer, Citation
from qa.web.conversation import Conversation, Feedback
from qa.web.markup import esc, esc_line, icon, locate, marked, shorten

if TYPE_CHECKING:
    pass

TITLE = "Document Q&A"
QUOTE_CHARS = 600  # a supporting sentence longer than this is shown cut, whole in the viewer


def source_name(c: Citation) -> str:
    """How a cited document is named: its title, else its file name."""
    return c.title if c.title and c.title != c.source else c.source


def _ref_label(c: Citation) -> str:
    page = f", page {c.pages}" if c.pages else ""
    return f"Source {c.n}: {shorten(source_name(c), 120)}{page}"


def ref_link(turn: int, c: Citation | None, n: int) -> str:
    """The ``[n]`` link that opens citation n of a turn in the source viewer."""
    label = _ref_label(c) if c else f"Source {n}"
    return (
        f'<a class="qa-ref" href="#qa-viewer" data-turn="{turn}" data-n="{n}" '
        f'aria-label="{esc_line(label)}" title="{esc_line(label)}">[{n}]</a>'
    )


def _with_links(text: str, turn: int | None, cites: dict[int, Citation]) -> str:
    """Escaped text whose ``[n]`` markers for known citations are links (badges while streaming)."""
    out, pos = [], 0
    for m in MARKER.finditer(text):
        numbers = marker_numbers(m)
        if turn is not None and not all(n in cites for n in numbers):
            continue  # e.g. a "[3]" the document itself contains: shown as the text it is
        out.append(esc(text[pos : m.end(1)]))
        for n in numbers:
            if turn is None:
                out.append(f'<span class="qa-ref qa-ref-pending">[{n}]</span>')
            else:
                out.append(ref_link(turn, cites[n], n))
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def _lead(answer: Answer, turn: int) -> str:
    """The answer text with its links, unsupported sentences marked."""
    text, cites = answer.text, {c.n: c for c in answer.citations}
    out, pos = [], 0
    for s in answer.unsupported:
        i = text.find(s.text, pos) if s.text else -1
        if i < 0:
            continue
        out.append(_with_links(text[pos:i], turn, cites))
        out.append(
            '<span class="qa-unsupported" title="Not supported by the passages it cites">'
            f'{_with_links(s.text, turn, cites)}<span class="qa-flag"> (unsupported)</span></span>'
        )
        pos = i + len(s.text)
    out.append(_with_links(text[pos:], turn, cites))
    return "".join(out)


def render_quote(c: Citation) -> str:
    """A citation's supporting sentences as they stand in the document, the phrase marked."""
    spans = sorted(c.sentences, key=lambda s: s.start)
    if not spans:  # nothing pinned down: the start of the passage
        return esc(shorten(c.text, QUOTE_CHARS))
    parts = []
    for s in spans:
        text = s.text if len(s.text) <= QUOTE_CHARS else s.text[: QUOTE_CHARS - 1] + "…"
        parts.append(marked(text, [(locate(text, s.start, c.phrases), "qa-phrase")]))
    return " … ".join(parts)


def _is_echo(answer: Answer) -> bool:
    """True when the answer text is only the supporting sentences (nothing to quote twice)."""
    quoted = " ".join(s.text for c in answer.citations for s in c.sentences)
    return " ".join(strip_markers(answer.text).split()) == " ".join(quoted.split())


def render_evidence(answer: Answer, turn: int) -> str:
    """Under the answer: each cited passage's supporting sentences, quoted, with its source."""
    if not answer.citations:
        return ""
    echo = _is_echo(answer)
    heading = "Closest passages" if answer.uncertain else "Sources" if echo else "Evidence"
    items = []
    for c in answer.citations:
        where = f'<span class="qa-page">page {esc_line(c.pages)}</span>' if c.pages else ""
        name = esc_line(shorten(source_name(c), 90))
        file = (
            ""
            if name == esc_line(c.source)
            else f'<span class="qa-file">{esc_line(c.source)}</span>'
        )
        caption = (
            f'<a class="qa-ref qa-src" href="#qa-viewer" data-turn="{turn}" data-n="{c.n}" '
            f'title="{esc_line("Open " + _ref_label(c))}"><span class="qa-sr">Source </span>'
            f'<span class="qa-n">{c.n}</span><span class="qa-src-name">{name}</span></a>'
            f"{where}{file}"
        )
        quote = "" if echo else f"<blockquote>{render_quote(c)}</blockquote>"
        items.append(
            f'<li class="qa-cite-item">{quote}<div class="qa-cite-src">{caption}</div></li>'
        )
    return (
        f'<section class="qa-evidence" aria-label="{heading}"><h3>{heading}</h3>'
        f'<ol class="qa-cites">{"".join(items)}</ol></section>'
    )


def _feedback(turn: int, fb: Feedback | None) -> str:
    fb = fb or {}
    rating = fb.get("rating")
    buttons = "".join(
        f'<button type="button" class="qa-fb" data-turn="{turn}" data-rating="{r}" '
        f'aria-pressed="{"true" if rating == r else "false"}" aria-label="{label}" '
        f'title="{label}">{icon(r)}</button>'
        for r, label in (("up", "Good answer"), ("down", "Wrong or unhelpful answer"))
    )
    said = ""
    if fb.get("unanswerable"):
        said = "You said the documents don't answer this."
    elif fb.get("correction"):
        said = f"You said the right answer is: {fb['correction']}"
    thanks = f'<span class="qa-fb-said">{esc(shorten(said, 200))}</span>' if said else ""
    form = (
        f'<form class="qa-fb-form" data-turn="{turn}" hidden>'
        f'<label for="qa-fb-text-{turn}">The right answer is</label>'
        f'<textarea id="qa-fb-text-{turn}" rows="2" maxlength="2000"></textarea>'
        f'<label class="qa-fb-check"><input type="checkbox" name="unanswerable"> '
        "The documents don't answer this question</label>"
        '<div class="qa-fb-actions"><button type="submit" class="qa-btn qa-btn-primary">Save'
        '</button><button type="button" class="qa-btn qa-fb-cancel">Cancel</button></div></form>'
    )
    return (
        f'<div class="qa-feedback" role="group" aria-label="Feedback on this answer">{buttons}'
        f'<button type="button" class="qa-fb-open" data-turn="{turn}" aria-expanded="false">'
        f"Correct it</button>{thanks}{form}</div>"
    )


def _meta(answer: Answer) -> str:
    meta = [mode_words(answer.mode)]
    if answer.latency_ms:
        ms = answer.latency_ms
        meta.append(f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s")
    return f'<span class="qa-meta">{esc_line(" · ".join(meta))}</span>'


def render_answer(answer: Answer, turn: int = 0, feedback: Feedback | None = None) -> str:
    """A finished answer: the answer first, then its evidence, feedback and how it was made."""
    parts = [f'<div class="qa-answer qa-{answer.status}">']
    if answer.uncertain:  # the verdict below says "not sure": the text need not say it again
        answer = replace(answer, text=answer.text.removeprefix(NOT_SURE).lstrip())
    if answer.refused:
        parts.append(
            '<div class="qa-verdict"><strong>Not in the documents.</strong> '
            f"{esc(answer.text or 'The documents do not answer this question.')}</div>"
        )
    elif answer.uncertain:
        parts.append(
            '<div class="qa-verdict"><strong>Not sure.</strong> The documents do not answer this '
            "clearly; these are the closest passages.</div>"
        )
        parts.append(f'<div class="qa-lead">{_lead(answer, turn)}</div>')
    else:
        parts.append(f'<div class="qa-lead">{_lead(answer, turn)}</div>')
    if answer.notice:
        parts.append(f'<div class="qa-notice" role="note">{esc(answer.notice)}</div>')
    if answer.unsupported:
        n = len(answer.unsupported)
        s, verb = ("s", "are") if n > 1 else ("", "is")
        parts.append(
            f'<div class="qa-warn" role="note">{n} sentence{s} of this answer {verb} not '
            f"supported by the passages cited and {verb} marked; check against the sources.</div>"
        )
    parts.append(render_evidence(answer, turn))
    parts.append(f'<div class="qa-foot">{_feedback(turn, feedback)}{_meta(answer)}</div></div>')
    return "".join(parts)


def render_question(question: str) -> str:
    """The user's question, escaped."""
    return f'<div class="qa-question"><div class="qa-bubble">{esc(question)}</div></div>'


def render_turn(index: int, question: str, answer: Answer, feedback: Feedback | None) -> str:
    """One question and its answer."""
    return (
        f'<article class="qa-turn" id="qa-turn-{index}" data-turn="{index}">'
        f"{render_question(question)}{render_answer(answer, index, feedback)}</article>"
    )


def render_transcript(conv: Conversation, examples: Sequence[str] = ()) -> str:
    """The finished turns of a chat (or, when it has none, a welcome with example questions)."""
    chat = esc_line(conv["id"])
    turns = []
    for i, t in enumerate(conv["turns"]):
        turns.append(
            render_turn(i, t["question"], Answer.from_dict(t["answer"]), t.get("feedback"))
        )
    if turns:
        return (
            f'<div class="qa-transcript" data-chat="{chat}" data-turns="{len(turns)}">'
            f'<h2 class="qa-sr">Conversation</h2>{"".join(turns)}</div>'
        )
    chips = "".join(
        f'<li><button type="button" class="qa-example">{esc_line(q)}</button></li>'
        for q in examples
    )
    tries = f'<p class="qa-try">Try one:</p><ul class="qa-examples">{chips}</ul>' if chips else ""
    return (
        f'<div class="qa-transcript qa-empty" data-chat="{chat}" data-turns="0"><div class="qa-welcome">'
        "<h2>Ask your documents</h2><p>Each answer comes with the sentences it rests on. Click a "
        '<span class="qa-ref-sample">[1]</span> to read the passage in its document.</p>'
        f"{tries}</div></div>"
    )


def render_pending(question: str, text: str = "") -> str:
    """The question just asked and its answer while it is looked up or written."""
    if not text:
        body = '<div class="qa-answer qa-pending" role="status">Searching the documents…</div>'
    else:
        body = (
            f'<div class="qa-answer qa-streaming"><div class="qa-lead">'
            f'{_with_links(text, None, {})}<span class="qa-caret"></span></div></div>'
        )
    return f'<article class="qa-turn qa-live">{render_question(question)}{body}</article>'


def render_error(question: str, message: str) -> str:
    """A readable error in place of an answer (the question stays in the box)."""
    q = render_question(question) if question.strip() else ""
    return (
        f'<article class="qa-turn qa-live">{q}<div class="qa-answer qa-error" role="alert">'
        f"<strong>Could not answer.</strong> {esc(message)}</div></article>"
    )


def mode_words(mode: str) -> str:
    """An answer mode ("extractive", "generated:<model>", "extractive-fallback") in words."""
    if mode.startswith("generated:"):
        return f"Generated · {mode.split(':', 1)[1]}"
    if mode == "extractive-fallback":
        return "Extractive (model unavailable)"
    return mode.capitalize() if mode else "Extractive"


def mode_label(mode: str) -> str:
    """``Engine.mode`` in words for the header: extractive, or the model that writes answers."""
    kind, _, model = mode.partition(":")
    return f"Generated · {model}" if kind == "generated" else "Extractive"


def render_header(mode: str) -> str:
    """Title, one line on what the app does, and the active answer mode (in words)."""
    generated = mode.startswith("Generated")
    hint = (
        "A language model writes each answer from the retrieved passages, citing them."
        if generated
        else "Each answer quotes the sentences of the documents that answer the question."
    )
    return (
        '<header class="qa-header"><div class="qa-brand"><h1>' + esc_line(TITLE) + "</h1>"
        "<p>Answers come only from your documents, with the passages they rely on.</p></div>"
        f'<div class="qa-mode" id="qa-mode" title="{esc_line(hint)}"><span>Answer mode</span>'
        f"<strong>{esc_line(mode)}</strong></div></header>"
    )
