"""The web chat: ``render`` (pure HTML), ``handlers`` (ChatUI over the Engine), ``page`` (Gradio).

The page is served by ``qa.http.server.build_server`` (behind the host guard, beside the API).

The names below are imported on first use: ``qa.web.render`` stays cheap to import, and Gradio
is loaded only by what needs it (after ``index.offline.quiet()`` has switched analytics off).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qa.web.handlers import ChatUI
    from qa.web.page import build_app
    from qa.web.render import mode_label

__all__ = ["ChatUI", "build_app", "mode_label"]

_HOMES = {
    "ChatUI": "qa.web.handlers",
    "build_app": "qa.web.page",
    "mode_label": "qa.web.render",
}


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'qa.web' has no attribute {name!r}")
