"""The reference sets that ship with the project, by name: ``qa eval NAME`` and the benchmarks.

SQuAD and HotpotQA (Wikipedia, ``qa.evaluation.converters``) and the sets from other kinds of
documents (papers, contracts, service pages, annual reports, ``qa.evaluation.domains``), and
XQuAD's Spanish and German questions over English Wikipedia paragraphs (``xquad``,
``qa.evaluation.crosslingual``), each with its vendored file in eval/datasets/ (see its README for
sources and licences).
"""

from __future__ import annotations

from pathlib import Path

from qa.errors import QAError
from qa.evaluation.converters import Converted, ReferenceSet, convert_hotpotqa, convert_squad
from qa.evaluation.crosslingual import XQUAD_SET
from qa.evaluation.domains import DOMAIN_SETS

REFERENCE_SETS: dict[str, ReferenceSet] = {
    s.name: s
    for s in (
        ReferenceSet("squad", "squad-expmrc/expmrc-squad-dev.json", convert_squad),
        ReferenceSet("hotpotqa", "hotpotqa-dev500/dev_subsampled.jsonl", convert_hotpotqa),
        *DOMAIN_SETS,
        XQUAD_SET,
    )
}


def convert_reference(name: str, out: Path, src: Path | None = None) -> Converted:
    """Convert a reference set (its vendored copy unless ``src`` is given) into ``out``."""
    ref = REFERENCE_SETS[name]
    src = Path(src) if src is not None else ref.source()
    if not src.exists():
        raise QAError(f"{src} does not exist; pass the original {name} file with --source PATH")
    return ref.convert(src, Path(out))
