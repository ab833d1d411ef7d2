"""The web chat's pure parts: escaping, answers, conversations kept in the browser, the panel."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest
import reliability

from index.types import DocumentInfo
from qa.types import Answer, AnswerSentence, Citation, Passage, Span
from qa.web import conversation, panel, render, viewer
from qa.web.markup import esc, marked


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


def _shown(html: str) -> str:
    """The answer's HTML without what is not shown as it stands: the [n] previews (hidden until
    a [n] is hovered) and the text the Copy button puts on the clipboard."""
    html = re.sub(r'<div class="qa-tips".*?</div></div>(?=<div class="qa-foot">)', "", html)
    return re.sub(r' data-copy="[^"]*"', "", html)


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
    assert "<blockquote>" not in html and ">Sources<" in html and _shown(html).count(text) == 1


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
    assert (
        render.mode_label("generated:SmolLM2-135M-Instruct") == "Generated · SmolLM2-135M-Instruct"
    )
    assert render.mode_label("extractive") == "Extractive"
    assert render.mode_label("extractive-fallback") == "Extractive"
    assert render.mode_words("extractive-fallback").startswith("Extractive")
    header = render.render_header("generated:x")
    assert "Generated · x" in header and "x, a language model, writes" in header
    assert "Answers come only from your documents" not in header  # a model may invent
    assert "quotes the sentences" in render.render_header("extractive")


def test_every_answer_says_what_made_it():
    """Issue 25: a refusal before the model in generated mode must not read "Extractive"."""
    p = _passage("Wang met Blinken.")
    read = (Citation(1, p, ()),)
    written = Answer(
        question="q", text="Wang met Blinken. [1]", mode="generated:smollm2", read=read
    )
    before = Answer(question="q", text="No.", status="refused", mode="generated:smollm2")
    failed = Answer(
        question="q", text="x", mode="extractive-fallback", notice="The server is down."
    )
    said = [
        render.render_answer(a).split('class="qa-meta">', 1)[1] for a in (written, before, failed)
    ]
    assert said[0].startswith("Written by smollm2")
    assert said[1].startswith("Refused before asking smollm2") and "Extractive" not in said[1]
    assert said[2].startswith("Extractive (the model failed)")
    assert render.render_answer(Answer(question="q", text="x")).count("Extractive") == 1


# --- conversations kept in the browser ------------------------------------------------------------


def test_a_conversation_survives_the_round_trip_through_json():
    conv = conversation.add_turn(conversation.new_conversation(), "Where will Wang go?", _focused())
    conv = conversation.with_feedback(conv, 0, {"rating": "up"})
    back, dropped = conversation.parse_conversation(conversation.to_json(conv))
    assert dropped == 0 and back["id"] == conv["id"] and back["title"] == "Where will Wang go?"
    assert back["turns"][0]["feedback"] == {"rating": "up"}
    again = Answer.from_dict(back["turns"][0]["answer"])
    assert again.text == "Russia [1]" and again.citations[0].phrases[0].text == "Russia"
    assert render.render_transcript(back) == render.render_transcript(conv)
    assert conversation.history(back) == [  # each reply carries its outcome (not its words)
        {"role": "user", "content": "Where will Wang go?"},
        {"role": "assistant", "content": "Russia [1]", "status": "answered"},
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


def test_values_a_chat_brings_back_are_bounded():
    """Issue 27, case 1: every number and list of a chat kept in the browser is untrusted."""
    good = conversation.add_turn(conversation.new_conversation(), "q1", _focused())
    cite = json.loads(conversation.to_json(good))["turns"][0]["answer"]["citations"][0]
    forged = [
        {**cite, "page": 1, "page_end": 20_000_000},
        {**cite, "page": 4, "page_end": 2},
        {**cite, "page": None, "page_end": 3},
        {**cite, "start": 10**12, "end": 10**12 + 1},
        {**cite, "start": 9, "end": 3},
        {**cite, "n": 10**9},
        {**cite, "score": "0.5"},
        {**cite, "score": float("inf")},
        {**cite, "phrases": [{"start": 0, "end": 1, "text": "x"}] * 21},
    ]
    data = json.loads(conversation.to_json(good))
    for c in forged:
        data["turns"].append({"question": "q", "answer": {"answer": "x", "citations": [c]}})
    data["turns"].append({"question": "q", "answer": {"answer": "x", "unsupported": ["s"] * 101}})
    conv, dropped = conversation.parse_conversation(json.dumps(data))
    assert len(conv["turns"]) == 1 and dropped == len(forged) + 1
    huge = " " * (conversation.MAX_CHAT_CHARS + 1)
    assert conversation.parse_conversation(huge)[0]["turns"] == []
    deep = '{"id": "abc", "turns": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert conversation.parse_conversation(deep)[0]["turns"] == []
    # The viewer looks on the document's own pages, a few at most, whatever the citation says.
    c = Answer.from_dict({"answer": "x", "citations": [{**cite, "page": 2, "page_end": 900_000}]}).citations[0]  # fmt: skip
    assert viewer.pdf_pages(c, page_count=5) == [2, 3, 4, 5]
    assert viewer.pdf_pages(c) == list(range(2, 2 + viewer.PAGES_SEARCHED))
    reliability.case("issue 27.1: forged values in a kept chat dropped", True, len(forged) + 3)


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


def test_a_sentence_is_found_on_a_pdf_page_whatever_the_extractor_made_of_it():
    from qa.web.pdfpage import find_ranges

    page = "Lumen manual\r\nThe Lumen Barista Pro must be des-\r\ncaled every 6 weeks with the ﬁlter kit."
    start = page.index("The Lumen")
    joined = "The Lumen Barista Pro must be descaled every 6 weeks with the filter kit."
    assert find_ranges(page, joined) == [(start, len(page) - 1)]  # hyphen, line break, ligature
    edited = "The Lumen Barista Pro must be descaled every six weeks with the filter kit."
    ranges = find_ranges(page, edited)  # mostly there: the runs that match
    assert ranges and ranges[0][0] == start and ranges[-1][1] == len(page) - 1
    assert find_ranges(page, "The warranty lasts three years unless it is voided.") == []
    assert find_ranges(page, "") == [] and find_ranges("", joined) == []


def test_a_form_answer_is_found_and_boxed_on_its_rendered_page(tmp_path):
    """The page viewer reads a PDF as the indexer does: a filled-in form field's answer is on
    the page, so a sentence quoting it gets its box."""
    from samples import write_form_pdf

    from qa.web.pdfpage import render_page

    path = write_form_pdf(
        tmp_path / "claim.pdf", "Claim form", [("Name of the insured person:", "Marta Ilves")]
    )
    image = render_page(path.read_bytes(), [1], ["Name of the insured person: Marta Ilves"])
    assert image is not None and image.page == 1 and image.jpeg[:2] == b"\xff\xd8"
    # One box on the label, one on the answer typed into the field (250 pt of a 595 pt page).
    assert sorted(round(x, 1) for x, _, _, _ in image.boxes) == [0.1, 0.4]
    assert all(0.1 < y < 0.2 and h < 0.05 for _, y, _, h in image.boxes)


def test_a_highlight_under_a_pixel_is_still_drawn():
    """Issue 27, "also seen": 10 pt type on a 14,400 pt page is 0.6 px high at the rendered
    size; its box was rounded to whole pixels, came out 0 px and the sentence "could not be
    located". Boxes are measured in page units and drawn at least a few pixels large."""
    from fpdf import FPDF

    from qa.web.pdfpage import MIN_BOX_PX, render_page

    pdf = FPDF(unit="pt", format=(14400, 14400))
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.set_xy(7000, 7000)
    pdf.cell(text="The tiny print says the vault opens at noon.")
    image = render_page(bytes(pdf.output()), [1], ["The tiny print says the vault opens at noon."])
    assert image is not None and image.boxes, "no box for the sentence"
    for x, y, w, h in image.boxes:
        assert 0.48 < x < 0.5 and 0.48 < y < 0.5, (x, y)
        assert w * image.width >= MIN_BOX_PX - 0.01 and h * image.height >= MIN_BOX_PX - 0.01
    cite = Citation(1, Passage("big.pdf:0", "big.pdf", 0, 44, "The tiny print says the vault opens at noon.", 0.9, 1, page=1))  # fmt: skip
    from qa.web.viewer import render_viewer

    html = render_viewer(cite, None, image)
    assert "could not be located" not in html and "qa-pdf-hl" in html
    assert "width:0.00%" not in html and "height:0.00%" not in html
    reliability.case("issue 27: a highlight under a pixel is drawn", True)


# --- issue 25: generated answers shown as they were made -----------------------------------------


def _generated() -> Answer:
    """A generated answer: one sentence the checker cited, one nothing supports, two read."""
    text = "Wang met Blinken in Munich. Blinken likes tea."
    p = _passage(text, start=10, title="Talks", page=2)
    other = Passage(id="q", source="b.txt", start=0, end=5, text="Other", score=0.5, rank=1)
    s1 = Span(10, 37, "Wang met Blinken in Munich.")
    read = (Citation(1, p, (s1,)), Citation(2, other, ()))
    return Answer(
        question="Who met?",
        text="Wang met Blinken in Munich [1]. The moon is cheese.",
        citations=(Citation(1, p, (s1,)),),
        mode="generated:smollm2",
        sentences=(
            AnswerSentence("Wang met Blinken in Munich [1].", (1,), True, 0.9, added=(1,)),
            AnswerSentence("The moon is cheese.", (), False, 0.1),
        ),
        notice="",
        read=read,
    )


def test_the_checkers_citations_are_marked_and_there_is_one_notice():
    html = render.render_answer(_generated(), turn=2)
    links = [a for t, a in _Tags(html).tags if t == "a" and a.get("data-n")]
    added = [a for a in links if "qa-added" in a["class"]]
    assert len(added) == 1 and "added by the checker" in added[0]["aria-label"]
    assert html.count('class="qa-notice"') == 1 and "qa-warn" not in html
    notice = html.split('class="qa-notice" role="note">', 1)[1].split("</div>", 1)[0]
    assert "1 sentence of this answer is not supported" in notice
    assert "Citation [1] (dotted) was added by the checker" in notice
    assert "The moon is cheese." in html.split('class="qa-unsupported"', 1)[1].split("</span>")[0]
    failed = replace(_generated(), notice="The model server is down.")
    assert render.render_answer(failed).count('class="qa-notice"') == 1


def test_the_passages_the_model_read_are_one_click_away():
    html = render.render_answer(_generated(), turn=2)
    read = html.split('<details class="qa-read">', 1)[1].split("</details>", 1)[0]
    assert "Sources read (2 passages the model was given)" in read
    opens = [a for t, a in _Tags(read).tags if t == "a"]
    assert [(a["data-turn"], a["data-read"]) for a in opens] == [("2", "1"), ("2", "2")]
    assert "Wang met Blinken in Munich." in read and "page 2" in read
    # The record the browser keeps brings all of it back.
    conv = conversation.add_turn(conversation.new_conversation(), "Who met?", _generated())
    back, dropped = conversation.parse_conversation(conversation.to_json(conv))
    again = Answer.from_dict(back["turns"][0]["answer"])
    assert dropped == 0 and len(again.read) == 2
    for got, was in zip(again.read, _generated().read, strict=True):
        assert (got.n, got.source, got.start, got.sentences) == (
            was.n,
            was.source,
            was.start,
            was.sentences,
        )
    assert again.sentences == _generated().sentences
    assert render.render_transcript(back) == render.render_transcript(conv)


def test_previews_copy_and_the_last_answers_actions():
    a = _focused()
    html = render.render_answer(a, turn=0, last=True)
    tips = html.split('<div class="qa-tips" data-turn="0" hidden>', 1)[1]
    assert 'data-tip="1"' in tips and '<mark class="qa-phrase">Russia</mark>' in tips
    copy = next(x for t, x in _Tags(html).tags if "qa-copy" in x.get("class", ""))["data-copy"]
    assert copy == "Russia [1]\n\n[1] Balloon talks, page 4 (doc.txt)"
    assert "\n" not in html  # the line breaks travel as character references
    assert "qa-again" in html and "qa-edit" in html
    assert "qa-again" not in render.render_answer(a, turn=0, last=False)


def test_slides_are_named_as_slides():
    p = _passage("Budget: 40,000 euros.", source="plan.pptx", page=2, page_end=2)
    assert Citation(1, p).place == "slide 2"
    assert Citation(1, replace(p, page_end=3)).place == "slides 2–3"
    assert Citation(1, replace(p, source="a.pdf")).place == "page 2"
    assert Citation(1, _passage("x")).place == ""


def test_the_documents_panel_sorts_naturally_and_offers_a_box_to_ask_each():
    rows = panel.merge_rows(
        [DocumentInfo(f"d{i}.txt", f"News digest {i}", 1, None, "indexed") for i in (10, 2, 1, 11)],
        ["zeta.txt"],
    )
    assert [r.title for r in rows[:4]] == [f"News digest {i}" for i in (1, 2, 10, 11)]
    html = panel.render_documents(rows, stamp="1.5")
    boxes = [a for t, a in _Tags(html).tags if t == "input" and a.get("type") == "checkbox"]
    assert len(boxes) == 4 and all("checked" in b for b in boxes)  # not the file not indexed
    labels = [a["for"] for t, a in _Tags(html).tags if t == "label"]
    assert labels == [b["id"] for b in boxes]
    assert 'data-at="1.5"' in html and "Questions go to all 4 documents." in html


def test_the_start_screen_lists_documents_with_questions():
    from qa.web.start import StartDoc

    docs = [StartDoc("a.pdf", "Annual <report>", 12, ("What did <b>X</b> say?",), "It began.")]
    docs += [StartDoc(f"n{i}.txt") for i in range(8)]
    html = render.render_transcript(conversation.new_conversation(), (), docs)
    assert "Annual &lt;report&gt;" in html and "12 pages" in html and "It began." in html
    assert ">What did &lt;b&gt;X&lt;/b&gt; say?</button>" in html
    assert html.count('class="qa-start-doc"') == 6 and "3 more in the documents panel" in html
