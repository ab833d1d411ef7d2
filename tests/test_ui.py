"""The web chat's handlers over a real engine, called directly (no server, no browser)."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from qa.errors import LLMError, QAError, UploadRejected
from qa.http.hosts import is_loopback
from qa.library import folder
from qa.web import conversation, page
from qa.web.handlers import ChatUI
from tests.conftest import ROOT, SEEDS, offered
from tests.samples import write_pdf, write_pptx
from tests.test_web_render import _Tags

NEW_FACT = "The Zorblat lighthouse on Kelvin Island was painted teal in 1911 by Agnes Mott."


@pytest.fixture(scope="module")
def docs_engine(tmp_path_factory):
    """An engine over a private copy of seeds/, which the upload and removal tests change."""
    from index.ingest import ingest
    from qa.engine import Engine
    from qa.settings import Settings

    base = tmp_path_factory.mktemp("ui")
    docs = base / "docs"
    shutil.copytree(SEEDS, docs)
    settings = Settings(docs_dir=docs, store_dir=base / "store")
    ingest(settings.ingest_config)
    return Engine(settings)


# --- file names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("report.txt", "report.txt"),
        ("../../etc/passwd.md", "passwd.md"),
        ("..\\..\\win\\notes.TXT", "notes.txt"),
        (".hidden.txt", "hidden.txt"),
        ("..txt", "document.txt"),
        ("a b (2).pdf", "a b (2).pdf"),
        ("Zürich über;rm -rf.docx", "Zürich über_rm -rf.docx"),
        ("x\x00y\n.html", "xy.html"),
    ],
)
def test_safe_filename_keeps_uploads_inside_the_folder(given, stored):
    assert folder.safe_filename(given) == stored


@pytest.mark.parametrize("given", ["setup.exe", "archive.tar.gz", "README", "notes.txt.sh"])
def test_safe_filename_rejects_unsupported_types_with_the_supported_list(given):
    with pytest.raises(UploadRejected, match=r"not supported\. Upload one of: .*\.pdf"):
        folder.safe_filename(given)


@pytest.mark.parametrize(
    ("given", "advice"),
    [("Report 2019.doc", "save it as .docx"), ("budget.XLS", "save it as .xlsx or .csv"),
     ("mail.msg", "save it as .eml or .pdf"), ("talk.key", "export it as .pptx or .pdf")],
)  # fmt: skip
def test_a_format_we_do_not_read_says_what_to_save_it_as(tmp_path, given, advice):
    """An old Word file or an Outlook message is common: the message says how to convert it,
    on upload and when the folder is indexed."""
    from index.load import scan

    with pytest.raises(UploadRejected, match=rf"not supported \(.*{re.escape(advice)}\)\. Upload"):
        folder.safe_filename(given)
    (tmp_path / given).write_bytes(b"\xd0\xcf\x11\xe0 old binary")
    _, skipped = scan([tmp_path])
    assert [s.source for s in skipped] == [given] and advice in skipped[0].reason


# --- chat handler ----------------------------------------------------------------------------------


def test_examples_are_answered_from_the_seed(seed_engine):
    expected = ["Wang Yi", "absurd and hysterical", "Russia", "apologize"]
    for question, words in zip(page.EXAMPLES, expected, strict=True):
        answer = seed_engine.ask(question)
        assert not answer.refused, question
        assert words in answer.text, (question, answer.text)


def test_respond_streams_then_adds_the_turn(seed_engine):
    ui = ChatUI(seed_engine)
    steps = list(ui.respond("Where is Wang expected to travel after Munich?", None))
    assert len(steps) >= 3  # pending, at least one streamed piece, final
    assert "Searching the documents" in steps[0].live and steps[0].transcript is None
    assert any("qa-streaming" in (s.live or "") for s in steps[1:-1])
    final = steps[-1]
    assert final.live == "" and final.box is None
    assert "Russia" in final.transcript and 'class="qa-ref"' in final.transcript
    turn = final.conversation["turns"][0]
    assert turn["question"] == "Where is Wang expected to travel after Munich?"
    assert final.conversation["title"] == turn["question"]
    assert "retrieved" not in turn["answer"]  # what the browser keeps stays small


class _Recording:
    """The real engine, with the history each question was asked with written down."""

    def __init__(self, engine):
        self.engine, self.settings, self.histories = engine, engine.settings, []

    def events(self, question, history=None, sources=None):
        self.histories.append(list(history or []))
        return self.engine.events(question, history, sources)


def test_follow_up_questions_get_the_conversation(seed_engine):
    rec = _Recording(seed_engine)
    ui = ChatUI(rec)
    *_, first = ui.respond("Where is Wang expected to travel after Munich?", None)
    *_, second = ui.respond("And what did he discuss with Blinken?", first.conversation)
    assert rec.histories[0] == []
    assert [t["role"] for t in rec.histories[1]] == ["user", "assistant"]
    assert rec.histories[1][0]["content"].startswith("Where is Wang")
    assert "<" not in rec.histories[1][1]["content"]  # plain text, not the page's HTML
    assert len(second.conversation["turns"]) == 2
    assert second.transcript.count('class="qa-turn"') == 2


def test_refused_question_in_the_chat(seed_engine):
    *_, last = ChatUI(seed_engine).respond("What is the capital of France?", None)
    assert "Not in the documents." in last.transcript and "qa-evidence" not in last.transcript


def test_blank_box_sends_nothing_and_bad_questions_keep_the_question(seed_engine):
    ui = ChatUI(seed_engine)
    for blank in ("", "   ", "\n\t", None):
        assert list(ui.respond(blank, None)) == []
    long_q = "x" * (seed_engine.settings.max_question_chars + 1)
    *_, last = ui.respond(long_q, None)
    assert "the limit is" in last.live and "qa-error" in last.live
    assert last.box == long_q and last.transcript is None and last.conversation["turns"] == []


class _Broken:
    """An engine whose stream fails half-way, as a crashed model server would."""

    def __init__(self, engine, exc):
        self.settings, self.exc = engine.settings, exc

    def events(self, question, history=None, sources=None):
        yield "Half an answer"
        raise self.exc


def test_errors_mid_stream_become_messages_not_tracebacks(seed_engine):
    for exc, words in [
        (LLMError("The model server at http://127.0.0.1:9 is down."), "is down"),
        (ZeroDivisionError("division by zero"), "Something went wrong (ZeroDivisionError"),
    ]:
        *_, last = ChatUI(_Broken(seed_engine, exc)).respond("Why?", None)
        assert "qa-error" in last.live and words in last.live
        assert "Traceback" not in last.live and 'File "' not in last.live
        assert last.conversation["turns"] == [] and last.box == "Why?"


def test_a_citation_opens_the_whole_document_at_the_highlighted_sentence(seed_engine):
    ui = ChatUI(seed_engine)
    *_, last = ui.respond("Where is Wang expected to travel after Munich?", None)
    html = ui.open_source(last.conversation, {"turn": 0, "n": 1})
    doc = seed_engine.document("000_d383e4b1c99cfec1.txt")
    # The whole sentence is marked, and inside it the phrase that answers (qa.answer.extract).
    phrase = '<mark class="qa-phrase">Russia</mark>'
    marked = html.split('<mark class="qa-sentence">', 1)[1]
    assert phrase in marked.split("</mark>", 1)[0] + "</mark>"  # inside the sentence's mark
    sentence = marked.replace(phrase, "Russia", 1).split("</mark>", 1)[0]
    assert sentence.startswith("Wang, who was named Xi’s top foreign policy adviser")
    assert sentence.endswith("expected to visit Russia after the Munich conference.")
    assert html.count('<mark class="qa-sentence">') >= 1 and 'class="qa-passage-range"' in html
    assert "Position in the document" in html and f"of {len(doc.text):,}" in html
    shown = _Tags(html)  # the whole document is there, as text
    assert "qa-pdf" not in html and "img" not in shown.names()
    assert doc.text[:40].split("\n")[0][:30] in html.replace("&#x27;", "'").replace("&quot;", '"')
    for bad in ({"turn": 5, "n": 1}, {"turn": 0, "n": 9}, {"turn": "0", "n": 1}, {}):
        assert "qa-v-note" in ui.open_source(last.conversation, bad)


def test_feedback_is_kept_in_the_store_and_shown(docs_engine):
    from qa.library import feedback as fb

    ui = ChatUI(docs_engine)
    *_, last = ui.respond("Who did Blinken meet on Saturday?", None)
    transcript, conv, stored = ui.feedback(last.conversation, {"turn": 0, "rating": "up"})
    assert 'data-rating="up" aria-pressed="true"' in transcript
    assert json.loads(stored)["turns"][0]["feedback"] == {"rating": "up"}
    ui.feedback(conv, {"turn": 0, "rating": "down", "correction": "  Wang Yi  "})
    records, problems = fb.read(ui.feedback_file)
    assert problems == [] and len(records) == 1  # the latest word on one answer
    rec = records[0]
    assert rec["rating"] == "down" and rec["correction"] == "Wang Yi"
    assert rec["question"] == "Who did Blinken meet on Saturday?" and rec["citations"]
    assert ui.feedback_file.parent == docs_engine.settings.store_dir
    with pytest.raises(QAError, match="no longer in this chat"):
        ui.feedback(conv, {"turn": 3, "rating": "up"})
    with pytest.raises(QAError, match="thumbs up or down"):
        ui.feedback(conv, {"turn": 0, "rating": "meh"})


def test_a_question_goes_to_the_documents_ticked(docs_engine, tmp_path):
    """Issue 25: the panel's check boxes send the documents to ask; only they are searched."""
    ui = ChatUI(docs_engine)
    note = tmp_path / "ferry.txt"
    note.write_text("Blinken met the ferry captain Wang Lo on Saturday in Oslo.\n")
    ui.upload([str(note)])
    seed = "000_d383e4b1c99cfec1.txt"
    *_, both = ui.respond("Who did Blinken meet on Saturday?", None, "")
    *_, one = ui.respond("Who did Blinken meet on Saturday?", None, json.dumps(["ferry.txt"]))
    asked = one.conversation["turns"][0]["answer"]
    assert {c["source"] for c in asked["citations"]} == {"ferry.txt"}, asked
    assert seed in {c["source"] for c in both.conversation["turns"][0]["answer"]["citations"]}
    for raw, words in [
        ("[", "could not be read"),
        (json.dumps({"a": 1}), "could not be read"),
        (json.dumps([]), "No document is chosen"),
        (json.dumps(["nope.txt"]), "Not in the index: nope.txt"),
        (json.dumps(["x" * 2000]), "at most"),
    ]:
        *_, last = ui.respond("Who did Blinken meet on Saturday?", None, raw)
        assert "qa-error" in last.live and words in last.live, (raw, last.live)
        assert last.box == "Who did Blinken meet on Saturday?"
    (docs_engine.settings.docs_dir / "ferry.txt").unlink()
    ui.document_action({"action": "index", "source": seed})


def test_ask_again_and_edit_take_the_place_of_the_last_answer(seed_engine):
    ui = ChatUI(seed_engine)
    *_, first = ui.respond("Who did Blinken meet on Saturday?", None)
    *_, second = ui.respond("Where is Wang expected to travel after Munich?", first.conversation)
    conv = second.conversation
    assert second.transcript.count("qa-again") == 1  # only the last answer offers it
    steps = list(ui.ask_again(conv))
    assert steps[0].transcript.count('class="qa-turn"') == 1  # the old answer goes at once
    again = steps[-1].conversation
    assert [t["question"] for t in again["turns"]] == [t["question"] for t in conv["turns"]]
    assert "Russia" in steps[-1].transcript
    transcript, shorter, stored, question = ui.edit_last(again)
    assert question == "Where is Wang expected to travel after Munich?"
    assert len(shorter["turns"]) == 1 and json.loads(stored)["turns"] == shorter["turns"]
    assert transcript.count('class="qa-turn"') == 1
    live, box = ui.stopped("Why did Blinken cancel?")
    assert "Stopped" in live and box == "Why did Blinken cancel?"
    assert list(ui.ask_again(None)) == [] and ui.edit_last(None)[3] == ""


def test_the_start_screen_shows_each_document_with_questions_it_answers(docs_engine, tmp_path):
    manual = write_pdf(
        tmp_path / "espresso.pdf",
        "Lumen Barista Pro manual.\n\nThe Lumen Barista Pro espresso machine must be descaled "
        "every 6 weeks with Lumen descaling powder.\n\nThe warranty on the Barista Pro lasts "
        "three years, but it is void if the machine was descaled with vinegar.",
    )
    ui = ChatUI(docs_engine, examples=page.EXAMPLES, examples_source=page.EXAMPLES_SOURCE)
    ui.upload([str(manual)])
    ui.refresh_start(wait=True)
    docs = {d.source: d for d in ui.start_docs()}
    assert docs[page.EXAMPLES_SOURCE].questions == page.EXAMPLES
    found = docs["espresso.pdf"].questions
    assert found and docs["espresso.pdf"].title == "Lumen Barista Pro manual."
    spans = set()
    for q in found:  # each one answered by its document (sure or not sure), without a model
        answer = docs_engine.ask(q, sources=["espresso.pdf"])
        assert offered(answer) and {c.source for c in answer.citations} == {"espresso.pdf"}, q
        assert "Lumen" in answer.text or "Barista Pro" in answer.text, (q, answer.text)
        used = {(s.start, s.end) for c in answer.citations for s in c.sentences}
        assert used and not used & spans, q  # each from a different sentence
        spans |= used
    html = ui.transcript(conversation.new_conversation())
    assert "Lumen Barista Pro manual." in html and "1 page" in html
    assert all(f">{q}</button>" in html for q in found)
    (docs_engine.settings.docs_dir / "espresso.pdf").unlink()
    ui.document_action({"action": "index", "source": page.EXAMPLES_SOURCE})


def test_a_slide_is_cited_by_its_slide(make_settings, tmp_path):
    """Issue 25: a .pptx passage over slides 1-3 is cited by the slide its sentence is on."""
    from index.ingest import ingest
    from qa.engine import Engine

    docs = tmp_path / "docs"
    docs.mkdir()
    write_pptx(docs / "launch.pptx", [
        ("Launch plan", ["Codename Heron ships in May."], ""),
        ("Budget", ["The Heron launch budget is 40,000 euros."], "Ask Dana about the rest."),
        ("Team", ["Priya Raman leads the Heron launch team."], ""),
    ], title="Heron launch plan")  # fmt: skip
    s = make_settings(docs_dir=docs)
    ingest(s.ingest_config)
    engine = Engine(s)
    answer = engine.ask("How big is the Heron launch budget?")
    cite = answer.citations[0]
    assert (cite.page, cite.page_end) == (2, 2) and cite.place == "slide 2"
    assert answer.retrieved[0].page_end == 3  # the passage itself runs over all three
    html = ChatUI(engine).respond("How big is the Heron launch budget?", None)
    *_, last = html
    assert ">slide 2<" in last.transcript and ">page " not in last.transcript


# --- documents panel ---------------------------------------------------------------------------


def test_upload_is_saved_safely_indexed_and_answerable(docs_engine, tmp_path):
    ui = ChatUI(docs_engine)
    src = tmp_path / "lighthouse notes.txt"
    src.write_text(f"Island history.\n{NEW_FACT}\nThe keeper left in 1920.\n", encoding="utf-8")
    calls = []
    status, docs_html, cleared = ui.upload([str(src)], progress=lambda v, **kw: calls.append(v))
    stored = "lighthouse notes.txt"
    assert f"Added {stored}" in status and "qa-msg-ok" in status
    assert (docs_engine.settings.docs_dir / stored).read_text(encoding="utf-8").count(
        "Zorblat"
    ) == 1
    assert not list(docs_engine.settings.docs_dir.glob(".upload-*"))
    assert stored in docs_html and cleared is None and calls[-1] == (1, 1)
    answer = docs_engine.ask("What colour was the Zorblat lighthouse painted?")
    assert not answer.refused and answer.citations[0].source == stored
    status, *_ = ui.upload([str(src)])
    assert "already indexed (no change)" in status
    src.write_text(f"{NEW_FACT} It was repainted red in 1950.\n", encoding="utf-8")
    status, *_ = ui.upload([str(src)])
    assert f"Replaced {stored}" in status
    assert "red in 1950" in docs_engine.ask("When was the Zorblat lighthouse repainted red?").text


def test_upload_says_added_when_the_folder_watcher_indexed_it_first(
    docs_engine, tmp_path, monkeypatch
):
    """The app's folder watcher can index a saved upload before the upload's own ingest runs
    (seen in CI: "pixel.txt is indexed (no change)"); the message still says what happened."""
    ui = ChatUI(docs_engine)
    real = docs_engine.ingest

    def watcher_first(**kw):
        real()  # the watcher's round, between the save and the upload's ingest
        return real(**kw)

    monkeypatch.setattr(docs_engine, "ingest", watcher_first)
    src = tmp_path / "raced.txt"
    src.write_text(f"{NEW_FACT}\n", encoding="utf-8")
    assert "Added raced.txt" in ui.upload([str(src)])[0]
    src.write_text(f"{NEW_FACT} It was repainted red in 1950.\n", encoding="utf-8")
    assert "Replaced raced.txt" in ui.upload([str(src)])[0]
    assert "raced.txt is already indexed (no change)" in ui.upload([str(src)])[0]


def test_bad_uploads_get_clear_messages_and_leave_nothing_behind(docs_engine, tmp_path):
    docs = docs_engine.settings.docs_dir
    before = sorted(p.name for p in docs.iterdir())
    small = ChatUI(docs_engine, max_upload_bytes=1000)
    (tmp_path / "tool.exe").write_bytes(b"MZ" + b"\0" * 100)
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "big.txt").write_text("word " * 400)
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    status, *_ = small.upload(
        [str(tmp_path / n) for n in ("tool.exe", "empty.txt", "big.txt", "broken.pdf")]
    )
    assert "tool.exe: .exe files are not supported" in status
    assert "empty.txt: the file is empty." in status
    assert "big.txt: 2 KB is over the upload limit of 1 KB." in status
    assert "broken.pdf was not added:" in status
    assert status.count("qa-msg-error") == 4
    assert sorted(p.name for p in docs.iterdir()) == before
    status, *_ = small.upload(None)
    assert "Choose a file" in status


def test_a_pdf_citation_shows_its_page_with_the_sentence_area(docs_engine, tmp_path):
    pdf = write_pdf(
        tmp_path / "minutes.pdf",
        "Minutes of the spring meeting.\n\nThe Quorvex committee met on 3 May in Tallinn. "
        "Twelve members attended.\n\nThe budget was approved without changes.",
    )
    ui = ChatUI(docs_engine)
    status, docs_html, _ = ui.upload([str(pdf)])
    assert "Added minutes.pdf" in status and "1 page" in docs_html
    *_, last = ui.respond("Where did the Quorvex committee meet?", None)
    assert "Tallinn" in last.transcript
    turn = last.conversation["turns"][0]["answer"]
    n = next(c["n"] for c in turn["citations"] if c["source"] == "minutes.pdf")
    html = ui.open_source(last.conversation, {"turn": 0, "n": n})
    img = next(a for t, a in _Tags(html).tags if t == "img")
    assert (
        img["src"].startswith("data:image/jpeg;base64,") and img["alt"] == "Page 1 of minutes.pdf"
    )
    boxes = [a["style"] for t, a in _Tags(html).tags if a.get("class") == "qa-pdf-hl"]
    assert boxes and "The highlighted area holds the supporting sentence" in html
    area = [a["style"] for t, a in _Tags(html).tags if a.get("class") == "qa-pdf-area"]
    assert len(area) >= len(boxes)  # the passage's lines, the sentence's among them
    for style in boxes:
        values = [float(v.split(":")[1].rstrip("%")) for v in style.split(";") if v]
        assert all(0 <= v <= 100 for v in values)
    assert '<mark class="qa-sentence">' in html  # the text view is there too


def test_remove_from_index_and_delete_file_are_separate(docs_engine, tmp_path):
    ui = ChatUI(docs_engine)
    src = tmp_path / "gone.md"
    src.write_text("The Vindrel bridge spans the Oska river at Pellham.\n", encoding="utf-8")
    ui.upload([str(src)])
    path = docs_engine.settings.docs_dir / "gone.md"

    status, docs_html = ui.document_action({"action": "unindex", "source": "gone.md"})
    assert "Removed gone.md from the index; the file is still in the documents folder." in status
    assert path.exists() and all(d.source != "gone.md" for d in docs_engine.documents())
    row = docs_html.split("gone.md", 1)[1][:2000]
    assert "qa-status-not-indexed" in row and "Add to index" in row

    status, _ = ui.document_action({"action": "index", "source": "gone.md"})
    assert "gone.md is in the index" in status
    assert any(d.source == "gone.md" for d in docs_engine.documents())

    status, docs_html = ui.document_action({"action": "delete", "source": "gone.md"})
    assert "Deleted gone.md and removed it from the index." in status
    assert not path.exists() and "gone.md" not in docs_html
    answer = docs_engine.ask("Which river does the Vindrel bridge span?")
    assert all(c.source != "gone.md" for c in answer.citations)
    assert "not in the index" in ui.document_action({"action": "delete", "source": "gone.md"})[0]
    assert "outside the documents folder" in ui.remove("../../etc/passwd")[0]

    # Issue 25: "Delete file" after "Remove from index" deletes the file (it stayed, with the
    # button on "Working…", as "not in the index").
    ui.upload([str(src)])
    ui.document_action({"action": "unindex", "source": "gone.md"})
    status, docs_html = ui.document_action({"action": "delete", "source": "gone.md"})
    assert "Deleted gone.md from the documents folder (it was not indexed)." in status
    assert not path.exists() and "gone.md" not in docs_html
    again, _ = ui.document_action({"action": "delete", "source": "gone.md"})
    assert "qa-msg-error" in again and "not in the index" in again
    for bad in ({}, {"action": "format", "source": "x"}, {"action": "delete", "source": 3}):
        assert "Choose a document" in ui.document_action(bad)[0]


def test_build_app_wires_the_page(seed_engine):
    import gradio as gr

    demo = page.build_app(seed_engine)
    assert isinstance(demo, gr.Blocks)
    ids = {b.elem_id for b in demo.blocks.values() if getattr(b, "elem_id", None)}
    assert {
        "qa-transcript", "qa-live", "qa-question", "qa-ask", "qa-chats", "qa-viewer", "qa-docs",
        "qa-upload",
    } <= ids  # fmt: skip
    # No component renders Markdown: document text goes only into gr.HTML, escaped.
    assert not [b for b in demo.blocks.values() if isinstance(b, gr.Chatbot | gr.Markdown)]
    assert demo._queue is not None
    assert page.storage_scope(seed_engine) == page.storage_scope(seed_engine)
    assert page.FOOTER_LINKS == []  # Gradio's footer (and its settings panel) is not shown
    theme_css = page.make_theme()._get_theme_css()
    assert "IBM Plex" not in theme_css and "googleapis" not in theme_css


# --- app.py --------------------------------------------------------------------------------------


def test_app_refuses_a_public_address_without_login(monkeypatch, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("qa_app", ROOT / "app.py")
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    for var in ("QA_UI_USER", "QA_UI_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    assert app.main(["--host", "0.0.0.0", "--docs", str(SEEDS)]) == 2
    assert "refusing to serve on 0.0.0.0 without a login" in capsys.readouterr().err
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    from qa.http.server import login
    from qa.settings import Settings

    monkeypatch.setenv("QA_UI_USER", "ann")
    monkeypatch.setenv("QA_UI_PASSWORD", "s3cret")
    assert login(Settings()) == ("ann", "s3cret")
    assert app.main(["--docs", str(SEEDS / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
