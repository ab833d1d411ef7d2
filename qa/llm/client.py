"""Chat model access through the ``openai`` client: OpenAI or any OpenAI-compatible server.

Every call has a total deadline (connect, first byte, whole reply, retries included: however the
server trickles), a cap on the reply's size, and a bounded number of retries with exponential
backoff. Failures come out as ``LLMError`` with a message a user can act on; a rejected key as
``LLMAuthError``. Without ``QA_LLM_MODEL`` the model is the one the server reports.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import httpx

from qa.errors import LLMAuthError, LLMError, MissingExtraError
from qa.llm import http as llm_http
from qa.settings import Settings
from qa.types import Message

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 8.0
# Local servers (llama.cpp, vLLM, Ollama) accept any key, but the client insists on one.
PLACEHOLDER_KEY = "not-needed"
OPENAI_DEFAULT_MODEL = "gpt-4o-mini"  # on api.openai.com when QA_LLM_MODEL is not set
UNKNOWN_MODEL = "default"  # sent when the server could not say which model it serves
DISCOVERY_TIMEOUT_S = 5.0  # most a GET /models may take (the label waits for it)
REDISCOVER_AFTER_S = 30.0  # a server that did not say is asked again after this long
MAX_CHARS_PER_TOKEN = 16  # a reply longer than max_tokens * this is no honest reply


class _Retryable(LLMError):
    """A failure that may pass on a second try (down, slow, 5xx, garbage)."""


@dataclass(frozen=True)
class Completion:
    """A whole (non-streamed) reply and what it cost."""

    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class LLM:
    """A chat model behind an OpenAI-compatible API, with timeouts and bounded retries."""

    def __init__(self, settings: Settings):
        try:
            import openai
        except ImportError as exc:  # pragma: no cover - openai is a core dependency
            raise MissingExtraError("openai", "llm") from exc
        self._openai = openai
        key = settings.openai_api_key
        # get_engine(**options) copies settings without validation, so a plain str may arrive.
        key = key.get_secret_value() if hasattr(key, "get_secret_value") else key
        self.base_url = settings.openai_base_url
        self.where = self.base_url or "api.openai.com"
        self.timeout = settings.llm_timeout
        self.deadline = settings.llm_deadline
        self.max_reply_bytes = settings.llm_max_reply_bytes
        self.retries = settings.llm_retries
        self.backoff = settings.llm_backoff
        self.max_tokens = settings.llm_max_tokens
        self.temperature = settings.llm_temperature
        self._model = settings.llm_model or (None if self.base_url else OPENAI_DEFAULT_MODEL)
        self._model_lock = threading.Lock()
        self._asked_at = -REDISCOVER_AFTER_S
        # The client's own retries are off: ours are counted and logged in one place.
        self.client = openai.OpenAI(
            api_key=key or PLACEHOLDER_KEY,
            base_url=self.base_url,
            timeout=settings.llm_timeout,
            max_retries=0,
            http_client=llm_http.limited_client(settings.llm_timeout),
        )
        self.attempts = 0  # requests sent over this object's life (retries included)

    @property
    def model(self) -> str:
        """The model asked: QA_LLM_MODEL, else the one the server reports (``GET /models``)."""
        if self._model is None:
            self._discover()
        return self._model or UNKNOWN_MODEL

    def _discover(self) -> None:
        with self._model_lock:
            if self._model is not None or time.monotonic() - self._asked_at < REDISCOVER_AFTER_S:
                return
            self._asked_at = time.monotonic()
            wait = min(self.timeout, DISCOVERY_TIMEOUT_S)
            try:
                with llm_http.limits(self._limits(time.monotonic() + wait)):
                    ids = [m.id for m in self.client.models.list(timeout=wait).data]
            except Exception as exc:
                _raise_if_stopped(exc)
                # The chat request that follows reports the fault (down, key rejected) itself.
                log.info("the model server at %s did not say its model: %s", self.where, exc)
                return
            if not ids or not all(isinstance(i, str) and i for i in ids):
                log.warning("the model server at %s lists no model; set QA_LLM_MODEL", self.where)
                return
            if len(ids) > 1:
                log.info("%s serves %d models; using %s (QA_LLM_MODEL picks one)", self.where,
                         len(ids), ids[0])  # fmt: skip
            self._model = ids[0]

    def _limits(self, deadline: float) -> llm_http.CallLimits:
        return llm_http.CallLimits(deadline, self.timeout, self.max_reply_bytes)

    def call_deadline(self) -> float:
        """The time.monotonic() by which a model call starting now must be done."""
        return time.monotonic() + self.deadline

    def _request(
        self,
        messages: Sequence[Message],
        max_tokens: int | None,
        stream: bool,
        deadline: float,
        usage: bool = False,
    ):
        self.attempts += 1
        model = self.model  # asking the server which model (if need be) has its own bound
        # A streamed reply states its token counts in a last chunk only when asked to.
        extra = {"stream_options": {"include_usage": True}} if stream and usage else {}
        with llm_http.limits(self._limits(deadline)):  # the connection opens in here
            return self.client.chat.completions.create(
                model=model,
                messages=list(messages),
                max_tokens=max_tokens or self.max_tokens,
                temperature=self.temperature,
                stream=stream,
                **extra,
            )

    def complete(
        self,
        messages: Sequence[Message],
        max_tokens: int | None = None,
        deadline: float | None = None,
    ) -> Completion:
        """The model's whole reply to ``messages``; retried on faults, LLMError when out of tries.

        ``deadline`` (a ``time.monotonic()``; default ``call_deadline()``) bounds every try.
        """
        deadline = self.call_deadline() if deadline is None else deadline
        for attempt in range(self.retries + 1):
            try:
                resp = self._request(messages, max_tokens, False, deadline)
                text = _message_text(resp, self.where)
                self._check_length(len(text), max_tokens)
                if not text.strip():
                    raise _Retryable(f"The model server at {self.where} returned an empty answer.")
                usage = getattr(resp, "usage", None)
                return Completion(
                    text,
                    getattr(usage, "prompt_tokens", None),
                    getattr(usage, "completion_tokens", None),
                )
            except Exception as exc:
                _raise_if_stopped(exc)
                err = self._classify(exc)
                self._retry_or_raise(err, exc, attempt, deadline)
        raise AssertionError("unreachable")  # pragma: no cover

    def stream(
        self,
        messages: Sequence[Message],
        max_tokens: int | None = None,
        deadline: float | None = None,
        usage: dict | None = None,
    ) -> Iterator[str]:
        """Yield the reply in pieces as the server writes it.

        Faults before the first piece are retried; a fault after it raises LLMError, since what
        was shown cannot be taken back. ``deadline`` as for ``complete``. ``usage``: filled with
        the server's ``prompt_tokens`` and ``completion_tokens`` when it reports them.
        """
        deadline = self.call_deadline() if deadline is None else deadline
        for attempt in range(self.retries + 1):
            started = finished = False
            written = 0
            try:
                resp = self._request(messages, max_tokens, True, deadline, usage is not None)
                try:
                    for chunk in resp:
                        if usage is not None:
                            _note_usage(chunk, usage)
                        piece = _delta_text(chunk, self.where)
                        finished = finished or _finished(chunk)
                        if piece:
                            written += len(piece)
                            self._check_length(written, max_tokens)
                            started = True
                            yield piece
                finally:
                    _close(resp)
                if not started:
                    raise _Retryable(f"The model server at {self.where} returned no answer text.")
                if not finished:  # the stream ended without its last event: the text is cut off
                    raise _Retryable(
                        f"The model server at {self.where} closed the stream before the answer ended."
                    )
                return
            except Exception as exc:
                _raise_if_stopped(exc)
                err = self._classify(exc)
                if started:
                    raise LLMError(f"{err} (the answer broke off while streaming)") from exc
                self._retry_or_raise(err, exc, attempt, deadline)

    def _check_length(self, chars: int, max_tokens: int | None) -> None:
        limit = (max_tokens or self.max_tokens) * MAX_CHARS_PER_TOKEN
        if chars > limit:
            raise LLMError(
                f"The model server at {self.where} wrote more than {limit:,} characters for at "
                f"most {max_tokens or self.max_tokens} tokens (QA_LLM_MAX_TOKENS); the reply was "
                "cut off. Check the server at OPENAI_BASE_URL."
            )

    def _retry_or_raise(self, err: LLMError, exc: Exception, attempt: int, deadline: float) -> None:
        delay = min(MAX_BACKOFF_S, self.backoff * 2**attempt)
        out_of_time = time.monotonic() + delay >= deadline
        if not isinstance(err, _Retryable) or attempt >= self.retries or out_of_time:
            final = LLMError(str(err)) if isinstance(err, _Retryable) else err
            raise final from (None if exc is final else exc)
        log.warning(
            "model call failed (%s); retry %d of %d in %.2f s",
            err,
            attempt + 1,
            self.retries,
            delay,
        )
        time.sleep(delay)

    def _classify(self, exc: Exception) -> LLMError:
        """Turn a client or transport failure into an LLMError with a message that says the fix."""
        o = self._openai
        if isinstance(exc, LLMError):
            return exc
        cause = _cause(exc, (llm_http.DeadlineExceeded, llm_http.ReplyTooLarge))
        if isinstance(cause, llm_http.DeadlineExceeded):
            return LLMError(
                f"The model server at {self.where} did not finish within {self.deadline:g} s "
                "(QA_LLM_DEADLINE bounds a whole model call; raise it if the model is just slow)."
            )
        if isinstance(cause, llm_http.ReplyTooLarge):
            return LLMError(
                f"The model server at {self.where} sent a reply over {cause} "
                "(QA_LLM_MAX_REPLY_BYTES), far more than an answer; check the server."
            )
        if isinstance(exc, o.AuthenticationError | o.PermissionDeniedError):
            return LLMAuthError(
                f"The model server at {self.where} rejected the API key (HTTP {exc.status_code}). "
                "Set OPENAI_API_KEY to a valid key for it."
            )
        # openai<3 (which llama-index-llms-openai pins) lets a read timeout inside a stream
        # through as httpx's own exception.
        if isinstance(exc, o.APITimeoutError | httpx.TimeoutException):
            return _Retryable(
                f"The model server at {self.where} did not answer within {self.timeout:g} s "
                "(raise QA_LLM_TIMEOUT if it is just slow)."
            )
        if isinstance(exc, o.APIConnectionError):
            return _Retryable(
                f"The model server at {self.where} cannot be reached; is it running? "
                "(check OPENAI_BASE_URL)"
            )
        if isinstance(exc, o.NotFoundError):
            return LLMError(
                f"The model server at {self.where} has no model {self.model!r} or no chat API there "
                "(HTTP 404). Check QA_LLM_MODEL, and that OPENAI_BASE_URL ends in /v1."
            )
        if isinstance(exc, o.APIStatusError):
            detail = re.sub(r"^Error code: \d+ - ", "", getattr(exc, "message", "") or str(exc))
            detail = _short(detail)
            kind = (
                _Retryable
                if exc.status_code in (408, 409, 429) or exc.status_code >= 500
                else LLMError
            )
            return kind(
                f"The model server at {self.where} answered HTTP {exc.status_code}: {detail}"
            )
        return _Retryable(
            f"The model server at {self.where} sent a reply that is not a chat completion "
            f"({type(exc).__name__}: {_short(str(exc))})."
        )


def _raise_if_stopped(exc: BaseException) -> None:
    """Stopped on purpose, not failed: the client hung up (Cancelled) or every model slot is
    taken (ModelBusy). Raised as such, never retried, never an extractive fallback."""
    stop = _cause(exc, (llm_http.Cancelled, llm_http.ModelBusy))
    if stop is not None:
        raise stop from None


def _cause(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> BaseException | None:
    """The first exception of ``kinds`` in ``exc``'s chain (the openai client wraps them)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kinds):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _message_text(resp: object, where: str) -> str:
    """The text of a chat completion; anything else is a reply we cannot use."""
    try:
        content = resp.choices[0].message.content  # type: ignore[attr-defined]
    except (AttributeError, IndexError, TypeError) as exc:
        raise _not_completion(where, "sent", resp) from exc
    return _checked_text(content, where, "sent", resp)


def _delta_text(chunk: object, where: str) -> str:
    """The new text in one streamed chunk ("" for chunks without text, e.g. the usage one)."""
    try:
        choices = chunk.choices  # type: ignore[attr-defined]
        if not choices:
            return ""
        content = choices[0].delta.content
    except (AttributeError, IndexError, TypeError) as exc:
        raise _not_completion(where, "streamed", chunk) from exc
    return _checked_text(content, where, "streamed", chunk)


def _note_usage(chunk: object, usage: dict) -> None:
    """The token counts a streamed chunk reports (the last one, when asked for), into usage."""
    reported = getattr(chunk, "usage", None)
    prompt = getattr(reported, "prompt_tokens", None)
    completion = getattr(reported, "completion_tokens", None)
    if isinstance(prompt, int) and isinstance(completion, int):
        usage.update(prompt_tokens=prompt, completion_tokens=completion, counted_by="model")


def _not_completion(where: str, verb: str, reply: object) -> _Retryable:
    return _Retryable(
        f"The model server at {where} {verb} a reply that is not a chat completion: {_short(repr(reply))}"
    )


def _checked_text(content: object, where: str, verb: str, reply: object) -> str:
    if content is not None and not isinstance(content, str):
        raise _not_completion(where, verb, reply)
    return content or ""


def _finished(chunk: object) -> bool:
    """Whether a streamed chunk is the last one (OpenAI-compatible servers set finish_reason)."""
    choices = getattr(chunk, "choices", None) or []
    return any(getattr(c, "finish_reason", None) for c in choices)


def _close(resp: object) -> None:
    close = getattr(resp, "close", None)
    if callable(close):
        try:
            close()
        except Exception:
            log.debug("closing the stream failed", exc_info=True)


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def make_llm(settings: Settings) -> LLM | None:
    """The configured chat model, or None when neither OPENAI_API_KEY nor OPENAI_BASE_URL is set."""
    if not settings.use_llm:
        return None
    return LLM(settings)
