"""The one HTTP server: the OpenAI-compatible API, MCP at /mcp, and the web chat page beside them.

``python app.py`` serves both; ``qa serve`` the API alone (``--page`` adds the chat). Every
request, page, Gradio's own routes (uploads included) and the API alike, passes the host guard
first (DNS rebinding: 403 for a foreign Host or Origin), then the login when one is set.
"""

from __future__ import annotations

import logging
import socket
import sys
import threading

from index import Progress
from qa.engine import Engine, get_engine, ingest
from qa.errors import ConfigError
from qa.http.api import ChatAPI
from qa.http.hosts import HostGuard, allowed_hosts, is_loopback
from qa.settings import Settings

log = logging.getLogger(__name__)

AUTH_MESSAGE = "Log in with QA_UI_USER / QA_UI_PASSWORD."


def login(settings: Settings) -> tuple[str, str] | None:
    """The (user, password) pair of the login, when both are set."""
    if settings.ui_user and settings.ui_password:
        return settings.ui_user, settings.ui_password.get_secret_value()
    return None


def check_exposure(host: str, settings: Settings) -> None:
    """ConfigError when the server would listen beyond this machine without a login."""
    if not is_loopback(host) and login(settings) is None:
        raise ConfigError(
            f"refusing to serve on {host} without a login: anyone who can reach this machine "
            "could read and change your documents. Set QA_UI_USER and QA_UI_PASSWORD, or bind "
            "to 127.0.0.1."
        )


def prepare_engine(settings: Settings, progress: Progress | None = None) -> Engine:
    """The engine over an index in step with the documents folder (indexing what changed, or
    all of it at the first start), pruned as the app's ingest is (``Engine.ingest``)."""
    report = ingest(settings, progress=progress, prune=None)
    if report.added or report.updated or report.removed or report.skipped:
        log.info("indexed: %s", report.summary())
    return get_engine(settings)


def watch(engine: Engine, settings: Settings):
    """Keep the index in step with the documents folder while serving (unless QA_WATCH=false);
    returns the running FolderWatcher, or None."""
    if not settings.watch:
        return None
    from qa.library.watch import FolderWatcher

    return FolderWatcher(engine).start()


def warm(engine: Engine) -> None:
    """Load a local embedding model and the vectors of exact search in the background (after
    the page is built: on two cores it would slow the build); a model behind an API has nothing
    to load and is not called."""
    model = getattr(engine.embedder, "warm", None)

    def run() -> None:
        try:
            if model is not None:
                model()
            engine.corpus.warm()
        except Exception as exc:  # the first question loads them again, or says why
            log.warning("warming up failed (the first question will try again): %s", exc)

    threading.Thread(target=run, name="warm", daemon=True).start()


def build_server(
    settings: Settings,
    engine: Engine | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    page: bool = True,
):
    """The ASGI app: host guard around the /v1 API, the MCP endpoint /mcp and, with ``page``,
    the chat at /."""
    from fastapi import FastAPI
    from starlette.routing import Route

    from qa.mcp.server import http_app

    auth = login(settings)
    mcp, lifespan = http_app(engine if engine is not None else lambda: get_engine(settings), auth)
    app = FastAPI(
        title="qa-chat", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.include_router(ChatAPI(settings, auth).router())
    app.router.routes.append(Route("/mcp", mcp, methods=["GET", "POST", "DELETE"]))
    if page:
        if engine is None:
            engine = get_engine(settings)
        _mount_page(app, engine, settings, host, port, auth)
    return HostGuard(app, allowed_hosts(host, settings.extra_hosts), settings.extra_hosts)


def _mount_page(app, engine: Engine, settings: Settings, host: str, port: int, auth) -> None:
    # Gradio imports IPython for notebook support when it is installed: 0.2-0.4 s of start-up
    # that a server never needs (Gradio falls back cleanly when IPython is absent).
    sys.modules.setdefault("IPython", None)
    import gradio as gr

    from qa.web.page import FOOTER_LINKS, build_app, make_theme, stylesheet

    demo = build_app(engine)
    gr.mount_gradio_app(
        app,
        demo,
        path="/",
        server_name=host,
        server_port=port,
        auth=auth,
        auth_message=AUTH_MESSAGE if auth else None,
        max_file_size=settings.max_file_bytes,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        enable_monitoring=False,
        show_error=False,
        footer_links=FOOTER_LINKS,
        run_history=False,
        theme=make_theme(),
        css=stylesheet(),
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or OSError (e.g. the port is taken) before anything is served."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def serve(app, sock: socket.socket) -> None:
    """Serve the app on a bound socket until interrupted (uvicorn; access log off)."""
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])
