"""Generated answers: fit the passages into the prompt, stream the reply, check every citation."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from index import Embedder
from qa.answer.markers import CitationStream
from qa.answer.prompting import build_prompt, token_counter
from qa.answer.support import Checked, check
from qa.llm.client import LLM
from qa.settings import Settings
from qa.types import Passage


def generate_stream(
    llm: LLM,
    question: str,
    passages: Sequence[Passage],
    embedder: Embedder,
    weigh: Callable[[str], dict[str, float]],
    settings: Settings,
    deadline: float | None = None,
    usage: dict | None = None,
) -> Iterator[str | Checked]:
    """Yield the checked answer text in pieces as the model writes it, then the Checked answer.

    ``deadline``: the ``time.monotonic()`` by which the model must be done (``LLM.stream``).
    ``usage``: filled with the call's tokens: the server's own figures when it reports them
    (``counted_by="model"``), else the prompt and reply counted with the embedder's tokenizer
    (``counted_by="tokenizer"``).
    """
    prompt = build_prompt(question, passages, token_counter(embedder), settings)
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
    yield check(
        rewriter.text, rewriter.order, prompt.passages, embedder, weigh, settings.support_threshold
    )
