"""Generated answers: fit the passages into the prompt, stream the reply, check every citation.

The model sees the passages as numbered, delimited data. Its ``[n]`` markers are checked as they
stream: numbers that name no given passage are removed, the rest renumbered in order of first
use, so the streamed text is the final text. Each answer sentence is then scored against the
passages it cites (embedding cosine and IDF-weighted word overlap) and flagged when unsupported.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from index.chunk import sentence_spans
from index.embed import Embedder
from index.keyword import tokenize
from qa import prompts
from qa.errors import ConfigError
from qa.llm import LLM, Message
from qa.settings import Settings
from qa.types import AnswerSentence, Citation, Passage, Span

log = logging.getLogger(__name__)

# Our token count comes from the embedder's word pieces, not the chat model's tokenizer (which
# the client cannot see); this factor keeps the estimate above the server's count (tested).
TOKEN_SAFETY = 1.25
MESSAGE_OVERHEAD = 8  # chat-template tokens around each message
# Support = W_COSINE * best sentence cosine + the rest * IDF-weighted word overlap. Overlap
# separates invented names, places and dates better than MiniLM cosine does; 0.3 with the 0.7
# threshold (QA_SUPPORT_THRESHOLD) splits the labelled seed cases in tests/test_llm.py.
W_COSINE = 0.3
MIN_PASSAGE_TOKENS = 64  # below this no passage fits usefully
EXAMPLE_WORDS = 8  # words of a passage quoted in a demonstration turn
HISTORY_TURNS = 6
HISTORY_CHARS = 600

_MARKER = re.compile(r"(\s*)\[\s*(\d{1,4}(?:\s*[,;]\s*\d{1,4})*)\s*\]")
_OPEN_MARKER = re.compile(r"\[[\d\s,;]*$")
_ONLY_MARKERS = re.compile(r"^[\s\[\]\d,;.]*$")
_DELIMITER = re.compile(r"<(/?)(passages?|conversation)\b", re.IGNORECASE)
_REFUSAL = re.compile(
    r"\b(documents?|passages?|context|sources?)\s+(do|does|did|can)\s*(not|n't)\s+"
    r"(answer|say|contain|mention|cover|provide|address)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Prompt:
    """The messages for the model and which passages made it into them, in prompt order."""

    messages: tuple[Message, ...]
    passages: tuple[Passage, ...]
    dropped: tuple[Passage, ...]
    tokens: int  # estimated prompt tokens


@dataclass(frozen=True)
class Checked:
    """A generated answer after the citation check."""

    text: str
    citations: tuple[Citation, ...]
    sentences: tuple[AnswerSentence, ...]
    refused: bool


def token_counter(embedder: Embedder) -> Callable[[str], int]:
    """A conservative token estimate for one text, from the embedder's tokenizer."""

    def count(text: str) -> int:
        return math.ceil(embedder.count_tokens([text])[0] * TOKEN_SAFETY) if text else 0

    return count


def _neutral(text: str) -> str:
    """Text with look-alike brackets where it imitates our delimiters, so it cannot close them."""
    return _DELIMITER.sub(lambda m: f"‹{m.group(1)}{m.group(2)}", text)


def format_passages(passages: Sequence[Passage]) -> str:
    """The passages as numbered, delimited blocks: ``<passage n="1" source="...">text</passage>``."""
    blocks = []
    for n, p in enumerate(passages, 1):
        source = _neutral(p.source).replace('"', "'")
        blocks.append(
            f'<passage n="{n}" source="{source}">\n{_neutral(p.text.strip())}\n</passage>'
        )
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
        words = " ".join(_neutral(passages[n - 1].text).replace('"', "'").split()[:EXAMPLE_WORDS])
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
    return Passage(**{**p.__dict__, "text": p.text[:chars], "end": p.start + chars})


def format_history(history: Sequence[dict]) -> str:
    """The last turns of a conversation as ``User: ...`` / ``Assistant: ...`` lines."""
    lines = []
    for turn in list(history)[-HISTORY_TURNS:]:
        content = turn.get("content") if isinstance(turn, dict) else None
        if not isinstance(content, str) or not content.strip():
            continue
        who = "User" if turn.get("role") == "user" else "Assistant"
        text = " ".join(_neutral(content).split())
        if len(text) > HISTORY_CHARS:
            text = text[:HISTORY_CHARS] + "…"
        lines.append(f"{who}: {text}")
    return "\n".join(lines)


def condense_messages(question: str, history: Sequence[dict], settings: Settings) -> list[Message]:
    """The messages that ask the model to rewrite a follow-up as a standalone question."""
    content = prompts.render(
        "condense", settings.prompts_dir, history=format_history(history), question=question
    )
    return [{"role": "user", "content": content}]


def clean_condensed(reply: str, limit: int) -> str | None:
    """The standalone question in the model's reply, or None when the reply is not a usable one.

    Small models sometimes echo the conversation instead of rewriting; a reply that is not a
    single question of sensible length is rejected so that the caller's rule applies.
    """
    for line in reply.strip().splitlines():
        line = re.sub(
            r"^\s*(standalone|rewritten)?\s*(follow-up\s*)?question\s*:\s*",
            "",
            line,
            flags=re.IGNORECASE,
        )
        line = line.strip().strip("\"'“”").strip()
        if line:
            return line if line.endswith("?") and len(line) <= limit else None
    return None


def condense(llm: LLM, question: str, history: Sequence[dict], settings: Settings) -> str | None:
    """A standalone version of a follow-up question, written by the model (None if unusable)."""
    reply = llm.complete(condense_messages(question, history, settings), max_tokens=96).text
    limit = min(settings.max_question_chars, 4 * len(question) + 300)
    condensed = clean_condensed(reply, limit)
    if condensed and " ".join(condensed.lower().split()) == " ".join(question.lower().split()):
        return None  # an echo is no rewrite: let the caller's rule resolve the follow-up
    return condensed


# --- Citation markers -------------------------------------------------------------------------


def rewrite_markers(text: str, n_given: int) -> tuple[str, list[int]]:
    """Drop ``[n]`` markers that name no given passage, renumber the rest by first use.

    Returns the new text and the original passage numbers in their new order (new ``[i]`` is
    original ``order[i-1]``). Prefix-stable, so it can run on a growing stream.
    """
    order: list[int] = []

    def sub(m: re.Match) -> str:
        numbers = [int(x) for x in re.split(r"\s*[,;]\s*", m.group(2).strip())]
        new = []
        for n in numbers:
            if 1 <= n <= n_given:
                if n not in order:
                    order.append(n)
                i = order.index(n) + 1
                if i not in new:
                    new.append(i)
        return m.group(1) + "".join(f"[{i}]" for i in new) if new else ""

    return _MARKER.sub(sub, text).lstrip(), order


class CitationStream:
    """Rewrites markers in a streamed reply; holds back only what a later piece could change."""

    def __init__(self, n_given: int):
        self.n_given = n_given
        self.raw = ""
        self.emitted = ""

    def feed(self, piece: str) -> str:
        """The new text that is safe to show after ``piece`` arrived."""
        self.raw += piece
        head = self.raw
        tail = _OPEN_MARKER.search(head)
        if tail:
            head = head[: tail.start()]
        return self._emit(rewrite_markers(head.rstrip(), self.n_given)[0])

    def finish(self) -> str:
        """The rest of the text once the reply is complete."""
        return self._emit(self.text)

    @property
    def text(self) -> str:
        """The whole rewritten reply so far."""
        return rewrite_markers(self.raw, self.n_given)[0].rstrip()

    @property
    def order(self) -> list[int]:
        """Original passage numbers in the order of their new numbers."""
        return rewrite_markers(self.raw, self.n_given)[1]

    def _emit(self, text: str) -> str:
        if not text.startswith(self.emitted):  # cannot happen for prefix-stable rewrites
            log.debug("citation rewrite not prefix-stable; holding the rest back")
            return ""
        new = text[len(self.emitted) :]
        self.emitted = text
        return new


# --- Support check ----------------------------------------------------------------------------


def answer_sentences(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """The answer's sentences with the citation numbers each carries (markers after a full stop
    belong to the sentence before them)."""
    out: list[tuple[str, list[int]]] = []
    for s, e in sentence_spans(text):
        sentence = text[s:e]
        numbers = [
            int(n) for m in _MARKER.finditer(sentence) for n in re.findall(r"\d+", m.group(2))
        ]
        if out and _ONLY_MARKERS.match(sentence):
            out[-1][1].extend(n for n in numbers if n not in out[-1][1])
            out[-1] = (out[-1][0] + " " + sentence, out[-1][1])
            continue
        out.append((sentence, list(dict.fromkeys(numbers))))
    return [(s, tuple(n)) for s, n in out]


def _overlap(sentence_tokens: list[str], passage_tokens: set[str], idf: dict[str, float]) -> float:
    """IDF-weighted share of the sentence's words that the passage contains."""
    words = set(sentence_tokens)
    if not words:
        return 0.0
    total = sum(idf.get(t, 1.0) for t in words)
    return sum(idf.get(t, 1.0) for t in words if t in passage_tokens) / (total or 1.0)


def is_refusal(text: str) -> bool:
    """Whether the reply says that the documents do not answer."""
    return bool(_REFUSAL.search(text))


def check(
    text: str,
    order: Sequence[int],
    given: Sequence[Passage],
    embedder: Embedder,
    idf: dict[str, float],
    threshold: float,
) -> Checked:
    """Score each sentence against the passages it cites; only cited passages become citations.

    ``text`` carries the rewritten markers: ``[i]`` names ``given[order[i-1]-1]``.
    """
    cited = {i + 1: given[n - 1] for i, n in enumerate(order)}
    sentences = answer_sentences(text)
    if not text.strip():
        return Checked(text, (), (), refused=True)
    plain = [_MARKER.sub("", s).strip() for s, _ in sentences]
    # Every sentence of every cited passage, embedded once, to find the best supporting one.
    psent: dict[int, list[Span]] = {}
    for i, p in cited.items():
        psent[i] = [Span(p.start + a, p.start + b, p.text[a:b]) for a, b in sentence_spans(p.text)]
    flat = [(i, sp) for i, spans in psent.items() for sp in spans]
    vecs = embedder.embed(plain + [sp.text for _, sp in flat]) if plain else np.zeros((0, 1))
    svecs, pvecs = vecs[: len(plain)], vecs[len(plain) :]
    ptokens = {i: set(tokenize(p.text)) for i, p in cited.items()}
    used_spans: dict[int, list[Span]] = {i: [] for i in cited}
    out = []
    for k, ((sentence, numbers), clean) in enumerate(zip(sentences, plain, strict=True)):
        best, best_span = 0.0, None
        toks = tokenize(clean)
        for i in numbers:
            rows = [j for j, (pi, _) in enumerate(flat) if pi == i]
            if not rows:
                continue
            cos = pvecs[rows] @ svecs[k]
            j = int(np.argmax(cos))
            score = W_COSINE * max(float(cos[j]), 0.0) + (1 - W_COSINE) * _overlap(
                toks, ptokens[i], idf
            )
            if score > best:
                best, best_span = score, (i, flat[rows[j]][1])
        refusal = not numbers and is_refusal(clean)
        supported = refusal or (bool(numbers) and best >= threshold)
        if best_span and supported:
            used_spans[best_span[0]].append(best_span[1])
        out.append(AnswerSentence(sentence, tuple(numbers), supported, round(best, 4)))
    citations = tuple(
        Citation(i, p, tuple(sorted(set(used_spans[i]), key=lambda s: s.start)))
        for i, p in sorted(cited.items())
    )
    refused = not citations and any(is_refusal(s) for s in plain)
    return Checked(text, citations, tuple(out), refused)


# --- The whole step ---------------------------------------------------------------------------


def generate_stream(
    llm: LLM,
    question: str,
    passages: Sequence[Passage],
    embedder: Embedder,
    idf: dict[str, float],
    settings: Settings,
) -> Iterator[str | Checked]:
    """Yield the checked answer text in pieces as the model writes it, then the Checked answer."""
    prompt = build_prompt(question, passages, token_counter(embedder), settings)
    rewriter = CitationStream(len(prompt.passages))
    for piece in llm.stream(prompt.messages):
        out = rewriter.feed(piece)
        if out:
            yield out
    tail = rewriter.finish()
    if tail:
        yield tail
    yield check(
        rewriter.text, rewriter.order, prompt.passages, embedder, idf, settings.support_threshold
    )
