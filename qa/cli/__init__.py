"""The ``qa`` command (``python -m qa.cli`` too). Thin: it parses, calls and prints.

main.py        the commands and their parser (exit codes 0/1/2/3)
output.py      what the command prints: answers with sources, documents, reports
terminal.py    text made safe to print (no escape sequences); the ingest progress bar
"""

from qa.library.signals import blocked

with blocked():  # threads the libraries start on import never take Ctrl-C (qa/library/signals.py)
    import onnxruntime  # noqa: F401  (its pool starts on import; the engine imports it anyway)

    from qa.cli.main import main

__all__ = ["main"]
