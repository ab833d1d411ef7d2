"""Draw the cross-lingual reference set eval/datasets/xquad/ from XQuAD (Spanish and German).

Run once by hand when the subset is (re)drawn; nothing in the product or the tests runs it.
XQuAD (google-deepmind/xquad, CC BY-SA 4.0) is 240 paragraphs of SQuAD v1.1 dev (48 articles)
with their 1,190 questions, professionally translated into ten languages; the question ids are
the same in every language. Kept here: the English paragraphs (the documents) and, for each
question, its Spanish and German translations with the ENGLISH reference answer (same id), so
that the product is asked in another language about English documents; the English question
too (``question_en``: not asked by ``qa eval xquad``, kept to compare with and to check the
language guess on).

Left out whole: every article that is also in the SQuAD evaluation subset
(``squad-expmrc/expmrc-squad-dev.json``, 12 articles), by title or by any paragraph text in
common, so that no SQuAD test paragraph is used here. No draw at random: every other article is
kept, in XQuAD's order.

The original is read with git from a repository snapshot as the session tool ``fetch`` brings
it (``/work/.mirror/google-deepmind+xquad/repo``; ``--mirror`` points elsewhere), at COMMIT:

    python eval/datasets/draw_xquad.py
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "eval" / "datasets" / "xquad"
SQUAD_SUBSET = ROOT / "eval" / "datasets" / "squad-expmrc" / "expmrc-squad-dev.json"
REPO, COMMIT = "google-deepmind/xquad", "7d30520c717524000f0d9d2f9c10a069acd9d285"
LANGUAGES = ("es", "de")
FILE = "xquad-es-de-subset.json"


def _read(gitdir: Path, path: str) -> bytes:
    return subprocess.run(
        ["git", "--git-dir", str(gitdir), "show", f"{COMMIT}:{path}"],
        check=True,
        capture_output=True,
    ).stdout


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def draw(gitdir: Path) -> dict:
    data = {
        lang: json.loads(_read(gitdir, f"xquad.{lang}.json"))["data"] for lang in ("en", *LANGUAGES)
    }
    squad = json.loads(SQUAD_SUBSET.read_text(encoding="utf-8"))["data"]
    squad_titles = {a["title"] for a in squad}
    squad_paragraphs = {_squeeze(p["context"]) for a in squad for p in a["paragraphs"]}
    kept, left_out = [], []
    for n, article in enumerate(data["en"]):
        translated = [data[lang][n] for lang in LANGUAGES]
        assert all(t["title"] == article["title"] for t in translated), article["title"]
        shared = sum(_squeeze(p["context"]) in squad_paragraphs for p in article["paragraphs"])
        if article["title"] in squad_titles or shared:
            left_out.append(article["title"])
            continue
        paragraphs = []
        for i, para in enumerate(article["paragraphs"]):
            questions = {
                lang: {qa["id"]: qa["question"] for qa in t["paragraphs"][i]["qas"]}
                for lang, t in zip(LANGUAGES, translated, strict=True)
            }
            qas = []
            for qa in para["qas"]:
                for a in qa["answers"]:  # XQuAD keeps SQuAD's first answer, with its offset
                    assert para["context"].startswith(a["text"], a["answer_start"]), qa["id"]
                qas.append(
                    {
                        "id": qa["id"],
                        "question_en": qa["question"],
                        **{f"question_{lang}": questions[lang][qa["id"]] for lang in LANGUAGES},
                        "answers": [
                            {"text": a["text"], "answer_start": a["answer_start"]}
                            for a in qa["answers"]
                        ],
                    }
                )
            assert all(len(q) == len(qas) for q in questions.values()), article["title"]
            paragraphs.append({"context": para["context"], "qas": qas})
        kept.append({"title": article["title"], "paragraphs": paragraphs})
    n_para = sum(len(a["paragraphs"]) for a in kept)
    n_q = sum(len(p["qas"]) for a in kept for p in a["paragraphs"])
    print(f"kept {len(kept)} articles, {n_para} paragraphs, {n_q} questions (x{len(LANGUAGES)})")
    print(f"left out {len(left_out)} articles of the SQuAD subset: {', '.join(left_out)}")
    return {"version": f"xquad-{COMMIT[:7]}-es-de-en-answers", "data": kept}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    args = p.parse_args(argv)
    gitdir = args.mirror / REPO.replace("/", "+") / "repo"
    subset = draw(gitdir)
    OUT.mkdir(parents=True, exist_ok=True)
    text = json.dumps(subset, ensure_ascii=False, separators=(",", ":")) + "\n"
    (OUT / FILE).write_text(text, encoding="utf-8")
    print(f"wrote {OUT / FILE} ({len(text.encode()) / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
