#!/usr/bin/env bash
# Compiles and runs the Java consumer against the jar and pom that
# `npx projen package:java` writes to dist/java. Extra arguments go to Maven.
set -euo pipefail
cd "$(dirname "$0")"

library=../../dist/java/io/github/cdk-lifecycle-command-hook/cdk-lifecycle-command-hook
if [ ! -f "$library/maven-metadata.xml" ]; then
  echo "test/java: no library in dist/java; run 'npx projen package:java' (or 'npx projen build') first." >&2
  exit 1
fi
version=$(sed -n 's:.*<release>\(.*\)</release>.*:\1:p' "$library/maven-metadata.xml")

# The version stays the same between builds, so Maven would keep using a copy
# cached from an earlier build: install this build's jar and pom over it.
mvn -B -q org.apache.maven.plugins:maven-install-plugin:3.1.3:install-file \
  -Dfile="$library/$version/cdk-lifecycle-command-hook-$version.jar" \
  -DpomFile="$library/$version/cdk-lifecycle-command-hook-$version.pom"

echo "test/java: testing cdk-lifecycle-command-hook $version"
exec mvn -B -q -Dlibrary.version="$version" "$@" clean test
