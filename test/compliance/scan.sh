#!/usr/bin/env bash
# Synthesizes the compliance stacks and scans their templates with cfn-lint and
# checkov, at the versions pinned in requirements.txt and constraints.txt,
# installed into test/compliance/.venv (made here, and remade when the pins
# change). Fails on any finding that skipped-checks.yaml does not accept.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"
out="$here/cdk.out"

pins="$(cat "$here/requirements.txt" "$here/constraints.txt" | sha256sum | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.pins" 2>/dev/null)" != "$pins" ]; then
  rm -rf "$venv"
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$here/requirements.txt" -c "$here/constraints.txt"
  echo "$pins" > "$venv/.pins"
fi

cd "$root"
npx ts-node --transpile-only --project tsconfig.dev.json test/compliance/synth.ts "$out"
PATH="$venv/bin:$PATH" "$venv/bin/python" "$here/scan.py" --templates "$out" --skips "$here/skipped-checks.yaml"
