"""The web chat: Gradio Blocks over the Engine; the handlers are plain methods, testable without a server.

Every piece of document text reaches the page through ``html.escape``: a document that contains
``<script>`` is shown as text and never runs.
"""

from __future__ import annotations

import html
import logging
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from index.load import SUPPORTED
from index.types import DocumentInfo
from qa.errors import QAError
from qa.types import Answer, Citation, Passage, Span

if TYPE_CHECKING:
    from qa.pipeline import Engine
    from qa.settings import Settings

log = logging.getLogger(__name__)

TITLE = "Document Q&A"
# Questions the seed article answers (seeds/): each one is checked by tests/test_ui.py.
EXAMPLES = (
    "Who did Blinken meet on Saturday?",
    "How did Wang Yi describe the US response to the balloon?",
    "Where is Wang expected to travel after Munich?",
    "What did Biden say he would not apologize for?",
)
CHAT_CONCURRENCY = 4  # answers in flight at once; the rest wait in Gradio's queue
UPLOAD_TYPES = tuple(sorted(SUPPORTED))

_MARKER = re.compile(r"\[(\d+)\]")
_UNSAFE_NAME = re.compile(r"[^\w\-. ()]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

ProgressFn = Callable[..., Any]


class UploadRejected(ValueError):
    """An uploaded file that cannot be added; the message says why and what to do."""


# ---------------------------------------------------------------------------------------------
# Rendering: pure functions from answers and documents to HTML (no newlines, so the chat's
# Markdown pass treats each message as one raw HTML block and leaves the escaped text alone).


def _esc(text: str) -> str:
    return html.escape(text, quote=True).replace("\r\n", "\n").replace("\n", "<br>")


def _with_markers(text: str, cited: set[int] | None) -> str:
    """Escaped text whose ``[n]`` markers (for cited n, or all when cited is None) are badges."""

    def badge(m: re.Match) -> str:
        n = int(m.group(1))
        if cited is not None and n not in cited:
            return m.group(0)
        return f'<sup class="qa-cite" title="Source {n}">[{n}]</sup>'

    return _MARKER.sub(badge, _esc(text))


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


def mode_label(settings: Settings) -> str:
    """The answer mode in words: extractive, or the name of the model that writes answers."""
    return f"Generated · {settings.llm_model}" if settings.use_llm else "Extractive"


def render_header(settings: Settings) -> str:
    """Title, one line on what the app does, and the active answer mode."""
    if settings.use_llm:
        hint = "A language model writes each answer from the retrieved passages, citing them."
    else:
        hint = "Each answer quotes the sentences of the documents that answer the question."
    return (
        '<div class="qa-header"><div><h1>' + _esc(TITLE) + "</h1>"
        "<p>Answers come only from your documents, with the passages they rely on.</p></div>"
        f'<div class="qa-mode" id="qa-mode" title="{_esc(hint)}"><span>Answer mode</span>'
        f"<strong>{_esc(mode_label(settings))}</strong></div></div>"
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


# ---------------------------------------------------------------------------------------------
# Uploads


def safe_filename(name: str) -> str:
    """A plain file name for an upload: no folders, no hidden files, a supported extension."""
    base = re.split(r"[\\/]", str(name))[-1]
    base = _CONTROL.sub("", unicodedata.normalize("NFC", base)).strip()
    stem, dot, ext = base.rpartition(".")
    ext = f".{ext.lower()}" if dot else ""
    if ext not in SUPPORTED:
        what = f"{ext} files are" if ext else "files without an extension are"
        raise UploadRejected(
            f"{base or '(a file without a name)'}: {what} not supported. Upload one of: {', '.join(UPLOAD_TYPES)}."
        )
    stem = _UNSAFE_NAME.sub("_", stem)
    stem = re.sub(r"\.{2,}", ".", stem).strip(" ._")[:100] or "document"
    return stem + ext


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 1_000_000 else f"{n / 1000:.0f} KB"


# ---------------------------------------------------------------------------------------------
# Handlers


class ChatUI:
    """The page's behaviour over one Engine: chat, document list, upload and removal."""

    def __init__(self, engine: Engine, max_upload_bytes: int | None = None):
        self.engine = engine
        self.settings = engine.settings
        self.docs_dir = Path(self.settings.docs_dir)
        self.max_upload_bytes = max_upload_bytes or self.settings.max_file_bytes

    # Chat ------------------------------------------------------------------------------------

    def respond(
        self, message: str, chat: list | None, turns: list | None
    ) -> Iterator[tuple[list, list, str]]:
        """Stream the answer into the chat; yields (chat messages, plain history, input box)."""
        chat, turns = list(chat or []), list(turns or [])
        question = message if isinstance(message, str) else ""
        if question.strip():
            chat.append({"role": "user", "content": render_question(question)})
        chat.append({"role": "assistant", "content": render_streaming("")})
        # Each step is a new list: Gradio diffs against what it was sent before.
        yield list(chat), turns, ""
        text, answer = "", None
        try:
            for piece in self.engine.ask_stream(question, turns):
                if isinstance(piece, Answer):
                    answer = piece
                elif isinstance(piece, str) and piece:
                    text += piece
                    chat[-1] = {"role": "assistant", "content": render_streaming(text)}
                    yield list(chat), turns, ""
            if answer is None:
                raise RuntimeError("the answer stream ended without an answer")
        except QAError as exc:
            chat[-1] = {"role": "assistant", "content": render_error(str(exc))}
            yield chat, turns, question  # the question goes back into the box, nothing is lost
            return
        except Exception as exc:  # the page shows a message, the log the traceback
            log.exception("answering %r failed", question)
            detail = f"{type(exc).__name__}: {exc}"[:300]
            chat[-1] = {
                "role": "assistant",
                "content": render_error(
                    f"Something went wrong ({detail}). The app is still running: try again; "
                    "the server log has the details."
                ),
            }
            yield chat, turns, question
            return
        chat[-1] = {"role": "assistant", "content": render_answer(answer)}
        turns += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer.text},
        ]
        yield chat, turns, ""

    @staticmethod
    def clear() -> tuple[list, list, str]:
        """An empty chat and history."""
        return [], [], ""

    # Documents -------------------------------------------------------------------------------

    def documents(self) -> tuple[str, dict]:
        """The documents table and the choices of the remove list."""
        try:
            docs = self.engine.documents()
        except QAError as exc:
            return render_status([("error", str(exc))]), gr.update(choices=[], value=None)
        return render_documents(docs), gr.update(choices=[d.source for d in docs], value=None)

    def upload(
        self,
        files: Sequence[Any] | None,
        progress: ProgressFn = gr.Progress(),  # noqa: B008 - Gradio's idiom
    ) -> tuple[str, str, dict, None]:
        """Save uploaded files into the documents folder and index them at once.

        Returns (status, documents table, remove choices, cleared upload box).
        """
        lines: list[tuple[str, str]] = []
        saved: dict[str, bool] = {}  # file name -> whether it replaced an earlier version
        for f in files or ():
            original = getattr(f, "orig_name", None) or Path(str(getattr(f, "name", f))).name
            try:
                name = safe_filename(original)
                saved[name] = self._save(Path(str(getattr(f, "name", f))), name)
            except UploadRejected as exc:
                lines.append(("error", str(exc)))
            except OSError as exc:
                lines.append(("error", f"{original}: could not be saved ({exc.strerror or exc})."))
        if not files:
            lines.append(("error", "Choose a file to upload first."))
        if saved:
            lines += self._index(saved, progress)
        return (render_status(lines), *self.documents(), None)

    def _save(self, upload: Path, name: str) -> bool:
        """Copy an upload into the documents folder under ``name``; True if it replaced a file."""
        size = upload.stat().st_size
        if size == 0:
            raise UploadRejected(f"{name}: the file is empty.")
        if size > self.max_upload_bytes:
            raise UploadRejected(
                f"{name}: {_size(size)} is over the upload limit of {_size(self.max_upload_bytes)}."
            )
        self.docs_dir.mkdir(parents=True, exist_ok=True)
        dest = self.docs_dir / name
        if dest.resolve().parent != self.docs_dir.resolve():
            raise UploadRejected(f"{name}: not a plain file name.")
        existed = dest.exists()
        # Written under a hidden name first (the scanner skips it), then renamed into place.
        fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=self.docs_dir)
        try:
            with os.fdopen(fd, "wb") as out, upload.open("rb") as src:
                shutil.copyfileobj(src, out)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return existed

    def _index(self, saved: dict[str, bool], progress: ProgressFn) -> list[tuple[str, str]]:
        """Bring the index in line with the folder and report on the saved files."""
        lines: list[tuple[str, str]] = []
        progress(0.0, desc="Indexing…")

        def step(done: int, total: int) -> None:
            progress((done, total), desc="Indexing", unit="files")

        try:
            report = self.engine.ingest(progress=step)
        except QAError as exc:
            names = ", ".join(saved)
            return [("error", f"Saved {names}, but indexing failed: {exc}")]
        except Exception as exc:  # shown in the page, the traceback in the log
            log.exception("indexing uploads failed")
            return [
                (
                    "error",
                    f"Saved {', '.join(saved)}, but indexing failed ({type(exc).__name__}: {exc}).",
                )
            ]
        skipped = {s.source: s.reason for s in report.skipped}
        for name, replaced in saved.items():
            if name in skipped:
                (self.docs_dir / name).unlink(missing_ok=True)
                lines.append(("error", f"{name} was not added: {skipped[name]}."))
            elif name in report.added:
                lines.append(("ok", f"Added {name}; you can ask about it now."))
            elif name in report.updated:
                lines.append(("ok", f"Replaced {name} with the new version; it is indexed."))
            else:
                what = "is already indexed" if replaced else "is indexed"
                lines.append(("ok", f"{name} {what} (no change)."))
        return lines

    def remove(self, source: str | None) -> tuple[str, str, dict]:
        """Delete a document from the documents folder and from the index."""
        if not source:
            return (render_status([("error", "Choose a document to remove.")]), *self.documents())
        try:
            known = {d.source for d in self.engine.documents()}
            if source not in known:
                msg = f"{source} is not in the index (already removed?)."
                return (render_status([("error", msg)]), *self.documents())
            path = Path(os.path.abspath(self.docs_dir / source))
            if not path.is_relative_to(os.path.abspath(self.docs_dir)):
                raise UploadRejected(f"{source} is outside the documents folder.")
            path.unlink(missing_ok=True)
            self.engine.remove_document(source)
        except (QAError, UploadRejected) as exc:
            return (render_status([("error", str(exc))]), *self.documents())
        except OSError as exc:
            msg = f"{source} could not be deleted ({exc.strerror or exc}); it is still indexed."
            return (render_status([("error", msg)]), *self.documents())
        return (render_status([("ok", f"Removed {source}.")]), *self.documents())


# ---------------------------------------------------------------------------------------------
# The page


def build_app(engine: Engine, *, max_upload_bytes: int | None = None) -> gr.Blocks:
    """The web chat over an engine, with its queue set up; launch it with ``serve``."""
    ui = ChatUI(engine, max_upload_bytes)
    settings = engine.settings
    types = " ".join(UPLOAD_TYPES)
    # Gradio keeps uploads in its temp folder; copies older than an hour are deleted hourly.
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        turns = gr.State([])
        gr.HTML(render_header(settings), elem_id="qa-header-box", container=False, padding=False)
        with gr.Row(equal_height=False):
            with gr.Column(scale=5, min_width=480):
                chatbot = gr.Chatbot(
                    elem_id="qa-chat",
                    show_label=False,
                    height=600,
                    latex_delimiters=[],
                    feedback_options=None,
                    buttons=[],
                    group_consecutive_messages=False,
                    placeholder=(
                        "**Ask a question about your documents.**<br>"
                        "Answers cite their sources as [1], [2]…; open a source to see the "
                        "highlighted sentences it was taken from."
                    ),
                )
                with gr.Row(equal_height=True, elem_classes="qa-ask-row"):
                    box = gr.Textbox(
                        elem_id="qa-question",
                        show_label=False,
                        placeholder="Ask a question about the documents…",
                        scale=8,
                        autofocus=True,
                        max_lines=4,
                    )
                    ask = gr.Button(
                        "Ask", variant="primary", scale=1, min_width=90, elem_id="qa-ask"
                    )
                with gr.Row(elem_classes="qa-examples"):
                    gr.HTML('<span class="qa-try">Try</span>', container=False, padding=False)
                    example_buttons = [
                        gr.Button(q, size="sm", variant="secondary", elem_classes="qa-example")
                        for q in EXAMPLES
                    ]
                    clear = gr.Button(
                        "Clear chat", size="sm", variant="secondary", elem_id="qa-clear"
                    )
            with gr.Column(scale=3, min_width=300, elem_classes="qa-side"):
                gr.HTML('<h2 class="qa-side-title">Documents</h2>', container=False, padding=False)
                docs_table = gr.HTML(
                    elem_id="qa-docs", container=False, padding=False, apply_default_css=False
                )
                upload = gr.File(
                    label="Add documents",
                    file_count="multiple",
                    elem_id="qa-upload",
                    height=110,
                )
                gr.HTML(
                    f'<div class="qa-hint">{_esc(types)} · up to {_size(ui.max_upload_bytes)} '
                    "each · indexed at once</div>",
                    container=False,
                    padding=False,
                )
                status = gr.HTML(
                    elem_id="qa-doc-status", container=False, padding=False, apply_default_css=False
                )
                pick = gr.Dropdown(
                    label="Remove a document",
                    choices=[],
                    elem_id="qa-remove-pick",
                )
                remove = gr.Button(
                    "Remove from folder and index",
                    variant="secondary",
                    size="sm",
                    elem_id="qa-remove",
                )

        chat_io = dict(
            inputs=[box, chatbot, turns],
            outputs=[chatbot, turns, box],
            concurrency_limit=CHAT_CONCURRENCY,
            concurrency_id="chat",
            show_progress="hidden",
        )
        box.submit(ui.respond, **chat_io)
        ask.click(ui.respond, **chat_io)
        for button, question in zip(example_buttons, EXAMPLES, strict=True):
            button.click(
                lambda q=question: q, outputs=box, queue=False, api_visibility="private"
            ).then(ui.respond, **chat_io)
        clear.click(ui.clear, outputs=[chatbot, turns, box], queue=False)
        chatbot.clear(lambda: [], outputs=turns, queue=False)

        docs_io = dict(concurrency_limit=1, concurrency_id="documents")
        upload.upload(
            ui.upload, inputs=upload, outputs=[status, docs_table, pick, upload], **docs_io
        )
        remove.click(ui.remove, inputs=pick, outputs=[status, docs_table, pick], **docs_io)
        demo.load(ui.documents, outputs=[docs_table, pick], queue=False, show_progress="hidden")
    demo.queue(default_concurrency_limit=1)
    return demo


def serve(
    demo: gr.Blocks,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    auth: tuple[str, str] | None = None,
    max_file_size: int | None = None,
    quiet: bool = False,
) -> None:
    """Launch the page (blocking), styled, without share links, telemetry or server rendering."""
    demo.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        auth_message="Log in with QA_UI_USER / QA_UI_PASSWORD." if auth else None,
        share=False,
        max_file_size=max_file_size,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        enable_monitoring=False,
        show_error=False,
        quiet=quiet,
        footer_links=["settings"],
        theme=make_theme(),
        css=CSS,
    )


def make_theme() -> gr.themes.Base:
    """The page theme: local fonts only, so the page loads nothing from the internet."""
    return gr.themes.Soft(
        primary_hue="indigo",
        neutral_hue="slate",
        font=[gr.themes.LocalFont("IBM Plex Sans"), "ui-sans-serif", "system-ui", "sans-serif"],
        font_mono=[gr.themes.LocalFont("IBM Plex Mono"), "ui-monospace", "monospace"],
    )


CSS = """
.gradio-container { max-width: 1320px !important; margin: 0 auto !important; }
.qa-header { display: flex; justify-content: space-between; align-items: center; gap: 16px;
  padding: 18px 22px; border-radius: 14px; color: #fff;
  background: linear-gradient(120deg, #312e81 0%, #4f46e5 60%, #6366f1 100%); }
.qa-header h1 { margin: 0; font-size: 1.55rem; font-weight: 700; color: #fff; }
.qa-header p { margin: 4px 0 0; opacity: .85; font-size: .95rem; color: #fff; }
.qa-mode { display: flex; flex-direction: column; align-items: flex-end; padding: 8px 14px;
  border-radius: 10px; background: rgba(255,255,255,.14); white-space: nowrap; }
.qa-mode span { font-size: .72rem; text-transform: uppercase; letter-spacing: .08em; opacity: .8; }
.qa-mode strong { font-size: 1rem; }
.qa-question { white-space: normal; }
.qa-answer { line-height: 1.55; }
.qa-answer .qa-text { font-size: 1rem; }
.qa-cite { color: #4338ca; font-weight: 700; font-size: .72em; margin-left: 1px; }
.qa-pending { color: #64748b; font-style: italic; }
.qa-caret { display: inline-block; width: .5em; height: 1em; margin-left: 2px;
  background: #6366f1; vertical-align: text-bottom; animation: qa-blink 1s steps(2) infinite; }
@keyframes qa-blink { 50% { opacity: 0; } }
.qa-refused { padding: 10px 12px; border-left: 4px solid #94a3b8; background: #f1f5f9;
  border-radius: 6px; color: #334155; }
.qa-error { padding: 10px 12px; border-left: 4px solid #dc2626; background: #fef2f2;
  border-radius: 6px; color: #7f1d1d; }
.qa-notice { margin-top: 8px; padding: 8px 12px; border-left: 4px solid #f59e0b;
  background: #fffbeb; border-radius: 6px; font-size: .9rem; color: #78350f; }
.qa-warn { margin-top: 8px; padding: 8px 12px; border-left: 4px solid #ea580c;
  background: #fff7ed; border-radius: 6px; font-size: .9rem; color: #7c2d12; }
.qa-unsupported { text-decoration: underline wavy #ea580c; text-underline-offset: 3px;
  background: #fff7ed; }
.qa-unsupported::after { content: " ⚠ unsupported"; font-size: .75em; color: #c2410c;
  font-weight: 600; }
.qa-sources { margin-top: 12px; display: flex; flex-direction: column; gap: 6px; }
.qa-sources-title { font-size: .75rem; text-transform: uppercase; letter-spacing: .08em;
  color: #64748b; font-weight: 600; }
.qa-source { border: 1px solid #e2e8f0; border-radius: 8px; background: #fff; overflow: hidden; }
.qa-source summary { cursor: pointer; padding: 7px 10px; display: flex; align-items: center;
  gap: 8px; list-style: none; font-size: .9rem; background: #f8fafc; }
.qa-source summary::-webkit-details-marker { display: none; }
.qa-source summary::after { content: "Show ▸"; margin-left: auto; color: #64748b;
  font-size: .75rem; white-space: nowrap; }
.qa-source[open] summary::after { content: "Hide ▾"; }
.qa-source[open] summary { border-bottom: 1px solid #e2e8f0; }
.qa-n { display: inline-flex; align-items: center; justify-content: center; min-width: 1.5em;
  height: 1.5em; padding: 0 4px; border-radius: 999px; background: #4f46e5; color: #fff;
  font-size: .75rem; font-weight: 700; }
.qa-doc { font-weight: 600; color: #1e293b; overflow-wrap: anywhere; }
.qa-doc-title { color: #64748b; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.qa-loc { color: #94a3b8; font-size: .78rem; white-space: nowrap; }
.qa-passage { padding: 10px 12px; font-size: .88rem; line-height: 1.6; color: #475569;
  max-height: 260px; overflow-y: auto; }
.qa-passage mark.qa-support { background: #fde68a; color: #1e293b; padding: 1px 2px;
  border-radius: 3px; }
.qa-meta { margin-top: 8px; font-size: .75rem; color: #94a3b8; }
.qa-examples { flex-wrap: wrap !important; gap: 6px !important; align-items: center; }
.qa-examples > * { flex: 0 1 auto !important; min-width: 0 !important; width: auto !important; }
.qa-examples button { font-weight: 400 !important; border-radius: 999px !important; }
.qa-try { font-size: .75rem; text-transform: uppercase; letter-spacing: .08em; color: #64748b;
  font-weight: 600; margin-right: 2px; }
#qa-clear { margin-left: auto; }
.qa-hint { font-size: .78rem; color: #64748b; margin: -4px 2px 4px; }
#qa-remove { color: #b91c1c !important; border: 1px solid #fecaca !important;
  background: #fff !important; }
#qa-remove:hover { background: #fef2f2 !important; }
.qa-side-title { margin: 4px 0 6px; font-size: 1.1rem; font-weight: 700; }
.qa-docs { width: 100%; border-collapse: collapse; font-size: .88rem; }
.qa-docs th { text-align: left; font-size: .72rem; text-transform: uppercase; letter-spacing: .06em;
  color: #64748b; border-bottom: 1px solid #e2e8f0; padding: 4px 6px; }
.qa-docs th, .qa-docs td { border-left: none; border-right: none; border-top: none; }
.qa-docs td { padding: 6px; border-bottom: 1px solid #f1f5f9; }
.qa-docname { max-width: 220px; overflow-wrap: anywhere; }
.qa-num { text-align: right; font-variant-numeric: tabular-nums; }
.qa-status { font-size: .75rem; padding: 1px 8px; border-radius: 999px; }
.qa-status-indexed { background: #dcfce7; color: #166534; }
.qa-status-partial { background: #fef9c3; color: #854d0e; }
.qa-docs-total { margin-top: 6px; font-size: .8rem; color: #64748b; }
.qa-docs-empty { color: #64748b; font-style: italic; }
.qa-msg { padding: 6px 10px; border-radius: 6px; font-size: .88rem; margin: 4px 0; }
.qa-msg-ok { background: #f0fdf4; color: #166534; border-left: 3px solid #22c55e; }
.qa-msg-error { background: #fef2f2; color: #991b1b; border-left: 3px solid #dc2626; }
"""
