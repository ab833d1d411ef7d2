"""The ``qa`` command (``python -m qa.cli`` too). Thin: it parses, calls and prints.

main.py        the commands and their parser (exit codes 0/1/2/3)
output.py      what the command prints: answers with sources, documents, reports
terminal.py    text made safe to print (no escape sequences); the ingest progress bar
"""

from qa.cli.main import main

__all__ = ["main"]
