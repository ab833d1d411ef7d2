"""Sanity checks of the reader's training path (run before trusting a training run).

    python eval/reader/check.py --data eval/out/reader/data --domains squad,hotpotqa

1. **labels**: every positive's span, decoded back from its token positions, is an answer
   (token F1 against the references), every positive holds an answer and no negative does;
2. **inputs**: ``[CLS] question [SEP] window [SEP]``, token types 0 then 1, mask 1 on real tokens
   only (the run-time encoder and the training padding agree);
3. **the split model**: ``upper(lower(x, k), k)`` equals the plain forward for every k, in fp32
   and through the fp16 cache, and the fused (SDPA) attention equals the plain math, with and
   without padding.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import runtime  # noqa: E402
import torch  # noqa: E402
from domains import holds_answer, read_jsonl  # noqa: E402
from model import ReaderModel, load_pretrained, read_package  # noqa: E402
from steps import pad  # noqa: E402
from train import MAX_QUESTION, MAX_TOKENS, encode_rows  # noqa: E402

OUT = HERE.parents[1] / "eval" / "out" / "reader"


def check_labels(rows: list[dict], examples: list[dict], tok) -> dict:
    from product import token_f1

    by_q = {r["id"]: r for r in rows}
    f1s, bad_pos, bad_neg, pos, neg, dropped = [], [], [], 0, 0, 0
    n = 0
    for r in rows:
        for p in r["passages"]:
            ex = examples[n]
            n += 1
            if p["rel"] == 1:
                pos += 1
                if not holds_answer(p["text"], r["answers"]) and p.get("span"):
                    bad_pos.append((r["question"], p["text"][:80]))
            elif p["rel"] == 0:
                neg += 1
                if holds_answer(p["text"], r["answers"]):
                    bad_neg.append((r["question"], r["answers"], p["text"][:80]))
            if ex["rel"] == -1 and p["rel"] == 1:
                dropped += 1
            if ex["rel"] == 1 and ex["span_on"]:
                a = ex["offs"][ex["start"] - ex["ctx"]][0]
                b = ex["offs"][ex["end"] - ex["ctx"]][1]
                text = ex["text"][a:b]  # the label read back as characters, as at run time
                f1s.append(token_f1(text, by_q[ex["qid"]]["answers"]))
    assert n == len(examples)
    low = [i for i, f in enumerate(f1s) if f < 1.0]
    return dict(positives=pos, negatives=neg, span_labels=len(f1s),
                span_label_f1=float(np.mean(f1s)) if f1s else None,
                span_labels_below_1=len(low), positives_outside_window=dropped,
                positives_without_answer=len(bad_pos), negatives_with_answer=len(bad_neg),
                examples_bad_negative=bad_neg[:3])  # fmt: skip


def check_inputs(examples: list[dict], tok) -> dict:
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    problems = 0
    for ex in examples:
        ids, types, c = ex["ids"], ex["types"], ex["ctx"]
        ok = (ids[0] == cls_id and ids[c - 1] == sep_id and ids[-1] == sep_id
              and sep_id not in ids[1 : c - 1] and sep_id not in ids[c:-1]
              and types == [0] * c + [1] * (len(ids) - c) and len(ids) <= MAX_TOKENS)  # fmt: skip
        problems += not ok
    ids, types, mask = pad(examples[:16])
    lengths = torch.tensor([len(e["ids"]) for e in examples[:16]])
    mask_ok = bool((mask.sum(1) == lengths).all()) and bool((types * (1 - mask)).sum() == 0)
    return dict(inputs=len(examples), malformed=problems, padding_ok=mask_ok)


def check_split(model: ReaderModel, examples: list[dict]) -> dict:
    model.eval()
    batch = sorted(examples[:64], key=lambda e: -len(e["ids"]))[::4][:12]  # mixed lengths
    ids, types, mask = pad(batch)
    out = {}
    with torch.no_grad():
        model.set_sdpa(False)
        ref = model(ids, mask, types)
        model.set_sdpa(True)
        fused = model(ids, mask, types)
        out["sdpa_vs_math"] = max(
            float((a - b).abs().max()) for a, b in zip(ref, fused, strict=True)
        )
        for k in range(7):
            h = model.lower(ids, types, mask, k)
            got = model.upper(h, mask, types, k)
            got16 = model.upper(h.half().float(), mask, types, k)
            m = mask.bool()
            out[f"k{k}"] = max(
                float((a - b)[m].abs().max()) for a, b in zip(ref[:2], got[:2], strict=True)
            )
            out[f"k{k}"] = max(out[f"k{k}"], float((ref[2] - got[2]).abs().max()))
            out[f"k{k}_fp16"] = max(
                float((a - b)[m].abs().max()) for a, b in zip(ref[:2], got16[:2], strict=True)
            )
        # one example alone (no padding) = the same example inside the padded batch
        one = pad(batch[-1:])
        alone = model(one[0], one[2], one[1])
        n = len(batch[-1]["ids"])
        out["padding_invariance"] = float((alone[0][0, :n] - ref[0][-1, :n]).abs().max())
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, default=OUT / "data")
    ap.add_argument("--domains", default="squad,hotpotqa")
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--max-tokens", type=int, default=MAX_TOKENS)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    tensors, tok_json = read_package()
    tok_path = OUT / "check-tokenizer.json"
    tok_path.parent.mkdir(parents=True, exist_ok=True)
    tok_path.write_bytes(tok_json)
    tok = runtime.load_tokenizer(tok_path)
    model = ReaderModel()
    load_pretrained(model, tensors)
    report = {}
    for d in args.domains.split(","):
        rows = read_jsonl(args.data / d / "train.jsonl.gz")[: args.limit]
        ex = encode_rows(rows, tok, args.max_tokens, MAX_QUESTION)
        report[d] = dict(labels=check_labels(rows, ex, tok), inputs=check_inputs(ex, tok),
                         split=check_split(model, ex))  # fmt: skip
        print(d, json.dumps(report[d], indent=1), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
