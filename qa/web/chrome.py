"""The page around the answers: the header (and its skip links), the words for which mode
answered, and the live line while a question is answered ("Reading 5 passages with smollm2…")."""

from __future__ import annotations

from qa.types import Answer, Stage
from qa.web.markup import esc_line

TITLE = "Document Q&A"
SKIP_LINKS = (
    ("qa-question", "Question"),
    ("qa-chats", "Chats"),
    ("qa-docs-panel", "Documents"),
    ("qa-viewer", "Source viewer"),
)


def _model(mode: str) -> str:
    return mode.split(":", 1)[1] if mode.startswith("generated:") else ""


def mode_label(mode: str) -> str:
    """``Engine.mode`` in words for the header: extractive, or the model that writes answers."""
    model = _model(mode)
    return f"Generated · {model}" if model else "Extractive"


def mode_words(answer: Answer | str) -> str:
    """What made an answer, in words: the model that wrote it, that it was refused before the
    model was asked, or that the extractive answer stood in for a model that failed."""
    mode = answer if isinstance(answer, str) else answer.mode
    model = _model(mode)
    if model and (isinstance(answer, str) or answer.read):
        return f"Written by {model}"
    if model:  # in generated mode, but the model was never given a passage
        if answer.refused:
            return f"Refused before asking {model}: no passage is about the question"
        return f"Extractive ({model} not asked)"
    if mode == "extractive-fallback":
        return "Extractive (the model failed)"
    return "Extractive: quoted from the documents"


def render_header(mode: str) -> str:
    """Skip links, the title, one line on how answers are made, and the answer mode (in words).

    ``mode``: ``Engine.mode`` ("extractive" or "generated:<model>").
    """
    model = _model(mode)
    line = (
        f"{model}, a language model, writes each answer from passages of your documents; every "
        "sentence is checked against them."
        if model
        else "Each answer quotes the sentences of your documents that answer the question."
    )
    skips = "".join(
        f'<a class="qa-skip" href="#{target}" data-target="{target}">Skip to {what.lower()}</a>'
        for target, what in SKIP_LINKS
    )
    return (
        f'<nav class="qa-skips" aria-label="Skip links">{skips}</nav>'
        '<header class="qa-header"><div class="qa-brand"><h1>' + esc_line(TITLE) + "</h1>"
        f"<p>{esc_line(line)}</p></div>"
        f'<div class="qa-mode" id="qa-mode"><span>Answer mode</span>'
        f"<strong>{esc_line(mode_label(mode))}</strong></div></header>"
    )


def stage_words(stage: Stage | None) -> str:
    """The live line before any text: searching, or the model reading its passages."""
    if stage is not None and stage.kind == "reading":
        n = stage.passages
        return f"Reading {n} passage{'s' * (n != 1)} with {stage.model}…"
    return "Searching the documents…"
