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
    from index import IngestReport
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
    progress: Callable[[float, int], None] | None = None,
    *,
    rebuild: bool = False,
    prune: bool = True,
    **options,
) -> IngestReport:
    """Index documents (default: the documents folder) into the configured store.

    ``rebuild``: drop the collection and index afresh. ``prune``: remove documents no longer in
    the folders given (files named one by one never remove others). ``options``: settings
    fields, over ``settings`` when given (``collection="notes"``, ``chunk_tokens=128``); any
    other name is refused with a ConfigError.
    """
    from qa.engine import ingest as _ingest
    from qa.settings import with_options

    settings = with_options(settings, options)
    files = [Path(p) for p in paths] if paths else None
    return _ingest(settings, files, progress=progress, rebuild=rebuild, prune=prune)


def __getattr__(name: str):
    if name == "Settings":
        from qa.settings import Settings

        return Settings
    raise AttributeError(name)
