"""The one server (qa/server.py) as started by ``python app.py`` and ``qa serve``: the
OpenAI-compatible API through the official ``openai`` client, the login, and the host guard
on every route, page, Gradio's routes (upload included) and the API (issue 17, case 1)."""

from __future__ import annotations

import base64
import contextlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import httpx
import openai
import pytest
import reliability
from conftest import ROOT, SEEDS, free_port, stop_process, wait_http
from readme import python_snippet

from qa.outcomes import NOT_IN_DOCUMENTS, NOT_SURE

SEED_TEXT = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8")
QUESTION = "Who did Blinken meet on Saturday?"  # "in Munich?" quotes the Munich sentence
FOLLOW_UP = "What did he say in the statement?"
OFFERED = ("answered", "uncertain")  # the answer given, with confidence or as "not sure"


@contextlib.contextmanager
def running(base: Path, command: list[str], **env_extra: str):
    """A server process (``app.py`` or ``qa serve``) on a free port; yields its URLs."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(
        QA_STORE_DIR=str(base / "store"),
        GRADIO_TEMP_DIR=str(base / "gradio-uploads"),
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        **env_extra,
    )
    log = base / f"server-{port}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, *command, "--port", str(port)], cwd=ROOT, env=env, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_http(f"{url}/v1/models", timeout=300, proc=proc, accept_http_errors=True)
        except Exception as exc:
            raise RuntimeError(f"server did not start: {exc}\n{log.read_text()}") from exc
        yield SimpleNamespace(url=url, api=f"{url}/v1", port=port, base=base, log=log, proc=proc)
    finally:
        stop_process(proc)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """``python app.py`` (page and API in one process) over a private copy of seeds/."""
    base = tmp_path_factory.mktemp("served-app")
    docs = base / "docs"
    shutil.copytree(SEEDS, docs)
    with running(base, ["app.py", "--docs", str(docs)]) as served:
        served.docs = docs
        yield served


@pytest.fixture(scope="module")
def client(app):
    return openai.OpenAI(base_url=app.api, api_key="unused", max_retries=0, timeout=120)


def test_models_are_the_collections_and_the_model_selects_one(app, client, tmp_path):
    assert [m.id for m in client.models.list()] == ["documents"]
    assert client.models.retrieve("documents").id == "documents"
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(
            model="nothing-here", messages=[{"role": "user", "content": QUESTION}]
        )
    assert "GET /v1/models lists them" in str(err.value)

    # Another collection in the same store becomes another model.
    from index.ingest import ingest
    from qa.settings import Settings

    birds = tmp_path / "birds"
    birds.mkdir()
    (birds / "herons.txt").write_text("The heron count at Lake Ross was 41 in March 2025.\n")
    settings = Settings(store_dir=app.base / "store", collection="birds", docs_dir=birds)
    ingest(settings.ingest_config)
    assert sorted(m.id for m in client.models.list()) == ["birds", "documents"]
    reply = client.chat.completions.create(
        model="birds", messages=[{"role": "user", "content": "What was the heron count?"}]
    )
    assert "41" in reply.choices[0].message.content
    assert reply.citations[0]["source"] == "herons.txt"


def test_chat_completion_carries_citations_that_are_exact_spans(client):
    reply = client.chat.completions.create(
        model="documents", messages=[{"role": "user", "content": QUESTION}]
    )
    text = reply.choices[0].message.content
    assert reply.choices[0].finish_reason == "stop" and reply.model == "documents"
    assert "Wang Yi" in text and "[1]" in text
    # Answered, or "not sure" with the same answer first (the boundary is calibrated elsewhere).
    assert reply.status in OFFERED and reply.mode == "extractive"
    assert text.startswith(NOT_SURE) == (reply.status == "uncertain")
    for c in reply.citations:
        assert {"n", "source", "title", "page", "start", "end", "text", "score"} <= set(c)
        assert SEED_TEXT[c["start"] : c["end"]] == c["text"]
        assert 0 < c["score"] <= 1.0001

    refused = client.chat.completions.create(
        model="documents",
        messages=[{"role": "user", "content": "What is the boiling point of tungsten?"}],
    )
    assert refused.status == "refused" and refused.citations == []
    assert refused.choices[0].message.content == NOT_IN_DOCUMENTS


def test_streaming_sends_the_same_answer_and_citations_last(client):
    plain = client.chat.completions.create(
        model="documents", messages=[{"role": "user", "content": QUESTION}]
    )
    chunks = list(
        client.chat.completions.create(
            model="documents", messages=[{"role": "user", "content": QUESTION}], stream=True
        )
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == plain.choices[0].message.content
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.citations == plain.citations and last.status == plain.status
    assert last.status in OFFERED and "Wang Yi" in text
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])


def test_conversation_history_resolves_a_follow_up(client):
    first = client.chat.completions.create(
        model="documents",
        messages=[{"role": "user", "content": "Who is the State Department spokesman?"}],
    )
    follow = client.chat.completions.create(
        model="documents",
        messages=[
            {"role": "system", "content": "Ignored: the project's own prompt is used."},
            {"role": "user", "content": "Who is the State Department spokesman?"},
            {"role": "assistant", "content": first.choices[0].message.content},
            {"role": "user", "content": [{"type": "text", "text": FOLLOW_UP}]},
        ],
    )
    # "he" is read as the spokesman: the question is asked as a standalone one.
    standalone = follow.standalone_question
    assert "spokesman" in standalone.lower() and not re.search(r"\bhe\b", standalone), standalone
    assert follow.status in OFFERED and follow.citations and follow.reason != "dangling"
    alone = client.chat.completions.create(
        model="documents", messages=[{"role": "user", "content": FOLLOW_UP}]
    )
    # "he" means no one without the conversation: not sure, whatever the calibration.
    assert alone.status == "uncertain" and alone.reason == "dangling"


def test_bad_requests_get_clear_errors(app, client):
    too_long = "word " * 1000
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(
            model="documents", messages=[{"role": "user", "content": too_long}]
        )
    # The same message as the web chat and qa ask (qa.question.clean.clean_question).
    assert "the limit is 4,000" in str(err.value) and "QA_MAX_QUESTION_CHARS" in str(err.value)
    with pytest.raises(openai.BadRequestError, match="question is empty"):
        client.chat.completions.create(
            model="documents", messages=[{"role": "user", "content": " "}]
        )
    with pytest.raises(openai.BadRequestError, match="non-empty list"):
        client.chat.completions.create(model="documents", messages=[])
    with pytest.raises(openai.BadRequestError, match="last message must be the user"):
        client.chat.completions.create(
            model="documents", messages=[{"role": "assistant", "content": "hello"}]
        )
    raw = {
        b"{": "not valid JSON",
        b"[1, 2]": "JSON object",
        b'{"model": "documents"}': "non-empty list",
        b'{"model": 5, "messages": []}': "model is required",
        b'{"model": "documents", "messages": [{"role": "user", "content": 7}]}': "must be text",
        b'{"model": "documents", "messages": ["hi"]}': "must be an object",
        b'{"model": "documents", "stream": "yes", "messages": []}': "non-empty list",
        b"\xff\xfe": "not valid JSON",
        # Issue 27, case 8: was a RecursionError and a 500.
        b"[" * 500_000 + b"]" * 500_000: "nests deeper than 32 levels",
        b'{"model": "documents", "messages": ' + b"[" * 2_000: "nests deeper than 32 levels",
    }
    for body, message in raw.items():
        r = httpx.post(f"{app.api}/chat/completions", content=body, timeout=30)
        if message.startswith("nests deeper"):
            reliability.case("issue 27.8: JSON body nested past any request", r.status_code == 400)
        assert r.status_code == 400, (body[:80], r.text)
        assert message in r.json()["error"]["message"], (body, r.text)
    big = httpx.post(f"{app.api}/chat/completions", content=b"x" * 3_000_000, timeout=60)
    assert big.status_code == 413
    assert "Traceback" not in app.log.read_text()


def test_a_request_may_name_the_documents_to_ask(app, client):
    """Issue 25: the API's extra ``sources`` field, the same filter as ask(sources=...)."""
    seed = next(SEEDS.glob("*.txt")).name
    reply = client.chat.completions.create(
        model="documents",
        messages=[{"role": "user", "content": QUESTION}],
        extra_body={"sources": [seed]},
    )
    assert reply.status in OFFERED and {c["source"] for c in reply.citations} == {seed}
    assert "Wang Yi" in reply.choices[0].message.content
    chunks = list(client.chat.completions.create(
        model="documents", messages=[{"role": "user", "content": QUESTION}], stream=True,
        extra_body={"sources": [seed]},
    ))  # fmt: skip
    last = chunks[-1].model_dump()
    assert last["answer"] == reply.choices[0].message.content  # the final, checked text
    for sources, words in [(["nope.txt"], "Not in the index: nope.txt"), ("x", "must be a list")]:
        with pytest.raises(openai.BadRequestError, match=re.escape(words)):
            client.chat.completions.create(
                model="documents",
                messages=[{"role": "user", "content": QUESTION}],
                extra_body={"sources": sources},
            )


def test_readme_openai_snippet_runs(app):
    code = python_snippet("HTTP API (OpenAI-compatible)")
    assert "http://127.0.0.1:7860/v1" in code
    code = code.replace("http://127.0.0.1:7860/v1", app.api)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert "documents" in lines[0]
    assert "Wang Yi" in lines[1] and "[1]" in lines[1]
    # The streamed reply's last line: its status and the sources it cites.
    assert re.search(r"^ (answered|uncertain) \['000_", done.stdout, re.MULTILINE), done.stdout
    assert any(line.startswith("1 ") and "000_" in line for line in lines), done.stdout


# --- the host guard: DNS rebinding (issue 17, case 1) --------------------------------------------

UPLOAD_NAME = "planted_by_rebinding.txt"


def _requests(url: str) -> dict[str, dict]:
    """One request of each kind the served app answers, as httpx.request arguments."""
    files = {"files": (UPLOAD_NAME, b"The treasure is buried under the old oak.", "text/plain")}
    ask = {"data": ["Who did Blinken meet?", [], []]}
    chat = {"model": "documents", "messages": [{"role": "user", "content": QUESTION}]}
    return {
        "page": dict(method="GET", url=f"{url}/"),
        "gradio config": dict(method="GET", url=f"{url}/config"),
        "gradio api info": dict(method="GET", url=f"{url}/gradio_api/info"),
        "gradio upload": dict(method="POST", url=f"{url}/gradio_api/upload", files=files),
        "gradio call": dict(method="POST", url=f"{url}/gradio_api/call/respond", json=ask),
        "gradio queue join": dict(
            method="POST", url=f"{url}/gradio_api/queue/join", json={"fn_index": 0, "data": []}
        ),
        "api models": dict(method="GET", url=f"{url}/v1/models"),
        "api chat": dict(method="POST", url=f"{url}/v1/chat/completions", json=chat),
    }


def test_foreign_host_or_origin_is_refused_on_every_route(app):
    evil = f"evil.example:{app.port}"
    checked = 0
    for name, request in _requests(app.url).items():
        for headers in ({"Host": evil}, {"Origin": f"http://{evil}"}, {"Host": evil, "Origin": f"http://{evil}"}):  # fmt: skip
            r = httpx.request(**request, headers=headers, timeout=60)
            reliability.add("cases_tried", 1, f"DNS rebinding: {name}")
            held = r.status_code == 403 and "QA_ALLOWED_HOSTS" in r.text
            reliability.add("cases_held" if held else "cases_failed", 1, f"DNS rebinding: {name}")
            assert held, (name, headers, r.status_code, r.text[:200])
            checked += 1
    assert checked == 24
    # Nothing refused was stored: the upload never reached Gradio's folder.
    uploads = app.base / "gradio-uploads"
    planted = [p for p in uploads.rglob(UPLOAD_NAME)] if uploads.exists() else []
    assert not planted

    # The app's own names are served: loopback, with and without a port and an Origin.
    for host in (f"127.0.0.1:{app.port}", f"localhost:{app.port}", "127.0.0.1"):
        ok = httpx.get(f"{app.url}/", headers={"Host": host}, timeout=60)
        assert ok.status_code == 200, host
    same = {"Origin": f"http://localhost:{app.port}"}
    assert httpx.get(f"{app.url}/v1/models", headers=same, timeout=60).status_code == 200

    # Issue 27, case 9: a sandboxed frame or file:// page (Origin: null) and a page on another
    # local port are other sites: refused, and no preflight of theirs is granted.
    for origin in ("null", f"http://localhost:{app.port + 1}", "http://127.0.0.1:9999"):
        preflight = {"Origin": origin, "Access-Control-Request-Method": "POST"}
        for method, path in (("OPTIONS", "/gradio_api/queue/join"), ("GET", "/v1/models"), ("OPTIONS", "/v1/chat/completions")):  # fmt: skip
            r = httpx.request(method, f"{app.url}{path}", headers=preflight, timeout=60)
            held = r.status_code == 403 and not any(k.startswith("access-control") for k in r.headers)  # fmt: skip
            reliability.case("issue 27.9: Origin null or another local port", held)
            assert held, (origin, method, path, r.status_code, dict(r.headers))
    own = {"Origin": f"http://127.0.0.1:{app.port}", "Access-Control-Request-Method": "POST"}
    r = httpx.options(f"{app.url}/gradio_api/queue/join", headers=own, timeout=60)
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == own["Origin"]
    upload = httpx.post(**{k: v for k, v in _requests(app.url)["gradio upload"].items() if k != "method"}, timeout=60)  # fmt: skip
    assert upload.status_code == 200 and UPLOAD_NAME in upload.text


# --- qa serve: the API alone, behind the login ---------------------------------------------------


def test_qa_serve_serves_the_api_alone_behind_the_login(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(SEEDS, docs)
    command = ["-m", "qa.cli", "serve", "--docs", str(docs)]
    login = {
        "QA_UI_USER": "ann",
        "QA_UI_PASSWORD": "s3cret pass",
        "QA_ALLOWED_HOSTS": "chat.example",
    }
    with running(tmp_path, command, **login) as served:
        assert httpx.get(f"{served.url}/", timeout=30).status_code == 404  # no page
        with pytest.raises(openai.AuthenticationError, match="USER:PASSWORD"):
            openai.OpenAI(base_url=served.api, api_key="ann:wrong", max_retries=0).models.list()
        r = httpx.get(f"{served.api}/models", timeout=30)
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
        good = openai.OpenAI(base_url=served.api, api_key="ann:s3cret pass", max_retries=0)
        assert [m.id for m in good.models.list()] == ["documents"]
        reply = good.chat.completions.create(
            model="documents", messages=[{"role": "user", "content": QUESTION}]
        )
        assert reply.status in OFFERED and "Wang Yi" in reply.choices[0].message.content
        basic = httpx.get(f"{served.api}/models", auth=("ann", "s3cret pass"), timeout=30)
        assert basic.status_code == 200
        # QA_ALLOWED_HOSTS adds a name; the guard still refuses others.
        named = {"Host": "chat.example", "Authorization": "Bearer ann:s3cret pass"}
        assert httpx.get(f"{served.api}/models", headers=named, timeout=30).status_code == 200
        other = {"Host": "evil.example", "Authorization": "Bearer ann:s3cret pass"}
        assert httpx.get(f"{served.api}/models", headers=other, timeout=30).status_code == 403
    assert "Serving the API on http://127.0.0.1:" in served.log.read_text()


def test_qa_serve_refuses_a_public_address_without_login_and_a_taken_port(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env["PYTHONPATH"] = str(ROOT)
    cmd = [sys.executable, "-m", "qa.cli", "serve", "--store", str(tmp_path / "s")]
    done = subprocess.run([*cmd, "--host", "0.0.0.0"], capture_output=True, text=True, env=env)
    assert done.returncode == 1 and "without a login" in done.stderr
    with contextlib.closing(__import__("socket").socket()) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = subprocess.run([*cmd, "--port", port], capture_output=True, text=True, env=env)
    assert done.returncode == 1 and f"cannot serve on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_served_page_works_under_the_guard(app):
    """The page that app.py mounts loads its assets and answers through Gradio's own API."""
    page = httpx.get(f"{app.url}/", timeout=60)
    assert page.status_code == 200 and "<html" in page.text.lower()
    config = httpx.get(f"{app.url}/config", timeout=60)
    assert config.status_code == 200 and config.json()["components"]


def test_a_body_nested_past_any_request_is_refused_before_parsing():
    """Issue 27, case 8: json.loads recursed once per level (RecursionError, then a 500)."""
    import time

    from qa.http.api import MAX_JSON_DEPTH, APIError, parse_request

    chat = b'{"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "hi [[[["}]}]}'  # fmt: skip
    assert parse_request(chat, 4000)[1] == "hi [[[["  # brackets in strings are text
    for body in (b"[" * 500_000 + b"]" * 500_000, b'{"a":' * 1000 + b"1" + b"}" * 1000,
                 b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)):  # fmt: skip
        t0 = time.perf_counter()
        with pytest.raises(APIError, match="nests deeper") as err:
            parse_request(body, 4000)
        assert err.value.status == 400 and time.perf_counter() - t0 < 1
    flat = b"[]" * 1_000_000  # 2 MB of shallow brackets: checked in a fraction of a second
    t0 = time.perf_counter()
    with pytest.raises(APIError):
        parse_request(flat, 4000)
    assert time.perf_counter() - t0 < 1
    reliability.case("issue 27.8: JSON body nested past any request", True, 3)


def test_login_header_forms():
    from qa.http.api import check_login

    login = ("ann", "s3cret pass")
    assert check_login(None, None) and check_login("Bearer anything", None)
    assert check_login("Bearer ann:s3cret pass", login)
    assert check_login("basic " + base64.b64encode(b"ann:s3cret pass").decode(), login)
    for header in (None, "", "Bearer ann:wrong", "Bearer s3cret pass", "Token ann:s3cret pass",
                   "Basic not-base64!", "Basic " + base64.b64encode(b"ann:wrong").decode()):  # fmt: skip
        assert not check_login(header, login), header
