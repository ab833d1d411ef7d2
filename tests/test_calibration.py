"""The decision's calibrations: one per embedding model (and reader setting), each doing its job.

``qa/answer/calibration.json`` is written by ``eval/calibrate.py``; these tests fail when an
embedding model the settings offer has no calibration, or when one no longer refuses questions
the documents are plainly not about (e5's cosines sit in a narrower, higher band than MiniLM's:
MiniLM's thresholds under e5 refused 15 of 100 such questions).
"""

from __future__ import annotations

import json

import pytest
from conftest import DATASETS, ROOT, SEEDS

from qa.answer import calibration as cal
from qa.answer import reader
from qa.engine import Engine

REFUSED_AT_LEAST = 0.95  # of questions asked of documents that are not about them


def _squad_questions(n: int) -> list[str]:
    data = json.loads((DATASETS / "squad-expmrc" / "expmrc-squad-dev.json").read_text())["data"]
    qs = [qa["question"] for a in data for p in a["paragraphs"] for qa in p["qas"]]
    return qs[:: max(1, len(qs) // n)][:n]


def _multilingual() -> list[dict]:
    return [json.loads(line) for line in (ROOT / "eval" / "multilingual_qa.jsonl").open()]


def test_every_embedding_model_has_its_calibrations():
    table = cal._table()
    need = {"minilm", "e5", "e5:meaning", "words"}
    if reader.available():
        need |= {"minilm+reader", "e5+reader", "words+reader"}
    assert need <= set(table), sorted(need - set(table))
    for key in need:
        c = cal.parse(key, table[key])
        assert 0.0 < c.refuse_below < 1.0, key
        # confident where the fitting domains' confident answers were right 80% of the time
        assert 0.0 < c.confident_at <= 1.0, key
        assert c.fitted_on, key
        if key in ("minilm", "minilm+reader", "e5", "e5+reader"):  # a floor on their cosine
            assert c.meaning_floor is not None and 0.3 < c.meaning_floor < 0.95, key
        else:  # words: the cosine is not read; e5:meaning: fitted on one set, nothing chosen
            assert c.meaning_floor is None, key


@pytest.mark.parametrize(
    ("question", "kind", "yes_no", "how_to"),
    [
        ("When did Blinken meet Wang Yi?", "time", False, False),
        ("How many balloons were shot down?", "number", False, False),
        ("Who is the State Department spokesman?", "name", False, False),
        ("Which country is Wang expected to visit?", "entity", False, False),
        ("Did Beijing provide evidence?", None, True, False),
        ("How do I renew my driving licence?", None, False, True),
        ("How does the balloon stay up?", None, False, False),  # an explanation, not a step
        ("Can I pay the fee online?", None, True, True),
    ],
)
def test_the_answer_shape_is_read_from_the_question_as_written(question, kind, yes_no, how_to):
    from qa.answer.evidence import FEATURES, KINDS, LENGTH_SCALE, SHAPE_FEATURES, shape_of, weigh

    shape = shape_of(question, "Wang Yi met Blinken in Munich on Saturday, officials said.")
    assert (shape.kind, shape.yes_no, shape.how_to, shape.words) == (kind, yes_no, how_to, 10)
    got = dict(zip(FEATURES, weigh([], {}, 0.5, shape=shape).features(), strict=True))
    assert [got[k] for k in KINDS].count(1.0) == (kind is not None)
    assert got["yes_no"] == yes_no and got["how_to"] == how_to
    assert got["length"] == 10 / LENGTH_SCALE
    assert shape_of(question, "word " * 1000).features()[-1] == 2.0  # a long quote is capped
    # The shape says how likely an answer of that shape is right, not whether the documents are
    # about the question: only the right model reads it.
    for key, raw in cal._table().items():
        c = cal.parse(key, raw)
        topic = dict(zip(FEATURES, c.topic.weights, strict=True))
        assert all(topic[f] == 0.0 for f in SHAPE_FEATURES), key


def test_a_missing_calibration_says_how_to_make_one(monkeypatch):
    monkeypatch.setattr(cal, "_table", lambda: {"minilm": {}})
    with pytest.raises(Exception) as e:
        cal.calibration("minilm", True)
    assert "eval/calibrate.py" in str(e.value)


@pytest.fixture(scope="module", params=["minilm", "e5"])
def seed_engine_of(request, tmp_path_factory):
    """The seed article indexed with each embedding model, the reader as shipped."""
    from qa import ingest
    from qa.settings import Settings

    settings = Settings(
        store_dir=tmp_path_factory.mktemp(f"cal-{request.param}"),
        docs_dir=SEEDS,
        embeddings=request.param,
    )
    ingest(settings=settings)
    return Engine(settings)


def test_questions_the_documents_are_not_about_are_refused(seed_engine_of):
    questions = _squad_questions(100)  # Wikipedia questions, asked of a news article
    refused = [seed_engine_of.verdict(q).status == "refused" for q in questions]
    assert sum(refused) / len(refused) >= REFUSED_AT_LEAST, sum(refused)


def test_a_passage_close_in_meaning_is_never_refused(seed_store):
    # A topic threshold that would refuse anything (QA_MIN_RELEVANCE=1.0): a question whose
    # passage matches it in meaning is still answered or "not sure"; the others are refused.
    strict = Engine(seed_store.model_copy(update={"min_relevance": 1.0}))
    asked = "What did Blinken tell Wang Yi about the Chinese surveillance balloon?"
    v = strict.verdict(asked)
    assert v.status != "refused", v
    floor = strict.calibration(strict.read(asked)).meaning_floor
    assert floor is not None and v.topic < 1.0
    far = [strict.verdict(q) for q in _squad_questions(20)]
    assert all(f.status == "refused" for f in far), [f.reason for f in far]


def test_another_language_is_said_so_or_answered_by_meaning(seed_engine_of):
    rows = _multilingual()
    answers = [seed_engine_of.ask(r["question"]) for r in rows]
    if seed_engine_of.multilingual:  # e5: judged by meaning, answered or at worst "not sure"
        refused = [a for a in answers if a.status == "refused"]
        assert len(refused) <= len(rows) // 10, [a.question for a in refused]
        found = sum(any(x.lower() in a.text.lower() for x in r["answers"]) for a, r in zip(answers, rows, strict=True))  # fmt: skip
        # the guess holds the reference for 9 of 30 (eval/calibrate.py --embeddings e5: XQuAD's
        # test half 0.525): answered by meaning, weakly; the floor keeps it from getting worse
        assert found >= len(rows) // 4, found
    else:  # English-only: never "not in the documents"; the reply names the language and setting
        assert all(a.reason.startswith("language:") for a in answers), [a.reason for a in answers]
        assert all("QA_EMBEDDINGS=e5" in a.reply for a in answers)


def test_a_settled_yes_or_no_is_answered_unless_the_documents_are_off_topic():
    """A yes or no both things' documents settle (``qa.answer.polar``) is answered with
    confidence however low the right model scores it; a refusal on topic still stands."""
    from dataclasses import replace

    from qa.answer.evidence import Evidence, shape_of
    from qa.answer.verdict import decide
    from qa.outcomes import ANSWERED, REFUSED, SETTLED, UNCERTAIN
    from qa.question.read import Asked

    calibration = cal.calibration("minilm", reader=False)
    q = "Are Jim McBride and Neil Jordan both American?"
    asked = Asked(q, q, q)
    shape = shape_of(q, "No — Jim McBride is an American director. [1] ...", settled=True)
    on_topic = Evidence(cosine=0.8, coverage=1.0, sentence=0.2, shape=replace(shape, settled=False))
    assert calibration.right_probability(on_topic) < calibration.confident_at  # a weak sentence
    assert decide(on_topic, calibration, asked).status == UNCERTAIN
    settled = replace(on_topic, shape=shape)
    assert settled.settled and settled.features() == on_topic.features()  # a rule, not a feature
    v = decide(settled, calibration, asked)
    assert (v.status, v.reason) == (ANSWERED, SETTLED)
    off_topic = replace(settled, cosine=0.0, coverage=0.0)
    assert decide(off_topic, calibration, asked).status == REFUSED
