"""Draw the extra reader training sets in eval/datasets/train-extra/ from public snapshots.

Run once by hand when a set is (re)drawn; nothing in the product or the tests runs it. Each
source becomes ``train-extra/<name>.jsonl.gz``: one question a line, ``{"id", "question",
"context", "answers": [{"text", "start"}]}``, ``start`` the exact character offset of ``text``
in ``context`` (every row is checked before it is written), ``answers`` ``[]`` for a context
that does not hold the answer (an unanswerable SQuAD 2.0 question; a section of the same story
or a window of the same contract without the answer, id ending ``-none``; a clause type a
contract lacks). Contexts are at most about MAX_CONTEXT characters: a longer document is cut
into a window around the answer, at line or sentence ends.

Every original is read with git from a repository snapshot, as the session tool ``fetch``
brings it (``/work/.mirror/<owner>+<name>/repo``; ``--mirror`` points elsewhere), at the
commit pinned in SNAPSHOTS below, so that a redraw gives the same bytes:

====================  ===============================================  =====================
set                   fetch source (commit)                            files read
====================  ===============================================  =====================
squad-dev             github:rajpurkar/SQuAD-explorer (e0c66cfe,       explore/1.1/dev/*.html,
                      branch gh-pages: the SQuAD explorer site)        explore/v2.0/dev/*.html
natural-questions     github:google-research-datasets/QED (2492920)    qed-dev.jsonlines
quoref                github:bright2013/CorefAwareMRC (502e3e6)        Coref_additive_spacy/
                                                                       quoref/dev.json
fairytaleqa           github:uci-soe/FairytaleQAData (a24ddc1)         data-by-train-split/
                                                                       {questions,section-
                                                                       stories}/*/*.csv
wikitablequestions    github:ppasupat/WikiTableQuestions (7d455a5)     data/{training,pristine-
                                                                       *-tables}.tsv, csv/*.tsv,
                                                                       page/*.json
cuad-clauses          github:maastrichtlawtech/law3027-advanced-       data/CUAD_v1/master_
                      legal-analytics (77c8f5a), github:TheAtticus-    clauses.csv, full_
                      Project/cuad (67faa0e)                           contract_txt/*.txt;
                                                                       category_descriptions.csv
tydiqa                github:sagorbrur/tydiqa-language-specific        language_data/english/
                      (55c6649)                                        english_tydiqa_{train,
                                                                       dev}.json
xquad (check only)    github:google-deepmind/xquad (7d30520)           xquad.en.json
====================  ===============================================  =====================

    python eval/datasets/draw_train_extra.py            # every set
    python eval/datasets/draw_train_extra.py quoref     # one

What each set is, its licence and how it is drawn: eval/datasets/README.md ("Extra training
sets") and train-extra/LICENSE-<name>. Rows whose context shares a run of SHINGLE words with a
paragraph of the SQuAD or HotpotQA evaluation sets are dropped, and SQuAD articles of the SQuAD
evaluation subset are never read; CUAD's rows never come from the 40 contracts of the CUAD
evaluation subset, nor repeat a window of one.
"""

from __future__ import annotations

import argparse
import ast
import csv
import gzip
import io
import json
import random
import re
import statistics
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from draw_domains import _outside, _train_rows  # noqa: E402
from draw_domains import cuad as cuad_domain  # noqa: E402

from qa.evaluation.domains import CUAD_QUESTIONS, contract_name, locate  # noqa: E402

OUT = ROOT / "eval" / "datasets" / "train-extra"
DATASETS = ROOT / "eval" / "datasets"
SEED = "qa-chat train-extra 2026-12-05"  # every draw below: random.Random(f"{SEED} {set name}")
MAX_CONTEXT = 4000  # characters: a longer document is cut into a window around the answer
WINDOW = 2500  # characters of such a window
SHINGLE = 12  # words: a context sharing a run this long with an evaluation paragraph is dropped
NEGATIVE_EVERY = 3  # an answer-less context of the same document for one question in this many

SNAPSHOTS = {  # name: (fetch source, commit)
    "squad": ("rajpurkar/SQuAD-explorer", "e0c66cfec263165fb3c15cb76a22175e371b71d7"),
    "qed": ("google-research-datasets/QED", "2492920337122918bbfc7d12c1268b9af796c6cf"),
    "quoref": ("bright2013/CorefAwareMRC", "502e3e69a387981c81ce38ab4d8dbc107ded11fe"),
    "fairytale": ("uci-soe/FairytaleQAData", "a24ddc17364666b7c13a425b9970c87368b03417"),
    "wtq": ("ppasupat/WikiTableQuestions", "7d455a5a707b96341ef72aff9428749d443d8aa9"),
    "cuad": (
        "maastrichtlawtech/law3027-advanced-legal-analytics",
        "77c8f5a3cc2e6e5e3793b43f84a3bc097a414f9e",
    ),
    "cuad-code": ("TheAtticusProject/cuad", "67faa0e6023b04fcaae6cc09497ab00e5d63a2a2"),
    "xquad": ("google-deepmind/xquad", "7d30520c717524000f0d9d2f9c10a069acd9d285"),
    "tydiqa": (
        "sagorbrur/tydiqa-language-specific",
        "55c6649475e0765f717a6d32a173c6664096a8ce",
    ),
}


class Snapshot:
    """Files of one fetched repository at a pinned commit, read with ``git cat-file``."""

    def __init__(self, mirror: Path, key: str):
        repo, self.commit = SNAPSHOTS[key]
        gitdir = mirror / repo.replace("/", "+") / "repo"
        if (gitdir / ".git").is_dir():
            gitdir = gitdir / ".git"
        self.gitdir = gitdir
        self.proc = subprocess.Popen(
            ["git", "--git-dir", str(gitdir), "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def read(self, path: str) -> bytes:
        self.proc.stdin.write(f"{self.commit}:{path}\n".encode())
        self.proc.stdin.flush()
        head = self.proc.stdout.readline().decode().split()
        if len(head) < 3 or head[1] != "blob":
            raise FileNotFoundError(f"{self.gitdir}: {self.commit}:{path}")
        data = self.proc.stdout.read(int(head[2]))
        self.proc.stdout.read(1)
        return data

    def text(self, path: str) -> str:
        return self.read(path).decode("utf-8")

    def names(self, under: str) -> list[str]:
        out = subprocess.run(
            [
                "git",
                "--git-dir",
                str(self.gitdir),
                "ls-tree",
                "-r",
                "-z",
                "--name-only",
                self.commit,
                under,
            ],
            capture_output=True,
            check=True,
        ).stdout.decode("utf-8")
        return sorted(out.split("\0")[:-1])


def _rng(name: str) -> random.Random:
    return random.Random(f"{SEED} {name}")


# -- the evaluation sets a training row must not overlap ------------------------------------------


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def shingles(text: str) -> set[int]:
    w = _words(text)
    return {hash(tuple(w[i : i + SHINGLE])) for i in range(len(w) - SHINGLE + 1)}


def eval_paragraphs() -> tuple[list[str], set[str]]:
    """The SQuAD evaluation subset's and HotpotQA's paragraphs, and the SQuAD titles."""
    squad = json.loads((DATASETS / "squad-expmrc" / "expmrc-squad-dev.json").read_text("utf-8"))
    paras = [p["context"] for e in squad["data"] for p in e["paragraphs"]]
    titles = {e["title"] for e in squad["data"]}
    for line in (DATASETS / "hotpotqa-dev500" / "dev_subsampled.jsonl").open(encoding="utf-8"):
        for c in json.loads(line)["contexts"]:
            paras.append(c["paragraph_text"])
    return paras, titles


class Overlap:
    def __init__(self):
        paras, self.squad_titles = eval_paragraphs()
        self.seen: set[int] = set()
        for p in paras:
            self.seen |= shingles(p)

    def clean(self, rows: list[dict]) -> list[dict]:
        return [r for r in rows if not (shingles(r["context"]) & self.seen)]


# -- windows and rows -----------------------------------------------------------------------------


def window(text: str, start: int, end: int, rng: random.Random, size: int = WINDOW):
    """[ws, we) of about ``size`` characters holding [start, end), cut at line or sentence ends."""
    if len(text) <= MAX_CONTEXT:
        return 0, len(text)
    slack = max(0, size - (end - start))
    ws = max(0, start - rng.randint(0, slack))
    cut = max(text.rfind("\n", 0, ws), text.rfind(". ", 0, ws))
    ws = cut + 1 if cut >= 0 and ws - cut < 400 else ws
    while ws < start and text[ws].isspace():
        ws += 1
    we = min(len(text), max(end, ws + size))
    stop = min((i for i in (text.find("\n", we), text.find(". ", we)) if i >= 0), default=-1)
    we = stop + 1 if stop >= 0 and stop - we < 400 else we
    return ws, max(we, end)


def row(qid: str, question: str, context: str, spans, shift: int = 0) -> dict:
    """A row with every (start, end) span of ``context`` (offsets relative to ``shift``)."""
    answers, seen = [], set()
    for s, e in spans:
        s, e = s - shift, e - shift
        if 0 <= s < e <= len(context) and (s, e) not in seen and context[s:e].strip():
            seen.add((s, e))
            answers.append({"text": context[s:e], "start": s})
    return {
        "id": qid,
        "question": " ".join(question.split()),
        "context": context,
        "answers": answers,
    }


def check(rows: list[dict]) -> list[dict]:
    ids = set()
    for r in rows:
        assert r["id"] not in ids, r["id"]
        ids.add(r["id"])
        assert r["question"] and r["context"], r["id"]
        for a in r["answers"]:
            assert r["context"][a["start"] : a["start"] + len(a["text"])] == a["text"], r["id"]
    return rows


def write(name: str, rows: list[dict]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    check(rows)
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    path = OUT / f"{name}.jsonl.gz"
    path.write_bytes(gzip.compress(lines.encode(), 9, mtime=0))
    qs = {r["id"].removesuffix("-none") for r in rows}
    answered = {r["id"] for r in rows if r["answers"]}
    lens = [len(r["context"]) for r in rows]
    print(
        f"{name}: {len(rows)} rows, {len(qs)} questions, {len(answered)} answered "
        f"({len(answered) / max(1, len(qs)):.0%}), median context {statistics.median(lens):.0f} "
        f"chars (max {max(lens)}), {path.stat().st_size / 1e6:.2f} MB"
    )


# -- SQuAD dev (v1.1 and v2.0) from the SQuAD explorer's pages ------------------------------------


class _ExplorerPage(HTMLParser):
    """Paragraphs (<pre>) and their questions (div.qa-wrap: strong.question, span.answer or
    span.no-answer) of one article page of the SQuAD explorer."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.paras: list[dict] = []
        self.field: str | None = None
        self.buf: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class") or ""
        if tag == "pre":
            self.paras.append({"context": "", "qas": []})
            self._open("context")
        elif tag == "div" and "qa-wrap" in cls.split():
            self.paras[-1]["qas"].append({"id": a["data-id"], "question": "", "answers": []})
        elif tag == "strong" and "question" in cls.split():
            self._open("question")
        elif tag == "span" and cls == "answer":
            self._open("answer")

    def _open(self, field):
        self.field, self.buf = field, []

    def handle_data(self, data):
        if self.field:
            self.buf.append(data)

    def handle_endtag(self, tag):
        if self.field and tag in ("pre", "strong", "span"):
            text = "".join(self.buf)
            if self.field == "context":
                self.paras[-1]["context"] = text
            elif self.field == "question":
                self.paras[-1]["qas"][-1]["question"] = text
            else:
                self.paras[-1]["qas"][-1]["answers"].append(text)
            self.field = None


def _place(context: str, answers: list[str]) -> list[tuple[int, int]]:
    """The reference answers at their place in the paragraph (the explorer's pages give no
    offsets): an answer that occurs once is where it occurs; one that occurs more often is
    placed only where exactly one of its occurrences overlaps an answer placed so; else it is
    left out."""
    occ = {}
    for a in dict.fromkeys(a.strip() for a in answers if a.strip()):
        occ[a] = [(m.start(), m.start() + len(a)) for m in re.finditer(re.escape(a), context)]
    sure = [o[0] for o in occ.values() if len(o) == 1]
    spans = list(sure)
    for o in occ.values():
        if len(o) > 1:
            near = [s for s in o if any(s[0] < e and u < s[1] for u, e in sure)]
            if len(near) == 1:
                spans.append(near[0])
    return sorted(set(spans))


def squad_dev(snap: Snapshot, overlap: Overlap) -> list[dict]:
    """SQuAD 1.1 dev questions and SQuAD 2.0 dev's unanswerable ones on every article that is
    not in the SQuAD evaluation subset, one paragraph as context."""
    paras: dict[str, dict] = {}  # context -> {"title", "qas": {id: qa}}
    skipped = Counter()
    for version in ("1.1", "v2.0"):
        for path in snap.names(f"explore/{version}/dev/"):
            title = Path(path).stem
            if not path.endswith(".html") or title == "index":
                continue
            if title in overlap.squad_titles:
                skipped["articles of the evaluation subset"] += 1
                continue
            page = _ExplorerPage()
            page.feed(snap.text(path))
            for p in page.paras:
                entry = paras.setdefault(p["context"], {"title": title, "qas": {}})
                for qa in p["qas"]:
                    entry["qas"].setdefault(qa["id"], qa)
    rows = []
    for context, entry in paras.items():
        for qa in entry["qas"].values():
            spans = _place(context, qa["answers"]) if qa["answers"] else []
            if qa["answers"] and not spans:
                skipped["answer not placed"] += 1
                continue
            rows.append(row(f"squad-{qa['id']}", qa["question"], context, spans))
    print(f"squad-dev: {len(paras)} paragraphs; skipped {dict(skipped)}")
    return rows


def xquad_check(snap: Snapshot, rows: list[dict]) -> None:
    """XQuAD's English file is 240 SQuAD 1.1 dev paragraphs with their 1,190 questions and the
    first annotator's answer offset: each question squad-dev holds must have the same paragraph
    text, and nearly all the same answer at the same offset (the rest: the first annotator's
    answer occurs more than once and could not be placed, or was placed at another occurrence
    that overlaps another annotator's answer)."""
    by_id = {r["id"].removeprefix("squad-"): r for r in rows}
    same = differ = absent = 0
    for e in json.loads(snap.text("xquad.en.json"))["data"]:
        for p in e["paragraphs"]:
            for qa in p["qas"]:
                r = by_id.get(qa["id"])
                a = qa["answers"][0]
                if r is None:
                    absent += 1
                elif (
                    r["context"] == p["context"]
                    and {"text": a["text"], "start": a["answer_start"]} in r["answers"]
                ):
                    same += 1
                else:
                    differ += 1
    print(
        f"xquad check: {same} questions with the same paragraph and answer, {differ} not, "
        f"{absent} not in squad-dev"
    )
    assert differ <= 0.02 * (same + differ)  # there: another annotator's answer, or elsewhere


# -- Natural Questions (QED's dev file) -----------------------------------------------------------

_DETOK = re.compile(r" (?=[,.;:!?%)\]}]|'s\b|'re\b|n't\b|'ve\b|'ll\b|'d\b|'m\b)|(?<=[(\[{$]) ")


def detokenize(text: str) -> tuple[str, list[int]]:
    """NQ's tokenized text ("Röntgen , of Germany ( 1901 )") with the spaces before closing
    punctuation and after opening brackets removed, and the new offset of every old one."""
    drop = {m.start() for m in _DETOK.finditer(text)}
    out, pos = [], []
    for i, ch in enumerate(text):
        pos.append(len(out))
        if i not in drop:
            out.append(ch)
    pos.append(len(out))
    return "".join(out), pos


def natural_questions(snap: Snapshot) -> list[dict]:
    """NQ questions with the Wikipedia paragraph QED chose and NQ's own short answers (those of
    one span); the examples QED judged to have no right answer in the paragraph are left out."""
    rows, skipped = [], Counter()
    for line in snap.text("qed-dev.jsonlines").splitlines():
        e = json.loads(line)
        if e["annotation"]["explanation_type"] == "none":
            skipped["no right answer (QED)"] += 1
            continue
        raw = e["paragraph_text"]
        text, pos = detokenize(raw)
        spans = []
        for ans in e["original_nq_answers"]:
            if len(ans) == 1:
                s, t = ans[0]["start"], ans[0]["string"]
                end = s + len(t)
                if raw[s:end] == t:
                    spans.append((pos[s], pos[end]))
        if not spans:
            skipped["no single-span answer"] += 1
            continue
        question = e["question_text"].strip()
        question = question[:1].upper() + question[1:]
        if not question.endswith("?"):
            question += "?"
        spans = sorted(set(spans))
        ws, we = window(text, *spans[0], _rng(f"natural-questions {e['example_id']}"))
        inside = [(s, t) for s, t in spans if ws <= s and t <= we]
        rows.append(row(f"nq-{e['example_id']}", question, text[ws:we], inside, ws))
    print(f"natural-questions: skipped {dict(skipped)}")
    return rows


# -- Quoref (dev) ---------------------------------------------------------------------------------


def quoref(snap: Snapshot) -> list[dict]:
    """Quoref dev questions with a single answer span (a multi-span answer is no single span to
    point at); the paragraph as context, cut around the answer when longer than MAX_CONTEXT."""
    rng, rows, skipped = _rng("quoref"), [], Counter()
    data = json.loads(snap.text("Coref_additive_spacy/quoref/dev.json"))["data"]
    for e in data:
        for p in e["paragraphs"]:
            text = p["context"]
            for qa in p["qas"]:
                if len(qa["answers"]) != 1:
                    skipped["multi-span answer"] += 1
                    continue
                a = qa["answers"][0]
                span = locate(text, a["text"], a["answer_start"])
                if not span:
                    skipped["answer not found"] += 1
                    continue
                ws, we = window(text, *span, rng)
                rows.append(row(f"quoref-{qa['id']}", qa["question"], text[ws:we], [span], ws))
    print(f"quoref: skipped {dict(skipped)}")
    return rows


# -- TyDi QA GoldP (English) -----------------------------------------------------------------------


def tydiqa(snap: Snapshot) -> list[dict]:
    """TyDi QA's gold-passage task, its English questions (train and dev): questions written by
    people who wanted to know the answer, each with the Wikipedia passage holding it; the passage
    as context, cut around the answer when longer than MAX_CONTEXT."""
    rng, rows, skipped = _rng("tydiqa"), [], Counter()
    for split in ("train", "dev"):
        data = json.loads(snap.text(f"language_data/english/english_tydiqa_{split}.json"))["data"]
        for e in data:
            for p in e["paragraphs"]:
                text = p["context"]
                for qa in p["qas"]:  # dev: up to three annotators' answers, each a span
                    spans = [locate(text, a["text"], a["answer_start"]) for a in qa["answers"]]
                    spans = [s for s in spans if s]
                    if not spans:
                        skipped["answer not found"] += 1
                        continue
                    ws, we = window(text, *spans[0], rng)
                    spans = [s for s in spans if ws <= s[0] and s[1] <= we]
                    rows.append(row(f"tydiqa-{qa['id']}", qa["question"], text[ws:we], spans, ws))
    print(f"tydiqa: skipped {dict(skipped)}")
    return rows


# -- FairytaleQA ----------------------------------------------------------------------------------


def _find(text: str, answer: str) -> tuple[int, int] | None:
    """The answer in the text, verbatim but for case, spacing and a final full stop; None when
    it is not there (a paraphrase, an implicit answer)."""
    for a in dict.fromkeys((answer.strip(), answer.strip().rstrip(".").strip())):
        words = a.split()
        if len(a) < 2 or not words:
            continue
        pattern = r"\s+".join(re.escape(w) for w in words)
        m = re.search(pattern, text) or re.search(pattern, text, flags=re.IGNORECASE)
        if m:
            return m.start(), m.end()
    return None


def fairytaleqa(snap: Snapshot) -> list[dict]:
    """Every story (train, val and test splits): the questions whose answer (the first
    annotator's, or an alternative of it, or the second annotator's) occurs in the story
    section(s) the question is on; context = those sections. One question in NEGATIVE_EVERY
    also gets another section of the story that does not hold the answer (id ``-none``)."""
    rng, rows, skipped = _rng("fairytaleqa"), [], Counter()
    for qpath in snap.names("data-by-train-split/questions/"):
        story = Path(qpath).name.removesuffix("-questions.csv")
        spath = qpath.replace("/questions/", "/section-stories/").replace(
            "-questions.csv", "-story.csv"
        )
        sections = {
            r["section"]: r["text"].strip() for r in csv.DictReader(io.StringIO(snap.text(spath)))
        }
        for i, q in enumerate(csv.DictReader(io.StringIO(snap.text(qpath)))):
            keys = [k.strip() for k in re.split(r"[,\s]+", q["cor_section"]) if k.strip()]
            if not keys or any(k not in sections for k in keys):
                skipped["section not found"] += 1
                continue
            text = "\n\n".join(sections[k] for k in keys)
            answers = [q.get(f"answer{j}") or "" for j in (1, 2, 3, 4, 5, 6)]
            spans = [s for a in answers if a.strip() and (s := _find(text, a))]
            if not spans:
                skipped["answer not verbatim in its section(s)"] += 1
                continue
            first = min(spans)
            ws, we = window(text, *first, rng)
            qid = f"fairytaleqa-{story}-{i + 1}"
            rows.append(row(qid, q["question"], text[ws:we], spans, ws))
            if i % NEGATIVE_EVERY == 0:
                texts = [a.strip().rstrip(".").lower() for a in answers if a.strip()]
                others = [
                    k
                    for k in sorted(sections)
                    if k not in keys and not any(t in sections[k].lower() for t in texts)
                ]
                if others:
                    other = sections[rng.choice(others)]
                    ws, we = window(other, 0, 1, rng)
                    rows.append(row(f"{qid}-none", q["question"], other[ws:we], []))
    print(f"fairytaleqa: skipped {dict(skipped)}")
    return rows


# -- WikiTableQuestions ---------------------------------------------------------------------------

_COMPUTED = re.compile(
    r"\b(how many|how much|total|difference|sum|average|combined|count|number of|more than|"
    r"less than|at least|at most)\b"
)


# a question that needs the whole table (a superlative, an order, a comparison, "only")
_WHOLE_TABLE = re.compile(
    r"\b(most|least|first|last|top|bottom|only|before|after|previous|next|same|other|"
    r"earliest|latest|more|less|fewer|greater|higher|lower|longer|shorter|larger|smaller|"
    r"older|younger|\w+est)\b"
)


def _tsv_cell(cell: str) -> str:
    return " ".join(cell.replace("\\n", " ").replace("\\p", "|").replace("\\\\", "\\").split())


def wikitablequestions(snap: Snapshot) -> list[dict]:
    """Questions whose answer is one value that is the whole of exactly one cell of the table
    (a lookup, not a count or a sum: numbers asked with "how many", "total", ... are left out);
    context = the page title, then the table a row a line, cells separated by " | " (as
    qa/evaluation/domains.py renders TAT-QA's tables), cut to the header and the rows around
    the answer's when longer than MAX_CONTEXT; on such a table a question that needs all of
    it (_WHOLE_TABLE: "the most", "the first", "before", "only", ...) is left out."""
    rng, rows, skipped = _rng("wikitablequestions"), [], Counter()
    tables: dict[str, tuple[str, list[list[str]]]] = {}
    for split in ("training", "pristine-seen-tables", "pristine-unseen-tables"):
        for ex in csv.DictReader(
            io.StringIO(snap.text(f"data/{split}.tsv")), delimiter="\t", quoting=csv.QUOTE_NONE
        ):
            target = _tsv_cell(ex["targetValue"])
            if "|" in ex["targetValue"].replace("\\p", ""):
                skipped["several answers"] += 1
                continue
            src = ex["context"]
            if src not in tables:
                page = re.sub(r"^csv/(\d+)-csv/", r"page/\1-page/", src)[:-4] + ".json"
                meta = json.loads(snap.text(page))
                grid = [
                    [_tsv_cell(c) for c in line.split("\t")]
                    for line in snap.text(src[:-4] + ".tsv").split("\n")
                    if line.strip()
                ]
                tables[src] = (meta["title"], grid)
            title, grid = tables[src]
            hits = [(i, j) for i, r in enumerate(grid) for j, c in enumerate(r) if c == target]
            question = ex["utterance"].strip()
            if len(hits) != 1 or hits[0][0] == 0:
                skipped["answer not exactly one cell"] += 1
                continue
            if re.fullmatch(r"[\d.,\s%$-]+", target) and _COMPUTED.search(question.lower()):
                skipped["a number that may be computed"] += 1
                continue
            (ai, aj), lines = hits[0], [" | ".join(r) for r in grid]
            lo, hi = 1, len(lines)
            size = len(title) + 2 + sum(len(x) + 1 for x in lines)
            if size > MAX_CONTEXT and _WHOLE_TABLE.search(question.lower()):
                skipped["asks about a table too long to show whole"] += 1
                continue
            if size > MAX_CONTEXT:  # header + rows around the answer's, about WINDOW chars
                budget = WINDOW - len(title) - len(lines[0]) - len(lines[ai]) - 4
                lo, hi = ai, ai + 1
                before = rng.randint(0, max(0, budget))
                while lo > 1 and len(lines[lo - 1]) < before:
                    before -= len(lines[lo - 1]) + 1
                    budget -= len(lines[lo - 1]) + 1
                    lo -= 1
                while hi < len(lines) and len(lines[hi]) < budget:
                    budget -= len(lines[hi]) + 1
                    hi += 1
            body = [lines[0], *lines[lo:hi]]
            context = f"{title}\n\n" + "\n".join(body)
            start = len(title) + 2 + sum(len(x) + 1 for x in body[: ai - lo + 1])
            start += sum(len(c) + 3 for c in grid[ai][:aj])
            question = question[:1].upper() + question[1:]
            rows.append(row(f"wtq-{ex['id']}", question, context, [(start, start + len(target))]))
    print(f"wikitablequestions: {len(tables)} tables; skipped {dict(skipped)}")
    return rows


# -- CUAD: the clause types the domain pool leaves out ---------------------------------------------

CUAD_MORE = {
    "Most Favored Nation": "Does {c} give a party most-favoured-nation terms?",
    "Competitive Restriction Exception": "What exceptions to its restrictions on competition "
    "does {c} allow?",
    "No-Solicit Of Customers": "Does {c} bar a party from soliciting the other's customers?",
    "No-Solicit Of Employees": "Does {c} bar a party from soliciting or hiring the other's "
    "employees?",
    "Non-Disparagement": "Does {c} forbid a party to disparage the other?",
    "Rofr/Rofo/Rofn": "Does {c} give a right of first refusal, first offer or first negotiation?",
    "Change Of Control": "What happens under {c} if a party changes control?",
    "Revenue/Profit Sharing": "Does {c} require a party to share revenue or profits?",
    "Price Restrictions": "Does {c} restrict a party's right to raise or lower prices?",
    "Minimum Commitment": "What minimum purchase or commitment does {c} require?",
    "Volume Restriction": "Does {c} limit the volume a party may buy or use?",
    "Ip Ownership Assignment": "Who owns the intellectual property created under {c}?",
    "Joint Ip Ownership": "Is any intellectual property owned jointly under {c}?",
    "License Grant": "What licence does {c} grant?",
    "Non-Transferable License": "Can the licence granted by {c} be transferred?",
    "Affiliate License-Licensor": "Does {c} license intellectual property of the licensor's "
    "affiliates?",
    "Affiliate License-Licensee": "Does the licence in {c} extend to the licensee's affiliates?",
    "Unlimited/All-You-Can-Eat-License": "Does {c} grant an unlimited licence?",
    "Irrevocable Or Perpetual License": "Is any licence granted by {c} irrevocable or perpetual?",
    "Source Code Escrow": "Does {c} require source code to be put in escrow?",
    "Post-Termination Services": "What must a party do after {c} ends?",
    "Uncapped Liability": "Is any liability unlimited under {c}?",
    "Liquidated Damages": "Does {c} provide for liquidated damages or a termination fee?",
    "Covenant Not To Sue": "Does {c} bar a party from suing the other or contesting its "
    "intellectual property?",
    "Third Party Beneficiary": "Does {c} name a third-party beneficiary?",
}


def cuad_clauses(snap: Snapshot, code: Snapshot, tmp: Path) -> list[dict]:
    """The CUAD clause types outside CUAD_QUESTIONS (the domain pool's 14, and the contract's
    name and parties), asked of the 458 contracts outside the CUAD evaluation subset exactly as
    draw_domains.py draws the pool: a window around the first labelled clause (every labelled
    clause inside it is an answer), a third of them with a window of the same contract that
    holds none, a quarter of the clause types a contract lacks with a window of it."""
    folder = tmp / "CUAD_v1"
    (folder / "full_contract_txt").mkdir(parents=True, exist_ok=True)
    (folder / "master_clauses.csv").write_bytes(snap.read("data/CUAD_v1/master_clauses.csv"))
    for path in snap.names("data/CUAD_v1/full_contract_txt/"):
        (folder / "full_contract_txt" / Path(path).name).write_bytes(snap.read(path))
    (tmp / "category_descriptions.csv").write_bytes(code.read("category_descriptions.csv"))
    assert set(CUAD_MORE).isdisjoint(CUAD_QUESTIONS)
    chosen = cuad_domain(folder, tmp / "category_descriptions.csv")[0]["data"]  # eval subset
    eval_titles = {e["title"] for e in chosen}
    vendored = json.loads((DATASETS / "cuad" / "cuad-subset.json").read_text(encoding="utf-8"))
    assert eval_titles == {e["title"] for e in vendored["data"]}, "not the vendored eval subset"
    eval_texts = [e["paragraphs"][0]["context"] for e in chosen]
    # cuad_domain's entries again (the function keeps them local): rebuild them the same way
    rows_csv = list(csv.DictReader((folder / "master_clauses.csv").open(encoding="utf-8")))
    rng, train = _rng("cuad-clauses"), []
    for r in sorted(rows_csv, key=lambda r: r["Filename"]):
        stem = re.sub(r"\.pdf$", "", r["Filename"], flags=re.IGNORECASE)
        path = folder / "full_contract_txt" / f"{stem}.txt"
        if stem in eval_titles or not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        answers = {k: v for k, v in r.items() if k.endswith("Answer") and v}
        contract = contract_name(answers)
        for i, cat in enumerate(c for c in r if c in CUAD_MORE):
            found = []
            for clause in ast.literal_eval(r[cat] or "[]"):
                for piece in clause.split("<omitted>"):
                    span = locate(text, piece)
                    if span and span not in found:
                        found.append(span)
            if found or rng.random() < 0.25:
                train += _train_rows(
                    f"cuad-{stem}__{cat}",
                    CUAD_MORE[cat].format(c=contract),
                    text,
                    sorted(found),
                    rng,
                    bool(found) and i % NEGATIVE_EVERY == 0,
                )
    kept = _outside(train, eval_texts)
    print(f"cuad-clauses: {len(train) - len(kept)} windows dropped, found in an eval contract")
    return kept


# -- main -----------------------------------------------------------------------------------------

SETS = (
    "squad-dev",
    "natural-questions",
    "quoref",
    "fairytaleqa",
    "wikitablequestions",
    "cuad-clauses",
    "tydiqa",
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="*", help=f"some of {', '.join(SETS)} (default: all)")
    ap.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    ap.add_argument("--tmp", type=Path, default=Path("/tmp/draw-train-extra"))
    args = ap.parse_args()
    todo = args.sets or SETS
    if unknown := set(todo) - set(SETS):
        ap.error(f"unknown set(s): {', '.join(sorted(unknown))}")
    overlap = Overlap()
    snap = lambda key: Snapshot(args.mirror, key)  # noqa: E731
    for name in todo:
        if name == "squad-dev":
            rows = squad_dev(snap("squad"), overlap)
            xquad_check(snap("xquad"), rows)
        elif name == "natural-questions":
            rows = natural_questions(snap("qed"))
        elif name == "quoref":
            rows = quoref(snap("quoref"))
        elif name == "fairytaleqa":
            rows = fairytaleqa(snap("fairytale"))
        elif name == "wikitablequestions":
            rows = wikitablequestions(snap("wtq"))
        elif name == "tydiqa":
            rows = tydiqa(snap("tydiqa"))
        else:
            rows = cuad_clauses(snap("cuad"), snap("cuad-code"), args.tmp)
        if name != "cuad-clauses":  # (CUAD's: no window that occurs in an eval contract)
            before = len(rows)
            rows = overlap.clean(rows)
            print(f"{name}: {before - len(rows)} rows dropped, overlapping SQuAD/HotpotQA eval")
        write(name, rows)


if __name__ == "__main__":
    main()
