#!/usr/bin/env bash
# Installs what the tests need on a fresh machine, then runs the whole suite.
# Usage: ./scripts/test.sh [pytest args]   (heavier variants: ./scripts/test.sh -m slow)
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --disable-pip-version-check -q -e ".[test]"
if ! command -v chromium >/dev/null 2>&1 || ! command -v nginx >/dev/null 2>&1; then
  # Debian's Chromium drives the browser tests (Playwright downloads nothing); nginx fronts the
  # replicas of the deployment test (deploy/, with -m slow).
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium nginx-light >/dev/null
fi
# axe-core for the accessibility checks of the browser tests (tests/package-lock.json).
if [ ! -f tests/node_modules/axe-core/axe.min.js ]; then
  if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq npm >/dev/null
  fi
  npm ci --prefix tests --no-audit --no-fund --silent
fi
export GRADIO_ANALYTICS_ENABLED=False ANONYMIZED_TELEMETRY=False HF_HUB_OFFLINE=1
python3 -m ruff check qa index tests eval deploy app.py
python3 -m pytest "$@"
