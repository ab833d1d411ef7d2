"""The ``qa`` command: ingest, ask, eval, bench, llm-server. Thin: it parses, calls, prints."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import textwrap
from pathlib import Path

from index.offline import quiet
from qa.errors import QAError
from qa.settings import Settings

log = logging.getLogger("qa")


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    for field in ("store_dir", "collection", "docs_dir", "top_k", "retrieval"):
        value = getattr(args, field, None)
        if value is not None:
            overrides[field] = value
    return Settings(**overrides)


def _progress_bar(desc: str):
    from tqdm import tqdm

    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=desc, unit="file", file=sys.stderr, leave=False)
        bar.total = total
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


def cmd_ingest(args: argparse.Namespace) -> int:
    from index.ingest import ingest
    from index.keyword import KeywordIndex
    from index.store import drop_collection

    settings = _settings(args)
    if args.rebuild:
        drop_collection(settings.store_config)
        KeywordIndex.remove(settings.store_config)
    report = ingest(settings.ingest_config, args.paths or None, progress=_progress_bar("Indexing"))
    print(report.summary())
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from qa.pipeline import get_engine
    from qa.types import Answer

    settings = _settings(args)
    question = " ".join(args.question)
    if question == "-":
        question = sys.stdin.read()
    engine = get_engine(settings)
    if args.stream and not args.json:
        answer = None
        for piece in engine.ask_stream(question):
            if isinstance(piece, Answer):
                answer = piece
            else:
                print(piece, end="", flush=True)
        print()
        print(_format_sources(answer))
        return 0
    answer = engine.ask(question)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(answer.text)
        print(_format_sources(answer))
    return 0


def _format_sources(answer) -> str:
    lines = []
    if answer.notice:
        lines.append(f"\nNote: {answer.notice}")
    for s in answer.unsupported:
        lines.append(f"(not supported by the cited passages: {s.text!r})")
    if answer.citations:
        lines.append("\nSources:")
    for c in answer.citations:
        lines.append(f"[{c.n}] {c.source} (chars {c.start}-{c.end}, score {c.score:.3f})")
        lines.append(textwrap.indent(textwrap.fill(c.text, 96), "    "))
    lines.append(f"\n({answer.mode}, {answer.latency_ms:.0f} ms)")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``qa`` command."""
    p = argparse.ArgumentParser(prog="qa", description="Question answering over your documents.")
    p.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--store", dest="store_dir", type=Path, help="store folder (QA_STORE_DIR)")
        sp.add_argument("--collection", help="Chroma collection (QA_COLLECTION)")

    sp = sub.add_parser("ingest", help="index documents (default: seeds/)")
    sp.add_argument("paths", nargs="*", type=Path, help="files or folders (default: QA_DOCS_DIR)")
    sp.add_argument("--rebuild", action="store_true", help="drop the collection and index afresh")
    common(sp)
    sp.set_defaults(func=cmd_ingest)

    sp = sub.add_parser("ask", help="ask a question ('-' reads it from standard input)")
    sp.add_argument("question", nargs="+")
    sp.add_argument("--json", action="store_true", help="print one JSON object")
    sp.add_argument("--stream", action="store_true", help="print the answer as it is written")
    sp.add_argument("-k", "--top-k", dest="top_k", type=int, help="passages to use")
    sp.add_argument("--mode", dest="retrieval", choices=["hybrid", "dense", "bm25"])
    common(sp)
    sp.set_defaults(func=cmd_ask)

    # Sub-commands that live with their code: qa eval, qa llm-server.
    from qa import llm_server
    from qa.evaluation import cli as evaluation_cli

    evaluation_cli.register(sub, common)
    llm_server.register(sub, common)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``qa`` console script."""
    quiet()
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.func(args)
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "interrupted; the index is left consistent, run the same command again", file=sys.stderr
        )
        return 130
    except Exception as exc:
        log.debug("unexpected error", exc_info=True)
        print(f"error: {type(exc).__name__}: {exc} (run with -v for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
