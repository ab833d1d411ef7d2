"""The /v1 API as OpenAI clients expect it (issue 26): ``usage`` on plain and streamed replies
(``stream_options.include_usage``), counted with the embedding model's tokenizer in extractive
mode; and the calls open-webui makes (its model list and its streaming chat, with its headers)."""

from __future__ import annotations

import json
import shutil

import httpx
import openai
import pytest
from conftest import SEEDS
from test_server import running

from index.embed import make_embedder
from qa.outcomes import NOT_SURE
from qa.settings import Settings

QUESTION = "Who did Blinken meet on Saturday?"
# The headers open-webui sends to an OpenAI connection (ENABLE_FORWARD_USER_INFO_HEADERS on).
WEBUI = {
    "Content-Type": "application/json",
    "X-OpenWebUI-User-Name": "Ann",
    "X-OpenWebUI-User-Id": "6f1c",
    "X-OpenWebUI-User-Email": "ann@example.org",
    "X-OpenWebUI-User-Role": "user",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp("usage")
    docs = base / "docs"
    shutil.copytree(SEEDS, docs)
    with running(base, ["-m", "qa.cli", "serve", "--docs", str(docs)]) as app:
        yield app


@pytest.fixture(scope="module")
def tokens():
    embedder = make_embedder(Settings().embed_config)
    return lambda *texts: sum(embedder.count_tokens(list(texts)))


def test_usage_on_a_plain_reply(served, tokens):
    client = openai.OpenAI(base_url=served.api, api_key="unused", max_retries=0, timeout=120)
    history = [
        {"role": "user", "content": "Who is the State Department spokesman?"},
        {"role": "assistant", "content": "Ned Price [1]"},
    ]
    reply = client.chat.completions.create(
        model="documents", messages=[*history, {"role": "user", "content": QUESTION}]
    )
    u = reply.usage
    text = reply.choices[0].message.content
    assert u.prompt_tokens == tokens(QUESTION, *(t["content"] for t in history))
    assert u.completion_tokens == tokens(text) > 5
    assert u.total_tokens == u.prompt_tokens + u.completion_tokens


def test_usage_on_a_stream_only_when_asked(served, tokens):
    client = openai.OpenAI(base_url=served.api, api_key="unused", max_retries=0, timeout=120)
    ask = {"model": "documents", "messages": [{"role": "user", "content": QUESTION}]}
    chunks = list(
        client.chat.completions.create(**ask, stream=True, stream_options={"include_usage": True})
    )
    *body, last = chunks
    assert last.choices == [] and last.usage is not None
    assert all(c.usage is None for c in body)
    text = "".join(c.choices[0].delta.content or "" for c in body)
    assert "Wang Yi" in text
    assert last.usage.prompt_tokens == tokens(QUESTION)
    assert last.usage.completion_tokens == tokens(text)
    finish = body[-1]
    assert finish.choices[0].finish_reason == "stop" and finish.citations

    plain = list(client.chat.completions.create(**ask, stream=True))
    assert all(c.usage is None and c.choices for c in plain)  # not asked: no usage chunk

    bad = httpx.post(f"{served.api}/chat/completions", json={**ask, "stream": True,
                     "stream_options": {"include_usage": "yes"}}, timeout=60)  # fmt: skip
    assert bad.status_code == 400 and "include_usage" in bad.json()["error"]["message"]


def test_the_calls_open_webui_makes(served):
    """open-webui lists an OpenAI connection's models with GET {base}/models, then chats by
    POST {base}/chat/completions, streaming, its own system prompt first, with these headers."""
    key = {"Authorization": "Bearer sk-unused"}
    models = httpx.get(f"{served.api}/models", headers={**WEBUI, **key}, timeout=60)
    assert models.status_code == 200
    assert [m["id"] for m in models.json()["data"]] == ["documents"]

    body = {
        "model": "documents",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": QUESTION},
        ],
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0.8,
        "max_tokens": 512,
        "user": {"name": "Ann", "id": "6f1c", "email": "ann@example.org", "role": "user"},
    }
    events = []
    with httpx.stream("POST", f"{served.api}/chat/completions", json=body,
                      headers={**WEBUI, **key}, timeout=120) as r:  # fmt: skip
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: "):
                events.append(line[len("data: ") :])
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert "Wang Yi" in text and "[1]" in text
    finish = next(c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"])
    # Answered, or "not sure" with the same answer first (the boundary is calibrated elsewhere).
    assert finish["status"] in ("answered", "uncertain") and finish["citations"][0]["n"] == 1
    assert finish["answer"] == text  # the whole reply again on the last chunk
    if finish["status"] == "uncertain":
        assert text.startswith(NOT_SURE)
    assert chunks[-1]["usage"]["total_tokens"] > 0


@pytest.mark.llm
def test_generated_usage_is_the_model_calls(llm_server, seed_store, tokens):
    """Generated mode: the model call's own figures when the server reports them; llama.cpp's
    Python server sends none while streaming, so the prompt and reply sent are counted."""
    from qa.engine import Engine

    settings = Settings(**{**seed_store.model_dump(), "openai_base_url": llm_server,
                           "llm_max_tokens": 48, "llm_context_tokens": 2048})  # fmt: skip
    answer = Engine(settings).ask(QUESTION)
    assert answer.mode.startswith("generated:"), answer.notice
    u = answer.usage
    assert u["counted_by"] in ("model", "tokenizer")
    assert u["prompt_tokens"] > tokens(QUESTION) + 100  # the passages went into the prompt
    assert 0 < u["completion_tokens"] <= 48 * 2
