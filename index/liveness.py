"""Whether a process named in a record still runs: proof of death only where it is certain.

A record written by a process carries ``process_identity()``: the kernel's boot id, the
process's pid namespace and its start time (Linux ``/proc``; empty elsewhere). Another process
that reads it later can tell the writer is gone only when both run under the same kernel boot
and in the same pid namespace, so the pid means the same process to both: then the pid no
longer existing, being a zombie, or belonging to a process started at another time (the pid
was reused) proves the writer died. Anywhere else (another machine, another container, no
``/proc``) ``gone`` answers False, and the caller falls back on its record's expiry.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks since boot) of a live or zombie pid; None if no such pid."""
    text = _read(PROC / str(pid) / "stat")
    if text is None:
        return None
    # The command name (field 2) is in parentheses and may hold spaces; the fields after it
    # start with the state (field 3); the start time is field 22.
    rest = text[text.rfind(")") + 2 :].split()
    try:
        return rest[0], int(rest[19])
    except (IndexError, ValueError):
        return None


def _namespace() -> str | None:
    try:
        st = os.stat(PROC / "self" / "ns" / "pid")
    except OSError:
        return None
    return f"{st.st_dev}:{st.st_ino}"


def process_identity(pid: int | None = None) -> dict[str, str | int]:
    """What to record beside a pid so that a reader on the same kernel can tell it died."""
    pid = os.getpid() if pid is None else pid
    boot = _read(PROC / "sys" / "kernel" / "random" / "boot_id")
    namespace = _namespace()
    stat = _stat(pid)
    if not (boot and namespace and stat):
        return {}
    return {"boot": boot, "pidns": namespace, "started": stat[1]}


def gone(record: dict) -> bool:
    """True only when the process ``record`` names (pid + ``process_identity``) surely died."""
    try:
        pid, started = int(record["pid"]), int(record["started"])
        boot, namespace = str(record["boot"]), str(record["pidns"])
    except (KeyError, TypeError, ValueError):
        return False  # written elsewhere or by an older version: nothing provable
    if boot != _read(PROC / "sys" / "kernel" / "random" / "boot_id") or namespace != _namespace():
        return False  # another machine, boot or container: its pids are not ours to look up
    stat = _stat(pid)
    if stat is None:
        return True
    state, now_started = stat
    return state in ("Z", "X", "x") or now_started != started
