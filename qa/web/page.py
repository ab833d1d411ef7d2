"""The page: Gradio Blocks layout and event wiring over ChatUI, the theme, and the launch."""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

import gradio as gr

from qa.web.handlers import ChatUI
from qa.web.render import TITLE, render_header, render_upload_hint

if TYPE_CHECKING:
    from qa.pipeline import Engine

# Questions the seed article answers (seeds/): each one is checked by tests/test_ui.py.
EXAMPLES = (
    "Who did Blinken meet on Saturday?",
    "How did Wang Yi describe the US response to the balloon?",
    "Where is Wang expected to travel after Munich?",
    "What did Biden say he would not apologize for?",
)
CHAT_CONCURRENCY = 4  # answers in flight at once; the rest wait in Gradio's queue


def build_app(engine: Engine, *, max_upload_bytes: int | None = None) -> gr.Blocks:
    """The web chat over an engine, with its queue set up; launch it with ``serve``."""
    ui = ChatUI(engine, max_upload_bytes)
    settings = engine.settings
    # Gradio keeps uploads in its temp folder; copies older than an hour are deleted hourly.
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        turns = gr.State([])
        gr.HTML(
            render_header(settings, engine.mode),
            elem_id="qa-header-box",
            container=False,
            padding=False,
        )
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
                gr.HTML(render_upload_hint(ui.max_upload_bytes), container=False, padding=False)
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
        css=stylesheet(),
    )


def make_theme() -> gr.themes.Base:
    """The page theme: local fonts only, so the page loads nothing from the internet."""
    return gr.themes.Soft(
        primary_hue="indigo",
        neutral_hue="slate",
        font=[gr.themes.LocalFont("IBM Plex Sans"), "ui-sans-serif", "system-ui", "sans-serif"],
        font_mono=[gr.themes.LocalFont("IBM Plex Mono"), "ui-monospace", "monospace"],
    )


def stylesheet() -> str:
    """The page's CSS (style.css, shipped as package data), read afresh at each launch."""
    return resources.files(__package__).joinpath("style.css").read_text(encoding="utf-8")
