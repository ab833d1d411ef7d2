"""The ``qa`` command: ingest, ask, chat, docs, rm, serve, mcp, eval, llm-server. Thin: it parses, calls,
prints (through qa.cli.output, which makes document text safe for a terminal)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from index import quiet
from index.text import squash_spaces
from qa.cli.output import format_documents, format_report, format_sources, format_sync
from qa.cli.terminal import ProgressBar, clean, json_text
from qa.errors import BadQuestionError, ConfigError, QAError
from qa.settings import Settings

if TYPE_CHECKING:
    from index import Progress
    from qa.engine import Engine

log = logging.getLogger("qa")


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    for field in ("store_dir", "collection", "docs_dir", "top_k", "retrieval"):
        value = getattr(args, field, None)
        if value is not None:
            overrides[field] = value
    return Settings(**overrides)


EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NOT_ANSWERED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_CODES = """exit codes:
  0  done (qa ask: answered, or any outcome without --strict)
  1  error (the message says what to do)
  2  wrong usage (unknown option, missing argument)
  3  qa ask --strict: the documents do not answer it (refused) or the answer is uncertain
  130 interrupted (Ctrl-C); the index is left consistent"""


def cmd_ingest(args: argparse.Namespace) -> int:
    from qa.engine import ingest

    settings = _settings(args)
    if args.watch:
        settings = _watched(args, settings)
        args.paths = None  # the documents folder, mirrored
    bar = ProgressBar("Indexing")
    try:
        report = ingest(settings, args.paths or None, progress=bar, rebuild=args.rebuild)
    finally:
        bar.close()
    print(format_report(report))
    return _watch(settings) if args.watch else EXIT_OK


def _watched(args: argparse.Namespace, settings: Settings) -> Settings:
    """The settings of qa ingest --watch [FOLDER]: that one folder is the documents folder."""
    if not args.paths:
        return settings
    if len(args.paths) > 1 or not args.paths[0].is_dir():
        raise BadQuestionError(
            "qa ingest --watch watches one folder: qa ingest --watch ~/notes (or QA_DOCS_DIR)."
        )
    return Settings(**{**settings.model_dump(), "docs_dir": args.paths[0]})


def _watch(settings: Settings) -> int:
    from qa.engine import get_engine
    from qa.library.signals import started
    from qa.library.watch import FolderWatcher

    watcher = FolderWatcher(  # started: Ctrl-C reaches this thread (qa/library/signals.py)
        started(lambda: get_engine(settings)), on_sync=lambda s: print(format_sync(s), flush=True)
    )
    print(f"Watching {clean(str(settings.docs_dir))} for changes; Ctrl-C stops.", flush=True)
    try:
        watcher.run()
    except KeyboardInterrupt:
        print("Stopped watching; the index is in step with the folder as of the last change.")
    return EXIT_OK


def _question(args: argparse.Namespace) -> str:
    words = args.question
    if words in ([], ["-"]):
        if not words and sys.stdin is not None and sys.stdin.isatty():
            raise BadQuestionError(
                'Give a question: qa ask "Who did Blinken meet?" (or pipe it: echo ... | qa ask)'
            )
        return sys.stdin.read()
    return " ".join(words)


def cmd_ask(args: argparse.Namespace) -> int:
    from qa.engine import get_engine
    from qa.types import Answer

    settings = _settings(args)
    question = _question(args)
    engine = get_engine(settings)
    verbose = args.verbose or args.ask_verbose
    sources = args.sources or None
    if args.stream and not args.json:
        answer, shown = None, ""
        for piece in engine.ask_stream(question, sources=sources):
            if isinstance(piece, Answer):
                answer = piece
            else:
                shown += piece
                print(clean(piece), end="", flush=True)
        print()
        if answer.added and answer.text != shown:  # the checker cited what the model did not
            print(f"\nWith the citations the checker added:\n{clean(answer.text)}")
        print(format_sources(answer, verbose))
    else:
        answer = engine.ask(question, sources=sources)
        if args.json:
            print(json_text(answer.to_dict()))
        else:
            print(_mark_phrases(answer, sys.stdout.isatty()))
            print(format_sources(answer, verbose))
    if args.strict and answer.status != "answered":
        return EXIT_NOT_ANSWERED
    return EXIT_OK


def _mark_phrases(answer, bold: bool) -> str:
    """The answer text, cleaned for the terminal, its answer-bearing phrases in bold on a tty."""
    text = clean(answer.reply)
    if not bold:
        return text
    for phrase in {squash_spaces(clean(p.text)) for c in answer.citations for p in c.phrases}:
        text = text.replace(phrase, f"\x1b[1m{phrase}\x1b[22m", 1)  # our escape, after cleaning
    return text


def cmd_docs(args: argparse.Namespace) -> int:
    from qa.engine import get_engine
    from qa.library.folder import Folder

    settings = _settings(args)
    docs = get_engine(settings).documents()
    if args.json:
        print(json_text([asdict(d) for d in docs]))
        return EXIT_OK
    print(format_documents(docs))
    indexed = {d.source for d in docs}
    new = [s for s in Folder(Path(settings.docs_dir)).files() if s not in indexed]
    if new:
        shown = ", ".join(clean(s, one_line=True) for s in new[:5])
        shown += f" and {len(new) - 5} more" if len(new) > 5 else ""
        print(
            f"\nNot indexed yet in {settings.docs_dir}: {shown}. Run: qa ingest (a document "
            "you removed comes back only when named: qa ingest FILE)"
        )
    return EXIT_OK


def cmd_rm(args: argparse.Namespace) -> int:
    from qa.engine import get_engine
    from qa.library.folder import Folder, remove_document

    settings = _settings(args)
    folder = Folder(Path(settings.docs_dir))
    deleted = remove_document(get_engine(settings), folder, args.source, keep_file=args.keep_file)
    name = clean(args.source, one_line=True)
    if deleted:
        print(f"Removed {name} from the index and deleted {clean(folder.file(args.source))}.")
    elif args.keep_file:
        print(
            f"Removed {name} from the index; the file stays in {settings.docs_dir} and out of "
            f"the index until you add it back: qa ingest {clean(folder.file(args.source))}"
        )
    else:
        print(f"Removed {name} from the index (there was no such file in {settings.docs_dir}).")
    return EXIT_OK


def serve(
    settings: Settings,
    host: str,
    port: int,
    *,
    page: bool,
    announce: Callable[[Engine | None, str], None],
    on_watch: Callable[[], None],
    ingest: bool = True,
    progress: Progress | None = None,
) -> None:
    """The one serve sequence, of ``qa serve`` and ``python app.py``.

    Refuse to listen beyond this machine without a login; take the port before any work (a taken
    one fails at once); bring the index in step with the folder (``ingest``; a ``progress`` with
    ``close`` is closed after it); build the server (the chat page too with ``page``);
    ``announce(engine, base URL)``; watch the folder (unless QA_WATCH=false; then
    ``on_watch()``) and load the embedder in the background; serve until interrupted. A QAError
    says what went wrong.
    """
    from qa.http import server

    server.check_exposure(host, settings)
    try:
        sock = server.bind(host, port)
    except OSError as exc:
        raise ConfigError(f"cannot serve on {host}:{port}: {exc}") from exc
    try:
        engine = server.prepare_engine(settings, progress=progress) if ingest else None
    finally:
        if close := getattr(progress, "close", None):
            close()
    app = server.build_server(settings, engine, host=host, port=port, page=page)
    announce(engine, f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}")
    if engine is not None:
        if server.watch(engine, settings):
            on_watch()
        server.warm(engine)
    server.serve(app, sock)


def cmd_serve(args: argparse.Namespace) -> int:
    from qa.http.server import login

    settings = _settings(args)

    def announce(engine: Engine | None, base: str) -> None:
        what = f"chat on {base}/ and API" if args.page else "API"
        key = " (login: QA_UI_USER:QA_UI_PASSWORD as the API key)" if login(settings) else ""
        print(f"Serving the {what} on {base}/v1{key}; model {settings.collection!r}", flush=True)

    def on_watch() -> None:
        print(f"Watching {clean(str(settings.docs_dir))} for changes (QA_WATCH=false: off)")

    serve(
        settings,
        args.host,
        args.port,
        page=args.page,
        announce=announce,
        on_watch=on_watch,
        ingest=not args.no_ingest,
        progress=ProgressBar("Indexing"),
    )
    return EXIT_OK


def _described(text: str, *examples: str) -> dict:
    # The one-line help is also the description, and --help ends with examples to copy.
    epilog = "examples:\n" + "\n".join(f"  {e}" for e in examples)
    return dict(
        help=text,
        description=text[0].upper() + text[1:] + ".",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``qa`` command."""
    p = argparse.ArgumentParser(
        prog="qa",
        description="Question answering over your documents, with citations.",
        epilog='examples:\n  qa ingest ~/notes\n  qa ask "Who did Blinken meet?"\n\n' + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--store", dest="store_dir", type=Path, help="store folder (QA_STORE_DIR)")
        sp.add_argument("--collection", help="Chroma collection (QA_COLLECTION)")

    def docs_option(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--docs", dest="docs_dir", type=Path, help="documents folder (QA_DOCS_DIR)")

    sp = sub.add_parser(
        "ingest",
        **_described(
            "index documents, only what is new or changed (default: the documents folder)",
            "qa ingest                        # seeds/, or QA_DOCS_DIR",
            "qa ingest ~/notes docs/manual.pdf",
            "qa ingest seeds/minutes.pdf      # one file, added back if it was removed",
            "qa ingest --rebuild              # drop the collection and index afresh",
            "qa ingest --watch ~/notes        # and keep it in step until Ctrl-C",
        ),
    )
    sp.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="files or folders (default: QA_DOCS_DIR); folders are mirrored, files named alone "
        "are added and remove nothing",
    )
    sp.add_argument("--rebuild", action="store_true", help="drop the collection and index afresh")
    sp.add_argument(
        "--watch",
        action="store_true",
        help="then keep watching the folder: index new and edited files, remove deleted ones",
    )
    common(sp)
    sp.set_defaults(func=cmd_ingest)

    sp = sub.add_parser(
        "ask",
        **_described(
            "ask a question (read from standard input when none is given, or with '-')",
            'qa ask "Who did Blinken meet in Munich?"',
            'qa ask --json "Who is the State Department spokesman?" > answer.json',
            "echo 'Where is Wang going next?' | qa ask --strict || echo 'not answered'",
            'qa ask --source report.pdf --source notes/minutes.docx "When is the deadline?"',
        ),
    )
    sp.epilog += "\n\n" + EXIT_CODES
    sp.add_argument("question", nargs="*", help="the question (default: standard input)")
    sp.add_argument("--json", action="store_true", help="print one JSON object")
    sp.add_argument("--stream", action="store_true", help="print the answer as it is written")
    sp.add_argument(
        "--strict", action="store_true", help="exit with 3 when the answer is refused or uncertain"
    )
    sp.add_argument(
        "--verbose",
        dest="ask_verbose",
        action="store_true",
        help="show each source's file, exact characters and score",
    )
    sp.add_argument(
        "--source",
        dest="sources",
        action="append",
        metavar="NAME",
        help="ask only this document (as qa docs names it); repeat for more",
    )
    sp.add_argument("-k", "--top-k", dest="top_k", type=int, help="passages to use")
    sp.add_argument("--mode", dest="retrieval", choices=["hybrid", "dense", "bm25"])
    common(sp)
    sp.set_defaults(func=cmd_ask)

    sp = sub.add_parser(
        "docs",
        **_described(
            "list the indexed documents: source, title, chunks, pages, status",
            "qa docs",
            "qa docs --store ~/.qa_notes --json > documents.json",
        ),
    )
    sp.add_argument("--json", action="store_true", help="print one JSON list")
    docs_option(sp)
    common(sp)
    sp.set_defaults(func=cmd_docs)

    sp = sub.add_parser(
        "rm",
        **_described(
            "remove a document from the index and its file from the documents folder",
            "qa rm minutes.pdf                     # from the index and from seeds/",
            "qa rm notes/todo.md --docs ~/docs     # SOURCE as qa docs lists it",
            "qa rm minutes.pdf --keep-file         # from the index only (until named again)",
        ),
    )
    sp.add_argument("source", help="the document as qa docs names it")
    sp.add_argument(
        "--keep-file", action="store_true", help="leave the file in the documents folder"
    )
    docs_option(sp)
    common(sp)
    sp.set_defaults(func=cmd_rm)

    sp = sub.add_parser(
        "serve",
        **_described(
            "serve the OpenAI-compatible API (/v1; --page: the web chat too)",
            "qa serve                               # http://127.0.0.1:7860/v1, model 'documents'",
            "qa serve --page --port 8000            # the chat page on / as well",
            "QA_UI_USER=ann QA_UI_PASSWORD=... qa serve --host 0.0.0.0   # exposed: login needed",
        ),
    )
    sp.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sp.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    sp.add_argument("--page", action="store_true", help="serve the web chat on / as well")
    sp.add_argument(
        "--no-ingest",
        action="store_true",
        help="serve the index as it is (default: bring it in step with the folder first)",
    )
    docs_option(sp)
    common(sp)
    sp.set_defaults(func=cmd_serve)

    # Sub-commands that live with their code: qa eval, qa llm-server, qa mcp, qa chat.
    from qa.cli import chat
    from qa.evaluation import cli as evaluation_cli
    from qa.llm import server as llm_server
    from qa.mcp import cli as mcp_cli

    evaluation_cli.register(sub, common)
    llm_server.register(sub, common)
    mcp_cli.register(sub, common)
    chat.register(sub, common)
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
        print(f"error: {clean(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(
            "interrupted; the index is left consistent, run the same command again", file=sys.stderr
        )
        return EXIT_INTERRUPTED
    except Exception as exc:
        log.debug("unexpected error", exc_info=True)
        print(
            f"error: {type(exc).__name__}: {clean(exc)} (run with -v for details)", file=sys.stderr
        )
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
