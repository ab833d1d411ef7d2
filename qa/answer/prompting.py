"""The model's prompt: fixed instructions and demonstrations first, then only the evidence it needs.

Layout: the system message (rules), two fixed demonstration turns (the ``[n]`` format on a tiny
made-up passage set), then the last user message: the passages inside ``<passages>`` as
numbered ``<passage>`` blocks, declared data, not instructions, and the question. Everything
before the last message is the same for every question, so a llama.cpp server keeps it
evaluated (its prompt cache) and reads only the last message for a new question.

The passages are cut to their evidence (``QA_LLM_EVIDENCE_TOKENS``): the sentences that best
answer the question (the extractive scoring) with the sentences beside them, best first, as
many as fit; a small local model reads about 150 tokens a second on one core, so five whole
chunks (about 1,200 tokens) cost it 8 s before its first word. With the setting at 0 the
passages go whole, as many as fit the context window (the lowest-ranked dropped first).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from index import Embedder
from index.text import sentence_spans
from qa.errors import ConfigError
from qa.llm import prompts
from qa.llm.prompts import neutral
from qa.settings import Settings
from qa.types import Citation, Message, Passage, Span

log = logging.getLogger(__name__)

# Our token count comes from the embedder's word pieces, not the chat model's tokenizer (which
# the client cannot see); this factor keeps the estimate above the server's count (tested).
TOKEN_SAFETY = 1.25
MESSAGE_OVERHEAD = 8  # chat-template tokens around each message
MIN_PASSAGE_TOKENS = 64  # below this no passage fits usefully
SUPPORTING = 3  # the best sentences looked at (each with its neighbours) for the evidence
GAP = " … "  # between sentences of one passage that do not follow each other


@dataclass(frozen=True)
class Prompt:
    """The messages for the model and what it reads of each passage, in prompt order."""

    messages: tuple[Message, ...]
    passages: tuple[Passage, ...]
    dropped: tuple[Passage, ...]
    tokens: int  # estimated prompt tokens
    # The sentences of each passage the prompt holds, as spans of its document.
    excerpts: tuple[tuple[Span, ...], ...] = ()

    @property
    def read(self) -> tuple[Citation, ...]:
        """What the model was given: each passage, numbered as in the prompt, with what it read."""
        return tuple(
            Citation(n, p, spans)
            for n, (p, spans) in enumerate(zip(self.passages, self.excerpts, strict=True), 1)
        )


def token_counter(embedder: Embedder) -> Callable[[str], int]:
    """A conservative token estimate for one text, from the embedder's tokenizer."""

    def count(text: str) -> int:
        return math.ceil(embedder.count_tokens([text])[0] * TOKEN_SAFETY) if text else 0

    return count


def excerpt_text(spans: Sequence[Span]) -> str:
    """The sentences of one passage as the model reads them, gaps marked."""
    out = ""
    for i, s in enumerate(spans):
        if i:
            out += " " if spans[i - 1].end >= s.start - 2 else GAP
        out += s.text.strip()
    return out


def format_passages(passages: Sequence[Passage], excerpts: Sequence[Sequence[Span]] = ()) -> str:
    """The passages (or their excerpts) as numbered, delimited blocks: ``<passage n="1">...``."""
    blocks = []
    for n, p in enumerate(passages, 1):
        text = excerpt_text(excerpts[n - 1]) if excerpts else p.text.strip()
        blocks.append(f'<passage n="{n}">\n{neutral(text)}\n</passage>')
    return "\n".join(blocks)


def example_messages(settings: Settings) -> list[Message]:
    """Fixed demonstration turns showing the ``[n]`` format (small models copy what they see).

    They are the same for every question, so the server's prompt cache keeps them evaluated.
    """
    out: list[Message] = []
    for i in range(1, min(settings.llm_examples, 2) + 1):
        q = prompts.load(f"answer_example_{i}_question", settings.prompts_dir).strip()
        a = prompts.load(f"answer_example_{i}_answer", settings.prompts_dir).strip()
        out += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    return out


def _sentences(p: Passage) -> list[Span]:
    return [Span(p.start + a, p.start + b, p.text[a:b]) for a, b in sentence_spans(p.text)]


def select_evidence(
    ranked: Sequence[Passage],
    best: Sequence[tuple[Passage, Span]],
    count: Callable[[str], int],
    budget: int,
) -> list[tuple[Passage, tuple[Span, ...]]]:
    """The passages' evidence within ``budget`` tokens: each of the best sentences (best first)
    with the sentence before and after it in its passage, or alone when that is all that fits.

    Returns (passage, its sentences in document order) in rank order, passages without any left
    out. The very best sentence always goes in, cut to the budget if it alone is longer.
    """
    sentences = {p.id: _sentences(p) for p in ranked}
    chosen: dict[str, set[int]] = {}
    used = 0
    for k, (p, span) in enumerate(best[:SUPPORTING]):
        spans = sentences.get(p.id, [])
        at = next((i for i, s in enumerate(spans) if s.start <= span.start < s.end), None)
        if at is None:
            continue
        have = chosen.setdefault(p.id, set())
        for group in ([at - 1, at, at + 1], [at]):
            new = [i for i in group if 0 <= i < len(spans) and i not in have]
            cost = sum(count(spans[i].text) + 1 for i in new)
            if used + cost <= budget:
                have.update(new)
                used += cost
                break
        else:
            if k == 0:  # the best sentence alone is over the budget: as much of it as fits
                s = spans[at]
                share = max(0.0, budget / max(count(s.text), 1))
                cut = s.text[: int(len(s.text) * share)]
                sentences[p.id][at] = Span(s.start, s.start + len(cut), cut)
                have.add(at)
                used = budget
    out = []
    for p in ranked:
        if chosen.get(p.id):
            out.append((p, tuple(sentences[p.id][i] for i in sorted(chosen[p.id]))))
    return out


def build_prompt(
    question: str,
    passages: Sequence[Passage],
    count: Callable[[str], int],
    settings: Settings,
    best: Sequence[tuple[Passage, Span]] | None = None,
) -> Prompt:
    """The answer messages: instructions, demonstrations, then the evidence and the question.

    ``best``: the passages' sentences that best answer the question, best first (e.g. the
    extractive scoring); with it and ``QA_LLM_EVIDENCE_TOKENS`` > 0 the model reads only them
    and their neighbours. Otherwise whole passages, as many as fit the context.
    """
    system = prompts.load("answer_system", settings.prompts_dir).strip()
    user_t = prompts.load("answer_user", settings.prompts_dir)
    ranked = sorted(passages, key=lambda p: p.rank)

    def cost_of(messages: Sequence[Message]) -> int:
        return sum(count(m["content"]) + MESSAGE_OVERHEAD for m in messages)

    head = [{"role": "system", "content": system}, *example_messages(settings)]
    empty = prompts.render_template(user_t, {"passages": "", "question": question}).strip()
    fixed = cost_of([*head, {"role": "user", "content": empty}])
    budget = settings.llm_context_tokens - settings.llm_max_tokens - fixed
    if budget < MIN_PASSAGE_TOKENS:
        raise ConfigError(
            f"QA_LLM_CONTEXT_TOKENS={settings.llm_context_tokens} leaves no room for passages after "
            f"the instructions, the question and QA_LLM_MAX_TOKENS={settings.llm_max_tokens}. "
            "Raise the first (to the model's context window) or lower the second."
        )
    if best and settings.llm_evidence_tokens > 0:
        tags = count(format_passages([ranked[0]], [()])) + 1  # one block's tags and number
        room = min(budget, settings.llm_evidence_tokens) - tags * min(len(ranked), SUPPORTING)
        chosen = select_evidence(ranked, best, count, max(room, 1))
        used = [p for p, _ in chosen]
        excerpts = tuple(spans for _, spans in chosen)
        dropped = tuple(p for p in ranked if p not in used)
        data = format_passages(used, excerpts)
    else:
        used, dropped = _whole(ranked, count, budget, settings)
        excerpts = tuple(_sentences(p) for p in used)
        data = format_passages(used)
    user = prompts.render_template(user_t, {"passages": data, "question": question}).strip()
    messages = (*head, {"role": "user", "content": user})
    return Prompt(messages, tuple(used), dropped, cost_of(messages), excerpts)


def _whole(
    ranked: list[Passage], count: Callable[[str], int], budget: int, settings: Settings
) -> tuple[list[Passage], tuple[Passage, ...]]:
    """Whole passages, best first, as many as fit; the best one cut if it alone is too long."""
    costs = [count(format_passages([p])) + 1 for p in ranked]
    keep = len(ranked)
    while keep > 1 and sum(costs[:keep]) > budget:
        keep -= 1
    used = list(ranked[:keep])
    if used and costs[0] > budget:  # even the best passage is too long: keep the part that fits
        share = max(0.0, budget / costs[0])
        used[0] = _truncated(used[0], int(len(used[0].text) * share))
        log.warning(
            "the best passage was cut to fit QA_LLM_CONTEXT_TOKENS=%d", settings.llm_context_tokens
        )
    if keep < len(ranked):
        log.info("dropped %d lowest-ranked passage(s) to fit the context", len(ranked) - keep)
    return used, tuple(ranked[keep:])


def _truncated(p: Passage, chars: int) -> Passage:
    chars = max(0, min(len(p.text), chars))
    return replace(p, text=p.text[:chars], end=p.start + chars)
