"""The ``qa`` command: ingest, ask, docs, rm, eval, bench, llm-server. Thin: it parses, calls, prints."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import textwrap
from dataclasses import asdict
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

    settings = _settings(args)
    report = ingest(
        settings.ingest_config,
        args.paths or None,
        progress=_progress_bar("Indexing"),
        rebuild=args.rebuild,
    )
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


def cmd_docs(args: argparse.Namespace) -> int:
    from qa.folder import Folder
    from qa.pipeline import get_engine

    settings = _settings(args)
    docs = get_engine(settings).documents()
    if args.json:
        print(json.dumps([asdict(d) for d in docs], ensure_ascii=False, indent=2))
        return 0
    print(_format_documents(docs))
    indexed = {d.source for d in docs}
    new = [s for s in Folder(Path(settings.docs_dir)).files() if s not in indexed]
    if new:
        shown = ", ".join(new[:5]) + (f" and {len(new) - 5} more" if len(new) > 5 else "")
        print(f"\nNot indexed yet in {settings.docs_dir}: {shown}. Run: qa ingest")
    return 0


def _format_documents(docs) -> str:
    if not docs:
        return "No documents are indexed. Index a folder with: qa ingest [FOLDER]"
    rows = [("SOURCE", "TITLE", "CHUNKS", "PAGES", "STATUS")]
    for d in docs:
        title = " ".join(d.title.split())  # one line per document, whatever the title holds
        title = title if len(title) <= 40 else title[:39] + "…"
        rows.append(
            (d.source, title, f"{d.chunks:,}", f"{d.pages:,}" if d.pages else "-", d.status)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.rjust(w) if i in (2, 3) else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    total = sum(d.chunks for d in docs)
    lines.append(f"{len(docs):,} document{'s' if len(docs) != 1 else ''}, {total:,} chunks")
    return "\n".join(lines)


def cmd_rm(args: argparse.Namespace) -> int:
    from qa.folder import Folder, remove_document
    from qa.pipeline import get_engine

    settings = _settings(args)
    folder = Folder(Path(settings.docs_dir))
    deleted = remove_document(get_engine(settings), folder, args.source, keep_file=args.keep_file)
    if deleted:
        print(f"Removed {args.source} from the index and deleted {folder.file(args.source)}.")
    elif args.keep_file:
        print(
            f"Removed {args.source} from the index; the file stays in {settings.docs_dir} "
            "(the next qa ingest of that folder indexes it again)."
        )
    else:
        print(
            f"Removed {args.source} from the index (there was no such file in {settings.docs_dir})."
        )
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

    def described(text: str, *examples: str) -> dict:
        # The one-line help is also the description, and --help ends with examples to copy.
        epilog = "examples:\n" + "\n".join(f"  {e}" for e in examples)
        return dict(
            help=text,
            description=text[0].upper() + text[1:] + ".",
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    sp = sub.add_parser(
        "docs",
        **described(
            "list the indexed documents: source, title, chunks, pages, status",
            "qa docs",
            "qa docs --store ~/.qa_notes --json > documents.json",
        ),
    )
    sp.add_argument("--json", action="store_true", help="print one JSON list")
    sp.add_argument("--docs", dest="docs_dir", type=Path, help="documents folder (QA_DOCS_DIR)")
    common(sp)
    sp.set_defaults(func=cmd_docs)

    sp = sub.add_parser(
        "rm",
        **described(
            "remove a document from the index and its file from the documents folder",
            "qa rm minutes.pdf                     # from the index and from seeds/",
            "qa rm notes/todo.md --docs ~/docs     # SOURCE as qa docs lists it",
            "qa rm minutes.pdf --keep-file         # from the index only",
        ),
    )
    sp.add_argument("source", help="the document as qa docs names it")
    sp.add_argument(
        "--keep-file", action="store_true", help="leave the file in the documents folder"
    )
    sp.add_argument("--docs", dest="docs_dir", type=Path, help="documents folder (QA_DOCS_DIR)")
    common(sp)
    sp.set_defaults(func=cmd_rm)

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
