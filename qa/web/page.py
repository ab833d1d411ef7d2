"""The page: Gradio Blocks layout and event wiring over ChatUI, the theme, and the launch.

Everything the page needs travels inside the Blocks (components' ``js_on_load``, events' ``js``),
so it works however it is served: ``serve`` here, or mounted on another FastAPI app with
``make_theme()`` and ``stylesheet()``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import gradio as gr

from qa.answer import generate
from qa.errors import QAError
from qa.web.chrome import TITLE, render_header
from qa.web.conversation import Conversation, to_json
from qa.web.handlers import ChatUI, Step
from qa.web.panel import render_upload_hint

if TYPE_CHECKING:
    from qa.engine import Engine

# Questions the seed article answers (seeds/): each one is checked by tests/test_ui.py. They are
# offered on an empty chat when the seed article is indexed.
EXAMPLES = (
    "Who did Blinken meet on Saturday?",
    "How did Wang Yi describe the US response to the balloon?",
    "Where is Wang expected to travel after Munich?",
    "What did Biden say he would not apologize for?",
)
EXAMPLES_SOURCE = "000_d383e4b1c99cfec1.txt"
CHAT_CONCURRENCY = 4  # answers in flight at once; the rest wait in Gradio's queue
VIEWER_CONCURRENCY = 2  # sources (PDF pages) rendered at once
FOOTER_LINKS: list[str] = []  # no footer: Gradio's settings panel is for developers
SYSTEM_FONTS = ["Segoe UI", "Roboto", "Helvetica Neue", "Arial", "Noto Sans", "DejaVu Sans",
                "sans-serif"]  # fmt: skip
# Before a question is sent: take it as typed when Enter was pressed, empty the box if it still
# holds it (text typed since then stays); the documents ticked go with it ("" for all).
TAKE_JS = """(q, c, s) => {
  const t = document.querySelector('#qa-question textarea');
  const typed = typeof window.qaTyped === 'string' ? window.qaTyped : q;
  window.qaTyped = undefined;
  if (t && t.value === typed) { t.value = ''; t.dispatchEvent(new Event('input', {bubbles: true})); }
  const chosen = window.qaSources ? window.qaSources() : null;
  return [typed, c, chosen === null ? '' : JSON.stringify(chosen)];
}"""
# Stop: the question of the answer being written goes with it (back into the box after).
STOP_JS = """(q) => {
  const b = document.querySelector('#qa-live .qa-bubble');
  return [b ? b.innerText : ''];
}"""
# The Escape key stops an answer being written (when no source viewer is open to close).
ESCAPE_STOPS = """document.addEventListener('keydown', (e) => {
  if (e.key !== 'Escape' || document.querySelector('#qa-main.qa-source-open')) return;
  if (document.querySelector('#qa-live .qa-busy')) document.querySelector('#qa-stop')?.click();
});"""
# After an answer: the next question may leave (thread.js); keep the chat in the browser; a
# question that failed goes back into the box, unless something new was typed there meanwhile.
AFTER_JS = """if (window.qaDone) window.qaDone();
let kept = null;
try { kept = JSON.parse(c || 'null'); } catch (e) { kept = null; }
if (kept && Array.isArray(kept.turns) && !kept.turns.length) { if (S.load(kept.id)) S.remove(kept.id); }
else S.save(c);
const t = document.querySelector('#qa-question textarea');
if (r && t && !t.value) { t.value = r; t.dispatchEvent(new Event('input', {bubbles: true})); }
if (r && t && window.qaFocusBox) { window.qaFocusBox = false; t.focus(); }"""
MONO_FONTS = ["SFMono-Regular", "Consolas", "Liberation Mono", "DejaVu Sans Mono", "monospace"]


@cache
def _script(name: str) -> str:
    return resources.files(__package__).joinpath("js", name).read_text(encoding="utf-8")


def storage_scope(engine: Engine) -> str:
    """Names this index's chats in the browser: one store and collection, one list of chats."""
    where = engine.corpus.identity  # the store folder's full path, or the server's URL
    return hashlib.sha256(f"{where}\n{engine.settings.collection}".encode()).hexdigest()[:12]


def _store_js(scope: str, body: str, args: str = "") -> str:
    """An event's browser-side function with the chat store at hand as ``S``."""
    return (
        f"({args}) => {{ {_script('store.js')}\nconst S = window.qaStore({json.dumps(scope)});\n"
        f"{body} }}"
    )


def _examples(engine: Engine) -> tuple[str, ...]:
    try:
        sources = {d.source for d in engine.documents()}
    except QAError:
        return ()
    return EXAMPLES if EXAMPLES_SOURCE in sources else ()


SCOPE_LINE = (
    '<p class="qa-scope" hidden><span class="qa-scope-text"></span> <button type="button" '
    'class="qa-btn qa-scope-all">Ask all documents</button></p>'
)


def _step(step: Step) -> tuple:
    """A Step as the page's outputs: live, conversation, transcript, retry, stored chat."""
    skip = gr.skip()
    stored = to_json(step.conversation) if step.transcript is not None else skip
    return (
        skip if step.live is None else step.live,
        step.conversation,
        skip if step.transcript is None else step.transcript,
        step.box or "",
        stored,
    )


def build_app(engine: Engine, *, max_upload_bytes: int | None = None) -> gr.Blocks:
    """The web chat over an engine, with its queue set up; launch it with ``serve``."""
    ui = ChatUI(engine, max_upload_bytes, _examples(engine), EXAMPLES_SOURCE)
    ui.refresh_start()  # questions to try, found in the background
    if engine.llm is not None:  # a local model reads the prompt's fixed start before any question
        threading.Thread(
            target=generate.warm_up, args=(engine.llm, engine.settings), daemon=True
        ).start()
    scope = storage_scope(engine)
    blank = {"id": "blank", "title": "", "created": 0.0, "turns": []}
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        conv = gr.State(None)
        chat_in = gr.Textbox(visible=False)  # the chat read from the browser on load
        chat_out = gr.Textbox(visible=False)  # the chat for the browser to keep
        retry = gr.Textbox(visible=False)  # a question that failed, back to an empty box
        chosen = gr.Textbox(visible=False)  # the documents ticked to ask (JSON; "" for all)
        stop_q = gr.Textbox(visible=False)  # the question whose answer Stop stopped
        gr.HTML(render_header(engine.mode), elem_id="qa-header-box", js_on_load=ESCAPE_STOPS)
        with gr.Row(elem_id="qa-main", equal_height=False):
            with gr.Column(scale=0, min_width=220, elem_id="qa-chats-col"):
                chats = gr.HTML(
                    '<nav class="qa-chats" aria-label="Chats"></nav>',
                    elem_id="qa-chats",
                    js_on_load=_script("store.js") + _script("chats.js"),
                    scope=scope,
                )
            with gr.Column(scale=5, min_width=360, elem_id="qa-chat-col"):
                with gr.Column(elem_id="qa-chat"):
                    transcript = gr.HTML(
                        ui.transcript(blank),
                        elem_id="qa-transcript",
                        js_on_load=_script("thread.js"),
                    )
                    live = gr.HTML("", elem_id="qa-live", js_on_load=_script("live.js"))
                gr.HTML(SCOPE_LINE, elem_id="qa-scope", js_on_load=None)
                with gr.Row(elem_id="qa-composer", equal_height=True):
                    box = gr.Textbox(
                        elem_id="qa-question",
                        show_label=False,
                        label="Your question",
                        placeholder="Ask about your documents…",
                        scale=8,
                        max_lines=6,
                        autofocus=False,  # desktop focuses it without scrolling (thread.js)
                    )
                    ask = gr.Button(
                        "Ask", variant="primary", scale=1, min_width=72, elem_id="qa-ask"
                    )
                    stop = gr.Button("Stop", scale=1, min_width=72, elem_id="qa-stop")
            with gr.Column(scale=3, min_width=320, elem_id="qa-side"):
                viewer = gr.HTML("", elem_id="qa-viewer", js_on_load=_script("viewer.js"))
                with gr.Column(elem_id="qa-docs-panel"):
                    gr.HTML('<h2 class="qa-side-title">Documents</h2>', js_on_load=None)
                    docs = gr.HTML(elem_id="qa-docs", js_on_load=_script("docs.js"), scope=scope)
                    status = gr.HTML(elem_id="qa-doc-status", js_on_load=None)
                    upload = gr.File(
                        label="Add documents",
                        file_count="multiple",
                        elem_id="qa-upload",
                        height=130,
                    )
                    gr.HTML(render_upload_hint(ui.max_upload_bytes), js_on_load=None)

        save = dict(fn=None, inputs=chat_out, js=_store_js(scope, "S.save(c);", "c"))
        after = dict(fn=None, inputs=[chat_out, retry], js=_store_js(scope, AFTER_JS, "c, r"))

        def steps(answering: Iterator[Step]) -> Iterator[tuple]:
            answered = False
            for step in answering:
                answered = True
                yield _step(step)
            if not answered:  # an empty box: nothing changes (an empty generator clears all)
                yield (gr.skip(),) * 5

        def respond(question: str, chat: Conversation | None, sources: str) -> Iterator[tuple]:
            yield from steps(ui.respond(question, chat, sources))

        def ask_example(chat: Conversation | None, evt: gr.EventData) -> Iterator[tuple]:
            data = evt._data
            yield from steps(ui.respond(str(data.get("question", "")), chat, data.get("sources")))

        def ask_again(chat: Conversation | None, evt: gr.EventData) -> Iterator[tuple]:
            yield from steps(ui.ask_again(chat, evt._data.get("sources")))

        chat_io: dict[str, Any] = dict(
            outputs=[live, conv, transcript, retry, chat_out],
            concurrency_limit=CHAT_CONCURRENCY,
            concurrency_id="chat",
            show_progress="hidden",
            api_visibility="private",
        )
        # The question leaves as it was when Enter was pressed (thread.js notes it); the box is
        # emptied only if it still holds that question, and Enter does nothing while an answer
        # is on its way ("once"): a quick second Enter, or typing on, never loses a question.
        asking = gr.on(
            [box.submit, ask.click], respond, inputs=[box, conv, chosen], js=TAKE_JS,
            trigger_mode="once", **chat_io,
        )  # fmt: skip
        asking.then(**after)
        example = transcript.qa_example(ask_example, inputs=conv, trigger_mode="once", **chat_io)
        example.then(**after)
        again = transcript.qa_again(ask_again, inputs=conv, trigger_mode="once", **chat_io)
        again.then(**after)
        # Stop closes the answer's stream (and with it the model's request, which the model
        # server then stops): the live line says so, the question goes back into the box.
        stop.click(
            ui.stopped, inputs=stop_q, outputs=[live, retry], js=STOP_JS,
            cancels=[asking, example, again], queue=False, show_progress="hidden",
            api_visibility="private",
        ).then(**after)  # fmt: skip

        def edit(chat: Conversation | None) -> tuple:
            return ui.edit_last(chat)

        transcript.qa_edit(
            edit, inputs=conv, outputs=[transcript, conv, chat_out, retry], queue=False,
            show_progress="hidden", api_visibility="private",
        ).then(**after)  # fmt: skip

        def feedback(chat: Conversation | None, evt: gr.EventData) -> tuple:
            try:
                return ui.feedback(chat, evt._data)
            except QAError as exc:
                gr.Warning(str(exc))
                return gr.skip(), gr.skip(), gr.skip()

        transcript.qa_feedback(
            feedback, inputs=conv, outputs=[transcript, conv, chat_out], api_visibility="private"
        ).then(**save)

        def cite(chat: Conversation | None, evt: gr.EventData) -> str:
            return ui.open_source(chat, evt._data)

        transcript.qa_cite(
            cite, inputs=conv, outputs=viewer, concurrency_limit=VIEWER_CONCURRENCY,
            concurrency_id="viewer", show_progress="hidden", api_visibility="private",
        )  # fmt: skip

        def open_chat(evt: gr.EventData) -> tuple:
            return ui.restore(evt._data.get("chat"))

        restore_io: dict[str, Any] = dict(
            outputs=[transcript, conv, live], show_progress="hidden", api_visibility="private"
        )
        chats.qa_open_chat(open_chat, queue=False, **restore_io)
        load_js = _store_js(
            scope,
            "const id = S.current(); if (!id) return ['', c];"
            " return [S.load(id) || JSON.stringify({id: id, title: '', turns: []}), c];",
            "x, c",
        )

        def restore(raw: str, chat: Conversation | None) -> tuple:
            if chat and chat["turns"]:  # asked before the page had finished loading: keep it
                return gr.skip(), gr.skip(), gr.skip()
            return ui.restore(raw)

        demo.load(restore, inputs=[chat_in, conv], js=load_js, queue=False, **restore_io)
        demo.load(ui.documents, outputs=docs, queue=False, show_progress="hidden")

        docs_io: dict[str, Any] = dict(
            concurrency_limit=1, concurrency_id="documents", api_visibility="private"
        )

        def document_action(evt: gr.EventData, progress=gr.Progress()) -> tuple:  # noqa: B008
            return ui.document_action(evt._data, progress)

        docs.qa_doc_action(document_action, outputs=[status, docs], **docs_io)

        def upload_files(files, progress=gr.Progress()) -> tuple:  # noqa: B008
            return ui.upload(files, progress)

        upload.upload(upload_files, inputs=upload, outputs=[status, docs, upload], **docs_io)
    demo.queue(default_concurrency_limit=1)
    return demo


def make_theme() -> gr.themes.Base:
    """The page theme: system fonts only (complete glyphs, nothing loaded from anywhere)."""
    return gr.themes.Soft(
        primary_hue="indigo", neutral_hue="slate", font=SYSTEM_FONTS, font_mono=MONO_FONTS
    )


def stylesheet() -> str:
    """The page's CSS (style.css, shipped as package data), read afresh at each launch."""
    return resources.files(__package__).joinpath("style.css").read_text(encoding="utf-8")
