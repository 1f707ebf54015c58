#!/usr/bin/env bash
# Runs the Python tests against the wheel that `npx projen package:python`
# writes to dist/python, installed into a virtual environment of its own
# (test/python/.venv, created on first use) the way a Python user installs it.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
root=../..

wheel=$(ls -t "$root"/dist/python/cdk_lifecycle_command_hook-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
  echo "test/python: no wheel in dist/python; run 'npx projen package:python' (or 'npx projen build') first." >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  "${PYTHON:-python3}" -m venv .venv
fi
# The wheel's version stays the same between builds, so pip would keep an older
# build installed: remove it first, then install it with the pinned requirements.
.venv/bin/python -m pip uninstall -q -y cdk-lifecycle-command-hook >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q -r requirements.txt "$wheel"

echo "test/python: testing $(basename "$wheel")"
exec .venv/bin/python -m pytest "$@"
