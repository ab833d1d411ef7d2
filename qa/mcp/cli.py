"""``qa mcp``: the document tools over stdio, for an agent that starts this command itself.

Standard output carries the protocol alone; anything for people goes to standard error.
"""

from __future__ import annotations

import argparse
from pathlib import Path

EXAMPLES = """examples:
  qa mcp                                  # seeds/, or QA_DOCS_DIR
  qa mcp --docs ~/notes --store ~/.qa_notes
  Claude Desktop: {"mcpServers": {"documents": {"command": "qa", "args": ["mcp", "--docs", "/home/me/notes"]}}}"""


def cmd_mcp(args: argparse.Namespace) -> int:
    from qa.engine import get_engine
    from qa.http.server import prepare_engine
    from qa.mcp.server import run_stdio
    from qa.settings import Settings

    fields = ("store_dir", "collection", "docs_dir")
    settings = Settings(**{f: getattr(args, f) for f in fields if getattr(args, f, None)})
    if args.no_ingest:
        run_stdio(lambda: get_engine(settings))
    else:
        if not Path(settings.docs_dir).is_dir():
            from qa.errors import ConfigError

            raise ConfigError(
                f"the documents folder {settings.docs_dir} does not exist: give --docs FOLDER "
                "(or QA_DOCS_DIR), or --no-ingest to serve the index as it is."
            )
        run_stdio(prepare_engine(settings))
    return 0


def register(subparsers, common) -> None:
    """Add ``qa mcp`` to the CLI."""
    sp = subparsers.add_parser(
        "mcp",
        help="serve the documents to an agent over MCP (stdio): search, ask, list, read",
        description="Serve the documents to an agent over the Model Context Protocol on standard "
        "input and output: tools search, ask, list_documents, read_passage, read_page. The index "
        "is brought in step with the documents folder first. Over HTTP, python app.py and qa "
        "serve answer MCP at /mcp.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sp.add_argument("--docs", dest="docs_dir", type=Path, help="documents folder (QA_DOCS_DIR)")
    sp.add_argument(
        "--no-ingest",
        action="store_true",
        help="serve the index as it is (default: bring it in step with the folder first)",
    )
    common(sp)
    sp.set_defaults(func=cmd_mcp)
