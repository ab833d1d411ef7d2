"""A reader's weights read back from its int8 ONNX file, to train on from there.

    python eval/reader/dequantize.py qa/answer/models/reader --name general4-int8

``train.py --init NAME`` starts from ``eval/out/reader/runs/NAME/model.pt``: a run's fp32 weights.
When those are gone (they are not committed: only the int8 ONNX ships), the shipped file still
holds every weight: each quantized matrix is ``(q - zero_point) * scale`` (per output channel;
the embeddings per tensor), the layer norms, biases and the span head are stored as they were.
This writes them as a run (``model.pt``, ``config.json`` copied from the ONNX folder) that
``--init`` reads. What is lost is the rounding of int8: the dequantized weights are the ones the
product ran, so a model trained on from them starts from exactly what was measured.

The check (printed): the dequantized PyTorch model and the int8 ONNX on a few (question,
passage) pairs, largest logit difference (the int8 file also quantizes the activations, so
they are close, not equal) and whether they pick the same span.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import runtime  # noqa: E402
import torch  # noqa: E402
from model import ReaderModel  # noqa: E402

OUT = HERE.parents[1] / "eval" / "out" / "reader"
# "/layers.3/inter/MatMul_quant" -> layers.3.inter ; "/rel_dense/Gemm_MatMul_quant" -> rel_dense
_MATMUL = re.compile(r"^/(?:(layers\.\d+)/)?(\w+)/(?:MatMul|Gemm_MatMul)_quant$")


def _dequantized(inits: dict[str, np.ndarray], name: str) -> np.ndarray:
    q = inits[f"{name}_quantized"].astype(np.float32)
    return (q - inits[f"{name}_zero_point"].astype(np.float32)) * inits[f"{name}_scale"]


def state_from_onnx(path: Path) -> dict[str, torch.Tensor]:
    """``ReaderModel``'s state dict from an int8 (or fp32) reader ONNX file."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    state: dict[str, np.ndarray] = {}
    for name, value in inits.items():  # stored as they were: norms, biases, rel_span
        if not name.startswith("onnx::") and not re.search(r"_(quantized|scale|zero_point)$", name):
            state[name] = value
    for table in ("word", "position", "token_type"):  # embeddings: per tensor, gathered
        state[f"{table}.weight"] = (
            _dequantized(inits, f"{table}.weight")
            if f"{table}.weight_quantized" in inits
            else inits[f"{table}.weight"]
        )
    for node in graph.node:
        if node.op_type == "MatMulInteger" and (m := _MATMUL.match(node.name)):
            prefix = ".".join(p for p in m.groups() if p)
            weight = node.input[1].removesuffix("_quantized")
            state[f"{prefix}.weight"] = _dequantized(inits, weight).T  # [in, out] -> [out, in]
        elif node.op_type == "MatMul" and node.name == "/qa/MatMul":  # the fp32 span head
            state["qa.weight"] = inits[node.input[1]].T
    model = ReaderModel()
    expected = set(model.state_dict())
    if missing := expected - set(state):
        raise SystemExit(f"{path}: no weights for {sorted(missing)}")
    return {k: torch.from_numpy(np.array(state[k], dtype=np.float32)) for k in expected}


def check(model: ReaderModel, folder: Path) -> dict:
    """Dequantized PyTorch vs the int8 ONNX on a few questions and passages."""
    from export import PARITY_QUESTIONS, padded

    reader = runtime.Reader(folder, threads=2)
    worst, same, n = 0.0, 0, 0
    for q, passages in PARITY_QUESTIONS:
        enc = reader.encode(q, passages)
        s8, e8, _ = reader.run(enc)
        ids, mask, types = padded(enc, s8.shape[1])
        with torch.no_grad():
            st, et, _ = (t.numpy() for t in model(ids, mask, types))
        m = mask.numpy().astype(bool)
        worst = max(worst, float(np.abs(st - s8)[m].max()), float(np.abs(et - e8)[m].max()))
        for i in range(len(passages)):
            same += int(st[i][m[i]].argmax() == s8[i][m[i]].argmax())
            n += 1
    return dict(max_abs_logit_diff=round(worst, 3), same_start=f"{same}/{n}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path, help="a reader folder: model.int8.onnx, config.json, ...")
    ap.add_argument("--name", required=True, help="the run written: eval/out/reader/runs/NAME")
    args = ap.parse_args(argv)
    config = json.loads((args.folder / "config.json").read_text())
    model = ReaderModel()
    model.load_state_dict(state_from_onnx(args.folder / config.get("model", "model.int8.onnx")))
    model.eval()
    model.set_sdpa(False)
    run = OUT / "runs" / args.name
    run.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), run / "model.pt")
    shutil.copy(args.folder / "tokenizer.json", run / "tokenizer.json")
    trained = dict(config.get("trained", {}), dequantized_from=str(args.folder))
    (run / "config.json").write_text(json.dumps({**config, "trained": trained}, indent=1) + "\n")
    print(json.dumps(dict(run=str(run), check=check(model, args.folder))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
