"""The reader model that ships (qa/answer/models/reader): loaded offline, its readings sound, its
span the answer phrase inside the quoted sentence, and a setting that turns it off."""

from __future__ import annotations

import json

from conftest import offered

from qa.answer import reader
from qa.answer.reading import read

SPOKESMAN = "State Department spokesman Ned Price said the meeting took place on Saturday."
BALLOON = "The balloon was shot down off the coast of South Carolina."


def test_the_model_ships_with_its_card_and_config():
    folder = reader.MODEL_DIR
    assert reader.available()
    config = json.loads((folder / "config.json").read_text())
    assert config["model"] == "model.int8.onnx" and (folder / config["model"]).stat().st_size < 25e6
    card = (folder / "MODEL_CARD.md").read_text()
    for words in ("Natural Questions", "CC BY-SA 3.0", "Apache-2.0", "train.py", "int8"):
        assert words in card, words
    assert "squad" not in " ".join(config["trained"]["trained_on"]).lower()  # LODO holds


def test_readings_rank_the_answering_passage_and_mark_its_span():
    model = reader.load(threads=1)
    assert model is not None and model is reader.load(threads=1)  # loaded once
    on, off = model.score("Who is the State Department spokesman?", [SPOKESMAN, BALLOON])
    assert 0.0 <= off.relevance < on.relevance <= 1.0
    assert SPOKESMAN[on.start : on.end] == "Ned Price"
    assert on.span_score > on.null_score  # a span beats "no answer" where there is one


def test_spans_come_in_document_coordinates_most_relevant_first(seed_engine):
    passages = seed_engine.retrieve("Who is the State Department spokesman?", k=5)
    found = read(reader.load(), "Who is the State Department spokesman?", passages, {})
    assert [p.id for p in found.passages] == [p.id for p in passages]  # the fused order stands
    by_id = {p.id: p for p in passages}
    assert found.spans
    for s in found.spans:
        p, span = by_id[s.passage_id], s.span
        assert p.text[span.start - p.start : span.end - p.start] == span.text
    relevances = [s.relevance for s in found.spans]
    assert relevances == sorted(relevances, reverse=True)
    assert found.relevance == max(r.relevance for r in found.readings)


def test_the_answer_marks_the_readers_phrase_and_the_setting_turns_it_off(seed_store):
    from qa.engine import Engine

    q = "Which country is Wang expected to visit after the Munich conference?"
    on_engine = Engine(seed_store.model_copy(update={"reader": True}))
    off_engine = Engine(seed_store.model_copy(update={"reader": False}))
    on, off = on_engine.ask(q), off_engine.ask(q)
    assert offered(on) and offered(off)
    assert [p.text for c in on.citations for p in c.phrases] == ["Russia"]
    assert on.text.startswith("Russia")
    assert on_engine.reader is not None and off_engine.reader is None
