"""Answers whose model calls are tied to the HTTP client that asked for them.

``tied_call`` runs a blocking call (an answer, or its first piece) on a worker thread and
``TiedEvents`` streams an answer's server-sent events, each step on a worker thread; both
watch the request's ASGI ``receive`` for the client hanging up meanwhile, and then cut the
``Tether`` its model connections were opened under (``qa.llm.http``): the connection to the
model server is shut at once, and no further model call is made for it.
"""

from __future__ import annotations

from collections.abc import Iterator

import anyio
from fastapi import Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from qa.llm import http as llm_http


async def _until_gone(
    receive, tether: llm_http.Tether, scope: anyio.CancelScope | None = None
) -> None:
    """Wait for the client to hang up, then cut its model calls (and stop ``scope``)."""
    while (await receive())["type"] != "http.disconnect":
        pass
    tether.cut()
    if scope is not None:
        scope.cancel()


async def tied_call(request: Request, tether: llm_http.Tether, fn, *args):
    """``fn(*args)`` on a worker thread, its model calls tied to this client."""

    def call():
        with llm_http.tied(tether):
            return fn(*args)

    outcome: list = []
    async with anyio.create_task_group() as watching:  # raised in here, it would be a group
        watching.start_soon(_until_gone, request.receive, tether)
        try:
            outcome.append(await run_in_threadpool(call))
        except Exception as exc:
            outcome.append(exc)
        watching.cancel_scope.cancel()
    if isinstance(outcome[0], Exception):
        raise outcome[0]
    return outcome[0]


class TiedEvents(StreamingResponse):
    """Server-sent events from the answer's iterator, tied to the client: when it hangs up,
    the model connection behind the answer is shut at once, then the answer is closed."""

    def __init__(self, events: Iterator[str], pieces: Iterator, tether: llm_http.Tether):
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        super().__init__(events, media_type="text/event-stream", headers=headers)
        self._events, self._pieces, self._tether = events, pieces, tether

    def _step(self) -> str | None:
        with llm_http.tied(self._tether):
            return next(self._events, None)

    async def _send_all(self, send) -> None:
        start = {"type": "http.response.start", "status": self.status_code}
        try:
            await send({**start, "headers": self.raw_headers})
            while (event := await run_in_threadpool(self._step)) is not None:
                body = event.encode("utf-8")
                await send({"type": "http.response.body", "body": body, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:  # a send after the client went (ASGI 2.4 servers raise): it hung up
            self._tether.cut()

    async def __call__(self, scope, receive, send) -> None:
        try:
            async with anyio.create_task_group() as streaming:
                streaming.start_soon(_until_gone, receive, self._tether, streaming.cancel_scope)
                await self._send_all(send)
                streaming.cancel_scope.cancel()
        finally:
            self._tether.close()
            for gen in (self._events, self._pieces):  # neither runs now: every step returned
                close = getattr(gen, "close", None)
                if close is not None:
                    close()
