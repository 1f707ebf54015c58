#!/usr/bin/env bash
# Compares what each integ test in test/integ synthesizes with its committed
# snapshot (integ.<name>.ts.snapshot/), offline: integ-runner diffs the
# templates, with asset hashes normalized, and deploys nothing without
# --update-on-failed or --force. Every AWS credential source is cut off all the
# same, so this check can never reach an account.
# Usage: check-snapshots.sh integ-runner [its arguments...] (the projen task
# test:integ passes the command line integ:deploy and integ:snapshot use).
set -uo pipefail
cd "$(dirname "$0")/../.."

env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
  -u AWS_CONTAINER_CREDENTIALS_RELATIVE_URI -u AWS_CONTAINER_CREDENTIALS_FULL_URI -u AWS_WEB_IDENTITY_TOKEN_FILE \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
  "$@"
status=$?
if [ "$status" -ne 0 ]; then
  cat >&2 <<'MESSAGE'

test/integ: an integ test's synthesized templates differ from its committed
snapshot (see the differences above), or it failed to synthesize. Nothing was
deployed. If the change is intended, refresh the snapshot and commit it:
  npx projen integ:deploy -- --profiles <profile> --parallel-regions <region>
    deploys the test, runs its assertions, destroys it, and writes the snapshot
    when they pass (the way to refresh it);
  npx projen integ:snapshot
    writes the snapshot without deploying, when no account is at hand (say so
    in the commit: the change has not been tried live).
MESSAGE
fi
exit "$status"
