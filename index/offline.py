"""The environment that keeps the libraries this product uses from phoning home or downloading."""

from __future__ import annotations

import os
from collections.abc import MutableMapping

# Chroma sends anonymous usage data and Gradio analytics unless told not to; the hub client
# must never try to fetch a model. Entry points (CLI, web app, tests, benchmarks) call quiet().
QUIET_ENV = {
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
}


def quiet(environ: MutableMapping[str, str] | None = None) -> MutableMapping[str, str]:
    """Turn telemetry and hub downloads off in ``environ`` (default: this process); returns it."""
    env = os.environ if environ is None else environ
    for key, value in QUIET_ENV.items():
        env.setdefault(key, value)
    # Gradio reads this one at import; a user's "True" must not switch analytics back on.
    env["GRADIO_ANALYTICS_ENABLED"] = "False"
    return env
