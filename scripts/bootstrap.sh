#!/usr/bin/env bash
# Creates (or reuses) .venv and installs synth with everything it needs, offline-capable afterwards.
# The CPU build of torch goes in first: an unpinned torch would pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "synth: creating .venv" >&2
  "$PY" -m venv .venv
fi
stamp=.venv/.synth-installed
want=$(cat pyproject.toml scripts/bootstrap.sh | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "synth: installing dependencies into .venv (first run takes a minute or two)" >&2
  # This machine's local package mirror prints a warning per package it does not hold; hide only those.
  quiet() { "$@" 2>&1 | { grep -v -e 'is neither a file nor a directory' -e 'BuildBackendWarning' || true; }; }
  quiet .venv/bin/python -m pip install -q --upgrade pip
  quiet .venv/bin/python -m pip install -q "torch==2.13.0"
  quiet .venv/bin/python -m pip install -q -e ".[test]"
  echo "$want" > "$stamp"
fi
