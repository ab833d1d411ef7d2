"""The web chat over a folder of documents: ``python app.py`` opens it on http://127.0.0.1:7860.

Options: --docs FOLDER (default seeds/ or QA_DOCS_DIR), --host, --port, --store. Set QA_UI_USER and
QA_UI_PASSWORD to require a login; binding to an address other than loopback requires it.
Share links are never made: the page is served from this machine only.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from index.offline import quiet
from qa.hosts import is_loopback

log = logging.getLogger("qa.app")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line of the web chat."""
    p = argparse.ArgumentParser(description="Chat with your documents in the browser.")
    p.add_argument("--docs", type=Path, help="documents folder (QA_DOCS_DIR; default seeds/)")
    p.add_argument("--store", type=Path, help="index folder (QA_STORE_DIR; default .qa_store)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("-v", "--verbose", action="store_true", help="log more")
    return p.parse_args(argv)


def login(settings) -> tuple[str, str] | None:
    """The (user, password) pair for Gradio's login, when both are set."""
    if settings.ui_user and settings.ui_password:
        return settings.ui_user, settings.ui_password.get_secret_value()
    return None


def _progress(done: int, total: int) -> None:
    if total:
        print(
            f"\rIndexing documents: {done}/{total} files",
            end="" if done < total else "\n",
            file=sys.stderr,
            flush=True,
        )


def prepare_engine(settings):
    """The engine over an index in step with the documents folder (indexing what changed)."""
    from index.ingest import ingest
    from qa.errors import IndexNotFoundError
    from qa.pipeline import get_engine

    try:
        engine = get_engine(settings)
    except IndexNotFoundError:
        report = ingest(settings.ingest_config, progress=_progress)  # first start: build the index
        log.info("indexed: %s", report.summary())
        return get_engine(settings)
    report = engine.ingest(progress=_progress)
    if report.added or report.updated or report.removed or report.skipped:
        log.info("indexed: %s", report.summary())
    return engine


def main(argv: list[str] | None = None) -> int:
    """Check the options, bring the index up to date, and serve the page."""
    args = parse_args(argv)
    quiet()  # before gradio is imported anywhere: nothing phones home
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    from pydantic import ValidationError

    from qa.errors import QAError
    from qa.settings import Settings

    t0 = time.perf_counter()
    overrides = {k: v for k, v in (("docs_dir", args.docs), ("store_dir", args.store)) if v}
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        print(f"error: invalid setting: {exc}", file=sys.stderr)
        return 2
    auth = login(settings)
    if not is_loopback(args.host) and auth is None:
        print(
            f"error: refusing to serve on {args.host} without a login: anyone who can reach this "
            "machine could read and change your documents. Set QA_UI_USER and QA_UI_PASSWORD, or "
            "bind to 127.0.0.1.",
            file=sys.stderr,
        )
        return 2
    if not Path(settings.docs_dir).is_dir():
        print(f"error: the documents folder {settings.docs_dir} does not exist.", file=sys.stderr)
        return 2

    try:
        engine = prepare_engine(settings)
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    # Gradio imports IPython for notebook support when it is installed: 0.2-0.4 s of start-up
    # that a script never needs (Gradio falls back cleanly when IPython is absent).
    sys.modules.setdefault("IPython", None)
    from qa import web

    demo = web.build_app(engine)  # imports gradio: over half of the start-up time
    log.info("page built in %.1f s", time.perf_counter() - t0)
    print(f"Answer mode: {web.mode_label(engine.mode)}; documents: {settings.docs_dir}", flush=True)
    try:
        web.serve(
            demo,
            host=args.host,
            port=args.port,
            auth=auth,
            max_file_size=settings.max_file_bytes,
        )
    except OSError as exc:  # e.g. the port is taken
        print(f"error: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
