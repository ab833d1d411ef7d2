"""Question answering over a folder of documents, with citations to the exact passages.

from qa import ask
answer = ask("Who did Blinken meet?")
print(answer.text)
for c in answer.citations:
    print(c.n, c.source, c.start, c.end)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.types import IngestReport
    from qa.settings import Settings
    from qa.types import Answer, Passage, Turn

__all__ = ["Settings", "ask", "ask_stream", "ingest", "retrieve"]


def ask(
    question: str,
    history: Sequence[Turn] | None = None,
    settings: Settings | None = None,
    sources: Sequence[str] | None = None,
    **options,
) -> Answer:
    """Answer a question from the indexed documents; options override settings fields.

    ``sources``: ask only these documents (their names as ``qa docs`` lists them).
    """
    from qa.engine import get_engine

    return get_engine(settings, **options).ask(question, history, sources)


def ask_stream(
    question: str,
    history: Sequence[Turn] | None = None,
    settings: Settings | None = None,
    sources: Sequence[str] | None = None,
    **options,
) -> Iterator[str | Answer]:
    """Yield the answer text in pieces, then the final Answer."""
    from qa.engine import get_engine

    return get_engine(settings, **options).ask_stream(question, history, sources)


def retrieve(
    question: str,
    k: int | None = None,
    settings: Settings | None = None,
    sources: Sequence[str] | None = None,
    **options,
) -> list[Passage]:
    """The k best passages for a question, ranked (of ``sources`` only, if given)."""
    from qa.engine import get_engine

    return get_engine(settings, **options).retrieve(question, k, sources=sources)


def ingest(
    paths: Sequence[str | Path] | None = None,
    settings: Settings | None = None,
    progress: Callable[[int, int], None] | None = None,
    **options,
) -> IngestReport:
    """Index documents (default: the documents folder) into the configured store."""
    from index.ingest import ingest as _ingest
    from qa.engine import reset_engines
    from qa.settings import Settings as _Settings

    settings = settings or _Settings(**options)
    report = _ingest(
        settings.ingest_config, [Path(p) for p in paths] if paths else None, progress=progress
    )
    reset_engines()
    return report


def __getattr__(name: str):
    if name == "Settings":
        from qa.settings import Settings

        return Settings
    raise AttributeError(name)
