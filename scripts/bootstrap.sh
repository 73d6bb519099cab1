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
  # pip's chatter goes to a log, shown only when an install fails.
  quiet() { "$@" >> .venv/install.log 2>&1 || { cat .venv/install.log >&2; echo "synth: install failed (log: .venv/install.log)" >&2; exit 1; }; }
  quiet .venv/bin/python -m pip install -q --upgrade pip
  quiet .venv/bin/python -m pip install -q "torch==2.13.0"
  # fast: the faster embedding routes; test: the test suite; bench: what the benchmarks compare with;
  # ray: `synth discover --engine ray` (its tests run a local cluster).
  quiet .venv/bin/python -m pip install -q -e ".[fast,test,bench,ray]"
  echo "$want" > "$stamp"
fi
