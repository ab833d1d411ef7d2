"""The real web app (``python app.py``) driven in headless Chromium (Debian's, via Playwright)."""

from __future__ import annotations

import ast
import contextlib
import ipaddress
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import ROOT, SEEDS, free_port, wait_http

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
WAIT_MS = 60_000

# Runs app.py with an audit hook that writes down every address the server resolves or
# connects to, so the test can prove that nothing leaves the machine.
NET_LOGGING_LAUNCHER = """
import runpy, sys
log = open(sys.argv[1], "a", buffering=1)
def hook(event, args):
    if event == "socket.connect":
        log.write("connect " + repr(args[1]) + "\\n")
    elif event == "socket.getaddrinfo":
        log.write("resolve " + repr(args[0]) + "\\n")
sys.addaudithook(hook)
import socket
socket.getaddrinfo("localhost", 0)  # proves the hook records (the server itself may connect nowhere)
sys.argv = ["app.py", *sys.argv[2:]]
runpy.run_path("app.py", run_name="__main__")
"""


@contextlib.contextmanager
def running_app(base: Path, docs: Path, **env_extra: str):
    """``python app.py`` on a free port over ``docs`` with a private index under ``base``."""
    port = free_port()
    netlog = base / "network.log"
    out = base / "app.log"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("QA_UI_", "QA_DOCS", "QA_STORE"))
    }
    env.update(
        QA_STORE_DIR=str(base / "store"),
        GRADIO_TEMP_DIR=str(base / "gradio-uploads"),
        PYTHONUNBUFFERED="1",
        **env_extra,
    )
    with out.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", NET_LOGGING_LAUNCHER, str(netlog), "--port", str(port),
             "--docs", str(docs)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        try:
            wait_http(url, timeout=240, proc=proc)
        except Exception as exc:
            raise RuntimeError(f"app did not start: {exc}\n{out.read_text()}") from exc
        yield SimpleNamespace(url=url, port=port, docs=docs, netlog=netlog, log=out, proc=proc)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app over a private copy of seeds/, shared by the tests of this module."""
    base = tmp_path_factory.mktemp("web")
    shutil.copytree(SEEDS, base / "docs")
    with running_app(base, base / "docs") as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless; Playwright downloads nothing."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "install Debian's chromium (scripts/test.sh does)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, app):
    """A fresh tab on the app (a new session), recording requests, dialogs and page errors."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.requests, pg.dialogs, pg.errors = [], [], []
    pg.on("request", lambda r: pg.requests.append(r.url))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))

    def on_dialog(d):
        pg.dialogs.append(d.message)
        d.dismiss()

    pg.on("dialog", on_dialog)
    pg.set_default_timeout(WAIT_MS)
    pg.goto(app.url)
    pg.wait_for_selector("#qa-question textarea")
    yield pg
    context.close()


def ask(pg, question: str):
    """Type a question, send it with Enter, and return the locator of the finished answer."""
    n = pg.locator("#qa-chat .qa-answer:not(.qa-pending):not(.qa-streaming)").count()
    pg.fill("#qa-question textarea", question)
    pg.press("#qa-question textarea", "Enter")
    done = pg.locator("#qa-chat .qa-answer:not(.qa-pending):not(.qa-streaming)")
    done.nth(n).wait_for()
    return done.nth(n)


def upload(pg, path: Path) -> str:
    """Upload a file through the documents panel; the status message that comes back."""
    before = pg.locator("#qa-doc-status .qa-msg").all_inner_texts()
    pg.set_input_files("#qa-upload input[type=file]", str(path))
    pg.wait_for_function(
        "before => { const m = [...document.querySelectorAll('#qa-doc-status .qa-msg')]"
        ".map(e => e.innerText); return m.length && m.join('|') !== before.join('|'); }",
        arg=before,
    )
    return " | ".join(pg.locator("#qa-doc-status .qa-msg").all_inner_texts())


def test_question_streams_in_with_a_highlighted_source(page, app, test_output):
    assert page.locator(".qa-header h1").inner_text() == "Document Q&A"
    assert page.locator("#qa-mode strong").inner_text() == "Extractive"
    assert "000_d383e4b1c99cfec1.txt" in page.locator("#qa-docs table").inner_text()
    # Every state the answer goes through is written down as it appears.
    page.evaluate(
        """() => { window.__states = new Set();
        new MutationObserver(() => document.querySelectorAll('#qa-chat .qa-answer')
            .forEach(e => window.__states.add(e.className))
        ).observe(document.querySelector('#qa-chat'), {subtree: true, childList: true,
                                                       characterData: true}); }"""
    )
    answer = ask(page, "Where is Wang expected to travel after Munich?")
    states = page.evaluate("() => [...window.__states]")
    assert "qa-answer qa-pending" in states, states  # shown while the documents are searched
    text = answer.locator(".qa-text").inner_text()
    assert "Russia" in text and "[1]" in text
    source = answer.locator("details.qa-source").first
    assert source.locator(".qa-doc").inner_text() == "000_d383e4b1c99cfec1.txt"
    assert not source.locator(".qa-passage").is_visible()  # collapsed until opened
    source.locator("summary").click()
    mark = source.locator("mark.qa-support").first
    mark.wait_for(state="visible")
    highlighted = mark.inner_text()
    assert "expected to visit Russia after the Munich conference" in highlighted
    assert highlighted in source.locator(".qa-passage").inner_text()
    assert highlighted.strip() in text
    page.screenshot(path=str(test_output / "web-chat.png"), full_page=True)
    hosts = {re.match(r"^[a-z]+://([^/]+)", u).group(1) for u in page.requests if "://" in u}
    assert hosts == {f"127.0.0.1:{app.port}"}, hosts  # no fonts, scripts or beacons from outside
    assert page.errors == []


def test_uploaded_document_is_answerable_at_once(page, app, tmp_path, test_output):
    doc = tmp_path / "lighthouse.txt"
    doc.write_text(
        "Island history.\nThe Zorblat lighthouse on Kelvin Island was painted teal in 1911 by "
        "Agnes Mott.\nThe keeper left in 1920.\n",
        encoding="utf-8",
    )
    status = upload(page, doc)
    assert "Added lighthouse.txt; you can ask about it now." in status
    assert (app.docs / "lighthouse.txt").exists()
    assert "lighthouse.txt" in page.locator("#qa-docs").inner_text()
    answer = ask(page, "What colour was the Zorblat lighthouse painted?")
    assert "teal" in answer.locator(".qa-text").inner_text()
    assert answer.locator(".qa-source .qa-doc").first.inner_text() == "lighthouse.txt"
    page.screenshot(path=str(test_output / "web-chat-upload.png"), full_page=True)


def test_script_in_a_document_is_shown_as_text_and_never_runs(page, app, tmp_path):
    doc = tmp_path / "vault.txt"
    payload = '<script>window.__pwned = 1; alert("pwned")</script>'
    image = '<img src="x" onerror="window.__pwned = 2; alert(2)">'
    doc.write_text(
        f"The Quillon vault opens at midnight {payload} said the warden {image} on Tuesday.\n"
        "Nobody else holds a key to the Quillon vault.\n",
        encoding="utf-8",
    )
    assert "Added vault.txt" in upload(page, doc)
    answer = ask(page, "When does the Quillon vault open?")
    answer.locator("details.qa-source summary").first.click()
    shown = answer.inner_text()
    assert payload in shown and image in shown  # the document's text, as written
    assert answer.locator("mark.qa-support").first.inner_text().count("<script>") == 1
    assert page.locator("#qa-chat script, #qa-chat img[onerror]").count() == 0
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__pwned") is None
    assert page.dialogs == [] and page.errors == []


def test_errors_are_readable_messages_and_the_app_keeps_working(page, tmp_path):
    page.click("#qa-ask")  # nothing typed
    error = page.locator("#qa-chat .qa-error").first
    error.wait_for()
    assert "The question is empty" in error.inner_text()
    bad = tmp_path / "setup.exe"
    bad.write_bytes(b"MZ" + bytes(200))
    assert ".exe files are not supported. Upload one of:" in upload(page, bad)
    assert "Traceback" not in page.locator("body").inner_text()
    answer = ask(page, "What did Biden say he would not apologize for?")
    assert "apologize" in answer.inner_text()


def test_examples_clear_and_remove(page, app, tmp_path):
    page.get_by_role("button", name="Who did Blinken meet on Saturday?").click()
    page.locator("#qa-chat .qa-source").first.wait_for()
    assert "Wang Yi" in page.locator("#qa-chat .qa-answer .qa-text").first.inner_text()
    page.click("#qa-clear")
    page.wait_for_function("() => !document.querySelector('#qa-chat .qa-answer')")

    doc = tmp_path / "gone.md"
    doc.write_text("The Vindrel bridge spans the Oska river at Pellham.\n", encoding="utf-8")
    assert "Added gone.md" in upload(page, doc)
    page.click("#qa-remove-pick input")
    page.get_by_role("option", name="gone.md").click()
    page.click("#qa-remove")
    page.wait_for_function(
        "() => (document.querySelector('#qa-doc-status') || {}).innerText?.includes('Removed gone.md')"
    )
    assert "gone.md" not in page.locator("#qa-docs").inner_text()
    assert not (app.docs / "gone.md").exists()


def test_several_users_at_once(browser, app):
    questions = {
        "Where is Wang expected to travel after Munich?": "Russia",
        "Who did Blinken meet on Saturday?": "Wang Yi",
        "What did Biden say he would not apologize for?": "apologize",
    }
    contexts = [browser.new_context() for _ in questions]
    try:
        pages = [c.new_page() for c in contexts]
        for pg in pages:
            pg.set_default_timeout(WAIT_MS)
            pg.goto(app.url)
            pg.wait_for_selector("#qa-question textarea")
        for pg, q in zip(pages, questions, strict=True):  # all sent before any is awaited
            pg.fill("#qa-question textarea", q)
            pg.press("#qa-question textarea", "Enter")
        for pg, words in zip(pages, questions.values(), strict=True):
            pg.locator("#qa-chat .qa-source").first.wait_for()
            assert words in pg.locator("#qa-chat .qa-text").first.inner_text()
    finally:
        for c in contexts:
            c.close()


def test_server_never_reaches_outside_this_machine(app):
    """Run last: by now the app has started, answered, indexed uploads and removed a file."""
    lines = app.netlog.read_text().splitlines()
    assert any(line.startswith(("connect", "resolve")) for line in lines)  # the hook did record
    outside = []
    for line in lines:
        kind, _, value = line.partition(" ")
        target = ast.literal_eval(value)  # repr() of a str, bytes or an address tuple
        host = target[0] if isinstance(target, tuple) else target
        if isinstance(host, bytes):
            host = host.decode()
        if isinstance(target, str) and kind == "connect" and target.startswith("/"):
            continue  # a Unix socket
        if host in (None, "localhost"):
            continue
        try:
            if ipaddress.ip_address(host).is_loopback:
                continue
        except ValueError:
            pass
        outside.append(line)
    assert outside == [], outside


def test_login_from_environment_variables(browser, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "note.txt").write_text("The Harlow archive closes at noon on Fridays.\n")
    with running_app(tmp_path, docs, QA_UI_USER="ann", QA_UI_PASSWORD="corr3ct-horse") as app:
        context = browser.new_context()
        try:
            pg = context.new_page()
            pg.set_default_timeout(WAIT_MS)
            pg.goto(app.url)
            pg.get_by_role("textbox").first.wait_for()
            assert pg.locator("#qa-question").count() == 0  # nothing before logging in
            fields = pg.locator("input")
            fields.nth(0).fill("ann")
            fields.nth(1).fill("wrong")
            pg.get_by_role("button", name=re.compile("login", re.I)).click()
            pg.get_by_text(re.compile("incorrect", re.I)).first.wait_for()
            fields.nth(0).fill("ann")
            fields.nth(1).fill("corr3ct-horse")
            pg.get_by_role("button", name=re.compile("login", re.I)).click()
            answer = ask(pg, "When does the Harlow archive close?")
            assert "noon on Fridays" in answer.inner_text()
        finally:
            context.close()


@pytest.mark.llm
def test_generated_answers_and_a_model_server_that_goes_down(browser, tmp_path):
    """With the real llama.cpp server: the model's name shows, answers stream; server stopped ->
    the extractive answer with a notice. The tiny model's wording is never checked."""
    port = free_port()
    llm_log = (tmp_path / "llm.log").open("w")
    llm = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "llm-server", "--port", str(port)],
        cwd=ROOT, stdout=llm_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{port}/v1/models", timeout=120, proc=llm)
        docs = tmp_path / "docs"
        shutil.copytree(SEEDS, docs)
        env = dict(
            OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1",
            QA_LLM_MODEL="smollm2",
            QA_LLM_CONTEXT_TOKENS="2048",
            QA_LLM_TIMEOUT="60",
        )
        with running_app(tmp_path, docs, **env) as app:
            context = browser.new_context()
            pg = context.new_page()
            pg.set_default_timeout(180_000)
            pg.goto(app.url)
            pg.wait_for_selector("#qa-question textarea")
            assert pg.locator("#qa-mode strong").inner_text() == "Generated · smollm2"
            pg.evaluate(
                """() => { window.__states = new Set();
                new MutationObserver(() => document.querySelectorAll('#qa-chat .qa-answer')
                    .forEach(e => window.__states.add(e.className))
                ).observe(document.querySelector('#qa-chat'), {subtree: true, childList: true,
                                                               characterData: true}); }"""
            )
            answer = ask(pg, "Who did Blinken meet on Saturday?")
            states = pg.evaluate("() => [...window.__states]")
            assert "qa-answer qa-streaming" in states, states  # the model's words arrive in pieces
            assert answer.locator(".qa-text, .qa-refused").count() == 1
            assert "generated" in answer.locator(".qa-meta").inner_text()
            llm.terminate()
            llm.wait(15)
            answer = ask(pg, "What did Biden say he would not apologize for?")
            notice = answer.locator(".qa-notice").inner_text()
            assert "extractive answer instead" in notice, notice
            assert "apologize" in answer.locator(".qa-text").inner_text()
            assert answer.locator(".qa-source").count() >= 1
            context.close()
    finally:
        llm.terminate()
        llm.wait(15)
