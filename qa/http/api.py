"""The OpenAI-compatible HTTP API: ``POST /v1/chat/completions`` and ``GET /v1/models``.

The model name selects the collection (``GET /v1/models`` lists them). The reply's message is
the answer text with ``[n]`` markers; extra fields carry what an OpenAI reply has no place for:
``citations`` (n, source, title, page, page_end, start, end, text, score, sentences, phrases),
``status`` ("answered" / "uncertain" / "refused"), ``mode``, ``notice``, ``unsupported``,
``sentences`` (each with the citations the checker ``added``) and ``read`` (what the model was
given). Streaming sends them with the last chunk, and there ``answer``: the final text, which
holds the checker's citations the streamed text could not. A request may name ``sources``: the
documents to ask (by default all). Questions go through the same checks, limits and
messages as the web chat; errors come back in OpenAI's shape, ``{"error": {"message": ...}}``.

Model calls are tied to their client (``qa.llm.http.Tether``): when it hangs up, streaming or
not, the connection to the model server is shut at once. At most ``QA_LLM_CONCURRENCY``
clients have the model working for them at once; with every slot taken a question that needs
the model gets 503 with Retry-After, so slow model calls never hold the threads that
``GET /v1/models``, the page and answers without the model run on.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import re
import time
import uuid
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from index import collection_names
from qa.engine import Engine, get_engine
from qa.errors import BadQuestionError, IndexNotFoundError, LLMError, QAError
from qa.http.tied import TiedEvents, tied_call
from qa.llm import http as llm_http
from qa.question.clean import clean_history, clean_question
from qa.settings import Settings
from qa.types import Answer

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 2_000_000  # a question and its conversation; anything bigger is refused
MAX_JSON_DEPTH = 32  # a chat request nests 5 deep (body, messages, message, content, part)
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
OWNER = "qa-chat"
_ANSWER_FIELDS = ("citations", "status", "reason", "mode", "notice", "unsupported", "sentences", "read",
                  "standalone_question")  # fmt: skip
MAX_SOURCES = 10_000  # documents a request may name in "sources"
MAX_SOURCE_CHARS = 1_000  # characters of one document name
_PROMPT_ROLES = {"system", "developer"}  # the project's own prompt is used; these are ignored
RETRY_AFTER_S = 5  # what a client is told to wait when every model slot is taken


class APIError(Exception):
    """A request the API answers with an error: HTTP status, OpenAI error type and message."""

    def __init__(
        self,
        status: int,
        message: str,
        kind: str = "invalid_request_error",
        headers: dict[str, str] | None = None,
        **extra,
    ):
        super().__init__(message)
        self.status, self.kind, self.extra = status, kind, extra
        self.headers = dict(headers or {})
        if status == 401:
            self.headers["WWW-Authenticate"] = 'Basic realm="qa-chat"'

    def response(self) -> JSONResponse:
        """The error as OpenAI's JSON shape."""
        body = {"error": {"message": str(self), "type": self.kind, "param": None, "code": None}}
        body["error"].update(self.extra)
        return JSONResponse(body, status_code=self.status, headers=self.headers or None)


def check_login(header: str | None, login: tuple[str, str] | None) -> bool:
    """Whether an Authorization header carries the login: ``Bearer USER:PASSWORD`` (the
    ``api_key`` of an OpenAI client) or HTTP basic auth. Always true without a login."""
    if login is None:
        return True
    scheme, _, value = (header or "").strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "basic":
        try:
            value = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
    elif scheme.lower() != "bearer":
        return False
    expected = f"{login[0]}:{login[1]}".encode()
    return hmac.compare_digest(value.encode("utf-8", "replace"), expected)


def collections(settings: Settings) -> list[str]:
    """The collections of the store that this project made (tagged with an embedding model)."""
    return collection_names(settings.store_config)


def _message_text(content: object, i: int) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: only text is understood
        texts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text":
                raise APIError(400, f"messages[{i}]: only text content is supported.")
            texts.append(part.get("text"))
        if all(isinstance(t, str) for t in texts):
            return "\n".join(texts)
    raise APIError(400, f"messages[{i}].content must be text.")


class ChatRequest(NamedTuple):
    """What a chat completion request asks."""

    model: str
    question: str
    history: list
    stream: bool
    include_usage: bool
    sources: list[str] | None


def too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a JSON text nests its arrays and objects more than ``limit`` deep (strings
    skipped). Checked before parsing: Python's parser recurses once per level."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    steps = np.frombuffer(brackets, dtype=np.uint8)
    depth = np.cumsum(np.where((steps == ord("[")) | (steps == ord("{")), 1, -1))
    return bool(depth.size) and int(depth.max()) > limit


def parse_request(body: bytes, max_question_chars: int) -> ChatRequest:
    """model, question, history, stream, include_usage and sources from a chat completion
    request, or an APIError."""
    if too_deep(body):
        raise APIError(
            400, f"The request body nests deeper than {MAX_JSON_DEPTH} levels; a chat request "
            "needs 5."
        )  # fmt: skip
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise APIError(400, "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise APIError(400, "The request body must be a JSON object with model and messages.")
    model = data.get("model")
    if not isinstance(model, str) or not model:
        raise APIError(400, "model is required: the name of a collection (GET /v1/models).")
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise APIError(400, "messages must be a non-empty list of {role, content} objects.")
    stream = data.get("stream", False)
    if not isinstance(stream, bool):
        raise APIError(400, "stream must be true or false.")
    options = data.get("stream_options")
    if options is None:
        options = {}
    if not isinstance(options, dict) or not isinstance(options.get("include_usage", False), bool):
        raise APIError(400, 'stream_options must be an object such as {"include_usage": true}.')
    if data.get("n", 1) != 1:
        raise APIError(400, "n must be 1: one answer per question.")
    sources = data.get("sources")
    if sources is not None and not (
        isinstance(sources, list)
        and len(sources) <= MAX_SOURCES
        and all(isinstance(s, str) and len(s) <= MAX_SOURCE_CHARS for s in sources)
    ):
        raise APIError(
            400,
            f"sources must be a list of at most {MAX_SOURCES:,} document names, as `qa docs` "
            "lists them.",
        )
    turns = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise APIError(400, f"messages[{i}] must be an object with role and content.")
        role = m.get("role")
        if role in _PROMPT_ROLES:
            continue
        if role not in ("user", "assistant"):
            raise APIError(400, f"messages[{i}].role must be user, assistant or system.")
        turns.append({"role": role, "content": _message_text(m.get("content"), i)})
    if not turns or turns[-1]["role"] != "user":
        raise APIError(400, "The last message must be the user's question.")
    try:
        question = clean_question(turns[-1]["content"], max_question_chars)
        history = clean_history(turns[:-1])
    except BadQuestionError as exc:
        raise APIError(400, str(exc)) from None
    return ChatRequest(
        model, question, history, stream, stream and options.get("include_usage", False), sources
    )


def _error_for(exc: Exception) -> APIError:
    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, llm_http.ModelBusy):
        return APIError(
            503,
            f"The model is busy: it is already answering {exc.size} questions for this server "
            f"(QA_LLM_CONCURRENCY). Try again in {RETRY_AFTER_S} seconds.",
            "api_error",
            headers={"Retry-After": str(RETRY_AFTER_S)},
            code="model_busy",
        )
    if isinstance(exc, llm_http.Cancelled):  # nobody is there to read it (nginx's 499)
        return APIError(499, "The client closed the request.", "api_error")
    if isinstance(exc, BadQuestionError):
        return APIError(400, str(exc))
    if isinstance(exc, IndexNotFoundError):
        return APIError(404, str(exc), "not_found_error")
    if isinstance(exc, LLMError):
        return APIError(502, str(exc), "api_error")
    if isinstance(exc, QAError):
        return APIError(503, str(exc), "api_error")
    log.exception("the API failed on a request")
    return APIError(500, "The server failed on this request; its log has the details.", "api_error")


class ChatAPI:
    """The /v1 routes over the engines of one store, behind the app's login."""

    def __init__(self, settings: Settings, login: tuple[str, str] | None = None):
        self.settings = settings
        self.login = login
        self.pool = llm_http.ModelPool(settings.llm_concurrency)

    def router(self) -> APIRouter:
        """The routes, to include in a FastAPI app."""
        r = APIRouter(prefix="/v1")
        r.add_api_route("/models", self.models, methods=["GET"])
        r.add_api_route("/models/{model}", self.model, methods=["GET"])
        r.add_api_route("/chat/completions", self.chat, methods=["POST"])
        return r

    def _authorize(self, request: Request) -> None:
        if not check_login(request.headers.get("authorization"), self.login):
            raise APIError(
                401,
                "This server needs its login (QA_UI_USER / QA_UI_PASSWORD): send it as the API key "
                "'USER:PASSWORD' (Authorization: Bearer USER:PASSWORD) or by HTTP basic auth.",
                "authentication_error",
            )

    def _collections(self) -> list[str]:
        names = collections(self.settings)
        return names if self.settings.collection in names else [self.settings.collection, *names]

    async def models(self, request: Request) -> Response:
        """GET /v1/models: the collections, as models."""
        try:
            self._authorize(request)
            names = await run_in_threadpool(self._collections)
        except Exception as exc:
            return _error_for(exc).response()
        return JSONResponse({"object": "list", "data": [_model(n) for n in names]})

    async def model(self, model: str, request: Request) -> Response:
        """GET /v1/models/{model}: one collection, or 404."""
        try:
            self._authorize(request)
            if model not in await run_in_threadpool(self._collections):
                raise self._unknown(model)
        except Exception as exc:
            return _error_for(exc).response()
        return JSONResponse(_model(model))

    def _unknown(self, model: str) -> APIError:
        return APIError(
            404,
            f"There is no collection {model!r} (the model name selects the collection); "
            "GET /v1/models lists them.",
            "not_found_error",
            code="model_not_found",
        )

    def _engine(self, model: str) -> Engine:
        if model == self.settings.collection:
            return get_engine(self.settings)
        if model not in collections(self.settings):
            raise self._unknown(model)
        return get_engine(self.settings, collection=model)

    async def _body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise APIError(413, f"The request is over {MAX_BODY_BYTES:,} bytes.")
        body = bytearray()
        async for piece in request.stream():
            body += piece
            if len(body) > MAX_BODY_BYTES:
                raise APIError(413, f"The request is over {MAX_BODY_BYTES:,} bytes.")
        return bytes(body)

    async def chat(self, request: Request) -> Response:
        """POST /v1/chat/completions: answer the last user message from the collection."""
        tether = llm_http.Tether(self.pool)
        streaming = False
        try:
            self._authorize(request)
            req = parse_request(await self._body(request), self.settings.max_question_chars)
            model, question, history, stream = req.model, req.question, req.history, req.stream
            engine = await run_in_threadpool(self._engine, model)
            asked = [question, *(t["content"] for t in history)]
            if not stream:
                answer = await tied_call(
                    request, tether, engine.ask, question, history, req.sources
                )
                usage = await run_in_threadpool(usage_of, answer, engine, asked)
                return JSONResponse(_completion(model, answer, usage))
            pieces = engine.ask_stream(question, history, req.sources)
            # The first piece is taken here, so that a question the engine refuses outright
            # (or finds the model busy for) gets an HTTP error, not a stream that breaks off.
            first = await tied_call(request, tether, next, pieces)
            streaming = True
            events = _events(model, first, pieces, engine, asked, req.include_usage)
            return TiedEvents(events, pieces, tether)
        except Exception as exc:
            return _error_for(exc).response()
        finally:
            if not streaming:
                tether.close()


def _model(name: str) -> dict:
    return {"id": name, "object": "model", "created": 0, "owned_by": OWNER}


def _extra(answer: Answer) -> dict:
    data = answer.to_dict()
    return {k: data[k] for k in _ANSWER_FIELDS}


def usage_of(answer: Answer, engine: Engine, asked: list[str]) -> dict:
    """OpenAI's ``usage``: a generated answer's model call as the server counted it (or, when it
    reported none, its prompt and reply counted with the embedding model's tokenizer); an
    extractive answer has no model call, so the question and conversation read and the answer
    written are counted with that tokenizer."""
    if "prompt_tokens" in answer.usage:
        prompt, completion = answer.usage["prompt_tokens"], answer.usage["completion_tokens"]
    else:
        counts = engine.embedder.count_tokens([*asked, answer.reply])
        prompt, completion = sum(counts[:-1]), counts[-1]
    return {
        "prompt_tokens": int(prompt),
        "completion_tokens": int(completion),
        "total_tokens": int(prompt) + int(completion),
    }


def _completion(model: str, answer: Answer, usage: dict) -> dict:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.reply},
                "finish_reason": "stop",
            }
        ],
        "usage": usage,
        **_extra(answer),
    }


def _events(
    model: str,
    first: str | Answer,
    pieces: Iterator[str | Answer],
    engine: Engine,
    asked: list[str],
    include_usage: bool = False,
) -> Iterator[str]:
    """Server-sent events of chat completion chunks, the answer's fields on the last one; with
    ``include_usage``, as OpenAI does, ``"usage": null`` on each and a last chunk with none of
    the choices and the usage."""
    head = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }

    if include_usage:
        head["usage"] = None

    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        body = {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return f"data: {json.dumps({**body, **extra}, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    item = first
    try:
        while not isinstance(item, Answer):
            yield chunk({"content": item})
            item = next(pieces)
        yield chunk({}, "stop", **_extra(item), answer=item.reply)
        if include_usage:
            usage = usage_of(item, engine, asked)
            yield f"data: {json.dumps({**head, 'choices': [], 'usage': usage})}\n\n"
    except llm_http.Cancelled:
        return  # the client has gone: nothing more to send
    except Exception as exc:  # the stream has begun: the error goes in it, as OpenAI sends it
        err = _error_for(exc)
        yield f"data: {json.dumps({'error': {'message': str(err), 'type': err.kind}})}\n\n"
    yield "data: [DONE]\n\n"
