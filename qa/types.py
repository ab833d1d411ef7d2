"""Plain records passed between the answering stages and to every interface."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal, TypedDict

Role = Literal["user", "assistant"]
Status = Literal["answered", "uncertain", "refused"]
ANSWERED: Status = "answered"
UNCERTAIN: Status = "uncertain"  # "not sure": the closest passages, said to be such
REFUSED: Status = "refused"  # "the documents don't say"
# Formats whose "pages" are called something else: a .pptx page is a slide.
PAGE_WORDS = {".pptx": ("slide", "slides")}


class Turn(TypedDict):
    """One turn of a conversation, as ``ask(history=...)`` takes it."""

    role: Role
    content: str


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

    ``status``: "answered"; "uncertain" (the text presents the closest passages, not an answer);
    or "refused" (the documents do not answer the question).
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
    # What the model was given (generated mode): each passage, numbered as in its prompt, with
    # the sentences of it that the prompt held. Empty when no model was asked.
    read: tuple[Citation, ...] = ()

    @property
    def refused(self) -> bool:
        """True when the documents do not answer the question."""
        return self.status == REFUSED

    @property
    def uncertain(self) -> bool:
        """True when the text offers the closest passages rather than an answer."""
        return self.status == UNCERTAIN

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

    def to_dict(self) -> dict:
        """The JSON shape used by ``qa ask --json``, evaluation results and the API."""
        return {
            "question": self.question,
            "answer": self.text,
            "status": self.status,
            "refused": self.refused,
            "citations": [_citation_dict(c) for c in self.citations],
            "retrieved": [
                {
                    "source": p.source,
                    "title": p.title,
                    "page": p.page,
                    "page_end": p.page_end,
                    "start": p.start,
                    "end": p.end,
                    "score": round(p.score, 6),
                    "text": p.text,
                }
                for p in self.retrieved
            ],
            "mode": self.mode,
            "latency_ms": round(self.latency_ms, 2),
            "standalone_question": self.standalone_question or self.question,
            "unsupported": [s.text for s in self.unsupported],
            "sentences": [asdict(s) for s in self.sentences],
            "read": [_citation_dict(c) for c in self.read],
            "notice": self.notice,
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
        }


def _citation_dict(c: Citation) -> dict:
    return {
        "n": c.n,
        "source": c.source,
        "title": c.title,
        "page": c.page,
        "page_end": c.page_end,
        "start": c.start,
        "end": c.end,
        "text": c.text,
        "score": round(c.score, 6),
        "sentences": [asdict(s) for s in c.sentences],
        "phrases": [asdict(s) for s in c.phrases],
    }
