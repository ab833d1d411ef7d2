"""Pure rendering of the chat: answers first with their evidence, then the turns of a chat.

Every string from a document, a question or a model goes through ``markup.esc``: escaped, one
line, no control characters (see ``qa.web.markup``). ``[n]`` markers become links that open the
source viewer (``data-turn``/``data-n`` name the citation; the page's script asks the server);
hovering or focusing one shows the sentence it cites (its text is in the turn, hidden).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from qa.answer.markers import MARKER, marker_numbers, strip_markers
from qa.outcomes import NOT_IN_DOCUMENTS, language_of, other_language
from qa.types import Answer, AnswerSentence, Citation, Stage
from qa.web.chrome import mode_label, mode_words, render_header, stage_words
from qa.web.conversation import Conversation, Feedback
from qa.web.markup import clean, esc, esc_line, icon, locate, marked, shorten
from qa.web.start import StartDoc, render_start

__all__ = [
    "mode_label", "mode_words", "render_answer", "render_error", "render_header",
    "render_pending", "render_stopped", "render_transcript", "source_name",
]  # fmt: skip

QUOTE_CHARS = 600  # a supporting sentence longer than this is shown cut, whole in the viewer
TIP_CHARS = 320  # a [n]'s preview of the sentence it cites


def source_name(c: Citation) -> str:
    """How a cited document is named: its title, else its file name."""
    return c.title if c.title and c.title != c.source else c.source


def _ref_label(c: Citation, added: bool = False) -> str:
    place = f", {c.place}" if c.place else ""
    by = " (added by the checker)" if added else ""
    return f"Source {c.n}{by}: {shorten(source_name(c), 120)}{place}"


def ref_link(turn: int, c: Citation | None, n: int, added: bool = False) -> str:
    """The ``[n]`` link that opens citation n of a turn in the source viewer."""
    label = _ref_label(c, added) if c else f"Source {n}"
    cls = "qa-ref qa-added" if added else "qa-ref"
    return (
        f'<a class="{cls}" href="#qa-viewer" data-turn="{turn}" data-n="{n}" '
        f'aria-label="{esc_line(label)}">[{n}]</a>'
    )


def _with_links(
    text: str, turn: int | None, cites: dict[int, Citation], added: Sequence[int] = ()
) -> str:
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
                out.append(ref_link(turn, cites[n], n, n in added))
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def _sentence(s: AnswerSentence, turn: int, cites: dict[int, Citation]) -> str:
    inner = _with_links(s.text, turn, cites, s.added)
    if s.supported:
        return inner
    return (
        '<span class="qa-unsupported">'
        f'{inner}<span class="qa-flag"> (not in the passages read)</span></span>'
    )


def _lead(answer: Answer, turn: int) -> str:
    """The answer text with its links; unsupported sentences and the checker's citations marked."""
    text, cites = answer.text, {c.n: c for c in answer.citations}
    out, pos = [], 0
    for s in answer.sentences:
        i = text.find(s.text, pos) if s.text else -1
        if i < 0:
            continue
        out.append(_with_links(text[pos:i], turn, cites))
        out.append(_sentence(s, turn, cites))
        pos = i + len(s.text)
    out.append(_with_links(text[pos:], turn, cites))
    return "".join(out)


def render_quote(c: Citation, limit: int = QUOTE_CHARS) -> str:
    """A citation's supporting sentences as they stand in the document, the phrase marked."""
    spans = sorted(c.sentences, key=lambda s: s.start)
    if not spans:  # nothing pinned down: the start of the passage
        return esc(shorten(c.text, limit))
    parts = []
    for s in spans:
        text = s.text if len(s.text) <= limit else s.text[: limit - 1] + "…"
        parts.append(marked(text, [(locate(text, s.start, c.phrases), "qa-phrase")]))
    return " … ".join(parts)


def _is_echo(answer: Answer) -> bool:
    """True when the answer text is only the supporting sentences (nothing to quote twice)."""
    quoted = " ".join(s.text for c in answer.citations for s in c.sentences)
    return " ".join(strip_markers(answer.text).split()) == " ".join(quoted.split())


def _source_caption(c: Citation, turn: int, kind: str = "n") -> str:
    """A source's name (a link to open it), its place and its file."""
    where = f'<span class="qa-page">{esc_line(c.place)}</span>' if c.place else ""
    name = esc_line(shorten(source_name(c), 90))
    file = (
        "" if name == esc_line(c.source) else f'<span class="qa-file">{esc_line(c.source)}</span>'
    )
    badge = (
        f'<span class="qa-sr">Source </span><span class="qa-n">{c.n}</span>' if kind == "n" else ""
    )
    return (
        f'<a class="qa-ref qa-src" href="#qa-viewer" data-turn="{turn}" data-{kind}="{c.n}">'
        f'{badge}<span class="qa-src-name">{name}</span></a>{where}{file}'
    )


def render_evidence(answer: Answer, turn: int) -> str:
    """Under the answer: each cited passage's supporting sentences, quoted, with its source."""
    if not answer.citations:
        return ""
    echo = _is_echo(answer)
    heading = "Closest passages" if answer.uncertain else "Sources" if echo else "Evidence"
    items = []
    for c in answer.citations:
        quote = "" if echo else f"<blockquote>{render_quote(c)}</blockquote>"
        items.append(
            f'<li class="qa-cite-item">{quote}<div class="qa-cite-src">'
            f"{_source_caption(c, turn)}</div></li>"
        )
    return (
        f'<div class="qa-evidence"><h3>{heading}</h3>'
        f'<ol class="qa-cites">{"".join(items)}</ol></div>'
    )


def render_read(answer: Answer, turn: int) -> str:
    """What the model was given, folded: each passage's sentences it read, a click to open."""
    if not answer.read:
        return ""
    n = len(answer.read)
    items = "".join(
        f'<li><div class="qa-cite-src">{_source_caption(c, turn, "read")}</div>'
        f'<p class="qa-read-text">{render_quote(c, 400)}</p></li>'
        for c in answer.read
    )
    return (
        f'<details class="qa-read"><summary>Sources read ({n} passage{"s" * (n != 1)} the '
        f'model was given)</summary><ol class="qa-read-list">{items}</ol></details>'
    )


def _tips(answer: Answer, turn: int) -> str:
    """Each citation's sentence, hidden: shown beside its ``[n]`` on hover or focus."""
    tips = "".join(
        f'<div data-tip="{c.n}"><strong>{esc_line(shorten(source_name(c), 80))}'
        f"{esc_line(', ' + c.place) if c.place else ''}</strong> "
        f"{render_quote(c, TIP_CHARS)}</div>"
        for c in answer.citations
    )
    return f'<div class="qa-tips" data-turn="{turn}" hidden>{tips}</div>' if tips else ""


def render_notice(answer: Answer) -> str:
    """One notice under an answer: the fallback, sentences nothing supports, the checker's
    citations, in that order (or nothing)."""
    said = [answer.notice] if answer.notice else []
    bad = len(answer.unsupported)
    if bad:
        s, verb = ("s", "are") if bad > 1 else ("", "is")
        said.append(
            f"{bad} sentence{s} of this answer {verb} not supported by the passages the model "
            "read (marked); check against the sources read."
        )
    added = answer.added
    if added:
        marks = ", ".join(f"[{n}]" for n in added)
        said.append(
            f"Citation{'s' * (len(added) > 1)} {marks} (dotted) "
            f"{'were' if len(added) > 1 else 'was'} added by the checker: the model gave none "
            "there, or one that does not say it."
        )
    return f'<div class="qa-notice" role="note">{esc(" ".join(said))}</div>' if said else ""


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
        f'<div class="qa-feedback" role="group" aria-label="Feedback on answer {turn + 1}">'
        f'{buttons}<button type="button" class="qa-fb-open" data-turn="{turn}" '
        f'aria-expanded="false">Correct it</button>{thanks}{form}</div>'
    )


def copy_text(answer: Answer) -> str:
    """The answer as plain text with its citations, for the clipboard."""
    lines = [answer.text.strip()]
    if answer.citations:
        lines.append("")
        for c in answer.citations:
            place = f", {c.place}" if c.place else ""
            file = f" ({c.source})" if source_name(c) != c.source else ""
            lines.append(f"[{c.n}] {source_name(c)}{place}{file}")
    return "\n".join(lines)


def _attr(text: str) -> str:
    """Text for an attribute, line breaks kept as character references (no line ending)."""
    return html.escape(clean(text), quote=True).replace("\n", "&#10;")


def _actions(answer: Answer, turn: int, last: bool) -> str:
    """Copy (with its citations), and for the last answer: ask it again, edit the question."""
    again = (
        f'<button type="button" class="qa-act qa-again" data-turn="{turn}">Ask again</button>'
        f'<button type="button" class="qa-act qa-edit" data-turn="{turn}">Edit question</button>'
        if last
        else ""
    )
    return (
        f'<div class="qa-actions" role="group" aria-label="Answer {turn + 1}">'
        f'<button type="button" class="qa-act qa-copy" data-copy="{_attr(copy_text(answer))}">'
        f"Copy</button>{again}"
        '<span class="qa-copied qa-sr" role="status"></span></div>'
    )


def _meta(answer: Answer) -> str:
    meta = [mode_words(answer)]
    if answer.latency_ms:
        ms = answer.latency_ms
        meta.append(f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s")
    return f'<span class="qa-meta">{esc_line(" · ".join(meta))}</span>'


def render_answer(
    answer: Answer, turn: int = 0, feedback: Feedback | None = None, last: bool = False
) -> str:
    """A finished answer: the answer first, then its evidence, actions and how it was made."""
    parts = [f'<div class="qa-answer qa-{answer.status}" id="qa-answer-{turn}" tabindex="-1">']
    language = language_of(answer.reason)
    if answer.refused:
        words = other_language(language) if language else answer.text or NOT_IN_DOCUMENTS
        parts.append(
            f'<div class="qa-verdict"><strong>Not in the documents.</strong> {esc(words)}</div>'
            if not language
            else f'<div class="qa-verdict"><strong>Another language.</strong> {esc(words)}</div>'
        )
    elif answer.uncertain and not answer.mode.startswith("generated"):
        note = f" {other_language(language)}" if language else ""
        parts.append(
            '<div class="qa-verdict"><strong>Not sure.</strong> This is the closest answer in '
            f"the documents; check it against the passages below.{esc(note)}</div>"
        )
        parts.append(f'<div class="qa-lead">{_lead(answer, turn)}</div>')
    else:
        parts.append(f'<div class="qa-lead">{_lead(answer, turn)}</div>')
    parts.append(render_notice(answer))
    parts.append(render_evidence(answer, turn))
    parts.append(render_read(answer, turn))
    parts.append(_tips(answer, turn))
    parts.append(
        f'<div class="qa-foot">{_feedback(turn, feedback)}{_actions(answer, turn, last)}'
        f"{_meta(answer)}</div></div>"
    )
    return "".join(parts)


def render_question(question: str) -> str:
    """The user's question, escaped."""
    return f'<div class="qa-question"><div class="qa-bubble">{esc(question)}</div></div>'


def render_pending(question: str, text: str = "", stage: Stage | None = None) -> str:
    """The question just asked and its answer while it is looked up, read or written."""
    if not text:
        body = (
            '<div class="qa-answer qa-pending qa-busy" role="status">'
            f"{esc(stage_words(stage))}</div>"
        )
    else:
        body = (
            f'<div class="qa-answer qa-streaming qa-busy"><div class="qa-lead">'
            f'{_with_links(text, None, {})}<span class="qa-caret"></span></div></div>'
        )
    return f'<article class="qa-turn qa-live">{render_question(question)}{body}</article>'


def render_stopped(question: str) -> str:
    """The question whose answer was stopped (the question is back in the box)."""
    q = render_question(question) if question.strip() else ""
    return (
        f'<article class="qa-turn qa-live">{q}<div class="qa-answer qa-stopped" role="status">'
        "Stopped. The question is back in the box: edit it or ask again.</div></article>"
    )


def render_error(question: str, message: str) -> str:
    """A readable error in place of an answer (the question stays in the box)."""
    q = render_question(question) if question.strip() else ""
    return (
        f'<article class="qa-turn qa-live">{q}<div class="qa-answer qa-error" role="alert">'
        f"<strong>Could not answer.</strong> {esc(message)}</div></article>"
    )


def render_turn(
    index: int, question: str, answer: Answer, feedback: Feedback | None, last: bool = False
) -> str:
    """One question and its answer."""
    return (
        f'<article class="qa-turn" id="qa-turn-{index}" data-turn="{index}" '
        f'aria-label="Question {index + 1}">'
        f"{render_question(question)}{render_reading(question, answer)}"
        f"{render_answer(answer, index, feedback, last)}</article>"
    )


def render_reading(question: str, answer: Answer) -> str:
    """ "Reading this as: ..." when a follow-up was resolved against the conversation."""
    standalone = answer.standalone_question
    if not standalone or " ".join(standalone.split()) == " ".join(question.split()):
        return ""
    return f'<p class="qa-reading">Reading this as: <q>{esc_line(standalone)}</q></p>'


def render_transcript(
    conv: Conversation, examples: Sequence[str] = (), start: Sequence[StartDoc] = ()
) -> str:
    """The finished turns of a chat, or, when it has none, the start screen: the documents
    with questions to try."""
    chat = esc_line(conv["id"])
    turns = []
    last = len(conv["turns"]) - 1
    for i, t in enumerate(conv["turns"]):
        answer = Answer.from_dict(t["answer"])
        turns.append(render_turn(i, t["question"], answer, t.get("feedback"), i == last))
    if turns:
        return (
            f'<div class="qa-transcript" data-chat="{chat}" data-turns="{len(turns)}">'
            f'<h2 class="qa-sr">Conversation</h2>{"".join(turns)}</div>'
        )
    return (
        f'<div class="qa-transcript qa-empty" data-chat="{chat}" data-turns="0">'
        f"{render_start(start, examples)}</div>"
    )
