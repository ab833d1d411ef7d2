"""The shape of the code: dependencies point one way (app/CLI -> qa -> index), no import cycles.

Every import counts: module-level, function-level (lazy) and ``if TYPE_CHECKING:`` ones alike,
since each is a dependency a reader must follow. Inside ``qa`` the stages are layered (LAYERS):
a module imports only from its own package or from lower layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGES = ("index", "qa")
MAX_MODULE_LINES = 450  # "a few hundred lines": small enough to read in one sitting
MAX_TOP_MODULES = 14  # modules directly in qa/: the rest sit in their stage's package
# The layers of qa, lowest first (ARCHITECTURE.md): records and settings, models, the question
# and retrieval stages, the answer stage, the engine, the library around the index, surfaces.
LAYERS = (
    ("qa.errors", "qa.outcomes", "qa.settings", "qa.types"),
    ("qa.llm",),
    ("qa.question", "qa.retrieval"),
    ("qa.answer",),
    ("qa.engine",),
    ("qa.library",),
    ("qa", "qa.cli", "qa.evaluation", "qa.http", "qa.llama_index", "qa.mcp", "qa.web"),
)


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _imports(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """Project modules imported anywhere in a module: function-level and type-only ones too."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # "from qa import extract" imports the submodule, not the package's __init__.
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names
            ]
        else:
            continue
        for t in targets:
            while t and t not in modules:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, name, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def _layer(module: str) -> tuple[int, str] | None:
    """A qa module's layer and the package it belongs to (None outside qa)."""
    for n, names in enumerate(LAYERS):
        for top in sorted(names, key=len, reverse=True):
            if module == top or (top != "qa" and module.startswith(top + ".")):
                return n, top
    return None


def _violations(graph: dict[str, set[str]]) -> list[str]:
    """Imports of a package of the same or a higher layer. The records (bottom) and the surfaces
    (top: the CLI serves the HTTP server, which mounts the page and MCP) may use their peers."""
    edge = {0, len(LAYERS) - 1}
    out = []
    for m, deps in graph.items():
        here = _layer(m)
        for d in deps:
            there = _layer(d)
            if not (here and there) or there[1] == here[1]:
                continue
            if there[0] > here[0] or (there[0] == here[0] and here[0] not in edge):
                out.append(f"{m} -> {d}")
    return sorted(out)


def test_the_import_graph_is_read_from_the_code():
    graph = _graph()
    assert "index.store" in graph["index.ingest"]  # a module-level import
    assert "qa.engine" in graph["qa"]  # a function-level import counts too
    assert "qa.answer.extract" in graph["qa.engine"]  # "from qa import extract" is the submodule


def test_type_checking_and_lazy_imports_count(tmp_path):
    mod = tmp_path / "m.py"
    mod.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from qa.engine import Engine\n"
        "def f():\n    from qa.answer import verdict\n"
    )
    found = _imports(mod, "qa.web.m", _modules())
    assert {"qa.engine", "qa.answer.verdict"} <= found


def test_qa_stages_import_only_downwards():
    assert _violations(_graph()) == []
    # The check itself: a planted upward import is found.
    planted = {
        "qa.question.clean": {"qa.answer.verdict", "qa.retrieval.hybrid"},
        "qa.answer.verdict": {"qa.types", "qa.question.read"},
        "qa.cli.main": {"qa.http.server"},
    }
    assert _violations(planted) == [
        "qa.question.clean -> qa.answer.verdict",
        "qa.question.clean -> qa.retrieval.hybrid",
    ]


def test_few_modules_sit_directly_in_qa():
    top = sorted(p.name for p in (ROOT / "qa").glob("*.py"))
    assert len(top) <= MAX_TOP_MODULES, top


def test_index_never_imports_qa():
    offenders = {
        m: sorted(d for d in deps if d == "qa" or d.startswith("qa."))
        for m, deps in _graph().items()
        if m.startswith("index")
    }
    assert not {m: d for m, d in offenders.items() if d}, offenders


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_cycle_detection_finds_a_planted_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_is_too_long_to_read_in_one_sitting():
    long = {
        str(p.relative_to(ROOT)): n
        for p in _modules().values()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, long
