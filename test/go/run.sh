#!/usr/bin/env bash
# Builds and runs the Go consumer against the package that
# `npx projen package:go` generates into dist/go (see the replace in go.mod).
# Extra arguments go to `go test`. go.sum pins the dependencies; after the
# generated package's requirements change, run `go mod tidy` here.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -f ../../dist/go/cdklifecyclecommandhook/go.mod ]; then
  echo "test/go: no package in dist/go; run 'npx projen package:go' (or 'npx projen build') first." >&2
  exit 1
fi
go vet ./...
exec go test -count=1 "$@" ./...
