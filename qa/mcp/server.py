"""The MCP server: the document tools for agents, over stdio (``qa mcp``) or HTTP (``/mcp``).

Built with the official SDK (``mcp.server.MCPServer``). Over HTTP it is mounted on the app's
own server, so the host guard and the login of the page and ``/v1`` apply to it as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from mcp.server import MCPServer
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import ToolAnnotations
from pydantic import Field

from qa.engine import Engine
from qa.mcp import tools
from qa.mcp.tools import MAX_K, Offset, Query, Question, Source

log = logging.getLogger(__name__)

NAME = "qa-chat"
MAX_BODY_BYTES = 2_000_000  # as /v1: a question and its conversation
INSTRUCTIONS = """\
Answers questions from the user's own documents, indexed on their machine, with citations.
Use `ask` for a question the documents should answer: it returns the answer with [n] markers,
its status (answered; uncertain: only the closest passages; refused: the documents do not say)
and the cited passages. Use `search` to find passages yourself, `list_documents` to see what is
indexed, and `read_passage` / `read_page` to read around a passage. Quote and cite what you use
by source and page; do not present an uncertain or refused answer as fact."""

READ_ONLY = ToolAnnotations(readOnlyHint=True, destructiveHint=False, openWorldHint=False)

K = Annotated[int, Field(ge=1, le=MAX_K, description=f"How many passages (1-{MAX_K}).")]
Page = Annotated[int, Field(ge=1, le=100_000, description="The page number, from 1.")]
Turn = Annotated[
    dict[str, Annotated[str, Field(max_length=4_000)]],
    Field(description='{"role": "user" or "assistant", "content": "..."}'),
]


def build_mcp(engine: Engine | Callable[[], Engine]) -> MCPServer:
    """The MCP server with its tools over ``engine`` (or a function that opens it when first
    needed, so a client's handshake never waits for the index)."""
    opened: list[Engine] = [engine] if isinstance(engine, Engine) else []

    def get() -> Engine:
        if not opened:
            opened.append(engine())  # type: ignore[operator]
        return opened[0]

    mcp = MCPServer(NAME, instructions=INSTRUCTIONS, log_level="WARNING")

    @mcp.tool(title="Search the documents", annotations=READ_ONLY)
    def search(query: Query, k: K = 5) -> dict[str, Any]:
        """Find the passages of the user's documents that best match a query (hybrid keyword
        and meaning search), best first. Each passage gives its source (the file), title, page
        (null when the document has no pages), the exact character span [start, end) in the
        document and its text. Use it to collect evidence; use `ask` for a direct answer."""
        return tools.search(get(), query, k)

    @mcp.tool(title="Ask the documents", annotations=READ_ONLY)
    def ask(
        question: Question,
        history: Annotated[
            list[Turn] | None,
            Field(
                max_length=tools.MAX_TURNS,
                description="Earlier turns of the conversation, oldest first, for a follow-up "
                "such as 'where is he going next?'.",
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Answer a question from the user's documents, as the chat does. Returns `answer` (the
        text, citing passages as [n]), `status` ("answered"; "uncertain": not sure, the text
        offers the closest passages; "refused": the documents do not answer it), `citations`
        (n, source, title, page, start, end, text, and the sentences and phrases used) and
        `notice` (anything the user should know). Report a refusal as such: do not answer
        from elsewhere as if the documents said it."""
        return tools.ask(get(), question, history)

    @mcp.tool(title="List the documents", annotations=READ_ONLY)
    def list_documents(
        offset: Annotated[Offset, Field(description="Skip this many.")] = 0,
    ) -> dict[str, Any]:
        """List the indexed documents: source (the name the other tools take), title, chunks,
        pages (null when not paginated) and status ("partial" while it is being indexed).
        Large folders come in pages of 1,000: pass `next_offset` back as `offset`."""
        return tools.list_documents(get(), offset)

    @mcp.tool(title="Read a passage", annotations=READ_ONLY)
    def read_passage(
        source: Source,
        start: Annotated[Offset, Field(description="First character (0-based).")] = 0,
        end: Annotated[Offset | None, Field(description="Character after the last.")] = None,
    ) -> dict[str, Any]:
        """Read a document's text from character `start` to `end` (the spans that search and
        ask give), at most 8,000 characters at a time; `next_start` says where to go on. To read
        around a passage, start a little before its `start`."""
        return tools.read_passage(get(), source, start, end)

    @mcp.tool(title="Read a page", annotations=READ_ONLY)
    def read_page(source: Source, page: Page) -> dict[str, Any]:
        """Read one page of a paginated document (PDF, slides, scans, paged Word files), as the
        index holds it, with its character span. Documents without pages: use read_passage."""
        return tools.read_page(get(), source, page)

    return mcp


def run_stdio(engine: Engine | Callable[[], Engine]) -> None:
    """Serve the tools over standard input and output until the client hangs up."""
    build_mcp(engine).run("stdio")


def http_app(engine: Engine | Callable[[], Engine], login: tuple[str, str] | None):
    """The streamable-HTTP endpoint as an ASGI app to route ``/mcp`` to, and the lifespan the
    host app must run (it starts the SDK's session manager).

    Stateless (every request stands alone, so replicas behind a balancer need no stickiness);
    replies are plain JSON. The app's own HostGuard checks Host and Origin for every route.
    """
    mcp = build_mcp(engine)
    mcp.streamable_http_app(  # creates the session manager; its own routes are not used
        stateless_http=True,
        json_response=True,
        max_request_body_size=MAX_BODY_BYTES,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    app = StreamableHTTPASGIApp(mcp.session_manager)

    @asynccontextmanager
    async def lifespan(_app):
        async with mcp.session_manager.run():
            yield

    return LoginGuard(app, login), lifespan


class LoginGuard:
    """ASGI middleware: 401 unless the request carries the login, as ``/v1`` takes it."""

    def __init__(self, app, login: tuple[str, str] | None):
        self.app, self.login = app, login

    async def __call__(self, scope, receive, send):
        from qa.http.api import check_login

        if scope["type"] != "http" or self.login is None:
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if check_login(headers.get("authorization"), self.login):
            return await self.app(scope, receive, send)
        body = (
            b'{"error": "This server needs its login (QA_UI_USER / QA_UI_PASSWORD): send the '
            b'header Authorization: Bearer USER:PASSWORD, or HTTP basic auth."}'
        )
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Basic realm="qa-chat"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
