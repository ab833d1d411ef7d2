"""`qa eval`: metrics on hand-made cases, datasets, converters, --compare, resume, a real run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DATASETS, ROOT, SEEDS, stop_process

from qa.answer.markers import strip_markers
from qa.cli.main import main
from qa.evaluation import metrics, registry
from qa.evaluation.compare import compare
from qa.evaluation.converters import convert_hotpotqa, convert_squad
from qa.evaluation.dataset import EvalItem, load_dataset
from qa.evaluation.judge import parse_score, parse_verdict
from qa.evaluation.records import outcome, read_results
from qa.evaluation.references import REFERENCE_SETS
from qa.evaluation.registry import Metric, summarize
from qa.evaluation.report import format_table, write_report
from qa.evaluation.runner import collection_for
from qa.evaluation.scoring import result_record, score
from qa.outcomes import NOT_IN_DOCUMENTS as REFUSAL
from qa.types import Answer, Citation, Passage

SEED = "000_d383e4b1c99cfec1.txt"
SEED_QA = ROOT / "eval" / "seeds_qa.jsonl"


def passage(text: str, rank: int = 0, source: str = SEED) -> Passage:
    return Passage(
        f"p{rank}", source, 100 * rank, 100 * rank + len(text), text, 1.0 - rank / 10, rank
    )


GOLD = passage("Antony Blinken met with China’s top\n  diplomat Wang Yi on Saturday.", rank=1)
OTHER = passage("State Department spokesman Ned Price said in a statement.", rank=0)
FAR = passage("Biden said Thursday that he hoped to talk to Xi about the wolf.", rank=2)
RANKED = [OTHER, GOLD, FAR]
ITEM = EvalItem(
    id="q1",
    question="Who did Blinken meet?",
    answers=("Wang Yi",),
    evidence=(
        "met with China’s top diplomat Wang Yi",
    ),  # one space where the passage has a newline
    sources=(SEED,),
    category="factoid",
)
UNANSWERABLE = EvalItem(
    id="u1", question="What is the capital of China?", answers=(), category="none"
)


def answer(text: str, cited=(), refused: bool = False, ms: float = 10.0) -> Answer:
    citations = tuple(Citation(i, p) for i, p in enumerate(cited, 1))
    status = "refused" if refused else "answered"
    return Answer("q", text, citations, status, tuple(RANKED), timings={"total_ms": ms})


# ---------------------------------------------------------------------------- metrics


def test_right_answer_scores():
    s = score(
        ITEM,
        answer("Blinken met with China’s top diplomat Wang Yi on Saturday. [1]", [GOLD]),
        RANKED,
    )
    assert s["contains"] == 1.0 and s["em"] == 0.0
    # 10 answer words, 2 reference words, 2 shared: P 0.2, R 1.0
    assert s["f1"] == pytest.approx(2 * 0.2 * 1.0 / 1.2)
    assert s["refusal_correct"] == 1.0
    assert (s["gold_rank"], s["hit1"], s["hit5"], s["mrr10"]) == (2, 0.0, 1.0, 0.5)
    assert s["citation_precision"] == 1.0 and s["citation_recall"] == 1.0
    exact = score(ITEM, answer("Wang Yi [1]", [GOLD]), RANKED)
    assert (exact["em"], exact["f1"], exact["contains"]) == (1.0, 1.0, 1.0)


def test_wrong_answer_scores():
    s = score(ITEM, answer("Ned Price said in a statement. [1]", [OTHER]), RANKED)
    assert (s["contains"], s["em"], s["f1"]) == (0.0, 0.0, 0.0)
    assert s["refusal_correct"] == 1.0  # it answered an answerable question, only wrongly
    assert s["citation_precision"] == 0.0 and s["citation_recall"] == 0.0
    assert s["mrr10"] == 0.5  # retrieval is scored apart from the answer


def test_refusals_score():
    refused = score(ITEM, answer(REFUSAL, refused=True), RANKED)
    assert (refused["contains"], refused["em"], refused["f1"]) == (0.0, 0.0, 0.0)
    assert refused["refusal_correct"] == 0.0
    assert refused["citation_precision"] is None and refused["citation_recall"] == 0.0
    right = score(UNANSWERABLE, answer(REFUSAL, refused=True), RANKED)
    assert right["refusal_correct"] == 1.0
    assert all(
        right[k] is None for k in ("contains", "em", "f1", "hit1", "mrr10", "citation_precision")
    )
    wrong = score(UNANSWERABLE, answer("Beijing is mentioned. [1]", [OTHER]), RANKED)
    assert wrong["refusal_correct"] == 0.0


def test_partial_citation():
    item = EvalItem(
        "q2",
        "What did Biden and Price say?",
        ("the wolf",),
        evidence=("hoped to talk to Xi about the wolf", "Ned Price said in a statement"),
        sources=(SEED,),
    )
    other_doc = passage("Ned Price said in a statement.", rank=3, source="other.txt")
    s = score(
        item, answer("He hoped to talk about the wolf [1] and more [2].", [FAR, GOLD]), RANKED
    )
    assert s["citation_precision"] == 0.5  # FAR holds evidence, GOLD does not
    assert s["citation_recall"] == 0.5  # one of the two evidence strings is covered
    # The second evidence string in a file that is not a gold source does not count.
    s = score(item, answer("The wolf [1]. Price spoke [2].", [FAR, other_doc]), RANKED)
    assert (s["citation_precision"], s["citation_recall"]) == (0.5, 0.5)
    # Without evidence, gold is any passage of a named source.
    by_source = EvalItem("q3", "q?", ("x",), sources=("other.txt",))
    s = score(by_source, answer("x [1]", [other_doc]), [GOLD, other_doc])
    assert (s["gold_rank"], s["citation_precision"], s["citation_recall"]) == (2, 1.0, 1.0)


def test_normalisation_and_markers():
    assert strip_markers("It was [1] the wolf [2, 3].") == "It was the wolf ."
    # Curly quotes are punctuation too, as straight ones are in SQuAD's script.
    assert metrics.contains_answer("trends called “disturbing” here", ["disturbing"]) == 1.0
    assert metrics.exact_match("“100% an abuse of force.”", ["100% an abuse of force"]) == 1.0
    assert metrics.contains_answer("a wolfish tale", ["wolf"]) == 0.0  # whole words only


def test_summary_groups_and_latency():
    records = [
        result_record(ITEM, answer("Wang Yi [1]", [GOLD], ms=10), RANKED, 10.0, {}),
        result_record(ITEM, answer(REFUSAL, refused=True), RANKED, 30.0, {}),
        result_record(UNANSWERABLE, answer(REFUSAL, refused=True), RANKED, 20.0, {}),
    ]
    records[1]["id"] = "q1b"
    summary = summarize(records, {"dataset": "x.jsonl"})
    overall = summary["overall"]
    assert (overall["n"], overall["answerable"], overall["unanswerable"]) == (3, 2, 1)
    assert overall["contains"] == 0.5 and overall["refusal_correct"] == pytest.approx(0.6667)
    assert overall["unanswerable_refused"] == 1.0 and overall["answerable_answered"] == 0.5
    assert overall["latency_p50_ms"] == 20.0 and overall["latency_p95_ms"] == 29.0
    assert summary["by_category"]["none"]["contains"] is None
    assert [outcome(r) for r in records] == ["correct", "wrongly refused", "refused (right)"]


def test_judge_verdicts_are_parsed_strictly():
    assert parse_score("4\nThe answer matches the reference.") == 4
    assert parse_score("**5.0**") == 5
    assert parse_score("The answer is relevant.\nScore: 2") == 2
    assert parse_score("It names 3 people from 2018.") is None  # a number in prose is no score
    assert parse_score("") is None and parse_score("9") is None
    assert parse_verdict("YES\nThe context says so.") is True
    assert parse_verdict("no, it does not") is False
    assert parse_verdict("Nothing useful") is None


# ---------------------------------------------------------------------------- datasets


def test_malformed_lines_are_reported_and_skipped(tmp_path):
    path = tmp_path / "d.jsonl"
    lines = [
        '{"id": "a", "question": "Who did Blinken meet?", "answers": ["Wang Yi"]}',
        "",
        '{"question": "broken", "answers": [}',
        "[1, 2]",
        '{"answers": []}',
        '{"question": "no answers key"}',
        '{"question": "bad answers", "answers": [1, 2]}',
        '{"id": "a", "question": "same id again", "answers": []}',
        '{"question": "Why?", "answers": "one string", "evidence": "text", "category": "x"}',
    ]
    path.write_text("\n".join(lines) + "\n")
    items, problems = load_dataset(path)
    assert [i.id for i in items] == ["a", "line-9"]
    assert items[1].answers == ("one string",) and items[1].evidence == ("text",)
    assert [p.line for p in problems] == [3, 4, 5, 6, 7, 8]
    text = "\n".join(map(str, problems))
    assert "line 3: not valid JSON" in text and "expected a JSON object" in text
    assert "'question' is missing" in text and "'answers' is missing" in text
    assert "list of strings" in text and "duplicate id 'a' (first on line 1)" in text
    # One line of bad bytes, or nested past the parser's recursion, is one problem too.
    with path.open("ab") as f:
        f.write(b'{"question": "caf\xe9?", "answers": []}\n' + b"[" * 100_000 + b"\n")
    items, problems = load_dataset(path)
    assert len(items) == 2 and [p.line for p in problems][-2:] == [10, 11]
    assert "not UTF-8 text" in str(problems[-2]) and "nested too deeply" in str(problems[-1])


def test_seed_evidence_occurs_in_the_seed():
    text = metrics.squash_spaces((SEEDS / SEED).read_text(encoding="utf-8"))
    items, problems = load_dataset(SEED_QA)
    assert not problems and len(items) >= 40
    for item in items:
        for e in item.evidence:
            assert metrics.squash_spaces(e) in text, (item.id, e)
        assert item.sources == ((SEED,) if item.answerable else ())
        assert item.answerable == bool(item.evidence)
    categories = {i.category for i in items}
    assert {"factoid", "list", "yes/no", "multi-sentence", "unanswerable"} <= categories
    assert sum(not i.answerable for i in items) >= 8


def test_converters_on_a_few_records(tmp_path):
    squad = {
        "data": [
            {
                "title": "Super_Bowl_50",
                "paragraphs": [
                    {
                        "context": "Super Bowl 50 was played in Santa Clara. The Broncos won.",
                        "qas": [
                            {
                                "id": "s1",
                                "question": "Where was Super Bowl 50 played?",
                                "answers": [{"text": "Santa Clara"}, {"text": "Santa Clara"}],
                                "evidences": ["Super Bowl 50 was played in Santa Clara."],
                            },
                            {
                                "id": "s2",
                                "question": "Who won?",
                                "answers": [{"text": "The Broncos"}, {"text": "Broncos"}],
                            },
                        ],
                    }
                ],
            }
        ]
    }
    (tmp_path / "squad.json").write_text(json.dumps(squad))
    c = convert_squad(tmp_path / "squad.json", tmp_path / "squad")
    assert (c.n_docs, c.n_questions) == (1, 2)
    doc = (c.docs_dir / "Super_Bowl_50_000.txt").read_text()
    assert doc.startswith("Super Bowl 50\n")
    items, problems = load_dataset(c.questions)
    assert not problems
    assert items[0].answers == ("Santa Clara",) and items[0].sources == ("Super_Bowl_50_000.txt",)
    assert items[0].evidence[0] in doc and items[1].answers == ("The Broncos", "Broncos")

    def ctx(title, text, gold):
        return {"title": title, "paragraph_text": text, "is_supporting": gold}

    hotpot = [
        {
            "question_id": "h1",
            "question_text": "Which band was formed first?",
            "answers_objects": [{"spans": ["Queen"]}],
            "contexts": [
                ctx("Queen", "Queen formed in 1970.", True),
                ctx("Muse", "Muse formed in 1994.", True),
                ctx("Oasis", "Oasis formed in 1991.", False),
            ],
        },
        {
            "question_id": "h2",
            "question_text": "Where is Muse from?",
            "answers_objects": [{"spans": ["Teignmouth"]}],
            "contexts": [ctx("Muse", "Muse formed in 1994.", False)],
        },
    ]
    (tmp_path / "h.jsonl").write_text("".join(json.dumps(r) + "\n" for r in hotpot))
    c = convert_hotpotqa(tmp_path / "h.jsonl", tmp_path / "hotpot")
    assert (c.n_docs, c.n_questions) == (3, 2)  # the shared Muse paragraph is one document
    items, _ = load_dataset(c.questions)
    assert len(items[0].sources) == 2 and items[0].category == "multi-hop"
    assert all((c.docs_dir / s).exists() for s in items[0].sources)


def test_convert_command_on_the_vendored_squad_set(tmp_path, capsys):
    src = DATASETS / "squad-expmrc" / "expmrc-squad-dev.json"
    assert REFERENCE_SETS["squad"].source() == src  # the default: the copy in the repository
    assert main(["eval", "convert", "squad", str(src), str(tmp_path / "sq")]) == 0
    assert "qa eval" in capsys.readouterr().out
    items, problems = load_dataset(tmp_path / "sq" / "questions.jsonl")
    assert (len(items), problems) == (501, [])
    assert len(list((tmp_path / "sq" / "docs").iterdir())) == 319
    assert main(["eval", "convert", "nosuch", "x"]) == 2
    # Without SRC, the vendored copy is converted into the store.
    assert main(["eval", "convert", "squad", "--store", str(tmp_path / "store")]) == 0
    converted = tmp_path / "store" / "datasets" / "squad" / "questions.jsonl"
    assert converted.read_bytes() == (tmp_path / "sq" / "questions.jsonl").read_bytes()


def test_nothing_reads_from_outside_the_repository():
    """A clone runs alone: the reference sets are vendored and nothing names a sibling folder."""
    for ref in REFERENCE_SETS.values():
        assert ref.source().is_file() and ref.source().is_relative_to(ROOT / "eval" / "datasets")
    assert (DATASETS / "README.md").is_file() and (DATASETS / "squad-expmrc" / "LICENSE").is_file()
    outside = ["ROOT" + ".parent", '"sha' + 'red"', "../sha" + "red", "/sha" + "red/"]
    files = [ROOT / "app.py", *ROOT.glob("eval/*.py")]
    files += [p for d in ("qa", "index", "tests") for p in (ROOT / d).rglob("*.py")]
    named = [(p.relative_to(ROOT), o) for p in files for o in outside if o in p.read_text()]
    assert named == []


# ---------------------------------------------------------------------------- compare


def _write_run(out: Path, records: list[dict]) -> None:
    out.mkdir()
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    summary = summarize(
        records, {"dataset": "d.jsonl", "asked": len(records), "mode": "extractive"}
    )
    (out / "summary.json").write_text(json.dumps(summary))
    write_report(out / "report.html", summary, records)


def test_compare_prints_differences_and_changed_questions(tmp_path, capsys):
    wrong = result_record(ITEM, answer("Ned Price said so. [1]", [OTHER]), RANKED, 10.0, {})
    right = result_record(ITEM, answer("Wang Yi [1]", [GOLD]), RANKED, 20.0, {})
    refused = result_record(UNANSWERABLE, answer(REFUSAL, refused=True), RANKED, 10.0, {})
    _write_run(tmp_path / "a", [wrong, refused])
    _write_run(tmp_path / "b", [right, refused])
    assert main(["eval", "--compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "contains answer" in out and "+1.000" in out  # 0.000 -> 1.000
    assert "questions whose outcome changed: 1 (1 better, 0 worse)" in out
    assert "+ q1: wrong -> correct" in out and "u1" not in out.split("changed")[1]
    assert compare(tmp_path / "b", tmp_path / "a").count("- q1: correct -> wrong") == 1
    assert main(["eval", "--compare", str(tmp_path / "a"), str(tmp_path / "missing")]) == 1
    assert "summary.json is missing" in capsys.readouterr().err


def test_the_metric_registry_drives_table_report_and_compare(tmp_path, monkeypatch):
    """A metric added to the registry appears in all three views; one removed, in none."""
    cited = Metric(
        "cited",
        "cited",
        "answers citing",
        "share of the answers that cite a passage",
        lambda records: metrics.mean(float(bool(r["citations"])) for r in records),
    )
    kept = tuple(m for m in registry.METRICS if m.key != "em")
    monkeypatch.setattr(registry, "METRICS", (*kept, cited))
    wrong = result_record(ITEM, answer("Ned Price said so.", []), RANKED, 10.0, {})
    right = result_record(ITEM, answer("Wang Yi [1]", [GOLD]), RANKED, 20.0, {})
    _write_run(tmp_path / "a", [wrong])
    _write_run(tmp_path / "b", [right])
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert summary["overall"]["cited"] == 1.0 and "em" not in summary["overall"]
    header = format_table(summary).splitlines()[0]
    assert "| cited" in header and "| EM " not in header and "| F1 " in header
    report = (tmp_path / "b" / "report.html").read_text(encoding="utf-8")
    assert "<th>cited</th>" in report and "share of the answers that cite a passage" in report
    assert "<th>EM</th>" not in report and "<th>F1</th>" in report
    text = compare(tmp_path / "a", tmp_path / "b")
    assert "answers citing" in text and "+1.000" in text.split("answers citing")[1].splitlines()[0]
    assert "exact match" not in text and "token F1" in text


# ---------------------------------------------------------------------------- real runs


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("eval-store")


def _eval(store: Path, *args: str) -> int:
    return main(["eval", *args, "--docs", str(SEEDS), "--store", str(store)])


def test_judge_without_a_model_says_so(store, tmp_path, capsys):
    assert _eval(store, str(SEED_QA), "--judge", "--out", str(tmp_path / "o")) == 1
    err = capsys.readouterr().err
    assert "--judge needs a language model" in err and "OPENAI_BASE_URL" in err
    assert "Traceback" not in err and not (tmp_path / "o").exists()


def test_full_seed_set_end_to_end(store, tmp_path, capsys, test_output):
    """The real command on eval/seeds_qa.jsonl against a real temp index."""
    out = tmp_path / "out"
    assert _eval(store, str(SEED_QA), "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert "| overall" in printed and str(out / "report.html") in printed
    items, _ = load_dataset(SEED_QA)
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == [i.id for i in items]
    for r in records:
        assert r["error"] is None and r["latency_ms"] > 0
        assert r["refused"] == (r["answer"] == REFUSAL)
        assert 1 <= len(r["retrieved"]) <= 10 and all(p["source"] == SEED for p in r["retrieved"])
        assert all(0 <= p["start"] < p["end"] for p in r["retrieved"])
        assert all(f"[{c['n']}]" in r["answer"] for c in r["citations"])
    summary = json.loads((out / "summary.json").read_text())
    overall = summary["overall"]
    assert summary["complete"] and overall["n"] == len(items)
    assert overall["unanswerable"] == sum(not i.answerable for i in items)
    # Scores are recomputed from the records, so the summary cannot drift from them.
    answerable = [r for r in records if r["answers"]]
    assert overall["contains"] == round(
        sum(r["scores"]["contains"] for r in answerable) / len(answerable), 4
    )
    assert 0.0 <= overall["hit5"] <= 1.0 and overall["latency_p95_ms"] >= overall["latency_p50_ms"]
    assert set(summary["by_category"]) == {i.category for i in items}
    report = (out / "report.html").read_text(encoding="utf-8")
    assert report.count("data:image/png;base64,") == 4 and "<script" not in report
    assert "http://" not in report and "https://" not in report  # nothing to fetch
    (test_output / "eval-seeds-report.html").write_text(report, encoding="utf-8")


def test_bad_lines_html_and_resume(store, tmp_path, capsys):
    items, _ = load_dataset(SEED_QA)
    rows = [
        json.dumps(
            {
                "id": "x1",
                "question": "<script>alert(1)</script> Who did Blinken meet?",
                "answers": ["a reference no answer holds"],
                "category": "<b>odd</b>",
            }
        ),
        "{this is not json",
        *[
            json.dumps({"id": i.id, "question": i.question, "answers": list(i.answers)})
            for i in items[:3]
        ],
    ]
    dataset = tmp_path / "d.jsonl"
    dataset.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    assert _eval(store, str(dataset), "--out", str(out), "--limit", "2") == 0
    err = capsys.readouterr().err
    assert f"{dataset}:2: not valid JSON" in err and "(line skipped)" in err
    first = (out / "results.jsonl").read_text(encoding="utf-8")
    assert len(first.splitlines()) == 2
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report and "<script>" not in report
    assert "&lt;b&gt;odd&lt;/b&gt;" in report
    # A torn last line (a killed run) is dropped; --resume asks only what is missing.
    with (out / "results.jsonl").open("a") as f:
        f.write('{"id": "seed-02", "quest')
    assert _eval(store, str(dataset), "--out", str(out), "--resume") == 0
    after = (out / "results.jsonl").read_text(encoding="utf-8")
    assert after.startswith(first) and len(after.splitlines()) == 4
    assert [r["id"] for r in read_results(out / "results.jsonl")] == [
        "x1",
        "seed-01",
        "seed-02",
        "seed-03",
    ]
    # Resuming with other settings is refused rather than mixing two runs.
    assert _eval(store, str(dataset), "--out", str(out), "--resume", "-k", "3") == 1
    assert "other settings" in capsys.readouterr().err


def test_interrupted_run_keeps_its_results(store, tmp_path):
    """SIGINT in the middle of a real `qa eval` process: results so far, summary and report stay."""
    # The seed questions 20 times over: far more than can be answered before the signal lands.
    seed_lines = SEED_QA.read_text(encoding="utf-8").splitlines()
    rows = [
        {**json.loads(line), "id": f"{k}-{n}"}
        for k in range(20)
        for n, line in enumerate(seed_lines)
    ]
    dataset = tmp_path / "many.jsonl"
    dataset.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "qa.cli", "eval", str(dataset), "--docs", str(SEEDS)]
    cmd += ["--store", str(store), "--out", str(out)]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    results = out / "results.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if results.exists() and len(results.read_text().splitlines()) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "--resume" in stderr and "Traceback" not in stderr
    assert "| overall" in stdout  # the table of what was asked is still printed
    kept = read_results(results)
    summary = json.loads((out / "summary.json").read_text())
    assert 2 <= len(kept) < len(rows) and summary["complete"] is False
    assert summary["asked"] == len(kept) and (out / "report.html").exists()


def test_squad_reference_set_from_the_vendored_copy(tmp_path, capsys):
    """`qa eval squad`: the vendored SQuAD set converted, indexed (319 files) and evaluated."""
    store, out = tmp_path / "store", tmp_path / "out"
    assert main(["eval", "squad", "--limit", "3", "--store", str(store), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "squad: 319 documents" in captured.err and "| overall" in captured.out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] and (summary["questions"], summary["asked"]) == (3, 3)
    assert summary["dataset"] == str(store / "datasets" / "squad" / "questions.jsonl")
    assert summary["collection"].startswith("eval-squad-docs-")
    records = read_results(out / "results.jsonl")
    assert len(records) == 3 and all(r["error"] is None and r["sources"] for r in records)
    assert summary["overall"]["hit5"] is not None and summary["overall"]["contains"] is not None


def test_collection_for_another_folder_is_its_own(tmp_path):
    a, b = collection_for(tmp_path / "squad" / "docs"), collection_for(tmp_path / "x" / "docs")
    assert a.startswith("eval-squad-docs-") and a != b and a != "documents"
    assert 3 <= len(a) <= 63 and a[0].isalnum() and a[-1].isalnum()


@pytest.fixture(scope="module")
def llm_url(tmp_path_factory):
    """A real local llama.cpp server (`qa llm-server`, SmolLM2-135M) on a free port."""
    from conftest import free_port, wait_http

    port = free_port()
    log = (tmp_path_factory.mktemp("llm") / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "llm-server", "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/v1/models", timeout=180, proc=proc)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop_process(proc)


@pytest.mark.llm
def test_judge_with_a_real_model_server(store, tmp_path, monkeypatch, llm_url):
    """--judge against a real OpenAI-compatible server; the tiny model's verdicts are not trusted,
    only that each was asked for, parsed into range or recorded as unparsed."""
    monkeypatch.setenv("OPENAI_BASE_URL", llm_url)
    monkeypatch.setenv("QA_LLM_MODEL", "smollm2")
    monkeypatch.setenv("QA_LLM_MAX_TOKENS", "48")
    monkeypatch.setenv("QA_LLM_CONTEXT_TOKENS", "2048")
    out = tmp_path / "out"
    assert _eval(store, str(SEED_QA), "--judge", "--limit", "2", "--out", str(out)) == 0
    records = read_results(out / "results.jsonl")
    assert len(records) == 2 and all(r["error"] is None for r in records)
    for r in records:
        s = r["scores"]
        assert "judge_correct" in s and "judge_faithful" in s and "judge_error" not in s
        assert s["judge_score"] is None or 1 <= s["judge_score"] <= 5
        assert s["judge_correct"] in (None, 0.0, 1.0) and s["judge_faithful"] in (None, 0.0, 1.0)
        if not r["refused"]:
            assert s.get("judge_correctness_raw", "").strip()  # the model was really asked
    summary = json.loads((out / "summary.json").read_text())
    assert summary["judged"] is True
