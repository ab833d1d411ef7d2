"""The extractive reader at run time: one int8 ONNX MiniLM cross-encoder, three readings.

For a question and the passages the answer reads (``QA_TOP_K``), one batched model call gives
per passage:

- **relevance**: a calibrated probability that the passage holds the answer (its [CLS] head,
  Platt-scaled on held-out questions); the maximum over them tells the decision whether the
  documents answer the question at all;
- **the best span**: the answer phrase, as character offsets into the passage text, with its
  score (start + end logits);
- **the null score**: the [CLS] start + end logits, what the span has to beat.

The model is trained here (eval/reader/, model card beside the file) from all-MiniLM-L6-v2's
weights and ships inside the package (``models/reader/``): nothing is downloaded. ``load()`` gives
the shared instance, or None when the file is missing (answers then use the heuristics). A passage longer than the model's window is cut to the
``max_tokens`` word pieces that hold most of the question's words (the same cut the training
data was made with: ``encode``), which is what keeps ten passages within chat latency.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.question.word_forms import POSSESSIVE_S

# Words that shape a question rather than say what it is about: they do not place the window.
_STOPWORDS_TEXT = """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom whose why will with would you your yours yourself
    yourselves also many much name named called one two first"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
_WORD = re.compile(r"\w")
# How inputs are cut (window choice, special tokens): bump when ``encode`` changes, so that
# training caches built with another cut are not reused.
ENCODING_VERSION = 2


@dataclass(frozen=True)
class Reading:
    """What the reader found in one passage (character offsets into that passage's text)."""

    relevance: float  # calibrated probability that the passage answers the question
    start: int  # best span, passage[start:end]
    end: int
    span_score: float  # start + end logit of the best span (wherever it ends: the margin)
    null_score: float  # start + end logit of [CLS]: "no answer here"
    relevance_logit: float
    window: tuple[int, int]  # the characters of the passage the model read

    @property
    def margin(self) -> float:
        """Span score over null score: > 0 when the model prefers its span to no answer."""
        return self.span_score - self.null_score

    @property
    def squashed(self) -> float:
        """The margin (logits, unbounded) on (-1, 1), as the decision and the ranking read it."""
        return squash(self.margin)


def squash(margin: float) -> float:
    """A span-over-null margin on (-1, 1): a few logits either way is all that tells."""
    return math.tanh(margin / 4.0)


@dataclass(frozen=True)
class Encoded:
    """One (question, passage window) model input and how its tokens map back to the text."""

    ids: list[int]
    type_ids: list[int]
    context_start: int  # index of the first passage token in ``ids``
    offsets: list[tuple[int, int]]  # per passage token in the window: chars in the passage
    window: tuple[int, int]  # chars of the passage covered by the window


def load_tokenizer(path: str | Path):
    """The WordPiece tokenizer, without truncation or padding (windows are cut by hand)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    tok.no_truncation()
    tok.no_padding()
    return tok


def question_terms(tok, question_ids: Sequence[int]) -> set[int]:
    """The word-piece ids of the question that place a window: no stopwords, no punctuation."""
    terms = set()
    for i in question_ids:
        piece = tok.id_to_token(i) or ""
        word = piece[2:] if piece.startswith("##") else piece
        if _WORD.search(word) and word not in STOPWORDS and (len(word) > 1 or word.isdigit()):
            terms.add(i)
    return terms


def best_window(passage_ids: Sequence[int], terms: set[int], size: int) -> int:
    """Where a window of ``size`` tokens holds most question terms.

    Among the windows holding the most, the first (a passage's opening often names what it is
    about; on the tune halves' training passages it kept the answer more often than the middle
    or the last one). No question word in the passage: its start.
    """
    n = len(passage_ids)
    if n <= size:
        return 0
    hits = np.fromiter((i in terms for i in passage_ids), dtype=np.float64, count=n)
    sums = np.convolve(hits, np.ones(size), mode="valid")  # sums[s] = hits in [s, s + size)
    if sums.max() <= 0:
        return 0
    return int(np.argmax(sums))


def encode(
    tok,
    question: str,
    passages: Sequence[str],
    max_tokens: int,
    max_question: int,
) -> list[Encoded]:
    """``[CLS] question [SEP] window [SEP]`` per passage, each at most ``max_tokens`` long.

    The window is the stretch of the passage (whole when it fits) that holds most of the
    question's words. Training data is encoded by this same function, so the model learns on
    exactly the cut it reads at run time.
    """
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    q_ids = tok.encode(question or " ", add_special_tokens=False).ids[:max_question]
    terms = question_terms(tok, q_ids)
    size = max(8, max_tokens - len(q_ids) - 3)
    out = []
    encs = tok.encode_batch([p or " " for p in passages], add_special_tokens=False)
    for text, enc in zip(passages, encs, strict=True):
        p_ids, p_off = enc.ids, enc.offsets
        s = best_window(p_ids, terms, size)
        w_ids, w_off = p_ids[s : s + size], p_off[s : s + size]
        window = (w_off[0][0], w_off[-1][1]) if w_off else (0, len(text))
        ids = [cls_id, *q_ids, sep_id, *w_ids, sep_id]
        types = [0] * (len(q_ids) + 2) + [1] * (len(w_ids) + 1)
        out.append(Encoded(ids, types, len(q_ids) + 2, list(w_off), window))
    return out


def best_span(
    start: np.ndarray,
    end: np.ndarray,
    first: int,
    count: int,
    max_answer: int,
    ends: np.ndarray | None = None,
) -> tuple[int, int, float]:
    """The best (i, j) with first <= i <= j < first + count, j - i < max_answer, by start + end;
    ``ends`` (one flag per passage token): where a span may end (None: anywhere)."""
    if count <= 0:
        return first, first, -math.inf
    s = start[first : first + count]
    e = end[first : first + count]
    grid = s[:, None] + e[None, :]
    i, j = np.indices(grid.shape)
    allowed = (j >= i) & (j - i < max_answer)
    if ends is not None and ends.any():
        allowed &= ends[None, :]
    grid = np.where(allowed, grid, -np.inf)
    flat = int(np.argmax(grid))
    bi, bj = divmod(flat, count)
    return first + bi, first + bj, float(grid[bi, bj])


def possessive_end(text: str, end: int) -> bool:
    """Whether a span ending at ``end`` stops inside a possessive: after its "s" ("Xi’s|") or at
    its apostrophe ("Xi’|s")."""
    if POSSESSIVE_S.search(text[max(0, end - 2) : end]) and not text[end : end + 1].isalnum():
        return True
    tail = text[end - 1 : end + 1] if end > 0 else ""
    return bool(POSSESSIVE_S.search(tail)) and not text[end + 1 : end + 2].isalnum()


def span_ends(text: str, offsets: Sequence[tuple[int, int]]) -> np.ndarray:
    """Where an answer span may end, per passage token: not inside a possessive ("Xi’s" is no
    answer; "Xi’s top foreign policy adviser" is)."""
    return np.array([not possessive_end(text, b) for _, b in offsets], dtype=bool)


class Reader:
    """The extractive reader: ``Reader(model_dir).score(question, passages)``.

    ``model_dir`` holds ``model.int8.onnx`` (or the file named in ``config.json``),
    ``tokenizer.json`` and ``config.json`` (window sizes, answer length, calibration).
    """

    def __init__(self, model_dir: str | Path, threads: int | None = None, model_file: str = ""):
        import onnxruntime as ort

        self.dir = Path(model_dir)
        self.config = json.loads((self.dir / "config.json").read_text(encoding="utf-8"))
        c = self.config
        self.max_tokens = int(c.get("max_tokens", 128))
        self.max_question = int(c.get("max_question_tokens", 32))
        self.max_answer = int(c.get("max_answer_tokens", 30))
        cal = c.get("calibration", {})
        self.cal_a, self.cal_b = float(cal.get("a", 1.0)), float(cal.get("b", 0.0))
        self.tok = load_tokenizer(self.dir / c.get("tokenizer", "tokenizer.json"))
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or min(os.cpu_count() or 1, 4)
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # The same numbers on every x86-64 CPU: without VNNI (AVX2, AVX-512F) onnxruntime's fast
        # int8 kernel (activations u8 x weights s8) saturates paired products at 16 bits, which
        # moved a third of the spans on such a CPU; this asks for the exact u8 x u8 kernel there
        # (a no-op where VNNI computes exactly anyway).
        opts.add_session_config_entry("session.x64quantprecision", "1")
        path = self.dir / (model_file or c.get("model", "model.int8.onnx"))
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self.session.get_inputs()}

    def calibrate(self, logit: float) -> float:
        """Relevance logit -> probability (Platt scaling fitted on held-out questions)."""
        z = self.cal_a * logit + self.cal_b
        return 1.0 / (1.0 + math.exp(-z)) if z > -60 else 0.0

    def encode(self, question: str, passages: Sequence[str]) -> list[Encoded]:
        return encode(self.tok, question, passages, self.max_tokens, self.max_question)

    def run(self, encoded: Sequence[Encoded]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One model call over a batch: start logits, end logits (padded), relevance logits."""
        width = max(len(e.ids) for e in encoded)
        ids = np.zeros((len(encoded), width), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encoded):
            ids[row, : len(e.ids)] = e.ids
            types[row, : len(e.ids)] = e.type_ids
            mask[row, : len(e.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = types
        start, end, rel = self.session.run(["start_logits", "end_logits", "relevance"], feed)
        return start, end, rel.reshape(-1)

    def score(self, question: str, passages: Sequence[str]) -> list[Reading]:
        """One Reading per passage, in the passages' order (one batched model call)."""
        if not passages:
            return []
        encoded = self.encode(question, passages)
        start, end, rel = self.run(encoded)
        out = []
        for row, (text, e) in enumerate(zip(passages, encoded, strict=True)):
            count = len(e.offsets)
            i, j, span = best_span(start[row], end[row], e.context_start, count, self.max_answer)
            if count and possessive_end(text, e.offsets[j - e.context_start][1]):
                # The span shown ends where an answer can; how far the model prefers an answer
                # to none stays its own best span's, as the decision was fitted on.
                ok = span_ends(text, e.offsets)
                i, j, _ = best_span(
                    start[row], end[row], e.context_start, count, self.max_answer, ok
                )
            if count:
                a = e.offsets[i - e.context_start][0]
                b = e.offsets[j - e.context_start][1]
            else:
                a = b = 0
            out.append(
                Reading(
                    relevance=self.calibrate(float(rel[row])),
                    start=a,
                    end=b,
                    span_score=span,
                    null_score=float(start[row, 0] + end[row, 0]),
                    relevance_logit=float(rel[row]),
                    window=e.window,
                )
            )
        return out


MODEL_DIR = Path(__file__).with_name("models") / "reader"
_LOADED: dict[tuple[str, int], Reader | None] = {}
_LOCK = threading.Lock()


def available(model_dir: Path = MODEL_DIR) -> bool:
    """Whether the packaged reader model is there."""
    return (model_dir / "config.json").is_file()


def load(threads: int = 2, model_dir: Path = MODEL_DIR) -> Reader | None:
    """The reader (loaded once per process and thread count), or None when it is not shipped."""
    key = (str(model_dir), threads)
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = Reader(model_dir, threads) if available(model_dir) else None
        return _LOADED[key]
