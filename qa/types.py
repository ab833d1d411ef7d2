"""Plain records passed between the answering stages and to every interface.

An answer as JSON is ``Answer.to_dict()``, and ``Answer.from_dict`` reads it back (checked: the
record may come back from a browser). Every other shape of a passage or citation (the API's,
llama-index's, evaluation records, feedback lines) is cut from these: ``Passage.where()`` is the
part all of them share.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, NotRequired, TypedDict

from index import MAX_TEXT_CHARS
from qa.outcomes import ANSWERED, REFUSED, STATUSES, UNCERTAIN, Status, reply

__all__ = [  # the outcomes are defined in qa.outcomes; importable from here as the records' words
    "ANSWERED", "REFUSED", "STATUSES", "UNCERTAIN", "Answer", "AnswerSentence", "Citation",
    "Message", "Passage", "Span", "Stage", "Status", "Turn",
]  # fmt: skip

Role = Literal["user", "assistant"]

# What Answer.from_dict accepts of a record that comes back (from a browser, a file): every
# value is untrusted (a forged page_end of 20,000,000 once made the viewer build a 20-million-
# page list), so each is bounded here.
MAX_TEXT = 50_000  # characters of any one text
MAX_CITATIONS = 50
MAX_SPANS = 20
MAX_SENTENCES = 200  # checked sentences of one answer
MAX_UNSUPPORTED = 100  # of them flagged as unsupported (older records list only those)
MAX_OFFSET = MAX_TEXT_CHARS  # no document holds more characters than this
MAX_PAGE = 1_000_000  # pages of any document
MAX_N = 1_000  # a citation's number
# Formats whose "pages" are called something else: a .pptx page is a slide.
PAGE_WORDS = {".pptx": ("slide", "slides")}


class Turn(TypedDict):
    """One turn of a conversation, as ``ask(history=...)`` takes it.

    An assistant turn may carry the ``status`` its answer had: a follow-up to a refused question
    is judged as such without reading the reply's words.
    """

    role: Role
    content: str
    status: NotRequired[Status]


class Message(TypedDict):
    """One chat message sent to a language model."""

    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk: where it is in its source, its text and how it scored."""

    id: str
    source: str
    start: int
    end: int
    text: str
    score: float
    rank: int
    title: str = ""
    dense: float | None = None  # cosine similarity to the question
    keyword: float | None = None  # BM25 score
    page: int | None = None  # first page of a paginated document (1-based)
    page_end: int | None = None  # last page, when the passage runs over a page break

    def where(self) -> dict[str, Any]:
        """Where it stands: source, title, pages and exact span (the start of every shape)."""
        return {
            "source": self.source,
            "title": self.title,
            "page": self.page,
            "page_end": self.page_end,
            "start": self.start,
            "end": self.end,
        }

    def to_dict(self) -> dict[str, Any]:
        """A retrieved passage as ``Answer.to_dict()`` lists it."""
        return {**self.where(), "score": round(self.score, 6), "text": self.text}


@dataclass(frozen=True)
class Span:
    """A stretch of a source document: ``source_text[start:end] == text``."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Citation:
    """A passage the answer cites as ``[n]``, with the sentences it used inside it."""

    n: int
    passage: Passage
    sentences: tuple[Span, ...] = ()
    phrases: tuple[Span, ...] = ()  # the answer-bearing phrase(s) inside those sentences

    @property
    def source(self) -> str:
        return self.passage.source

    @property
    def start(self) -> int:
        return self.passage.start

    @property
    def end(self) -> int:
        return self.passage.end

    @property
    def text(self) -> str:
        return self.passage.text

    @property
    def score(self) -> float:
        return self.passage.score

    @property
    def title(self) -> str:
        return self.passage.title

    @property
    def page(self) -> int | None:
        return self.passage.page

    @property
    def page_end(self) -> int | None:
        return self.passage.page_end

    @property
    def pages(self) -> str:
        """The page or page range in words ("4", "4–5"), or "" for an unpaginated source."""
        p, q = self.passage.page, self.passage.page_end
        if p is None:
            return ""
        return f"{p}–{q}" if q is not None and q != p else str(p)

    @property
    def place(self) -> str:
        """Where in the document, in words: "page 4", "pages 4–5", "slide 2", or ""."""
        return place_words(self.source, self.pages)

    def to_dict(self) -> dict[str, Any]:
        """A citation as ``Answer.to_dict()`` lists it."""
        return {
            "n": self.n,
            **self.passage.where(),
            "text": self.text,
            "score": round(self.score, 6),
            "sentences": [asdict(s) for s in self.sentences],
            "phrases": [asdict(s) for s in self.phrases],
        }

    @classmethod
    def from_dict(cls, c: Any) -> Citation:
        """The citation a ``to_dict()`` record describes; ValueError (or KeyError/TypeError)."""
        start, end, text = _int(c["start"]), _int(c["end"]), checked_text(c["text"])
        page, page_end = _page(c.get("page")), _page(c.get("page_end"))
        if end < start:
            raise ValueError("a passage ends before it starts")
        if page_end is not None and (page is None or page_end < page):
            raise ValueError("a passage's last page is before its first")
        passage = Passage(
            id=f"{c['source']}:{start}",
            source=checked_text(c["source"], 1000),
            start=start,
            end=end,
            text=text,
            score=_score(c.get("score")),
            rank=0,
            title=checked_text(c.get("title") or "", 1000),
            page=page,
            page_end=page_end,
        )
        return cls(
            n=_int(c["n"], MAX_N),
            passage=passage,
            sentences=_spans(c.get("sentences", [])),
            phrases=_spans(c.get("phrases", [])),
        )


def place_words(source: str, pages: str) -> str:
    """A page (range) named as the format calls it: "page 4", "pages 4–5", "slide 2"."""
    if not pages:
        return ""
    suffix = source[source.rfind(".") :].lower() if "." in source else ""
    one, many = PAGE_WORDS.get(suffix, ("page", "pages"))
    return f"{many if '–' in pages else one} {pages}"


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of the answer, the citations it carries and whether the passages support it."""

    text: str
    citations: tuple[int, ...] = ()
    supported: bool = True
    support: float = 1.0
    # The numbers among ``citations`` that the support check gave the sentence: the model cited
    # nothing there, or passages that do not support it.
    added: tuple[int, ...] = ()


@dataclass(frozen=True)
class Stage:
    """How far an answer has come, for a status line: "searching", then "reading" (the model
    reads ``passages`` passages), then the text streams."""

    kind: Literal["searching", "reading"]
    passages: int = 0
    model: str = ""


@dataclass(frozen=True)
class Answer:
    """An answer with its citations, the ranked retrieval behind it, and timings.

    ``status``: "answered"; "uncertain" ("not sure": ``text`` is the best guess, said to be one);
    or "refused" (the documents do not answer the question). ``reason`` says why
    (``qa.outcomes``). ``text`` is what the documents say, without the outcome's words;
    ``reply`` is both together, as a terminal or an API client shows it.
    """

    question: str
    text: str
    citations: tuple[Citation, ...] = ()
    status: Status = ANSWERED
    retrieved: tuple[Passage, ...] = ()
    mode: str = "extractive"
    standalone_question: str = ""
    sentences: tuple[AnswerSentence, ...] = ()
    notice: str = ""  # e.g. "the model server is down; this is the extractive answer"
    timings: dict[str, float] = field(default_factory=dict)
    # A generated answer's tokens: prompt_tokens, completion_tokens, counted_by ("model": the
    # server's own figures; "tokenizer": counted here). Empty for an extractive answer.
    usage: dict[str, int | str] = field(default_factory=dict)
    # What the model was given (generated mode): each passage, numbered as in its prompt, with
    # the sentences of it that the prompt held. Empty when no model was asked.
    read: tuple[Citation, ...] = ()
    reason: str = ""  # why the status (qa.outcomes: "confident", "off-topic", "language:es" ...)

    @property
    def refused(self) -> bool:
        """True when the documents do not answer the question."""
        return self.status == REFUSED

    @property
    def uncertain(self) -> bool:
        """True when the text offers the closest passages rather than an answer."""
        return self.status == UNCERTAIN

    @property
    def reply(self) -> str:
        """The answer as one text: the outcome's words with the answer or guess (qa.outcomes)."""
        return reply(self.status, self.reason, self.text, self.mode.startswith("generated"))

    @property
    def latency_ms(self) -> float:
        """Time from question to answer in milliseconds."""
        return self.timings.get("total_ms", 0.0)

    @property
    def unsupported(self) -> tuple[AnswerSentence, ...]:
        """Answer sentences that the cited passages do not support."""
        return tuple(s for s in self.sentences if not s.supported)

    @property
    def added(self) -> tuple[int, ...]:
        """Citation numbers the support check added to the model's answer."""
        return tuple(dict.fromkeys(n for s in self.sentences for n in s.added))

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape used by ``qa ask --json``, evaluation results and the API."""
        return {
            "question": self.question,
            "answer": self.reply,
            "text": self.text,
            "status": self.status,
            "reason": self.reason,
            "refused": self.refused,
            "citations": [c.to_dict() for c in self.citations],
            "retrieved": [p.to_dict() for p in self.retrieved],
            "mode": self.mode,
            "latency_ms": round(self.latency_ms, 2),
            "standalone_question": self.standalone_question or self.question,
            "unsupported": [s.text for s in self.unsupported],
            "sentences": [asdict(s) for s in self.sentences],
            "read": [c.to_dict() for c in self.read],
            "notice": self.notice,
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
        }

    @classmethod
    def from_dict(cls, record: Any) -> Answer:
        """The Answer a ``to_dict()`` record describes, checked; ValueError (or KeyError/TypeError)
        if damaged. What the page shows comes back: not the retrieval list, not the timings
        but the total."""
        status = record.get("status") or (REFUSED if record.get("refused") else ANSWERED)
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        cites = record.get("citations") or []
        if not isinstance(cites, list) or len(cites) > MAX_CITATIONS:
            raise ValueError("citations must be a short list")
        unsupported = record.get("unsupported") or []
        if not isinstance(unsupported, list) or len(unsupported) > MAX_UNSUPPORTED:
            raise ValueError("unsupported must be a short list")
        read = record.get("read") or []
        if not isinstance(read, list) or len(read) > MAX_CITATIONS:
            raise ValueError("read must be a short list")
        latency = record.get("latency_ms") or 0.0
        if not isinstance(latency, int | float):
            raise ValueError("latency_ms must be a number")
        return cls(
            question=checked_text(record.get("question") or ""),
            # "text" since the outcome's words were kept apart; older records hold only "answer"
            text=checked_text(record.get("text", record.get("answer")) or ""),
            citations=tuple(Citation.from_dict(c) for c in cites),
            status=status,
            reason=checked_text(record.get("reason") or "", 100),
            mode=checked_text(record.get("mode") or "extractive", 200),
            standalone_question=checked_text(record.get("standalone_question") or ""),
            sentences=_sentences(record.get("sentences"), unsupported),
            notice=checked_text(record.get("notice") or ""),
            timings={"total_ms": float(latency)},
            read=tuple(Citation.from_dict(c) for c in read),
        )


def checked_text(value: Any, limit: int = MAX_TEXT) -> str:
    """``value`` if it is a string of at most ``limit`` characters, else ValueError."""
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError("not a string of the expected size")
    return value


def _int(value: Any, limit: int = MAX_OFFSET) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise ValueError(f"not an integer from 0 to {limit:,}")
    return value


def _page(value: Any) -> int | None:
    return None if value is None else _int(value, MAX_PAGE)


def _score(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float) or not -1e6 < value < 1e6:
        raise ValueError("a score is a finite number")
    return float(value)


def _spans(value: Any) -> tuple[Span, ...]:
    if not isinstance(value, list) or len(value) > MAX_SPANS:
        raise ValueError("spans must be a short list")
    spans = []
    for s in value:
        start, end, text = _int(s["start"]), _int(s["end"]), checked_text(s["text"])
        if end < start:
            raise ValueError("a span ends before it starts")
        spans.append(Span(start, end, text))
    return tuple(spans)


def _numbers(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list | tuple) or len(value) > MAX_CITATIONS:
        raise ValueError("citation numbers must be a short list")
    return tuple(_int(n, MAX_N) for n in value)


def _sentences(value: Any, unsupported: list) -> tuple[AnswerSentence, ...]:
    """The answer's checked sentences (older records: only the unsupported ones' texts)."""
    if value is None:
        return tuple(AnswerSentence(checked_text(s), supported=False) for s in unsupported)
    if not isinstance(value, list) or len(value) > MAX_SENTENCES:
        raise ValueError("sentences must be a short list")
    out = []
    for s in value:
        support = s.get("support", 1.0)
        if (
            not isinstance(s.get("supported"), bool)
            or isinstance(support, bool)
            or not (isinstance(support, int | float) and -1e6 < support < 1e6)
        ):
            raise ValueError("a sentence's support must be a flag and a finite number")
        cites, added = _numbers(s.get("citations", [])), _numbers(s.get("added", []))
        out.append(
            AnswerSentence(checked_text(s["text"]), cites, s["supported"], float(support), added)
        )
    return tuple(out)
