"""Text for a terminal: document text and file names printed as data, and the ingest progress bar.

A document (or a file name) can hold escape sequences that a terminal obeys: erase the line and
move the cursor up (``ESC[2K ESC[1A``) to hide what was printed, write the clipboard (OSC 52),
retitle the window. Everything the ``qa`` command prints from documents goes through ``clean``.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from typing import TextIO

from index.text import control_chars

# Whole escape sequences first, so that their arguments do not survive as stray text.
_SEQUENCE = re.compile(
    r"\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC: clipboard, title, hyperlinks
    r"|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"  # DCS, SOS, PM, APC strings
    r"|\x1b\[[0-?]*[ -/]*[@-~]?"  # CSI: cursor moves, erasing, colours
    r"|\x1b[ -/]*[0-~]?"  # the other escapes (ESC c resets the terminal)
    r"|\x9b[0-?]*[ -/]*[@-~]?"  # 8-bit CSI
    r"|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x9c)?"  # 8-bit string introducers
)
# What is left of control characters (CR rewrites a line, BS erases), C1 controls, and the
# bidirectional overrides that make text display in another order than it reads.
_CONTROL = control_chars()
_LINE_BREAKS = re.compile(r"[\t\n\u2028\u2029]+")


def clean(text: object, *, one_line: bool = False) -> str:
    """``text`` safe to print: no escape sequences or control characters (tabs and line breaks
    kept, or folded into spaces with ``one_line``)."""
    out = _CONTROL.sub("", _SEQUENCE.sub("", str(text)))
    if one_line:
        out = " ".join(_LINE_BREAKS.sub(" ", out).split())
    return out


_JSON_UNSAFE = control_chars(c0=False)


def json_text(data: object) -> str:
    """Indented JSON that is safe to print: json escapes C0 controls, this the C1 ones too."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class ProgressBar:
    """An ingest progress bar (tqdm): files done of the total, files/s and the time left.

    It is fed ``(done, total)`` by ``index.ingest.ingest``; ``done`` moves in fractions of a
    file while a big file is embedded, so the bar moves per chunk too.
    """

    FORMAT = (
        "{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total_fmt} files "
        "[{elapsed}<{remaining}, {rate_noinv_fmt}]"
    )

    def __init__(self, desc: str = "Indexing", file: TextIO | None = None, disable=None):
        self.desc = desc
        self.file = file or sys.stderr
        self.disable = disable  # None: shown only on a terminal
        self._bar = None

    def __call__(self, done: float, total: int) -> None:
        from tqdm import tqdm

        if self._bar is None:
            if total <= 0:
                return
            size = shutil.get_terminal_size((100, 20))
            self._bar = tqdm(
                total=total,
                desc=self.desc,
                unit=" files",  # the rate reads "12.3 files/s"
                file=self.file,
                leave=False,
                disable=self._hidden(),
                bar_format=self.FORMAT,
                # A terminal that reports no size (0 x 0) would get no bar at all.
                ncols=min(size.columns, 120),
                nrows=size.lines,
                smoothing=0.1,
            )
        bar = self._bar
        bar.total = total
        step = min(done, total) - bar.n
        if step > 0:
            bar.update(step)
        if done >= total:
            self.close()

    def _hidden(self) -> bool:
        if self.disable is not None:
            return bool(self.disable)
        isatty = getattr(self.file, "isatty", None)
        return not (callable(isatty) and isatty())

    def close(self) -> None:
        """Remove the bar from the screen (the summary line follows it)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
