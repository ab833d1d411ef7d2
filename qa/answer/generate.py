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
) -> Iterator[str | Checked]:
    """Yield the checked answer text in pieces as the model writes it, then the Checked answer.

    ``deadline``: the ``time.monotonic()`` by which the model must be done (``LLM.stream``).
    """
    prompt = build_prompt(question, passages, token_counter(embedder), settings)
    rewriter = CitationStream(len(prompt.passages))
    bound = {"deadline": deadline} if deadline is not None else {}  # other models: no deadline
    for piece in llm.stream(prompt.messages, **bound):
        out = rewriter.feed(piece)
        if out:
            yield out
    tail = rewriter.finish()
    if tail:
        yield tail
    yield check(
        rewriter.text, rewriter.order, prompt.passages, embedder, weigh, settings.support_threshold
    )
