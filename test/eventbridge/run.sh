#!/usr/bin/env bash
# Synthesizes the library's rules and writes the cases (write-cases.ts), then
# checks them with AWS's event-ruler in a Maven test. Extra arguments go to Maven.
set -euo pipefail
cd "$(dirname "$0")"
cases="$PWD/target/cases.json"
# Maven's clean would remove the cases: clean first, then write them.
rm -rf target
(cd ../.. && npx ts-node --project tsconfig.dev.json test/eventbridge/write-cases.ts "$cases")
exec mvn -B -q -Dcases.file="$cases" "$@" test
