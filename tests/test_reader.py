"""The reader model that ships (qa/answer/models/reader): loaded offline, its readings sound, its
span the answer phrase inside the quoted sentence, and a setting that turns it off."""

from __future__ import annotations

import json

import numpy as np
from conftest import SEEDS, offered

from qa.answer import reader
from qa.answer.phrase import LEAD_WORDS
from qa.answer.reading import rank, read
from qa.types import Passage

SPOKESMAN = "State Department spokesman Ned Price said the meeting took place on Saturday."
BALLOON = "The balloon was shot down off the coast of South Carolina."


def _by_id(found, passages):
    """The readings of ``found`` in the order of ``passages``."""
    got = dict(zip((p.id for p in found.passages), found.readings, strict=True))
    return [(p, got[p.id]) for p in passages]


def _passage(pid: str, text: str, score: float, rank_: int) -> Passage:
    return Passage(pid, f"{pid}.txt", 0, len(text), text, score, rank_)


def test_the_model_ships_with_its_card_and_config():
    folder = reader.MODEL_DIR
    assert reader.available()
    config = json.loads((folder / "config.json").read_text())
    assert config["model"] == "model.int8.onnx" and (folder / config["model"]).stat().st_size < 25e6
    card = (folder / "MODEL_CARD.md").read_text()
    for words in ("Natural Questions", "CC BY-SA 3.0", "Apache-2.0", "train.py", "int8"):
        assert words in card, words
    assert "squad" not in " ".join(config["trained"]["trained_on"]).lower()  # LODO holds


def test_the_reader_reads_the_same_on_every_cpu():
    """onnxruntime's fast int8 kernel saturates on x86-64 CPUs without VNNI (AVX2, AVX-512F) and
    moved a third of the spans there; the reader asks for the exact kernel. These figures were
    read on such a CPU with the exact kernel, equal to a copy of the model with u8 weights, which
    no CPU computes inexactly (the fast kernel gave "Wang Yi" and logits up to 0.55 away)."""
    text = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8")
    passages = [text[:700], text[700:1400]]
    got = reader.load().score("Who did Blinken meet in Munich?", passages)
    logits = [(r.relevance_logit, r.span_score, r.null_score) for r in got]
    assert np.allclose(logits, [(4.011, 9.063, 1.294), (-1.717, 7.066, 11.086)], atol=0.05), logits
    assert passages[0][got[0].start : got[0].end] == "China’s top diplomat Wang Yi"


def test_readings_rank_the_answering_passage_and_mark_its_span():
    model = reader.load(threads=1)
    assert model is not None and model is reader.load(threads=1)  # loaded once
    on, off = model.score("Who is the State Department spokesman?", [SPOKESMAN, BALLOON])
    assert 0.0 <= off.relevance < on.relevance <= 1.0
    assert SPOKESMAN[on.start : on.end] == "Ned Price"
    # The span-over-"no answer" margin is a feature the decision calibrates, so its zero point
    # is the model's own; what must hold is that the answering passage is far ahead on it.
    assert on.margin > off.margin + 2.0


def test_spans_come_in_document_coordinates_most_relevant_first(seed_engine):
    passages = seed_engine.retrieve("Who is the State Department spokesman?", k=5)
    found = read(reader.load(), "Who is the State Department spokesman?", passages, {})
    assert sorted(p.id for p in found.passages) == sorted(p.id for p in passages)
    assert [p.id for p in found.passages] == [
        passages[i].id for i in rank(passages, [r for _, r in _by_id(found, passages)])
    ]
    by_id = {p.id: p for p in passages}
    assert found.spans
    for s in found.spans:
        p, span = by_id[s.passage_id], s.span
        assert p.text[span.start - p.start : span.end - p.start] == span.text
    relevances = [s.relevance for s in found.spans]
    assert relevances == sorted(relevances, reverse=True)
    assert found.relevance == max(r.relevance for r in found.readings)


def test_the_reader_reorders_close_passages_but_not_far_ones():
    q = "Who is the State Department spokesman?"
    model = reader.load(threads=1)
    # fused almost level: the passage that answers goes first
    close = [_passage("balloon", BALLOON, 1.0, 1), _passage("price", SPOKESMAN, 0.97, 2)]
    assert [p.id for p in read(model, q, close, {}).passages] == ["price", "balloon"]
    # fused far apart: the fusion's first stays first (the reader has a say, not the last word)
    far = [_passage("balloon", BALLOON, 1.0, 1), _passage("price", SPOKESMAN, 0.3, 2)]
    assert [p.id for p in read(model, q, far, {}).passages] == ["balloon", "price"]


def test_the_gap_says_how_far_the_best_passage_stands_out():
    from qa.answer.evidence import FEATURES, weigh
    from qa.answer.reading import Found

    q = "Who is the State Department spokesman?"
    model = reader.load(threads=1)
    one = _passage("price", SPOKESMAN, 1.0, 1)
    found = read(model, q, [one, _passage("balloon", BALLOON, 0.9, 2)], {})
    top, other = sorted((r.relevance for r in found.readings), reverse=True)
    assert found.gap == top - other > 0
    alone = read(model, q, [one], {})
    assert alone.gap == alone.relevance  # nothing next to it
    assert Found((one,), None, {}).gap is None  # reader off
    ev = weigh([], {}, 0.5, found.relevance, found.margin, gap=found.gap)
    assert ev.features()[FEATURES.index("gap")] == found.gap
    assert weigh([], {}, 0.5).features()[FEATURES.index("gap")] == 0.0


def test_the_answer_marks_the_readers_phrase_and_the_setting_turns_it_off(seed_store):
    from qa.engine import Engine

    q = "Which country is Wang expected to visit after the Munich conference?"
    on_engine = Engine(seed_store.model_copy(update={"reader": True}))
    off_engine = Engine(seed_store.model_copy(update={"reader": False}))
    on, off = on_engine.ask(q), off_engine.ask(q)
    assert offered(on) and offered(off)
    assert on_engine.reader is not None and off_engine.reader is None
    # Reader on: the phrase is the reader's own span in the passage the answer quotes (today a
    # known miss, see test_answers); off: the heuristic's, "Russia".
    from qa.question.read import read as read_question

    found = on_engine.find(read_question(q, None, 2000))
    cited = on.citations[0]
    spans = [s.span.text for s in found.spans if s.passage_id == cited.passage.id]
    marked = [p.text for c in on.citations for p in c.phrases]
    assert len(marked) == 1 and marked == spans[:1], (marked, spans)
    # It leads the answer when short (general4 marks 11 words here: the quote leads, it marked).
    short = len(marked[0].split()) <= LEAD_WORDS
    assert on.text.startswith(f"{marked[0]} — ") == short, on.text
    assert marked[0] in on.text.split(" [1]")[0]
    assert [p.text for c in off.citations for p in c.phrases] == ["Russia"]


def test_where_words_mark_no_phrase_the_sentence_is_read_alone(seed_engine):
    q = "What is China increasing from Moscow while cooperating with the Russian military?"
    answer = seed_engine.ask(q)
    assert offered(answer)
    phrase = " ".join(p.text for c in answer.citations for p in c.phrases)
    assert "trade and fuel purchases" in phrase  # the heuristic marked nothing here


def test_no_span_ends_inside_a_possessive():
    text = "Wang, who was named Xi’s top foreign policy adviser last month, visited Italy."
    model = reader.load(threads=1)
    (enc,) = model.encode("What role was Wang named to?", [text])
    ends = {
        text[a:b]: bool(ok)
        for (a, b), ok in zip(enc.offsets, reader.span_ends(text, enc.offsets), strict=True)
    }
    assert ends["Xi"] and ends["adviser"] and not ends["’"] and not ends["s"]
    # logits that prefer "Xi’s" (start at "Xi", end at "s") and then "Xi’s ... adviser"
    first, n = enc.context_start, len(enc.offsets)
    at = {text[a:b]: first + t for t, (a, b) in enumerate(enc.offsets)}
    start, end = np.zeros(first + n + 1), np.zeros(first + n + 1)
    start[at["Xi"]], end[at["s"]], end[at["adviser"]] = 5.0, 5.0, 4.0
    ok = reader.span_ends(text, enc.offsets)
    assert reader.best_span(start, end, first, n, 30)[:2] == (at["Xi"], at["s"])
    assert reader.best_span(start, end, first, n, 30, ok)[:2] == (at["Xi"], at["adviser"])


def test_a_possessive_name_is_marked_with_what_it_owns(seed_engine):
    answer = seed_engine.ask("What role was Wang named to last month?")
    phrases = [p.text for c in answer.citations for p in c.phrases]
    assert phrases and phrases[0] == "Xi’s top foreign policy adviser"
    assert answer.text.startswith("Xi’s top foreign policy adviser —")


def test_a_yes_no_question_gets_no_spotted_phrase(seed_engine):
    from index.text import tokenize
    from qa.answer import extract
    from qa.question.asked import asked_weights, yes_no

    def spotted(q: str) -> list[str]:
        """The sentences the reader was asked to read alone while drafting the answer to q."""
        calls: list[str] = []
        weights = asked_weights({t: 1.0 for t in tokenize(q)}, q)
        passages = seed_engine.retrieve(q, k=5)
        extract.draft(q, passages, weights, 1, spot=lambda s: calls.append(s) or None)
        return calls

    q = "Does the US seek a conflict with China?"
    assert yes_no(q) and not yes_no("What does the US seek?")
    assert spotted(q) == []  # "yes" or "no" answers it: no sentence is read for a phrase
    # the same drafting does read the sentence alone where the words mark nothing
    assert spotted(
        "What is China increasing from Moscow while cooperating with the Russian military?"
    )


def test_the_readers_span_has_a_say_in_which_sentence_answers():
    from index.text import tokenize
    from qa.answer import extract
    from qa.answer.reading import ReadSpan, read
    from qa.question.asked import asked_weights
    from qa.types import Passage

    q = "Who confirmed that the meeting took place on Saturday?"
    text = (
        "The ministry confirmed the meeting took place on Saturday. "
        "Ned Price, the State Department spokesman, confirmed it too."
    )
    p = Passage("p1", "news.txt", 100, 100 + len(text), text, 1.0, 1)
    weights = asked_weights({t: 1.0 for t in tokenize(q)}, q)
    found = read(reader.load(threads=1), q, [p], weights)
    assert [s.span.text for s in found.spans] == ["Ned Price"]  # in the second sentence
    words = extract.AnswerWeights(reader=0.0)
    first = extract.draft(q, [p], weights, 1, words, spans=found.spans)
    assert first.text.startswith("The ministry")  # words alone prefer the first sentence
    heard = extract.AnswerWeights(reader=1.0)  # the reader's say made large enough to decide
    chosen = extract.draft(q, [p], weights, 1, heard, spans=found.spans)
    assert chosen.text.startswith("Ned Price") and "ministry" not in chosen.text
    assert [ph.text for c in chosen.citations for ph in c.phrases] == ["Ned Price"]
    unsure = ReadSpan("p1", found.spans[0].span, 0.0)  # no relevance: no say
    assert extract.draft(q, [p], weights, 1, heard, spans=(unsure,)).text == first.text


def test_the_answer_as_quoted_is_read_as_evidence():
    from qa.answer.evidence import FEATURES, weigh
    from qa.answer.reading import reread

    model = reader.load(threads=1)
    q = "Who is the State Department spokesman?"
    on, off = reread(model, q, SPOKESMAN), reread(model, q, BALLOON)
    assert off.relevance < on.relevance and reread(model, q, "  ") is None
    ev = dict(zip(FEATURES, weigh([], {}, 0.5, 0.9, 2.0, on).features(), strict=True))
    off_ev = dict(zip(FEATURES, weigh([], {}, 0.5, 0.9, 2.0, off).features(), strict=True))
    assert ev["quoted"] == on.relevance and -1 < ev["quoted_margin"] < 1
    assert ev["quoted_margin"] > off_ev["quoted_margin"]  # the answering sentence reads better
    assert weigh([], {}, 0.5).features()[FEATURES.index("quoted")] == 0.0  # reader off


def test_a_phrase_of_the_question_s_own_words_gives_way_to_its_sentence():
    """ "What is PHEIC?": the reader marks "PHEIC", the question's own word, which would lead the
    answer and tell nothing; its whole sentence, which spells it out, is the phrase instead. A
    choice's option ("Which is older, A or B?") is the question's words and stays the phrase."""
    from functools import partial

    from index.text import tokenize
    from qa.answer import extract
    from qa.answer.reading import spot

    model = reader.load(threads=1)
    text = ("WHO determined, however, not to declare the outbreak a 'Public Health Emergency of "
            "International Concern' (PHEIC) which is a higher level of declaration.")  # fmt: skip
    p = [_passage("p0", text, 1.0, 0)]
    q = "What is PHEIC?"
    weights = dict.fromkeys(tokenize(q), 1.0)
    found = read(model, q, p, weights)
    assert [s.span.text for s in found.spans] == ["PHEIC"]  # the question's own word
    d = extract.draft(q, p, weights, 2, spans=found.spans, spot=partial(spot, model, q))
    assert d.phrase == text and d.text == f"{text} [1]", d.text  # not "PHEIC — WHO ..."
    older = "The Leonberger is older than the Basset Hound, first bred in 1846."
    q = "Which is older, the Leonberger or the Basset Hound?"
    choice = extract.draft(q, [_passage("p0", older, 1.0, 0)], dict.fromkeys(tokenize(q), 1.0), 2)
    assert choice.phrase == "Leonberger", choice.text
