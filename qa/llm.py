"""Chat model access through the ``openai`` client: OpenAI or any OpenAI-compatible server.

Every call has a timeout and a bounded number of retries with exponential backoff. Failures
come out as ``LLMError`` with a message a user can act on; a rejected key as ``LLMAuthError``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import httpx

from qa.errors import LLMAuthError, LLMError, MissingExtraError
from qa.settings import Settings
from qa.types import Message

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 8.0
# Local servers (llama.cpp, vLLM, Ollama) accept any key, but the client insists on one.
PLACEHOLDER_KEY = "not-needed"


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
        self.model = settings.llm_model
        self.timeout = settings.llm_timeout
        self.retries = settings.llm_retries
        self.backoff = settings.llm_backoff
        self.max_tokens = settings.llm_max_tokens
        self.temperature = settings.llm_temperature
        # The client's own retries are off: ours are counted and logged in one place.
        self.client = openai.OpenAI(
            api_key=key or PLACEHOLDER_KEY,
            base_url=self.base_url,
            timeout=settings.llm_timeout,
            max_retries=0,
        )
        self.attempts = 0  # requests sent over this object's life (retries included)

    def _request(self, messages: Sequence[Message], max_tokens: int | None, stream: bool):
        self.attempts += 1
        return self.client.chat.completions.create(
            model=self.model,
            messages=list(messages),
            max_tokens=max_tokens or self.max_tokens,
            temperature=self.temperature,
            stream=stream,
        )

    def complete(self, messages: Sequence[Message], max_tokens: int | None = None) -> Completion:
        """The model's whole reply to ``messages``; retried on faults, LLMError when out of tries."""
        for attempt in range(self.retries + 1):
            try:
                resp = self._request(messages, max_tokens, stream=False)
                text = _message_text(resp, self.where)
                if not text.strip():
                    raise _Retryable(f"The model server at {self.where} returned an empty answer.")
                usage = getattr(resp, "usage", None)
                return Completion(
                    text,
                    getattr(usage, "prompt_tokens", None),
                    getattr(usage, "completion_tokens", None),
                )
            except Exception as exc:
                err = self._classify(exc)
                self._retry_or_raise(err, exc, attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def stream(self, messages: Sequence[Message], max_tokens: int | None = None) -> Iterator[str]:
        """Yield the reply in pieces as the server writes it.

        Faults before the first piece are retried; a fault after it raises LLMError, since what
        was shown cannot be taken back.
        """
        for attempt in range(self.retries + 1):
            started = finished = False
            try:
                resp = self._request(messages, max_tokens, stream=True)
                try:
                    for chunk in resp:
                        piece = _delta_text(chunk, self.where)
                        finished = finished or _finished(chunk)
                        if piece:
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
                err = self._classify(exc)
                if started:
                    raise LLMError(f"{err} (the answer broke off while streaming)") from exc
                self._retry_or_raise(err, exc, attempt)

    def _retry_or_raise(self, err: LLMError, exc: Exception, attempt: int) -> None:
        if not isinstance(err, _Retryable) or attempt >= self.retries:
            final = LLMError(str(err)) if isinstance(err, _Retryable) else err
            raise final from (None if exc is final else exc)
        delay = min(MAX_BACKOFF_S, self.backoff * 2**attempt)
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
