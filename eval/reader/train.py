"""Train the reader on CPU: frozen lower layers cached once, the top layers and heads tuned.

    python eval/reader/train.py --leave-out squad      # every domain but SQuAD (its LODO model)
    python eval/reader/train.py                        # every domain: the model that ships
    python eval/reader/train.py --freeze 0 --epochs 8 --limit 100 --domains squad,hotpotqa \
        --train-figures 2000 --name overfit           # the overfit test (training-set figures)

Reads ``eval/out/reader/data/<set>/train.jsonl.gz`` (``prepare.py``: the six domains and the
extra sets; ``--leave-out D`` drops D and the extra sets drawn from D's source), encodes each
(question, passage) with the run-time encoder (``runtime.encode``: the same window cut), holds
out a tenth of the question groups for validation, runs the embeddings and the first ``--freeze``
layers once per example (cached, fp16, in ``eval/out/reader/cache/``), then trains the other
layers and the heads: span loss (start and end cross-entropy; [CLS] = no answer) + relevance loss
(binary cross-entropy on [CLS]). The relevance is then Platt-scaled on the validation questions.
Writes ``eval/out/reader/runs/<name>/`` (``model.pt``, ``config.json``, ``val.json``, after every
epoch); prints the exact command and the wall time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import random
import shlex
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import runtime  # noqa: E402
import torch  # noqa: E402
from domains import read_jsonl  # noqa: E402
from model import LAYERS, ReaderModel, load_pretrained, read_package  # noqa: E402
from scores import auc  # noqa: E402
from steps import Cache, batches, losses, platt, predict, run_upper  # noqa: E402

ROOT = HERE.parents[1]
OUT = ROOT / "eval" / "out" / "reader"
DATA = OUT / "data"
MAX_TOKENS = 128  # question + passage window + 3 special tokens (latency: ~150 ms for 10)
MAX_QUESTION = 32
MAX_ANSWER = 30  # word pieces of an answer span
VAL_SHARE = 0.1
log = logging.getLogger("train")


# ------------------------------------------------------------------ examples


def token_span(e: runtime.Encoded, s: int, e_: int) -> tuple[int, int] | None:
    """Token positions (in the model input) of chars [s, e_) of the passage, or None when the
    window does not hold all of it."""
    offs = e.offsets
    if not offs or s < offs[0][0] or e_ > offs[-1][1]:
        return None
    first = next((i for i, (a, b) in enumerate(offs) if b > s), None)
    last = next((i for i in range(len(offs) - 1, -1, -1) if offs[i][0] < e_), None)
    if first is None or last is None or last < first:
        return None
    return e.context_start + first, e.context_start + last


def keep_passages(passages: list[dict], negatives: int) -> list[dict]:
    """The positives and at most ``negatives`` negatives per positive (at least one positive
    counted), in the prepared order (the hardest kinds first)."""
    pos = [p for p in passages if p["rel"] == 1]
    neg = [p for p in passages if p["rel"] == 0][: negatives * max(1, len(pos))]
    return pos + neg


def encode_rows(rows: list[dict], tok, max_tokens: int, max_question: int,
                negatives: int = 99) -> list[dict]:  # fmt: skip
    """Every (question, passage) of the rows as model inputs with labels."""
    out = []
    for r in rows:
        kept = keep_passages(r["passages"], negatives)
        enc = runtime.encode(tok, r["question"], [p["text"] for p in kept],
                             max_tokens, max_question)  # fmt: skip
        for p, e in zip(kept, enc, strict=True):
            rel, span_on, start, end = p["rel"], p["span_on"], 0, 0
            if p["span"] is not None:
                pos = token_span(e, *p["span"])
                if pos is None:  # the window missed the answer: the model cannot see it
                    rel, span_on = -1, False
                else:
                    start, end = pos
            ex = dict(ids=e.ids, types=e.type_ids, ctx=e.context_start, rel=rel,
                      span_on=span_on, start=start, end=end, qid=r["id"],
                      domain=r["domain"], group=r["group"], vgroup=vgroup(r))  # fmt: skip
            if rel == 1 and span_on:  # the span is read back as characters, as at run time
                ex.update(text=p["text"], offs=e.offsets)
            out.append(ex)
    return out


def vgroup(row: dict) -> str:
    """What validation is drawn by: the gold document (a SQuAD tune half has only a few
    articles), so that no document has questions on both sides."""
    gold = sorted(p["source"] for p in row["passages"] if p["kind"] == "gold")
    return gold[0] if gold else row["group"]


def drawn_from(data_dir: Path) -> str | None:
    """The evaluation domain an extra set was drawn from (``summary.json``), or None."""
    path = data_dir / "summary.json"
    return json.loads(path.read_text()).get("leave_out_with") if path.is_file() else None


def is_val(group: str, seed: str) -> bool:
    h = hashlib.sha1(f"{seed} {group}".encode()).digest()
    return int.from_bytes(h[:4], "big") / 2**32 < VAL_SHARE


def validate(model, k: int, examples: list[dict], rows_by_q: dict, tok, max_answer: int) -> dict:
    """Validation: span token F1 on positives, relevance AUC, per-question hit@1 among the
    question's candidates, overall and per domain (the pooled figures can hide a domain where
    nothing was learnt), and the Platt calibration fitted on all of it."""
    from product import token_f1

    starts, ends, rels = predict(model, k, examples)
    f1 = np.full(len(examples), np.nan)
    by_q: dict[str, list[int]] = {}
    for i, ex in enumerate(examples):
        by_q.setdefault(ex["qid"], []).append(i)
        if ex["rel"] == 1 and ex["span_on"]:
            n = len(ex["ids"]) - 1 - ex["ctx"]
            si, ei, _ = runtime.best_span(starts[i], ends[i], ex["ctx"], n, max_answer)
            a, b = ex["offs"][si - ex["ctx"]][0], ex["offs"][ei - ex["ctx"]][1]
            f1[i] = token_f1(ex["text"][a:b], rows_by_q[ex["qid"]]["answers"])

    def figures(domain: str | None) -> dict:
        idx = [i for i, ex in enumerate(examples) if domain in (None, ex["domain"])]
        y = np.array([examples[i]["rel"] for i in idx])
        x = rels[idx]
        known = y >= 0
        hit = []
        for q in by_q.values():
            cand = [
                i for i in q if examples[i]["rel"] >= 0 and domain in (None, examples[i]["domain"])
            ]
            if any(examples[i]["rel"] == 1 for i in cand):
                hit.append(float(examples[max(cand, key=lambda i: rels[i])]["rel"] == 1))
        spans = f1[idx][~np.isnan(f1[idx])]
        return dict(
            span_f1=float(spans.mean()) if len(spans) else None,
            n_span=len(spans),
            rel_auc=auc(list(x[known & (y == 1)]), list(x[known & (y == 0)])),
            hit1=float(np.mean(hit)) if hit else None,
            n_questions=len(hit),
        )

    labelled = [i for i, ex in enumerate(examples) if ex["rel"] >= 0]
    y = np.array([examples[i]["rel"] for i in labelled])
    x = rels[labelled]
    a, b = platt(x, y)
    p = 1 / (1 + np.exp(-(a * x + b)))
    logloss = float(-np.mean(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12)))
    domains = sorted({ex["domain"] for ex in examples})
    return dict(
        **figures(None),
        logloss_calibrated=logloss,
        calibration=dict(a=a, b=b),
        by_domain={d: figures(d) for d in domains},
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--leave-out", default="", help="a domain left out entirely (LODO)")
    ap.add_argument("--domains", default="", help="comma-separated (default: all prepared)")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--freeze", type=int, default=2, help="lower layers frozen and cached")
    ap.add_argument(
        "--epochs",
        type=float,
        default=2,
        help="a fraction trains part of one; 0 with --init: validate it only",
    )
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--head-lr", type=float, default=1e-3, help="new heads learn faster")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--rel-weight", type=float, default=1.0)
    ap.add_argument("--max-tokens", type=int, default=MAX_TOKENS)
    ap.add_argument("--threads", type=int, default=1, help="1 is faster on a busy machine")
    ap.add_argument("--limit", type=int, default=0, help="first N training questions (trials)")
    ap.add_argument("--negatives", type=int, default=3, help="negatives kept per positive")
    ap.add_argument(
        "--train-figures",
        type=int,
        default=0,
        help="also report the figures on the first N training examples",
    )
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--name", default="")
    ap.add_argument(
        "--init", default="", help="start from this run's weights (runs/<init>/model.pt)"
    )
    ap.add_argument("--cache-only", action="store_true", help="build the caches and stop")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    t_start = time.perf_counter()
    command = "python eval/reader/train.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    print("command:", command, flush=True)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)

    all_sets = sorted(p.name for p in args.data.iterdir() if (p / "train.jsonl.gz").is_file())
    wanted = [d for d in args.domains.split(",") if d] or all_sets
    used = [d for d in wanted if args.leave_out not in (d, drawn_from(args.data / d))]
    name = args.name or (f"lodo-{args.leave_out}" if args.leave_out else "all")
    run_dir = OUT / "runs" / name
    run_dir.mkdir(parents=True, exist_ok=True)

    tensors, tok_json = read_package()
    tok_path = run_dir / "tokenizer.json"
    tok_path.write_bytes(tok_json)
    tok = runtime.load_tokenizer(tok_path)
    model = ReaderModel()
    load_pretrained(model, tensors)
    if args.init:  # fine-tune a trained reader (its lower layers are what the cache holds)
        model.load_state_dict(torch.load(OUT / "runs" / args.init / "model.pt", weights_only=True))
    k = args.freeze

    # Examples per domain, each domain's lower layers cached once (shared by every LODO run).
    train_ex, val_ex, rows_by_q = [], [], {}
    for d in used:
        path = args.data / d / "train.jsonl.gz"
        rows = read_jsonl(path)
        if args.limit:
            rows = rows[: args.limit]
        rows_by_q.update((r["id"], r) for r in rows)
        ex = encode_rows(rows, tok, args.max_tokens, MAX_QUESTION, args.negatives)
        digest = hashlib.sha1(
            path.read_bytes()
            + f"{k} {args.max_tokens} {args.limit} {args.negatives} {runtime.ENCODING_VERSION}".encode()
            + (f" init={args.init}".encode() if args.init else b"")
        )
        cache = Cache(OUT / "cache" / f"{d}-k{k}-{digest.hexdigest()[:12]}.npy",
                      np.array([len(e["ids"]) for e in ex]))  # fmt: skip
        if k and not cache.ready():
            cache.path.parent.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            cache.build(model, ex, k)
            log.info("%s: cached %d examples in %.0f s", d, len(ex), time.perf_counter() - t0)
        store = cache.open() if k else None
        for i, e in enumerate(ex):
            e["h"] = (store, cache.offsets[i], cache.offsets[i + 1])
            (val_ex if is_val(e["vgroup"], str(args.seed)) else train_ex).append(e)
        log.info("%s: %d questions, %d examples", d, len(rows), len(ex))
    log.info("train %d examples, validation %d", len(train_ex), len(val_ex))
    if args.cache_only:
        return 0

    # Trained: layers k.. and the heads; the embeddings and layers below k stay as they were.
    for p in model.parameters():
        p.requires_grad = False
    body, heads = list(model.layers[k:].parameters()), model.head_parameters()
    trained = body + heads
    for p in trained:
        p.requires_grad = True
    opt = torch.optim.AdamW([dict(params=body, lr=args.lr), dict(params=heads, lr=args.head_lr)],
                            weight_decay=0.01)  # fmt: skip
    rng = random.Random(args.seed)
    lengths = [len(e["ids"]) for e in train_ex]
    epochs = max(1, math.ceil(args.epochs))  # --epochs 0: one pass of no batch, validation only
    plan = [batches(lengths, args.batch, rng) for _ in range(epochs)]
    if args.epochs != epochs:  # a fraction of the last epoch
        plan[-1] = plan[-1][: int(len(plan[-1]) * (args.epochs - epochs + 1))]
    steps = sum(len(p) for p in plan)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm)))
    )
    model.train()
    model.set_sdpa(True)
    step, t0 = 0, time.perf_counter()
    history = []
    for ep, plan_ep in enumerate(plan):
        sums = np.zeros(3)  # span loss, relevance loss, batches: this epoch's means
        run_span = run_rel = float("nan")  # no batch (--epochs 0: validate --init only)
        for idx in plan_ep:
            batch = [train_ex[i] for i in idx]
            (s, e, r), labels = run_upper(model, k, batch)
            span, rel = losses(s, e, r, labels)
            loss = span + args.rel_weight * rel
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trained, 1.0)
            opt.step()
            sched.step()
            step += 1
            sums += (float(span.detach()), float(rel.detach()), 1)
            run_span, run_rel = sums[0] / sums[2], sums[1] / sums[2]
            if step % 50 == 0:
                el = time.perf_counter() - t0
                log.info("epoch %d step %d/%d span %.3f rel %.3f (%.0f s, %.0f s left)", ep + 1,
                         step, steps, run_span, run_rel, el, el / step * (steps - step))  # fmt: skip
        val = validate(model, k, val_ex, rows_by_q, tok, MAX_ANSWER) if val_ex else {}
        if args.train_figures:  # the training questions themselves (an overfit test)
            seen = validate(model, k, train_ex[: args.train_figures], rows_by_q, tok, MAX_ANSWER)
            log.info("epoch %d training set %s", ep + 1, json.dumps(seen))
            val["train_set"] = seen
        history.append(dict(epoch=ep + 1, span_loss=run_span, rel_loss=run_rel, **val))
        log.info("epoch %d validation %s", ep + 1, json.dumps(val))
        config = dict(
            model="model.int8.onnx",
            tokenizer="tokenizer.json",
            max_tokens=args.max_tokens,
            max_question_tokens=MAX_QUESTION,
            max_answer_tokens=MAX_ANSWER,
            calibration=val.get("calibration", dict(a=1.0, b=0.0)),
            trained_on=used,
            left_out=args.leave_out or None,
            init=args.init or None,
            freeze=k,
            epochs=args.epochs,
            epochs_done=ep + 1,
            lr=args.lr,
            head_lr=args.head_lr,
            batch=args.batch,
            negatives=args.negatives,
            seed=args.seed,
            examples=dict(train=len(train_ex), validation=len(val_ex)),
            command=command,
            wall_seconds=round(time.perf_counter() - t_start),
            threads=args.threads,
            cpu_count=os.cpu_count(),
        )
        torch.save(model.state_dict(), run_dir / "model.pt")  # after every epoch
        (run_dir / "config.json").write_text(json.dumps(config, indent=1) + "\n")
        (run_dir / "val.json").write_text(json.dumps(history, indent=1) + "\n")
    train_s = time.perf_counter() - t_start
    final = history[-1] if history else {}
    print(f"done: {run_dir} in {train_s / 60:.1f} min; validation {json.dumps(final)}", flush=True)
    return 0


if __name__ == "__main__":
    assert LAYERS == 6
    raise SystemExit(main())
