"""Fit the passages into the model's prompt: numbered, delimited data, best-ranked first.

The model sees the passages as numbered ``<passage>`` blocks inside ``<passages>``, declared as
data, not instructions; as many as fit the context window (the lowest-ranked are dropped first).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from index import Embedder
from qa.errors import ConfigError
from qa.llm import prompts
from qa.settings import Settings
from qa.types import Message, Passage

log = logging.getLogger(__name__)

# Our token count comes from the embedder's word pieces, not the chat model's tokenizer (which
# the client cannot see); this factor keeps the estimate above the server's count (tested).
TOKEN_SAFETY = 1.25
MESSAGE_OVERHEAD = 8  # chat-template tokens around each message
MIN_PASSAGE_TOKENS = 64  # below this no passage fits usefully
EXAMPLE_WORDS = 8  # words of a passage quoted in a demonstration turn

_DELIMITER = re.compile(r"<(/?)(passages?|conversation)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Prompt:
    """The messages for the model and which passages made it into them, in prompt order."""

    messages: tuple[Message, ...]
    passages: tuple[Passage, ...]
    dropped: tuple[Passage, ...]
    tokens: int  # estimated prompt tokens


def token_counter(embedder: Embedder) -> Callable[[str], int]:
    """A conservative token estimate for one text, from the embedder's tokenizer."""

    def count(text: str) -> int:
        return math.ceil(embedder.count_tokens([text])[0] * TOKEN_SAFETY) if text else 0

    return count


def neutral(text: str) -> str:
    """Text with look-alike brackets where it imitates our delimiters, so it cannot close them."""
    return _DELIMITER.sub(lambda m: f"‹{m.group(1)}{m.group(2)}", text)


def format_passages(passages: Sequence[Passage]) -> str:
    """The passages as numbered, delimited blocks: ``<passage n="1" source="...">text</passage>``."""
    blocks = []
    for n, p in enumerate(passages, 1):
        source = neutral(p.source).replace('"', "'")
        blocks.append(f'<passage n="{n}" source="{source}">\n{neutral(p.text.strip())}\n</passage>')
    return "\n".join(blocks)


def example_messages(passages: Sequence[Passage], settings: Settings) -> list[Message]:
    """Demonstration turns that show the ``[n]`` format on the given passages.

    Small models copy a format they have seen far more reliably than one they are told about:
    the model is shown answering "How does passage 2 begin?" with a quote and ``[2]``. The
    quotes are a few words of the passages, inside quotation marks, so they stay data.
    """
    out: list[Message] = []
    shown = min(settings.llm_examples, len(passages), 2)
    for n in (2, 1)[2 - shown :]:
        words = " ".join(neutral(passages[n - 1].text).replace('"', "'").split()[:EXAMPLE_WORDS])
        q = prompts.render("answer_example_question", settings.prompts_dir, n=n).strip()
        a = prompts.render("answer_example_answer", settings.prompts_dir, n=n, words=words).strip()
        out += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    return out


def build_prompt(
    question: str,
    passages: Sequence[Passage],
    count: Callable[[str], int],
    settings: Settings,
) -> Prompt:
    """The answer messages with as many passages as fit the context; the lowest-ranked drop first.

    Layout: the system message (rules, then the passages inside ``<passages>``), demonstration
    turns, then the question as the last user message.
    """
    system_t = prompts.load("answer_system", settings.prompts_dir)
    user = prompts.render("answer_user", settings.prompts_dir, question=question).strip()
    ranked = sorted(passages, key=lambda p: p.rank)

    def cost_of(messages: Sequence[Message]) -> int:
        return sum(count(m["content"]) + MESSAGE_OVERHEAD for m in messages)

    empty = prompts.render_template(system_t, {"passages": ""})
    fixed = cost_of([{"role": "system", "content": empty}, {"role": "user", "content": user}])
    fixed += cost_of(example_messages(ranked, settings))
    budget = settings.llm_context_tokens - settings.llm_max_tokens - fixed
    if budget < MIN_PASSAGE_TOKENS:
        raise ConfigError(
            f"QA_LLM_CONTEXT_TOKENS={settings.llm_context_tokens} leaves no room for passages after "
            f"the instructions, the question and QA_LLM_MAX_TOKENS={settings.llm_max_tokens}. "
            "Raise the first (to the model's context window) or lower the second."
        )
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
    system = prompts.render_template(system_t, {"passages": format_passages(used)})
    messages = (
        {"role": "system", "content": system},
        *example_messages(used, settings),
        {"role": "user", "content": user},
    )
    return Prompt(messages, tuple(used), tuple(ranked[keep:]), cost_of(messages))


def _truncated(p: Passage, chars: int) -> Passage:
    chars = max(0, min(len(p.text), chars))
    return replace(p, text=p.text[:chars], end=p.start + chars)
