"""The web chat's rendering and handlers, called directly (no server, no browser)."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser

import pytest

from index.types import DocumentInfo
from qa import folder
from qa.errors import LLMError, QAError, UploadRejected
from qa.hosts import is_loopback
from qa.types import Answer, AnswerSentence, Citation, Passage, Span
from qa.web import conversation, page, panel, render
from qa.web.handlers import ChatUI
from qa.web.markup import esc, marked
from tests.conftest import ROOT, SEEDS
from tests.samples import write_pdf

NEW_FACT = "The Zorblat lighthouse on Kelvin Island was painted teal in 1911 by Agnes Mott."


@pytest.fixture(scope="module")
def docs_engine(tmp_path_factory):
    """An engine over a private copy of seeds/, which the upload and removal tests change."""
    from index.ingest import ingest
    from qa.pipeline import Engine
    from qa.settings import Settings

    base = tmp_path_factory.mktemp("ui")
    docs = base / "docs"
    shutil.copytree(SEEDS, docs)
    settings = Settings(docs_dir=docs, store_dir=base / "store")
    ingest(settings.ingest_config)
    return Engine(settings)


def _passage(text: str, start: int = 0, source: str = "doc.txt", **kw) -> Passage:
    return Passage(
        id="p", source=source, start=start, end=start + len(text), text=text, score=1.0, rank=0,
        **kw,
    )  # fmt: skip


class _Tags(HTMLParser):
    """Collects the tags (and their attributes) of an HTML fragment, as a browser would build."""

    def __init__(self, fragment: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(fragment)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def names(self) -> set[str]:
        return {t for t, _ in self.tags}


def _focused() -> Answer:
    """A focused answer: the phrase leads, the sentence it came from follows as evidence."""
    doc = "Intro line. Wang is expected to visit Russia after the Munich conference. More."
    start = 100
    p = _passage(doc, start=start, title="Balloon talks", page=4)
    a = doc.index("Wang")
    b = doc.index(" More")
    r = doc.index("Russia")
    cit = Citation(
        n=1,
        passage=p,
        sentences=(Span(start + a, start + b, doc[a:b]),),
        phrases=(Span(start + r, start + r + 6, "Russia"),),
    )
    return Answer(question="Where will Wang go?", text="Russia [1]", citations=(cit,))


# --- escaping: text from documents is data, whatever it holds ------------------------------------


def test_every_line_break_becomes_br_and_control_characters_go():
    hostile = "a\r\r![x](http://127.0.0.1:9/p.png)\rb\r\nc\nd\ve\ff\x85g\u2028h\u2029i\x1b[2Kj\x00k"
    out = esc(hostile)
    assert "\n" not in out and "\r" not in out and "\x1b" not in out and "\x00" not in out
    assert out.count("<br>") == 10 and "[2Kj" in out
    assert esc("<b>&\"'") == "&lt;b&gt;&amp;&quot;&#x27;"


@pytest.mark.parametrize(
    "control", ["\r\r", "\r\n\r\n", "\n\n", "\u2028\u2028", "\x0b\x0b", "\x0c\r"]
)
def test_markdown_after_blank_lines_in_a_document_never_becomes_a_link_or_image(control):
    """Issue 17, item 2: any Markdown pass over any fragment leaves document text as text."""
    from markdown_it import MarkdownIt

    payload = f"Filed on Monday.{control}![x](http://127.0.0.1:9/pixel.png) [login here](http://evil.example/)"
    cit = Citation(
        n=1, passage=_passage(payload, title=payload), sentences=(Span(0, 16, payload[:16]),)
    )
    answer = Answer(question=payload, text=payload + " [1]", citations=(cit,), notice=payload)
    conv = conversation.add_turn(conversation.new_conversation(), payload, answer)
    from qa.web.viewer import render_viewer

    fragments = [
        render.render_transcript(conv),
        render.render_pending(payload, payload),
        render.render_error(payload, payload),
        render_viewer(cit, None),
        panel.render_documents([panel.DocRow(payload, payload, 1, None, "indexed")]),
        panel.render_status([("error", payload)]),
    ]
    md = MarkdownIt("commonmark", {"html": True})
    for fragment in fragments:
        assert "\n" not in fragment and "\r" not in fragment
        shown = md.render(fragment)
        tags = _Tags(shown)
        assert "img" not in tags.names(), shown[:300]
        assert not [a for t, a in tags.tags if t == "a" and "evil" in a.get("href", "")], shown[
            :300
        ]
        urls = [v for _, a in tags.tags for k, v in a.items() if k in ("src", "href", "srcset")]
        assert not [u for u in urls if "pixel" in u or "evil" in u], urls


def test_document_text_is_escaped_everywhere():
    evil = 'Intro. <script>alert("x")</script> <img src=x onerror=alert(1)> Bold claim here.'
    p = _passage(evil, source="<b>evil</b>.txt", title="<i>t</i>")
    i = evil.index("Bold")
    cit = Citation(n=1, passage=p, sentences=(Span(i, len(evil), evil[i:]),))
    answer = Answer(
        question="q",
        text=f"{evil} [1]",
        citations=(cit,),
        sentences=(AnswerSentence(text=evil, citations=(1,), supported=False, support=0.1),),
        notice="<i>note</i>",
    )
    html = render.render_answer(answer)
    assert {"script", "img", "b", "i"}.isdisjoint(_Tags(html).names())
    assert "&lt;script&gt;" in html and "&lt;b&gt;evil&lt;/b&gt;.txt" in html
    assert "\n" not in html


def test_marked_nests_the_phrase_inside_the_sentence():
    text = "Alpha beta. Gamma <delta> epsilon. Zeta."
    out = marked(text, [([(12, 34)], "s"), ([(18, 25)], "p")])
    assert out == (
        'Alpha beta. <mark class="s">Gamma <mark class="p">&lt;delta&gt;</mark> epsilon.</mark> Zeta.'
    )
    assert marked(text, []) == esc(text)


# --- answers ------------------------------------------------------------------------------------------


def test_the_answer_leads_and_the_sentence_follows_with_the_phrase_marked():
    html = render.render_answer(_focused(), turn=3)
    assert html.index('class="qa-lead"') < html.index('class="qa-evidence"')
    lead = html.split('class="qa-lead">', 1)[1].split("</div>", 1)[0]
    assert lead.startswith("Russia") and 'data-turn="3" data-n="1"' in lead
    quote = html.split("<blockquote>", 1)[1].split("</blockquote>", 1)[0]
    assert quote == (
        'Wang is expected to visit <mark class="qa-phrase">Russia</mark> after the Munich conference.'
    )
    assert "Evidence" in html and "Balloon talks" in html and "page 4" in html
    links = [a for t, a in _Tags(html).tags if t == "a"]
    assert all(a["href"] == "#qa-viewer" and a["class"].startswith("qa-ref") for a in links)
    assert any(a.get("aria-label") == "Source 1: Balloon talks, page 4" for a in links)
    assert "chars" not in html and "100" not in html.split("qa-evidence", 1)[1]  # no offsets


def test_an_answer_that_is_its_own_quote_is_not_quoted_twice():
    text = "Wang met Blinken in Munich."
    cit = Citation(n=1, passage=_passage(text), sentences=(Span(0, len(text), text),))
    html = render.render_answer(Answer(question="q", text=f"{text} [1]", citations=(cit,)))
    assert "<blockquote>" not in html and ">Sources<" in html and html.count(text) == 1


def test_uncertain_answers_are_the_closest_passages_and_look_different():
    a = _focused()
    unsure = Answer(question=a.question, text="Closest: Wang may go on. [1]", citations=a.citations,
                    status="uncertain")  # fmt: skip
    html = render.render_answer(unsure)
    assert "qa-uncertain" in html and "Not sure." in html and ">Closest passages<" in html
    assert "qa-answered" not in html and "Not in the documents" not in html
    refused = render.render_answer(
        Answer(question="q", text="The documents do not say.", status="refused")
    )
    assert (
        "qa-refused" in refused
        and "Not in the documents." in refused
        and "qa-evidence" not in refused
    )


def test_unsupported_sentences_are_marked():
    text = "Wang met Blinken. Blinken likes tea."
    cit = Citation(
        n=1, passage=_passage(text, start=10), sentences=(Span(10, 27, "Wang met Blinken."),)
    )
    answer = Answer(
        question="Who met?",
        text="Wang met Blinken. [1] The moon is cheese. [1]",
        citations=(cit,),
        sentences=(
            AnswerSentence("Wang met Blinken. [1]", (1,), True, 0.9),
            AnswerSentence("The moon is cheese. [1]", (1,), False, 0.05),
        ),
        timings={"total_ms": 1234.0},
    )
    html = render.render_answer(answer)
    unsupported = html.split('<span class="qa-unsupported"', 1)[1].split("</span>", 1)[0]
    assert "The moon is cheese." in unsupported and "Wang met" not in unsupported
    assert "1 sentence of this answer is not supported" in html and "1.2 s" in html
    assert html.count('class="qa-ref"') == 2  # both markers are links


def test_markers_the_answer_does_not_cite_stay_text():
    cit = Citation(n=1, passage=_passage("x"), sentences=())
    html = render.render_answer(Answer(question="q", text="See [3] and [1].", citations=(cit,)))
    assert "See [3] and" in html and html.count("qa-ref") >= 1 and 'data-n="3"' not in html


def test_mode_label_names_what_answers():
    from qa.settings import Settings

    class _Engine:
        mode = "generated:SmolLM2-135M-Instruct"

    assert render.mode_label(_Engine()) == "Generated · SmolLM2-135M-Instruct"
    assert render.mode_label(Settings()) == "Extractive"
    assert render.mode_words("extractive-fallback").startswith("Extractive")
    assert "Generated · x" in render.render_header("Generated · x")


# --- conversations kept in the browser ------------------------------------------------------------


def test_a_conversation_survives_the_round_trip_through_json():
    conv = conversation.add_turn(conversation.new_conversation(), "Where will Wang go?", _focused())
    conv = conversation.with_feedback(conv, 0, {"rating": "up"})
    back, dropped = conversation.parse_conversation(conversation.to_json(conv))
    assert dropped == 0 and back["id"] == conv["id"] and back["title"] == "Where will Wang go?"
    assert back["turns"][0]["feedback"] == {"rating": "up"}
    again = conversation.answer_from_record(back["turns"][0]["answer"])
    assert again.text == "Russia [1]" and again.citations[0].phrases[0].text == "Russia"
    assert render.render_transcript(back) == render.render_transcript(conv)
    assert conversation.history(back) == [
        {"role": "user", "content": "Where will Wang go?"},
        {"role": "assistant", "content": "Russia [1]"},
    ]


def test_damaged_chats_from_the_browser_lose_only_what_is_damaged():
    good = conversation.add_turn(conversation.new_conversation(), "q1", _focused())
    data = json.loads(conversation.to_json(good))
    data["turns"] += [
        {"question": "q2"},  # no answer
        {"question": "q3", "answer": {"answer": "x", "status": "maybe"}},
        {"question": "q4", "answer": {"answer": "x", "citations": [{"n": 1, "start": -5}]}},
        {"question": 5, "answer": {}},
        "not a turn",
    ]
    conv, dropped = conversation.parse_conversation(json.dumps(data))
    assert [t["question"] for t in conv["turns"]] == ["q1"] and dropped == 5
    for junk in ("", "null", "[1, 2]", "{", '{"id": "../../x"}', json.dumps({"id": "a" * 80})):
        fresh, _ = conversation.parse_conversation(junk)
        assert fresh["turns"] == [] and len(fresh["id"]) == 16


# --- the documents panel ------------------------------------------------------------------------------


def test_documents_panel_lists_titles_pages_chunks_status_and_separate_actions():
    rows = panel.merge_rows(
        [DocumentInfo("a<x>.pdf", "Annual <report>", 3, 12, "indexed"),
         DocumentInfo("b.md", "", 1200, None, "partial")],
        ["a<x>.pdf", "b.md", "new.txt"],
    )  # fmt: skip
    html = panel.render_documents(rows)
    assert "Annual &lt;report&gt;" in html and "a&lt;x&gt;.pdf" in html
    assert "12 pages" in html and "1,200 chunks" in html and "qa-status-partial" in html
    assert "qa-status-not-indexed" in html and "Add to index" in html
    assert "2 documents indexed · 1,203 chunks · 1 not indexed" in html
    confirms = [a for t, a in _Tags(html).tags if t == "div" and a.get("class") == "qa-confirm"]
    assert {c["data-action"] for c in confirms} == {"unindex", "delete"}
    assert all("hidden" in c for c in confirms)  # nothing happens without a confirmation
    assert "stays in the documents folder" in html and "cannot be undone" in html
    yes = [a for t, a in _Tags(html).tags if "qa-confirm-yes" in a.get("class", "")]
    assert json.loads(yes[0]["data-source"]) == "a<x>.pdf"
    assert "qa-docs-filter" not in html  # few documents: no search box
    many = panel.render_documents([panel.DocRow(f"d{i}.txt", status="indexed") for i in range(9)])
    assert 'id="qa-docs-filter"' in many and "Search 9 documents" in many
    assert "No documents yet" in panel.render_documents([])


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

    def ask_stream(self, question, history=None):
        self.histories.append(list(history or []))
        return self.engine.ask_stream(question, history)


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

    def ask_stream(self, question, history=None):
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
    sentence = html.split('<mark class="qa-sentence">', 1)[1].split("</mark>", 1)[0]
    assert "expected to visit Russia after the Munich conference" in sentence
    assert html.count('<mark class="qa-sentence">') >= 1 and 'class="qa-passage-range"' in html
    assert "Position in the document" in html and f"of {len(doc.text):,}" in html
    shown = _Tags(html)  # the whole document is there, as text
    assert "qa-pdf" not in html and "img" not in shown.names()
    assert doc.text[:40].split("\n")[0][:30] in html.replace("&#x27;", "'").replace("&quot;", '"')
    for bad in ({"turn": 5, "n": 1}, {"turn": 0, "n": 9}, {"turn": "0", "n": 1}, {}):
        assert "qa-v-note" in ui.open_source(last.conversation, bad)


def test_feedback_is_kept_in_the_store_and_shown(docs_engine):
    from qa import feedback as fb

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
    assert "not in the index" in ui.remove("../../etc/passwd")[0]
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
    from qa.settings import Settings

    monkeypatch.setenv("QA_UI_USER", "ann")
    monkeypatch.setenv("QA_UI_PASSWORD", "s3cret")
    assert app.login(Settings()) == ("ann", "s3cret")
    assert app.main(["--docs", str(SEEDS / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
