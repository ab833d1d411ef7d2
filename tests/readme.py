"""The README's code snippets, extracted so that tests run them as they are written."""

from __future__ import annotations

from conftest import ROOT


def python_snippet(heading: str) -> str:
    """The first ```python block in the README section whose heading is ``heading``."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines(keepends=True)
    in_section = in_fence = False
    block: list[str] | None = None
    for line in lines:
        if line.startswith("```"):
            in_fence = not in_fence
            if in_section and block is None and line.strip() == "```python":
                block = []
                continue
            if block is not None and not in_fence:
                return "".join(block)
        elif block is not None:
            block.append(line)
        elif not in_fence and line.startswith("#"):
            in_section = line.lstrip("#").strip() == heading
    raise AssertionError(f"README.md has no python snippet under a heading {heading!r}")
