"""The real web app (``python app.py``) driven in headless Chromium: answers, sources, chats kept,
the documents panel, feedback, and document text that is only ever shown as text."""

from __future__ import annotations

import ast
import http.server
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from typing import ClassVar

import pytest
import reliability

from tests.browser import (
    DONE,
    WAIT_MS,
    ask,
    axe_violations,
    open_page,
    open_source,
    outside_hosts,
    running_app,
    shot,
    upload,
    wait_kept,
    wait_ready,
)
from tests.conftest import ROOT, SEEDS, free_port, wait_http
from tests.samples import ESPRESSO, write_pdf

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app over a private copy of seeds/ and a PDF, shared by the tests of this module."""
    base = tmp_path_factory.mktemp("web")
    shutil.copytree(SEEDS, base / "docs")
    write_pdf(base / "docs" / "espresso.pdf", ESPRESSO)
    with running_app(base, base / "docs") as running:
        yield running


def test_answer_leads_with_its_evidence_under_it(page, app, test_output):
    assert page.locator(".qa-header h1").inner_text() == "Document Q&A"
    assert page.locator("#qa-mode strong").inner_text() == "Extractive"
    page.evaluate(
        """() => { window.__states = new Set();
        new MutationObserver(() => document.querySelectorAll('#qa-chat .qa-answer')
            .forEach(e => window.__states.add(e.className))
        ).observe(document.querySelector('#qa-chat'), {subtree: true, childList: true,
                                                       characterData: true}); }"""
    )
    answer = ask(page, "Where is Wang expected to travel after Munich?")
    assert "qa-answer qa-pending qa-busy" in page.evaluate("() => [...window.__states]")
    lead = answer.locator(".qa-lead")
    assert "Russia" in lead.inner_text() and "[1]" in lead.inner_text()
    evidence = answer.locator(".qa-evidence")
    assert lead.bounding_box()["y"] < evidence.bounding_box()["y"]  # the answer comes first
    source = evidence.locator("a.qa-src").first
    assert source.is_visible() and "000_d383e4b1c99cfec1.txt" in source.inner_text()
    assert "chars" not in answer.inner_text()  # offsets are not in the main line
    assert answer.locator(".qa-fb").count() == 2 and answer.locator(".qa-meta").is_visible()
    shot(page, test_output, "web-answer-desktop")
    assert outside_hosts(page, app.port) == set()  # no fonts, scripts or beacons from outside
    assert not [u for u in page.requests if ".woff" in u or "font" in u.lower()]
    assert page.errors == []


def test_citation_opens_the_document_at_the_highlighted_sentence(page, test_output):
    answer = ask(page, "Where is Wang expected to travel after Munich?")
    viewer = open_source(page, answer)
    thread, side = page.locator("#qa-chat").bounding_box(), viewer.bounding_box()
    assert side["x"] >= thread["x"] + thread["width"] - 1  # beside the chat, not over it
    assert page.locator("#qa-chat").is_visible() and not page.locator("#qa-docs").is_visible()
    sentence = viewer.locator("mark.qa-sentence").first
    assert "expected to visit Russia after the Munich conference" in sentence.inner_text()
    assert viewer.locator(".qa-v-title h2").inner_text() == "000_d383e4b1c99cfec1.txt"
    body = viewer.locator(".qa-v-body")
    assert page.evaluate(  # the whole document is there, much longer than its box...
        "() => { const b = document.querySelector('.qa-v-body'); return b.scrollHeight > 3 * b.clientHeight }"
    )
    mark, box = sentence.bounding_box(), body.bounding_box()
    assert (
        box["y"] <= mark["y"] and mark["y"] + mark["height"] <= box["y"] + box["height"]
    )  # ...at it
    offsets = viewer.locator(".qa-v-offsets")
    assert not offsets.locator("li").first.is_visible()  # in a detail, folded
    offsets.locator("summary").click()
    assert re.search(r"Passage: characters [\d,]+–[\d,]+ of [\d,]+", offsets.inner_text())
    shot(page, test_output, "web-source-desktop")
    viewer.locator(".qa-v-close").click()
    viewer.wait_for(state="hidden")
    assert page.locator("#qa-docs").is_visible()
    open_source(page, answer)  # the same source again, then Escape
    page.keyboard.press("Escape")
    viewer.wait_for(state="hidden")
    assert page.errors == []


def test_a_pdf_source_shows_the_page_with_the_passage_area_highlighted(page, test_output):
    answer = ask(page, "How often must the Lumen Barista Pro be descaled?")
    n = answer.locator("a.qa-src", has_text="Lumen Barista Pro manual").first.get_attribute(
        "data-n"
    )
    viewer = open_source(page, answer, int(n))
    image = viewer.locator(".qa-pdf img")
    image.wait_for()
    assert page.evaluate("() => document.querySelector('.qa-pdf img').naturalWidth") > 500
    assert "page 1" in viewer.locator(".qa-v-sub").inner_text()
    boxes = viewer.locator(".qa-pdf-hl")
    assert boxes.count() >= 1
    img = image.bounding_box()
    for i in range(boxes.count()):
        b = boxes.nth(i).bounding_box()
        assert b["width"] > 20 and b["height"] > 3
        assert img["x"] - 1 <= b["x"] and b["x"] + b["width"] <= img["x"] + img["width"] + 1
        assert img["y"] - 1 <= b["y"] and b["y"] + b["height"] <= img["y"] + img["height"] + 1
    # The highlight sits on the upper part of the page, where the text is.
    assert boxes.first.bounding_box()["y"] < img["y"] + img["height"] / 3
    shot(page, test_output, "web-pdf-desktop")
    viewer.locator(".qa-pdf-zoom").click()  # read it at twice the size, at the highlight
    page.wait_for_function("() => document.querySelector('.qa-pdf-zoom').ariaPressed === 'true'")
    assert image.bounding_box()["width"] > 2 * img["width"]
    scroller = viewer.locator(".qa-pdf-scroll").bounding_box()
    first = boxes.first.bounding_box()
    assert scroller["x"] - 1 <= first["x"] <= scroller["x"] + scroller["width"]
    shot(page, test_output, "web-pdf-zoom-desktop")
    viewer.locator("label[for=qa-v-mode-text]").click()
    mark = viewer.locator(".qa-v-pane-text mark.qa-sentence").first
    mark.wait_for(state="visible")
    assert "descaled" in mark.inner_text()
    assert not image.is_visible()


def test_the_phrase_is_marked_and_uncertain_answers_read_as_closest_passages(page, test_output):
    """A focused answer and an "uncertain" one, restored from the browser's storage as any chat."""
    ask(page, "Where is Wang expected to visit after Munich?")
    key, raw = page.evaluate(
        "() => { const k = Object.keys(localStorage).find(k => k.includes('/chat/'));"
        " return [k, localStorage.getItem(k)]; }"
    )
    chat = json.loads(raw)
    turn = chat["turns"][0]
    cite = turn["answer"]["citations"][0]
    sentence = cite["sentences"][0]
    at = sentence["start"] + sentence["text"].index("Russia")
    cite["phrases"] = [{"start": at, "end": at + 6, "text": "Russia"}]
    turn["answer"]["answer"] = turn["answer"]["text"] = "Russia, after the Munich conference. [1]"
    turn["answer"]["status"] = "answered"
    unsure = json.loads(json.dumps(turn))
    unsure["question"] = "Where will Wang travel next year?"
    unsure["answer"]["standalone_question"] = unsure["question"]  # asked as it stands
    unsure["answer"].update(status="uncertain", refused=False, reason="not-confident",
                            text="a visit to Russia. [1]",
                            answer="Not sure. The closest answer in the documents: a visit to Russia. [1]")  # fmt: skip
    chat["turns"].append(unsure)
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", [key, json.dumps(chat)])
    page.reload()
    wait_ready(page)
    page.locator(DONE).nth(1).wait_for()
    focused, uncertain = page.locator(DONE).nth(0), page.locator(DONE).nth(1)
    assert focused.locator(".qa-lead").inner_text().startswith("Russia, after the Munich")
    phrase = focused.locator("blockquote mark.qa-phrase")
    assert phrase.inner_text() == "Russia" and phrase.is_visible()
    assert "expected to visit Russia after" in focused.locator("blockquote").inner_text()
    assert focused.locator(".qa-evidence h3").inner_text().lower() == "evidence"
    verdict = uncertain.locator(".qa-verdict")
    assert verdict.inner_text().startswith("Not sure.") and "closest answer" in verdict.inner_text()
    assert uncertain.locator(".qa-evidence h3").inner_text().lower() == "closest passages"
    colour = "e => getComputedStyle(e).backgroundColor"
    assert verdict.evaluate(colour) != focused.locator(".qa-lead").evaluate(colour)
    assert focused.locator(".qa-verdict").count() == 0  # an answer has no verdict line
    assert page.locator(".qa-reading").count() == 0  # neither was read as another question
    viewer = open_source(page, uncertain)  # its sources open like any other
    assert viewer.locator("mark.qa-phrase").inner_text() == "Russia"
    shot(page, test_output, "web-phrase-uncertain-desktop")


def test_reload_keeps_the_chat_and_past_chats_can_be_opened_and_deleted(page, browser, app):
    ask(page, "Who did Blinken meet on Saturday?")
    ask(page, "What did Biden say he would not apologize for?")
    page.reload()
    wait_ready(page)
    page.locator(DONE).nth(1).wait_for()
    turns = page.locator("#qa-transcript .qa-turn")
    assert turns.count() == 2 and "Wang Yi" in turns.nth(0).inner_text()
    chats = page.locator(".qa-chat-item")
    assert chats.count() == 1 and "Who did Blinken meet" in chats.first.inner_text()
    assert chats.first.locator("[aria-current=true]").count() == 1

    page.locator(".qa-new-chat").click()
    page.wait_for_selector("#qa-transcript .qa-empty")
    ask(page, "Where is Wang expected to visit after Munich?")
    page.wait_for_function("() => document.querySelectorAll('.qa-chat-item').length === 2")
    assert "Where is Wang" in page.locator(".qa-chat-item.qa-current").inner_text()

    page.locator(".qa-chat-item", has_text="Who did Blinken meet").locator(".qa-chat-open").click()
    page.wait_for_function(
        "() => document.querySelectorAll('#qa-transcript .qa-turn').length === 2"
    )
    assert "apologize" in page.locator("#qa-transcript").inner_text()
    # A follow-up continues the chat it was opened in.
    ask(page, "And where did they meet?")
    assert page.locator("#qa-transcript .qa-turn").count() == 3

    other = page.locator(".qa-chat-item", has_text="Where is Wang")
    other.locator(".qa-chat-del").click()
    assert page.locator(".qa-chat-item").count() == 2  # nothing is deleted before a confirmation
    page.locator(".qa-chat-del-no").click()
    assert page.locator(".qa-chat-item").count() == 2
    page.locator(".qa-chat-item", has_text="Where is Wang").locator(".qa-chat-del").click()
    page.locator(".qa-chat-del-yes").click()
    page.wait_for_function("() => document.querySelectorAll('.qa-chat-item').length === 1")
    page.reload()
    wait_ready(page)
    assert page.locator(".qa-chat-item").count() == 1
    assert page.locator("#qa-transcript .qa-turn").count() == 3

    stranger = open_page(browser, app.url)  # another user of the same server
    try:
        assert stranger.locator(".qa-chat-item").count() == 0
        assert stranger.locator("#qa-transcript .qa-turn").count() == 0
    finally:
        stranger.context.close()
    assert page.errors == []


def test_double_enter_never_loses_a_question(page):
    page.fill("#qa-question textarea", "Who did Blinken meet on Saturday?")
    page.press("#qa-question textarea", "Enter")
    page.press("#qa-question textarea", "Enter")
    page.locator(DONE).first.wait_for()
    page.wait_for_timeout(1500)  # a second answer or an error would be here by now
    assert page.locator("#qa-chat .qa-error").count() == 0
    assert page.locator("#qa-transcript .qa-turn").count() == 1
    assert "Wang Yi" in page.locator("#qa-transcript").inner_text()
    # Two questions typed and sent back to back: each is answered or still in the box.
    page.fill("#qa-question textarea", "Where is Wang expected to travel after Munich?")
    page.press("#qa-question textarea", "Enter")
    page.fill("#qa-question textarea", "What did Biden say he would not apologize for?")
    page.press("#qa-question textarea", "Enter")
    page.locator(DONE).nth(1).wait_for()
    page.wait_for_timeout(1500)
    shown = page.locator("#qa-transcript").inner_text()
    box = page.input_value("#qa-question textarea")
    assert "Russia" in shown
    assert "apologize" in shown or box == "What did Biden say he would not apologize for?"


def test_a_question_typed_before_the_last_one_left_waits_in_the_box(page):
    # Enter, new text and Enter again in one go, before the first question's inputs are even
    # gathered (CI once ran that fast): the first question leaves, the second waits in the box;
    # neither is lost, neither takes the other's place, nothing is asked twice.
    page.evaluate("""() => {
      const t = document.querySelector('#qa-question textarea');
      const type = (v) => { t.value = v; t.dispatchEvent(new Event('input', {bubbles: true})); };
      const enter = () => ['keydown', 'keypress'].forEach((k) => t.dispatchEvent(
        new KeyboardEvent(k, {key: 'Enter', bubbles: true, cancelable: true})));
      type('Where is Wang expected to travel after Munich?'); enter();
      type('What did Biden say he would not apologize for?'); enter();
    }""")
    page.locator(DONE).first.wait_for()
    page.wait_for_timeout(1500)  # a second answer would be here by now
    shown = page.locator("#qa-transcript").inner_text()
    assert page.locator("#qa-transcript .qa-turn").count() == 1, shown
    assert "Where is Wang expected to travel after Munich?" in shown and "Russia" in shown
    box = "#qa-question textarea"
    assert page.input_value(box) == "What did Biden say he would not apologize for?"
    page.press(box, "Enter")  # once the answer is done, the waiting question goes
    page.locator(DONE).nth(1).wait_for()
    assert "apologize" in page.locator("#qa-transcript .qa-turn").nth(1).inner_text()
    assert page.input_value(box) == ""


def test_feedback_is_saved_for_evaluation_and_kept_in_the_chat(page, app):
    answer = ask(page, "Who did Blinken meet on Saturday?")
    answer.locator(".qa-fb[data-rating=up]").click()
    page.wait_for_selector("#qa-transcript .qa-fb[data-rating=up][aria-pressed=true]")
    answer = page.locator(DONE).first
    answer.locator(".qa-fb-open").click()
    form = answer.locator(".qa-fb-form")
    form.locator("textarea").fill("Wang Yi, China's top diplomat")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#qa-transcript .qa-fb-said")
    assert "Wang Yi, China's top diplomat" in page.locator(".qa-fb-said").inner_text()
    records = [json.loads(line) for line in (app.store / "feedback.jsonl").read_text().splitlines()]
    mine = [r for r in records if r["question"] == "Who did Blinken meet on Saturday?"]
    assert [r["rating"] for r in mine][-2:] == ["up", "down"]
    assert mine[-1]["correction"] == "Wang Yi, China's top diplomat" and mine[-1]["citations"]
    wait_kept(page, "Wang Yi, China's top diplomat")
    page.reload()
    wait_ready(page)
    page.wait_for_selector("#qa-transcript .qa-fb[data-rating=down][aria-pressed=true]")


def test_documents_panel_separates_remove_from_index_and_delete_file(page, app, tmp_path):
    doc = tmp_path / "gone.md"
    doc.write_text("The Vindrel bridge spans the Oska river at Pellham.\n", encoding="utf-8")
    assert "Added gone.md" in upload(page, doc)
    row = page.locator(".qa-docrow", has_text="gone.md")
    row.locator(".qa-doc-act[data-action=unindex]").click()
    confirm = row.locator(".qa-confirm[data-action=unindex]")
    assert confirm.is_visible() and "stays in the documents folder" in confirm.inner_text()
    confirm.locator(".qa-confirm-no").click()
    assert not confirm.is_visible() and "indexed" in row.locator(".qa-status").inner_text()
    row.locator(".qa-doc-act[data-action=unindex]").click()
    confirm.locator(".qa-confirm-yes").click()
    page.wait_for_function(
        "() => document.querySelector('#qa-doc-status').innerText.includes('Removed gone.md from the index')"
    )
    assert (app.docs / "gone.md").exists()
    row = page.locator(".qa-docrow", has_text="gone.md")
    assert row.locator(".qa-status").inner_text() == "not indexed"
    answer = ask(page, "Which river does the Vindrel bridge span?")
    assert "gone.md" not in answer.inner_text()

    row.locator(".qa-doc-act[data-action=index]").click()
    page.wait_for_function(
        "() => document.querySelector('#qa-doc-status').innerText.includes('gone.md is in the index')"
    )
    row = page.locator(".qa-docrow", has_text="gone.md")
    row.locator(".qa-doc-act[data-action=delete]").click()
    confirm = row.locator(".qa-confirm[data-action=delete]")
    assert "cannot be undone" in confirm.inner_text() and (app.docs / "gone.md").exists()
    confirm.locator(".qa-confirm-yes").click()
    page.wait_for_function(
        "() => document.querySelector('#qa-doc-status').innerText.includes('Deleted gone.md')"
    )
    assert not (app.docs / "gone.md").exists()
    assert page.locator(".qa-docrow", has_text="gone.md").count() == 0


def test_many_documents_get_a_search_box(page, app, tmp_path):
    files = []
    for i, name in enumerate(["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"]):
        files.append(tmp_path / f"note-{name}.txt")
        files[-1].write_text(f"Note {i}: the {name} depot opens at {i + 6} o'clock.\n")
    assert "Added note-golf.txt" in upload(page, *files)
    search = page.locator("#qa-docs-filter")
    search.fill("foxtrot")
    visible = page.locator(".qa-docrow:visible")
    assert visible.count() == 1 and "note-foxtrot.txt" in visible.first.inner_text()
    search.fill("zzz")
    assert page.locator(".qa-docrow:visible").count() == 0
    assert page.locator(".qa-docs-none").is_visible()
    search.fill("")
    assert page.locator(".qa-docrow:visible").count() >= 9
    for f in files:
        (app.docs / f.name).unlink()


class _Pixel(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self):
        _Pixel.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_markdown_in_a_document_is_never_rendered(page, tmp_path):
    """Issue 17, item 2: bare CRs then Markdown in a document: no image fetched, no link made."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pixel)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    pixel = f"http://127.0.0.1:{server.server_port}/pixel.png"
    doc = tmp_path / "pixel.txt"
    doc.write_bytes(
        f"The Quillon pixel report was filed on Monday by the harbour office.\r\r![x]({pixel}) "
        "and [login here](http://evil.example/login) for the rest.\r\r<img src=x>\n".encode()
    )
    try:
        assert "Added pixel.txt" in upload(page, doc)
        answer = ask(page, "When was the Quillon pixel report filed?")
        assert "Monday" in answer.inner_text()
        open_source(page, answer)
        page.wait_for_timeout(1000)
        shown = page.locator("#qa-viewer").inner_text()
        assert f"![x]({pixel})" in shown and "[login here](http://evil.example/login)" in shown
        fetched = [u for u in page.requests if "pixel.png" in u] + _Pixel.hits
        made = page.locator("a[href*='evil.example'], img[src*='pixel'], #qa-main img[src='x']")
        outcome = "held" if not fetched and made.count() == 0 else "failed"
        reliability.add("cases_tried", 1, "issue 17.2: Markdown after bare CRs in a document")
        reliability.add(f"cases_{outcome}", 1, "issue 17.2: Markdown after bare CRs in a document")
        assert fetched == [] and made.count() == 0
    finally:
        server.shutdown()


def test_script_in_a_document_is_shown_as_text_and_never_runs(page, tmp_path):
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
    assert payload in answer.inner_text() and image in answer.inner_text()
    viewer = open_source(page, answer)
    assert payload in viewer.inner_text() and image in viewer.inner_text()
    assert page.locator("#qa-main script, #qa-main img[onerror]").count() == 0
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__pwned") is None
    assert page.dialogs == [] and page.errors == []


def test_errors_are_readable_messages_and_the_app_keeps_working(page, tmp_path):
    long_q = "Who " + "is " * 2000
    page.fill("#qa-question textarea", long_q)
    page.click("#qa-ask")
    error = page.locator("#qa-chat .qa-error").first
    error.wait_for()
    assert "the limit is" in error.inner_text()
    assert page.input_value("#qa-question textarea") == long_q  # nothing lost
    bad = tmp_path / "setup.exe"
    bad.write_bytes(b"MZ" + bytes(200))
    assert ".exe files are not supported. Upload one of:" in upload(page, bad)
    assert "Traceback" not in page.locator("body").inner_text()
    answer = ask(page, "What did Biden say he would not apologize for?")
    assert "apologize" in answer.inner_text()


def test_examples_ask_their_question(page):
    page.locator(".qa-example", has_text="Who did Blinken meet on Saturday?").click()
    page.locator(DONE).first.wait_for()
    assert "Wang Yi" in page.locator("#qa-transcript .qa-lead").first.inner_text()
    assert page.locator(".qa-example").count() == 0  # examples belong to an empty chat


def test_several_users_at_once(browser, app):
    questions = {
        "Where is Wang expected to travel after Munich?": "Russia",
        "Who did Blinken meet on Saturday?": "Wang Yi",
        "What did Biden say he would not apologize for?": "apologize",
    }
    pages = [open_page(browser, app.url) for _ in questions]
    try:
        for pg, q in zip(pages, questions, strict=True):  # all sent before any is awaited
            pg.fill("#qa-question textarea", q)
            pg.press("#qa-question textarea", "Enter")
        for pg, words in zip(pages, questions.values(), strict=True):
            pg.locator(DONE).first.wait_for()
            assert words in pg.locator("#qa-transcript .qa-lead").first.inner_text()
    finally:
        for pg in pages:
            pg.context.close()


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
            wait_ready(pg)
            answer = ask(pg, "When does the Harlow archive close?")
            assert "noon on Fridays" in answer.inner_text()
        finally:
            context.close()


@pytest.mark.llm
def test_generated_answers_and_a_model_server_that_goes_down(browser, tmp_path, test_output):
    """With the real llama.cpp server: the model's name shows, the status says what happens
    ("Reading 1 passage with smollm2…"), answers stream, the passages read are one click away,
    a refusal before the model says so, Stop stops the model's request; server stopped -> the
    extractive answer with a notice. The tiny model's wording is never checked."""
    port = free_port()
    llm_log = tmp_path / "llm.log"
    llm = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "llm-server", "--port", str(port)],
        cwd=ROOT, stdout=llm_log.open("w"), stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
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
            pg = open_page(browser, app.url)
            pg.set_default_timeout(180_000)
            assert pg.locator("#qa-mode strong").inner_text() == "Generated · smollm2"
            header = pg.locator(".qa-header p").inner_text()
            assert header.startswith("smollm2, a language model, writes each answer")
            pg.evaluate(
                """() => { window.__states = new Set();
                new MutationObserver(() => document.querySelectorAll('#qa-chat .qa-answer')
                    .forEach(e => window.__states.add(e.className + '|' + e.innerText.slice(0, 40)))
                ).observe(document.querySelector('#qa-chat'), {subtree: true, childList: true,
                                                               characterData: true}); }"""
            )
            answer = ask(pg, "Who did Blinken meet on Saturday?")
            states = pg.evaluate("() => [...window.__states]")
            assert any(s.startswith("qa-answer qa-streaming") for s in states), states
            assert any(re.search(r"\|Reading \d passages? with smollm2…", s) for s in states)
            assert answer.locator(".qa-lead, .qa-verdict").count() >= 1
            assert answer.locator(".qa-meta").inner_text().startswith("Written by smollm2")
            assert (
                answer.locator(".qa-notice").count() <= 1
                and answer.locator(".qa-warn").count() == 0
            )
            read = answer.locator(".qa-read")
            read.locator("summary").click()
            shot(pg, test_output, "web-generated-desktop")
            assert axe_violations(pg) == []
            read.locator("a.qa-src").first.click()
            viewer = pg.locator("#qa-viewer .qa-viewer")
            viewer.wait_for(state="visible")
            assert viewer.locator("mark.qa-sentence").count() >= 1  # what the model read, marked
            viewer.locator(".qa-v-close").click()

            refused = ask(pg, "What is the boiling point of water at sea level?")
            said = refused.locator(".qa-meta").inner_text()
            assert said.startswith("Refused before asking smollm2") and "Extractive" not in said

            # Stop, pressed while the model reads: the answer stops, the question comes back,
            # and the model server drops the request (it logs the disconnection).
            pg.evaluate(
                """() => { const o = new MutationObserver(() => {
                  const busy = document.querySelector('#qa-live .qa-pending');
                  if (!busy || !busy.innerText.startsWith('Reading')) return;
                  o.disconnect();
                  window.__stop = [getComputedStyle(document.querySelector('#qa-stop')).display,
                                   getComputedStyle(document.querySelector('#qa-ask')).display];
                  document.querySelector('#qa-stop').click(); });
                  o.observe(document.querySelector('#qa-chat-col'),
                            {subtree: true, childList: true, characterData: true}); }"""
            )
            pg.fill("#qa-question textarea", "What did Wang call the US response to the balloon?")
            pg.press("#qa-question textarea", "Enter")
            pg.locator("#qa-live .qa-stopped").wait_for()
            assert pg.evaluate("() => window.__stop") == ["flex", "none"]  # Stop in Ask's place
            shot(pg, test_output, "web-generated-stopped-desktop")
            assert pg.input_value("#qa-question textarea").startswith("What did Wang call")
            assert pg.locator(DONE).count() == 2  # no third answer was kept
            deadline = time.monotonic() + 60
            while "disconnected" not in llm_log.read_text() and time.monotonic() < deadline:
                time.sleep(0.5)
            assert "disconnected" in llm_log.read_text(), "the model server kept writing"
            answer = ask(pg, "What did Biden say he would not apologize for?")  # not stuck
            assert answer.locator(".qa-meta").inner_text().startswith("Written by smollm2")

            llm.terminate()
            llm.wait(15)
            answer = ask(pg, "What did Biden say he would not apologize for?")
            notice = answer.locator(".qa-notice").inner_text()
            assert "extractive answer instead" in notice, notice
            assert (
                answer.locator(".qa-meta").inner_text().startswith("Extractive (the model failed)")
            )
            assert "apologize" in answer.locator(".qa-lead").inner_text()
            assert answer.locator(".qa-cite-item").count() >= 1
            assert pg.errors == []
            pg.context.close()
    finally:
        llm.terminate()
        llm.wait(15)
