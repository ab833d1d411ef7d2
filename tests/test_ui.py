"""The web chat's handlers and rendering, called directly (no server, no browser)."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser

import pytest

from index.types import DocumentInfo
from qa import folder
from qa.errors import LLMError, UploadRejected
from qa.hosts import is_loopback
from qa.types import Answer, AnswerSentence, Citation, Passage, Span
from qa.web import page, render
from qa.web.handlers import ChatUI
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


def _passage(text: str, start: int = 0, source: str = "doc.txt") -> Passage:
    return Passage(
        id="p", source=source, start=start, end=start + len(text), text=text, score=1.0, rank=0
    )


class _Tags(HTMLParser):
    """Collects the tags of an HTML fragment, to prove what the browser would build from it."""

    def __init__(self, fragment: str):
        super().__init__()
        self.tags: list[str] = []
        self.feed(fragment)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


# --- rendering ---------------------------------------------------------------------------------


def test_passage_highlights_the_exact_sentence_from_document_offsets():
    text = "First sentence here. The supporting one is this. Last one."
    p = _passage(text, start=1000)
    a = text.index("The supporting")
    b = text.index("Last") - 1
    span = Span(1000 + a, 1000 + b, text[a:b])
    out = render.render_passage(p, [span])
    assert out == (
        'First sentence here. <mark class="qa-support">The supporting one is this.</mark> Last one.'
    )
    assert render.highlight_ranges(p, [span]) == [(a, b)]


def test_highlight_falls_back_to_the_sentence_text_and_merges_overlaps():
    text = "Alpha beta. Gamma delta. Epsilon."
    p = _passage(text, start=50)
    wrong_offsets = Span(0, 11, "Gamma delta.")  # offsets from another coordinate system
    a = Span(50, 61, "Alpha beta.")
    overlapping = Span(55, 74, text[5:24])
    assert render.highlight_ranges(p, [wrong_offsets]) == [(12, 24)]
    assert render.highlight_ranges(p, [a, overlapping]) == [(0, 24)]
    assert render.highlight_ranges(p, [Span(0, 5, "absent")]) == []


def test_document_text_is_escaped_everywhere():
    evil = 'Intro. <script>alert("x")</script> <img src=x onerror=alert(1)> Bold claim here.'
    p = _passage(evil, source="<b>evil</b>.txt")
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
    tags = set(_Tags(html).tags)
    assert {"script", "img", "b", "i"}.isdisjoint(tags), tags
    assert "&lt;script&gt;" in html and "&lt;b&gt;evil&lt;/b&gt;.txt" in html
    assert "\n" not in html  # one raw HTML block for the chat's Markdown pass


def test_answer_has_badges_sources_and_marked_unsupported_sentences():
    text = "Wang met Blinken. Blinken likes tea."
    p = _passage(text, start=10)
    cit = Citation(n=1, passage=p, sentences=(Span(10, 27, "Wang met Blinken."),))
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
    assert html.count('<sup class="qa-cite" title="Source 1">[1]</sup>') == 2
    assert '<span class="qa-unsupported"' in html
    unsupported = html.split('<span class="qa-unsupported"', 1)[1].split("</span>", 1)[0]
    assert "The moon is cheese." in unsupported and "Wang met" not in unsupported
    assert "1 sentence of this answer is not supported" in html
    assert html.count('<details class="qa-source"') == 1
    assert '<mark class="qa-support">Wang met Blinken.</mark>' in html
    assert "doc.txt" in html and "1.2 s" in html
    fast = Answer(question="q", text="x", timings={"total_ms": 27.4})
    assert "extractive · 27 ms" in render.render_answer(fast)


def test_refused_answer_says_plainly_the_documents_do_not_answer():
    from qa.pipeline import NOT_IN_DOCUMENTS

    html = render.render_answer(Answer(question="q", text=NOT_IN_DOCUMENTS, status="refused"))
    assert "Not in the documents." in html and NOT_IN_DOCUMENTS in html
    assert "qa-source" not in html


def test_mode_indicator_names_the_model_when_one_is_configured():
    from qa.settings import Settings

    assert render.mode_label("extractive") == "Extractive"
    assert render.mode_label("extractive-fallback") == "Extractive"
    assert render.mode_label("generated:smollm2-135m") == "Generated · smollm2-135m"
    llm = Settings(openai_base_url="http://127.0.0.1:9/v1", llm_model="smollm2-135m")
    assert "smollm2-135m" in render.render_header(llm, "generated:smollm2-135m")


def test_documents_table_lists_files_with_chunks_and_status():
    html = render.render_documents(
        [
            DocumentInfo("a<x>.txt", "", 3, None, "indexed"),
            DocumentInfo("b.md", "", 1200, None, "partial"),
        ]
    )
    assert "a&lt;x&gt;.txt" in html and "1,200" in html
    assert "qa-status-partial" in html and "2 documents · 1,203 chunks" in html
    assert "No documents" in render.render_documents([])


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


def test_respond_streams_then_shows_answer_with_sources(seed_engine):
    chat_ui = ChatUI(seed_engine)
    steps = list(chat_ui.respond("Where is Wang expected to travel after Munich?", [], []))
    assert len(steps) >= 3  # pending, at least one streamed piece, final
    assert "Searching the documents" in steps[0][0][-1]["content"]
    assert any("qa-streaming" in chat[-1]["content"] for chat, _, _ in steps[1:-1])
    chat, turns, box = steps[-1]
    assert box == ""
    assert [m["role"] for m in chat] == ["user", "assistant"]
    final = chat[-1]["content"]
    assert "Russia" in final and "qa-source" in final and '<mark class="qa-support">' in final
    assert turns[0] == {"role": "user", "content": "Where is Wang expected to travel after Munich?"}
    assert turns[1]["role"] == "assistant" and "Russia" in turns[1]["content"]


class _Recording:
    """The real engine, with the history each question was asked with written down."""

    def __init__(self, engine):
        self.engine, self.settings, self.histories = engine, engine.settings, []

    def ask_stream(self, question, history=None):
        self.histories.append(list(history or []))
        return self.engine.ask_stream(question, history)


def test_follow_up_questions_get_the_conversation(seed_engine):
    rec = _Recording(seed_engine)
    chat_ui = ChatUI(rec)
    *_, (chat, turns, _) = chat_ui.respond("Where is Wang expected to travel after Munich?", [], [])
    *_, (chat, turns, _) = chat_ui.respond("And what did he discuss with Blinken?", chat, turns)
    assert rec.histories[0] == []
    assert [t["role"] for t in rec.histories[1]] == ["user", "assistant"]
    assert rec.histories[1][0]["content"].startswith("Where is Wang")
    assert "<" not in rec.histories[1][1]["content"]  # plain text, not the page's HTML
    assert len(turns) == 4 and len(chat) == 4
    assert ChatUI.clear() == ([], [], "")


def test_refused_question_in_the_chat(seed_engine):
    *_, (chat, _, _) = ChatUI(seed_engine).respond("What is the capital of France?", [], [])
    assert "Not in the documents." in chat[-1]["content"]
    assert "qa-source" not in chat[-1]["content"]


def test_empty_question_is_a_readable_message_and_the_app_goes_on(seed_engine):
    chat_ui = ChatUI(seed_engine)
    *_, (chat, turns, box) = chat_ui.respond("   ", [], [])
    assert [m["role"] for m in chat] == ["assistant"]
    assert "qa-error" in chat[0]["content"] and "The question is empty" in chat[0]["content"]
    assert turns == []
    long_q = "x" * (seed_engine.settings.max_question_chars + 1)
    *_, (chat, _, box) = chat_ui.respond(long_q, chat, turns)
    assert "the limit is" in chat[-1]["content"] and box == long_q  # nothing lost
    *_, (chat, _, _) = chat_ui.respond("Who did Blinken meet on Saturday?", chat, turns)
    assert "Wang Yi" in chat[-1]["content"]


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
        *_, (chat, turns, box) = ChatUI(_Broken(seed_engine, exc)).respond("Why?", [], [])
        content = chat[-1]["content"]
        assert "qa-error" in content and words in content
        assert "Traceback" not in content and 'File "' not in content
        assert turns == [] and box == "Why?"


# --- documents panel ---------------------------------------------------------------------------


class _Progress:
    def __init__(self):
        self.calls = []

    def __call__(self, value, desc=None, **kw):
        self.calls.append((value, desc))


def test_upload_is_saved_safely_indexed_and_answerable(docs_engine, tmp_path):
    chat_ui = ChatUI(docs_engine)
    src = tmp_path / "lighthouse notes.txt"
    src.write_text(f"Island history.\n{NEW_FACT}\nThe keeper left in 1920.\n", encoding="utf-8")
    progress = _Progress()
    status, table, pick, cleared = chat_ui.upload([str(src)], progress=progress)
    stored = "lighthouse notes.txt"
    assert f"Added {stored}" in status and "qa-msg-ok" in status
    assert (docs_engine.settings.docs_dir / stored).read_text(encoding="utf-8").count(
        "Zorblat"
    ) == 1
    assert not list(docs_engine.settings.docs_dir.glob(".upload-*"))
    assert stored in table and stored in pick["choices"] and cleared is None
    assert progress.calls and progress.calls[-1][0] == (1, 1)
    answer = docs_engine.ask("What colour was the Zorblat lighthouse painted?")
    assert not answer.refused and answer.citations[0].source == stored
    # The same file again changes nothing; a new version replaces the old one.
    status, *_ = chat_ui.upload([str(src)], progress=_Progress())
    assert "already indexed (no change)" in status
    src.write_text(f"{NEW_FACT} It was repainted red in 1950.\n", encoding="utf-8")
    status, *_ = chat_ui.upload([str(src)], progress=_Progress())
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
        [str(tmp_path / n) for n in ("tool.exe", "empty.txt", "big.txt", "broken.pdf")],
        progress=_Progress(),
    )
    assert "tool.exe: .exe files are not supported" in status
    assert "empty.txt: the file is empty." in status
    assert "big.txt: 2 KB is over the upload limit of 1 KB." in status
    assert "broken.pdf was not added:" in status
    assert status.count("qa-msg-error") == 4
    assert sorted(p.name for p in docs.iterdir()) == before
    status, *_ = small.upload(None, progress=_Progress())
    assert "Choose a file" in status


def test_pdf_upload_is_indexed(docs_engine, tmp_path):
    pdf = write_pdf(tmp_path / "minutes.pdf", "The Quorvex committee met on 3 May in Tallinn.")
    status, table, *_ = ChatUI(docs_engine).upload([str(pdf)], progress=_Progress())
    assert "Added minutes.pdf" in status and "minutes.pdf" in table
    assert "Tallinn" in docs_engine.ask("Where did the Quorvex committee meet?").text


def test_remove_deletes_the_file_and_its_passages(docs_engine, tmp_path):
    chat_ui = ChatUI(docs_engine)
    src = tmp_path / "gone.md"
    src.write_text("The Vindrel bridge spans the Oska river at Pellham.\n", encoding="utf-8")
    chat_ui.upload([str(src)], progress=_Progress())
    assert any(d.source == "gone.md" for d in docs_engine.documents())
    status, table, pick = chat_ui.remove("gone.md")
    assert "Removed gone.md." in status
    assert not (docs_engine.settings.docs_dir / "gone.md").exists()
    assert "gone.md" not in table and "gone.md" not in pick["choices"]
    answer = docs_engine.ask("Which river does the Vindrel bridge span?")
    assert all(c.source != "gone.md" for c in answer.citations)
    assert "not in the index" in chat_ui.remove("gone.md")[0]
    assert "Choose a document" in chat_ui.remove(None)[0]
    assert "not in the index" in chat_ui.remove("../../etc/passwd")[0]


def test_build_app_wires_the_page(seed_engine):
    import gradio as gr

    demo = page.build_app(seed_engine)
    assert isinstance(demo, gr.Blocks)
    ids = {b.elem_id for b in demo.blocks.values() if getattr(b, "elem_id", None)}
    assert {
        "qa-chat",
        "qa-question",
        "qa-ask",
        "qa-upload",
        "qa-docs",
        "qa-remove",
        "qa-clear",
    } <= ids
    chatbot = next(b for b in demo.blocks.values() if b.elem_id == "qa-chat")
    assert chatbot.latex_delimiters == []  # "$5 and $6" in a document stays text
    assert demo._queue is not None


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
