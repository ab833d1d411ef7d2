"""The web chat over a folder of documents: ``python app.py`` opens it on http://127.0.0.1:7860.

Options: --docs FOLDER (default seeds/ or QA_DOCS_DIR), --host, --port, --store. Set QA_UI_USER and
QA_UI_PASSWORD to require a login; binding to an address other than loopback requires it.
The same server answers the OpenAI-compatible API under /v1 (qa/http/api.py). Share links are
never made: the page is served from this machine only, and only under its own host names.

A thin shim: it checks its options and runs the serve sequence of ``qa serve --page``
(``qa.cli.main.serve``), with its own progress lines and start-up message.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from index import quiet

log = logging.getLogger("qa.app")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line of the web chat."""
    p = argparse.ArgumentParser(
        description="Chat with your documents in the browser (and the /v1 API beside it).",
        epilog="example:\n  python app.py --docs ~/notes --port 8000",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--docs", type=Path, help="documents folder (QA_DOCS_DIR; default seeds/)")
    p.add_argument("--store", type=Path, help="index folder (QA_STORE_DIR; default .qa_store)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("-v", "--verbose", action="store_true", help="log more")
    return p.parse_args(argv)


def _progress(done: float, total: int) -> None:
    if not total:
        return
    if sys.stderr.isatty():  # one line, rewritten in place
        print(f"\rIndexing documents: {int(done)}/{total} files", end="" if done < total else "\n",
              file=sys.stderr, flush=True)  # fmt: skip
    elif done in (0, total):  # a log file gets the start and the end, not every step
        print(f"Indexing documents: {int(done)}/{total} files", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Check the options, then serve the page and the API as ``qa serve --page`` does."""
    args = parse_args(argv)
    quiet()  # before gradio is imported anywhere: nothing phones home
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    from pydantic import ValidationError

    from qa.cli.main import serve
    from qa.errors import QAError
    from qa.http.server import check_exposure
    from qa.settings import Settings

    t0 = time.perf_counter()
    overrides = {k: v for k, v in (("docs_dir", args.docs), ("store_dir", args.store)) if v}
    try:  # what the user must change is a usage error (2), found before anything starts
        settings = Settings(**overrides)
        check_exposure(args.host, settings)
    except ValidationError as exc:
        print(f"error: invalid setting: {exc}", file=sys.stderr)
        return 2
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not Path(settings.docs_dir).is_dir():
        print(f"error: the documents folder {settings.docs_dir} does not exist.", file=sys.stderr)
        return 2

    def announce(engine, base: str) -> None:
        from qa.web import mode_label

        log.info("page built in %.1f s", time.perf_counter() - t0)
        print(f"Answer mode: {mode_label(engine.mode)}; documents: {settings.docs_dir}", flush=True)
        print(f"Chat on {base}/ ; API on {base}/v1 ; MCP on {base}/mcp", flush=True)

    def on_watch() -> None:
        print(f"Watching {settings.docs_dir} for changes (QA_WATCH=false turns it off)", flush=True)

    try:
        serve(
            settings,
            args.host,
            args.port,
            page=True,
            announce=announce,
            on_watch=on_watch,
            progress=_progress,
        )
    except QAError as exc:  # e.g. the port is taken, the index cannot be opened
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
