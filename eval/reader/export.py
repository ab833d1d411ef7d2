"""Export a trained reader to ONNX, quantize it to int8, and check int8 against fp32.

    python eval/reader/export.py --run all --out qa/answer/models/reader     # the model that ships
    python eval/reader/export.py --run lodo-squad                       # -> runs/lodo-squad/model

``torch.onnx.export`` writes the fp32 graph (inputs ``input_ids``, ``attention_mask``,
``token_type_ids``; outputs ``start_logits``, ``end_logits``, ``relevance``; batch and length
dynamic); ``onnxruntime.quantization.quantize_dynamic`` makes its weights int8 (the
activations are quantized on the fly). The parity check runs the same validation-style inputs
through PyTorch, the fp32 ONNX and the int8 ONNX and reports the largest logit differences and
how often int8 picks the same span and the same best passage as fp32.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import runtime  # noqa: E402
import torch  # noqa: E402
from model import ReaderModel  # noqa: E402

OUT = HERE.parents[1] / "eval" / "out" / "reader"
# Shipped beside the model: what ``runtime.Reader`` reads.
RUNTIME_KEYS = ("model", "tokenizer", "max_tokens", "max_question_tokens", "max_answer_tokens",
                "calibration")  # fmt: skip
PARITY_QUESTIONS = [
    ("When did the Normans conquer England?",
     ["The Norman conquest of England began in 1066 when William, Duke of Normandy, defeated "
      "Harold at the Battle of Hastings.", "Normandy is a region in northern France."]),
    ("Who wrote the contract's governing law clause?",
     ["This Agreement shall be governed by the laws of the State of New York.",
      "The parties agree to keep the terms confidential for five years after termination."]),
    ("How many people died of COVID-19 in Wuhan by February?",
     ["By 20 February, 2,000 deaths had been reported in Wuhan, the capital of Hubei.",
      "Coronaviruses are enveloped RNA viruses found in mammals and birds."]),
]  # fmt: skip


def export(run: Path, out: Path, opset: int = 17, per_channel: bool = True) -> dict:
    config = json.loads((run / "config.json").read_text())
    model = ReaderModel()
    model.load_state_dict(torch.load(run / "model.pt", map_location="cpu"))
    model.eval()
    model.set_sdpa(False)
    out.mkdir(parents=True, exist_ok=True)
    fp32 = run / "model.fp32.onnx"
    ids = torch.tensor([[101, 2054, 102, 2023, 2003, 1037, 3231, 102]] * 2)
    mask, types = torch.ones_like(ids), torch.tensor([[0, 0, 0, 1, 1, 1, 1, 1]] * 2)
    t0 = time.perf_counter()
    torch.onnx.export(
        model, (ids, mask, types), str(fp32),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["start_logits", "end_logits", "relevance"],
        dynamic_axes={"input_ids": {0: "batch", 1: "length"},
                      "attention_mask": {0: "batch", 1: "length"},
                      "token_type_ids": {0: "batch", 1: "length"},
                      "start_logits": {0: "batch", 1: "length"},
                      "end_logits": {0: "batch", 1: "length"}, "relevance": {0: "batch"}},
        opset_version=opset, dynamo=False,
    )  # fmt: skip
    from onnxruntime.quantization import QuantType, quantize_dynamic

    int8 = out / "model.int8.onnx"
    import onnx

    # The heads stay fp32 (a few kB): their logits are the answer, and int8 moved them most.
    heads = [n.name for n in onnx.load(str(fp32)).graph.node
             if n.op_type in ("MatMul", "Gemm") and n.name.startswith(("/qa/", "/rel"))]  # fmt: skip
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=per_channel,
                     nodes_to_exclude=heads)  # fmt: skip
    shutil.copy(run / "tokenizer.json", out / "tokenizer.json")
    shipped = {k: config[k] for k in RUNTIME_KEYS}
    shipped["trained"] = {k: v for k, v in config.items() if k not in RUNTIME_KEYS}
    (out / "config.json").write_text(json.dumps(shipped, indent=1) + "\n")
    report = dict(seconds=round(time.perf_counter() - t0, 1), int8_mb=int8.stat().st_size / 1e6,
                  fp32_mb=fp32.stat().st_size / 1e6)  # fmt: skip
    report["parity"] = parity(model, out, fp32)
    return report


def padded(enc, width: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Encoded windows as PyTorch reads them: ids, attention mask, token types, padded to
    ``width`` (the length onnxruntime's outputs have)."""
    pad = [width - len(x.ids) for x in enc]
    ids = torch.tensor([list(x.ids) + [0] * p for x, p in zip(enc, pad, strict=True)])
    mask = torch.tensor([[1] * len(x.ids) + [0] * p for x, p in zip(enc, pad, strict=True)])
    types = torch.tensor([list(x.type_ids) + [0] * p for x, p in zip(enc, pad, strict=True)])
    return ids, mask, types


def parity(model: ReaderModel, out: Path, fp32: Path) -> dict:
    """PyTorch vs fp32 ONNX vs int8 ONNX over a few questions and passages."""
    r8 = runtime.Reader(out, threads=2)
    r32 = runtime.Reader(out, threads=2, model_file=str(fp32))
    diffs = {"torch_vs_fp32": 0.0, "fp32_vs_int8": 0.0}
    same_span = same_best = n = 0
    for q, passages in PARITY_QUESTIONS + extra_questions():
        enc = r8.encode(q, passages)
        s8, e8, rel8 = r8.run(enc)
        s32, e32, rel32 = r32.run(enc)
        ids, mask, types = padded(enc, s8.shape[1])
        with torch.no_grad():
            st, et, rt = (t.numpy() for t in model(ids, mask, types))
        m = mask.numpy().astype(bool)

        ref = (s32, e32, rel32)
        diffs["torch_vs_fp32"] = max(diffs["torch_vs_fp32"], gap((st, et, rt), ref, m))
        diffs["fp32_vs_int8"] = max(diffs["fp32_vs_int8"], gap((s8, e8, rel8), ref, m))
        a8, a32 = r8.score(q, passages), r32.score(q, passages)
        same_span += sum((x.start, x.end) == (y.start, y.end) for x, y in zip(a8, a32, strict=True))
        n += len(passages)
        same_best += int(np.argmax(rel8) == np.argmax(rel32))
    k = len(PARITY_QUESTIONS) + len(extra_questions())
    return dict(max_abs_logit_diff=diffs, same_span=same_span / n, same_best_passage=same_best / k,
                passages=n, questions=k)  # fmt: skip


def gap(a: tuple, b: tuple, mask: np.ndarray) -> float:
    """The largest difference of start, end (real tokens only) and relevance logits."""
    return max(
        float(np.abs((a[0] - b[0])[mask]).max()),
        float(np.abs((a[1] - b[1])[mask]).max()),
        float(np.abs(a[2] - b[2]).max()),
    )


def extra_questions(limit: int = 40) -> list[tuple[str, list[str]]]:
    """Validation-style inputs: prepared SQuAD/HotpotQA tune-half questions with their passages."""
    from domains import read_jsonl

    out = []
    for d in ("squad", "hotpotqa"):
        path = OUT / "data" / d / "train.jsonl.gz"
        if path.is_file():
            rows = read_jsonl(path)[: limit // 2]
            out += [(r["question"], [p["text"] for p in r["passages"]][:10]) for r in rows]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--run", default="all", help="a folder of eval/out/reader/runs/")
    ap.add_argument("--out", type=Path, default=None, help="default: the run's model/ folder")
    ap.add_argument("--per-tensor", action="store_true", help="one int8 scale per weight matrix")
    args = ap.parse_args(argv)
    run = OUT / "runs" / args.run
    report = export(run, args.out or run / "model", per_channel=not args.per_tensor)
    print(json.dumps(report, indent=1))
    (run / "export.json").write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
