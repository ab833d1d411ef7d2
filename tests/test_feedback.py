"""Feedback from the web chat: kept as JSONL in the store, and run by ``qa eval`` as a dataset."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest
import reliability

from qa.errors import FeedbackError, QAError
from qa.evaluation import feedback as fbe
from qa.evaluation.dataset import load_dataset
from qa.library import feedback as fb
from qa.types import Answer
from qa.web.conversation import add_turn, new_conversation
from qa.web.handlers import ChatUI
from tests.conftest import ROOT, SEEDS


def _answer(text="Wang Yi [1]", status="answered", phrases=("Wang Yi",)):
    sentence = "Blinken met China's top diplomat Wang Yi on Saturday."
    return {
        "question": "Who did Blinken meet?",
        "answer": text,
        "status": status,
        "mode": "extractive",
        "standalone_question": "Who did Blinken meet on Saturday?",
        "citations": [
            {
                "n": 1, "source": "seed.txt", "title": "", "page": None, "start": 10, "end": 64,
                "sentences": [{"start": 10, "end": 64, "text": sentence}],
                "phrases": [{"start": 43, "end": 50, "text": p} for p in phrases],
            }
        ],
    }  # fmt: skip


def test_records_append_and_the_latest_word_on_an_answer_wins(tmp_path):
    path = fb.feedback_path(tmp_path / "store")
    fb.append(path, fb.make_record("c1:0", _answer(), "up", collection="documents"))
    fb.append(path, fb.make_record("c1:1", _answer(), "down"))
    fb.append(
        path,
        fb.make_record(
            "c1:0", _answer(), "down", correction="  Wang   Yi ", collection="documents"
        ),
    )
    with path.open("a") as f:
        f.write("{not json\n")
    records, problems = fb.read(path)
    assert [r["id"] for r in records] == ["c1:1", "c1:0"]  # ordered by the latest word
    assert records[1]["rating"] == "down" and records[1]["correction"] == "Wang Yi"
    assert records[1]["answer"] == "Wang Yi" and records[1]["collection"] == "documents"
    assert len(problems) == 1 and problems[0].startswith("line 4:")
    with pytest.raises(FeedbackError, match="rate an answer in the web chat first"):
        fb.read(tmp_path / "nothing.jsonl")
    with pytest.raises(ValueError):
        fb.make_record("x", _answer(), "meh")


def test_appends_from_many_threads_never_interleave(tmp_path):
    path = tmp_path / "feedback.jsonl"
    long = "x" * 20_000

    def write(k):
        for i in range(25):
            fb.append(path, fb.make_record(f"t{k}:{i}", _answer(long), "up"))

    threads = [threading.Thread(target=write, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records, problems = fb.read(path)
    assert problems == [] and len(records) == 200


def test_an_unwritable_store_is_a_clear_error(tmp_path):
    blocker = tmp_path / "store"
    blocker.write_text("a file where the store folder should be")
    with pytest.raises(FeedbackError, match="check that the store folder is writable"):
        fb.append(fb.feedback_path(blocker), fb.make_record("a:0", _answer(), "up"))


def test_feedback_becomes_questions_with_references():
    up = fb.make_record("a:0", _answer(), "up")
    item = fbe.item_from_feedback(up)
    assert item.question == "Who did Blinken meet on Saturday?"  # as it was looked up
    assert item.answers == ("Wang Yi",) and item.sources == ("seed.txt",)
    assert item.evidence == ("Blinken met China's top diplomat Wang Yi on Saturday.",)
    long_answer = fbe.item_from_feedback(
        fb.make_record("a:1", _answer("He met Wang. [1]", phrases=()), "up")
    )
    assert long_answer.answers == ("He met Wang.",)
    corrected = fbe.item_from_feedback(
        fb.make_record("a:2", _answer(), "down", correction="Wang Yi, China's top diplomat")
    )
    assert corrected.answers == ("Wang Yi, China's top diplomat",) and corrected.sources == ()
    none = fbe.item_from_feedback(fb.make_record("a:3", _answer(), "down", unanswerable=True))
    assert none.answers == () and not none.answerable
    refusal = fbe.item_from_feedback(
        fb.make_record("a:4", _answer("Not in the documents.", "refused", ()), "up")
    )
    assert refusal.answers == () and refusal.category == "feedback: confirmed refusal"
    assert fbe.item_from_feedback(fb.make_record("a:5", _answer(), "down")) is None


def test_a_feedback_file_converts_to_a_dataset_that_reads_back(tmp_path):
    path = tmp_path / "feedback.jsonl"
    for rec in (
        fb.make_record("a:0", _answer(), "up"),
        fb.make_record("a:1", _answer(), "down"),  # no reference: skipped, counted
        fb.make_record(
            "a:2",
            {**_answer(), "standalone_question": "Where is Wang going?"},
            "down",
            correction="Russia",
        ),
    ):
        fb.append(path, rec)
    assert fbe.is_feedback_file(path) and not fbe.is_feedback_file(ROOT / "eval" / "seeds_qa.jsonl")
    out, n, skipped = fbe.convert_feedback(path, tmp_path / "out" / "questions.jsonl")
    items, problems = load_dataset(out)
    assert n == 2 and problems == [] and [i.answers for i in items] == [("Wang Yi",), ("Russia",)]
    assert skipped == {"thumbs down without a correction (no reference)": 1}
    empty = tmp_path / "down.jsonl"
    fb.append(empty, fb.make_record("a:1", _answer(), "down"))
    with pytest.raises(QAError, match="gives no question to evaluate"):
        fbe.convert_feedback(empty, tmp_path / "x.jsonl")


def test_qa_eval_feedback_runs_what_users_said_as_an_evaluation(tmp_path, seed_engine):
    """Thumbs and a correction given in the chat handler, then ``qa eval feedback``, for real."""
    import shutil

    from qa.engine import Engine
    from qa.settings import Settings

    store = tmp_path / "store"
    shutil.copytree(seed_engine.settings.store_dir, store)
    ui = ChatUI(Engine(Settings(store_dir=store, docs_dir=SEEDS)))
    conv = new_conversation()
    for q in ("Who did Blinken meet on Saturday?", "What did Biden say he would not apologize for?",
              "What is the capital of France?"):  # fmt: skip
        *_, last = ui.respond(q, conv)
        conv = last.conversation
    ui.feedback(conv, {"turn": 0, "rating": "up"})
    ui.feedback(conv, {"turn": 1, "rating": "down", "correction": "shooting down the balloon"})
    ui.feedback(conv, {"turn": 2, "rating": "up"})  # a refusal confirmed
    out = tmp_path / "eval-out"
    proc = subprocess.run(
        [sys.executable, "-m", "qa.cli", "eval", "feedback", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "QA_STORE_DIR": str(store),
             "QA_DOCS_DIR": str(SEEDS), "HOME": str(tmp_path)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "feedback: 3 questions" in proc.stderr
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(results) == 3
    summary = json.loads((out / "summary.json").read_text())
    assert summary["questions"] == 3 and summary["complete"]
    by_q = {r["question"]: r["answers"] for r in results}
    assert any(q.endswith("What is the capital of France?") and a == [] for q, a in by_q.items())
    assert ["shooting down the balloon"] in by_q.values()
    assert any("Wang Yi" in " ".join(a) for a in by_q.values())  # the thumbs-up answer


def test_conversation_turns_feed_feedback_records():
    conv = add_turn(new_conversation(), "q", Answer(question="q", text="t"))
    rec = fb.make_record(f"{conv['id']}:0", conv["turns"][0]["answer"], "up")
    assert rec["question"] == "q" and rec["citations"] == [] and rec["status"] == "answered"


def test_malformed_records_are_skipped_and_counted(tmp_path):
    """Issue 27, case 6: ``"citations": "oops"`` aborted ``qa eval feedback`` (AttributeError)
    and one invalid UTF-8 byte refused the whole file. Each bad record is skipped and counted."""
    path = tmp_path / "feedback.jsonl"
    fb.append(path, fb.make_record("a:0", _answer(), "up"))
    good = json.loads(path.read_text())
    bad = [
        {**good, "id": "b:1", "citations": "oops"},
        {**good, "id": "b:2", "citations": [{"source": "s.txt", "sentences": 5}]},
        {**good, "id": "b:3", "citations": ["s.txt"]},
        {**good, "id": "b:4", "correction": ["Wang"], "rating": "down"},
        {**good, "id": "b:5", "unanswerable": "yes"},
        {**good, "id": "b:6", "answer": None},
        {**good, "id": "b:7", "standalone_question": 5},
        {**good, "id": "b:8", "citations": [{"source": 5, "phrases": ["Wang Yi"]}]},
    ]
    with path.open("ab") as f:
        for rec in bad:
            f.write(json.dumps(rec).encode() + b"\n")
        f.write(
            json.dumps({**good, "id": "b:9"}).encode().replace(b"Blinken", b"Bl\xffnken") + b"\n"
        )
        f.write(b"[" * 100_000 + b"\n")  # json.loads: RecursionError
    later = {**_answer(), "standalone_question": "Where is Wang going?"}
    fb.append(path, fb.make_record("a:9", later, "down", correction="Russia"))
    records, problems = fb.read(path)
    assert [r["id"] for r in records] == ["a:0", "a:9"] and len(problems) == len(bad) + 2
    assert any("not UTF-8" in p for p in problems) and any("citations" in p for p in problems)
    assert fbe.is_feedback_file(path)
    out, n, skipped = fbe.convert_feedback(path, tmp_path / "out" / "questions.jsonl")
    assert n == 2 and skipped == {"malformed records": len(bad) + 2}
    assert [i.answers for i in load_dataset(out)[0]] == [("Wang Yi",), ("Russia",)]
    reliability.case("issue 27.6: malformed feedback records skipped, counted", True, len(bad) + 2)


def test_a_feedback_record_keeps_a_bounded_amount(tmp_path):
    """Issue 27, case 7: a forged 2.4 MB chat plus three thumbs-up wrote 7.2 MB."""
    from qa.web.conversation import parse_conversation

    text = "word " * 2_000  # 10,000 characters
    span = {"start": 0, "end": 10_000, "text": text}
    cite = {"n": 1, "source": "s" * 900, "title": "t" * 900, "page": 1, "page_end": 1,
            "start": 0, "end": 10_000, "text": text, "score": 0.5,
            "sentences": [span] * 20, "phrases": [span] * 20}  # fmt: skip
    answer = {"question": text * 4, "answer": text * 4, "status": "answered",
              "standalone_question": text * 4, "citations": [{**cite, "n": i} for i in range(1, 11)]}  # fmt: skip
    raw = json.dumps({"id": "forged", "turns": [{"question": "q", "answer": answer}]})
    assert len(raw) > 2_400_000
    conv, dropped = parse_conversation(raw)
    assert dropped == 0
    path = tmp_path / "feedback.jsonl"
    for _ in range(3):
        fb.append(path, fb.make_record("forged:0", conv["turns"][0]["answer"], "up", correction=text))  # fmt: skip
    assert path.stat().st_size < 3 * fb.MAX_RECORD_BYTES, path.stat().st_size
    rec = fb.read(path)[0][0]
    assert rec["question"].startswith("word word") and len(rec["citations"]) <= fb.MAX_CITED
    assert fbe.item_from_feedback(rec) is not None  # what is kept still makes a question
    reliability.case("issue 27.7: feedback record of a forged chat bounded", True)
