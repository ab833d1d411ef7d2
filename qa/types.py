"""Plain records passed between the answering stages and to every interface."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


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


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of the answer, the citations it carries and whether the passages support it."""

    text: str
    citations: tuple[int, ...] = ()
    supported: bool = True
    support: float = 1.0


@dataclass(frozen=True)
class Answer:
    """An answer with its citations, the ranked retrieval behind it, and timings."""

    question: str
    text: str
    citations: tuple[Citation, ...] = ()
    refused: bool = False
    retrieved: tuple[Passage, ...] = ()
    mode: str = "extractive"
    standalone_question: str = ""
    sentences: tuple[AnswerSentence, ...] = ()
    notice: str = ""  # e.g. "the model server is down; this is the extractive answer"
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def latency_ms(self) -> float:
        """Time from question to answer in milliseconds."""
        return self.timings.get("total_ms", 0.0)

    @property
    def unsupported(self) -> tuple[AnswerSentence, ...]:
        """Answer sentences that the cited passages do not support."""
        return tuple(s for s in self.sentences if not s.supported)

    def to_dict(self) -> dict:
        """The JSON shape used by ``qa ask --json``, evaluation results and the API."""
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "citations": [
                {
                    "n": c.n,
                    "source": c.source,
                    "start": c.start,
                    "end": c.end,
                    "text": c.text,
                    "score": round(c.score, 6),
                    "sentences": [asdict(s) for s in c.sentences],
                }
                for c in self.citations
            ],
            "retrieved": [
                {
                    "source": p.source,
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
            "notice": self.notice,
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
        }
