"""Prompt templates from ``prompts/*.txt``, rendered strictly: every variable given, none unknown."""

from __future__ import annotations

import re
import string
from functools import lru_cache
from pathlib import Path

from qa.errors import PromptError

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"  # the project's prompts/
_NAME_OK = frozenset(string.ascii_letters + string.digits + "_-")
# Our delimiters in a prompt (<passage n=...>, <passages>): text placed in it must not close them.
_DELIMITER = re.compile(r"<(/?)(passages?|conversation)\b", re.IGNORECASE)


@lru_cache(maxsize=64)
def _read(path: Path, mtime_ns: int) -> str:
    return path.read_text(encoding="utf-8")


def load(name: str, prompts_dir: Path | None = None) -> str:
    """The text of prompt ``name`` (``prompts/<name>.txt``), or a PromptError saying where it was looked for."""
    if not name or not set(name) <= _NAME_OK:
        raise PromptError(f"Invalid prompt name {name!r}: use letters, digits, '_' and '-'.")
    path = (prompts_dir or PROMPTS_DIR) / f"{name}.txt"
    try:
        return _read(path, path.stat().st_mtime_ns)
    except OSError as exc:
        raise PromptError(f"Prompt {name!r} not found at {path} ({exc.strerror}).") from exc


def variables(template: str) -> set[str]:
    """The names of the ``{variables}`` in a template; rejects attribute, index and format parts."""
    names = set()
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:  # a lone "{" or "}"
        raise PromptError(
            f"Malformed prompt template: {exc}. Write literal braces as {{{{ }}}}."
        ) from exc
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise PromptError(
                f"Prompt variable {{{field}}} is not a plain name; templates may only use {{name}}."
            )
        names.add(field)
    return names


def render_template(template: str, values: dict[str, object]) -> str:
    """Fill a template's variables; a missing or unknown variable raises PromptError.

    Only the template is parsed: values are inserted as plain text, so braces or "{name}" inside
    a document never act as template syntax. The result is never formatted again.
    """
    wanted = variables(template)
    missing = sorted(wanted - values.keys())
    unknown = sorted(values.keys() - wanted)
    if missing:
        raise PromptError(f"Prompt variable(s) not supplied: {', '.join(missing)}.")
    if unknown:
        raise PromptError(f"Prompt has no variable(s) named: {', '.join(unknown)}.")
    return template.format_map({k: str(v) for k, v in values.items()})


def render(name: str, prompts_dir: Path | None = None, **values: object) -> str:
    """Load prompt ``name`` and render it strictly with ``values``."""
    return render_template(load(name, prompts_dir), values)


def neutral(text: str) -> str:
    """Text with look-alike brackets where it imitates our delimiters, so it cannot close them."""
    return _DELIMITER.sub(lambda m: f"‹{m.group(1)}{m.group(2)}", text)
