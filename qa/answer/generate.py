"""Generated answers: give the model the evidence, stream the reply, check every citation."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from urllib.parse import urlsplit

from index import Embedder
from qa.answer.extract import score_sentences
from qa.answer.markers import CitationStream
from qa.answer.prompting import build_prompt, example_messages, token_counter
from qa.answer.support import Checked, check
from qa.llm import prompts
from qa.llm.client import LLM
from qa.settings import Settings
from qa.types import Passage, Stage

log = logging.getLogger(__name__)


def generate_stream(
    llm: LLM,
    question: str,
    passages: Sequence[Passage],
    embedder: Embedder,
    weigh: Callable[[str], dict[str, float]],
    settings: Settings,
    deadline: float | None = None,
    usage: dict | None = None,
) -> Iterator[Stage | str | Checked]:
    """Yield ``Stage("reading")``, the checked answer text in pieces as the model writes it,
    then the Checked answer.

    The model reads the sentences of the passages that best answer the question, with their
    neighbours (``qa.answer.prompting``); the support check then weighs each sentence of the
    reply against the whole passages. ``deadline``: the ``time.monotonic()`` by which the model
    must be done (``LLM.stream``). ``usage``: filled with the call's tokens: the server's own
    figures when it reports them (``counted_by="model"``), else the prompt and reply counted
    with the embedder's tokenizer (``counted_by="tokenizer"``).
    """
    best = [(s.passage, s.span) for s in score_sentences(question, list(passages), weigh(question))]
    prompt = build_prompt(question, passages, token_counter(embedder), settings, best)
    yield Stage("reading", len(prompt.passages), llm.model)
    rewriter = CitationStream(len(prompt.passages))
    bound: dict = {"deadline": deadline} if deadline is not None else {}  # others: no deadline
    if usage is not None:
        bound["usage"] = usage
    reply: list[str] = []
    for piece in llm.stream(prompt.messages, **bound):
        reply.append(piece)
        out = rewriter.feed(piece)
        if out:
            yield out
    tail = rewriter.finish()
    if tail:
        yield tail
    if usage is not None and "prompt_tokens" not in usage:
        sent = [m["content"] for m in prompt.messages]
        counts = embedder.count_tokens([*sent, "".join(reply)])
        usage.update(
            prompt_tokens=sum(counts[:-1]), completion_tokens=counts[-1], counted_by="tokenizer"
        )
    checked = check(
        rewriter.text, rewriter.order, prompt.passages, embedder, weigh, settings.support_threshold
    )
    yield replace(checked, read=prompt.read)


def warm_up(llm: LLM, settings: Settings) -> None:
    """Have a model server on this machine evaluate the prompt's fixed start now (instructions
    and demonstrations: its prompt cache keeps them), so the first question is as quick as the
    next ones. A remote model is never called for this."""
    host = urlsplit(settings.openai_base_url or "").hostname or ""
    if host not in ("localhost", "127.0.0.1", "::1"):
        return
    system = prompts.load("answer_system", settings.prompts_dir).strip()
    messages = [{"role": "system", "content": system}, *example_messages(settings)]
    messages.append({"role": "user", "content": "Question: ?"})
    try:
        llm.complete(messages, max_tokens=1)
    except Exception as exc:  # the first question will tell the user, if the fault lasts
        log.info("warming up the model server failed: %s", exc)
