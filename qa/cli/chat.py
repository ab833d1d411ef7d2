"""``qa chat``: a conversation with the documents in the terminal.

Follow-ups are understood (the conversation goes with each question), sources are named by
title and page, ``/sources N`` prints a cited passage whole, ``/docs`` lists the documents.
Ctrl-C stops an answer (not the chat); Ctrl-D, or ``/quit``, ends it.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import textwrap
from pathlib import Path

from qa.cli.output import WRAP, citation_heading, format_documents, reading
from qa.cli.terminal import clean
from qa.errors import QAError
from qa.types import Answer, Turn

MAX_TURNS = 40  # turns kept (the engine reads the last 20); older ones are let go
HELP = """Ask a question about your documents; follow-ups may refer to earlier answers.
  /sources N   the whole passage [N] of the last answer
  /docs        the indexed documents
  /new         a new conversation (forget the earlier turns)
  /help        this help
Ctrl-C stops an answer; Ctrl-D or /quit ends the chat."""


class Chat:
    """One terminal conversation over an engine; ``out`` is where it prints."""

    def __init__(self, engine, out=None):
        self.engine = engine
        self.out = out or sys.stdout
        self.history: list[Turn] = []
        self.last: Answer | None = None

    def say(self, text: str = "", end: str = "\n") -> None:
        print(text, end=end, file=self.out, flush=True)

    def handle(self, line: str) -> bool:
        """Act on one line the user typed; False when the chat should end."""
        line = line.strip()
        if not line:
            return True
        if line.startswith("/"):
            return self.command(line)
        self.ask(line)
        return True

    def command(self, line: str) -> bool:
        name, _, arg = line.partition(" ")
        if name in ("/quit", "/exit"):
            return False
        if name == "/help":
            self.say(HELP)
        elif name == "/docs":
            self.say(format_documents(self.engine.documents()))
        elif name == "/new":
            self.history, self.last = [], None
            self.say("(a new conversation)")
        elif name == "/sources":
            self.source(arg.strip())
        else:
            self.say(f"Unknown command {clean(name, one_line=True)}; /help lists them.")
        return True

    def source(self, arg: str) -> None:
        cited = self.last.citations if self.last is not None else ()
        if not cited:
            self.say("No sources yet: ask a question first.")
            return
        if not arg.isdigit() or not 1 <= int(arg) <= len(cited):
            self.say(f"Give a source number from 1 to {len(cited)}: /sources 1")
            return
        c = cited[int(arg) - 1]
        self.say(citation_heading(c, verbose=True))
        for paragraph in clean(c.text).split("\n"):
            self.say(textwrap.indent(textwrap.fill(paragraph, WRAP), "    ") if paragraph else "")

    def ask(self, question: str) -> None:
        pieces = self.engine.ask_stream(question, self.history)
        answer = None
        try:
            for piece in pieces:
                if isinstance(piece, Answer):
                    answer = piece
                else:
                    self.say(clean(piece), end="")
        except KeyboardInterrupt:
            pieces.close()  # a model's stream is closed: it stops writing
            self.say("\n(stopped; ask again, or ask something else)")
            return
        except QAError as exc:
            self.say(f"\nerror: {clean(exc)}")
            return
        self.say()
        if reading(answer):
            self.say(f"({reading(answer)})")
        self.show_sources(answer)
        self.last = answer
        self.history += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer.reply, "status": answer.status},
        ]
        self.history = self.history[-MAX_TURNS:]

    def show_sources(self, answer: Answer) -> None:
        if answer.notice:
            self.say(f"Note: {clean(answer.notice)}")
        if answer.status == "uncertain":
            self.say("(not sure: these are the closest passages)")
        for c in answer.citations:
            self.say(f"  {citation_heading(c)}")
        if answer.citations:
            self.say("  (/sources N prints a passage)")


def run(chat: Chat, read=input) -> int:
    """The read-answer loop until Ctrl-D or /quit."""
    chat.say(f"Chat with {len(chat.engine.documents())} documents ({chat.engine.mode}); /help.")
    while True:
        try:
            line = read("> ")
        except EOFError:  # Ctrl-D
            chat.say()
            return 0
        except KeyboardInterrupt:  # Ctrl-C at the prompt: a fresh line, the chat goes on
            chat.say("\n(Ctrl-D or /quit ends the chat)")
            continue
        if not chat.handle(line):
            return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from qa.engine import get_engine
    from qa.library.signals import started
    from qa.settings import Settings

    fields = ("store_dir", "collection", "docs_dir")
    settings = Settings(**{f: getattr(args, f) for f in fields if getattr(args, f, None)})
    # Ctrl-C reaches the prompt (qa/library/signals.py)
    engine = started(lambda: get_engine(settings))
    if sys.stdin.isatty():
        with contextlib.suppress(ImportError):  # line editing and the up arrow, where Python has it
            import readline  # noqa: F401
    return run(Chat(engine))


def register(subparsers, common) -> None:
    """Add ``qa chat`` to the CLI."""
    sp = subparsers.add_parser(
        "chat",
        help="chat with the documents in the terminal (follow-ups, /sources N, /docs)",
        description="Chat with the documents in the terminal: follow-up questions are "
        "understood, sources are named by title and page. " + HELP.split("\n", 1)[1],
        epilog="examples:\n  qa chat\n  qa chat --store ~/.qa_notes",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sp.add_argument("--docs", dest="docs_dir", type=Path, help="documents folder (QA_DOCS_DIR)")
    common(sp)
    sp.set_defaults(func=cmd_chat)
