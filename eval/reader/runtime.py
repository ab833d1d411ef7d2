"""The reader at run time is the product's own (``qa.answer.reader``): training encodes each
(question, passage) with the same ``encode`` (the same window cut), evaluation and export read
models with the same ``Reader``. Kept as a module so the training scripts name it in one place."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from qa.answer.reader import (  # noqa: F401
    ENCODING_VERSION,
    Encoded,
    Reader,
    Reading,
    best_span,
    encode,
    load_tokenizer,
)
