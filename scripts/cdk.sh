#!/usr/bin/env bash
# The CDK app in cdk/ (see docs/deploy.md).
# Usage: scripts/cdk.sh test|synth|deploy|destroy|bootstrap [CDK CLI ARGUMENTS…]
#   test       Biome, tsc, the template tests (cdk-nag and cfn-lint among them) and a
#              `cdk synth` of the CLI, all offline and without AWS credentials, against
#              placeholder zips (the template does not depend on the binaries).
#   synth      packages the seven functions for arm64 and builds the web app, then
#              `cdk synth` into cdk/cdk.out (offline, no credentials).
#   deploy     the same, then `cdk deploy` (needs AWS credentials and a bootstrapped account).
#   destroy    `cdk destroy`: the table, the bots bucket and the user pool are retained.
#   bootstrap  `cdk bootstrap`, once per account and region, before the first deploy.
# `npm ci` runs when cdk/package-lock.json changed or node_modules is missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/cdk"
command=${1:-}
[ $# -gt 0 ] && shift

if ! command -v node >/dev/null 2>&1 || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "cdk: Node.js 20.19 or newer (with npm) is needed" >&2
  exit 1
fi
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat node_modules/.parley-stamp 2>/dev/null)" != "$lock_hash" ]; then
  echo "cdk: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.parley-stamp
fi

# The CLI asks nothing of the network unless told: no notices (cdk.json), no telemetry.
export CDK_DISABLE_CLI_TELEMETRY=true
cdk=(npx --no-install cdk)

# Runs a command with no AWS credentials and every proxied request sent to a closed port,
# so that anything reaching for AWS or the network fails instead of passing by luck.
offline() {
  env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
    -u AWS_DEFAULT_PROFILE -u AWS_REGION -u AWS_DEFAULT_REGION \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
    HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9 \
    https_proxy=http://127.0.0.1:9 NO_PROXY= no_proxy= "$@"
}

# As the Makefile: package.sh writes to $CARGO_TARGET_DIR/lambda unless PARLEY_PACKAGE_DIR says.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/parley/target}
lambda_dir=${PARLEY_PACKAGE_DIR:-$CARGO_TARGET_DIR/lambda}

# Runs "$@" with `-c lambdaDir=… -c webDir=…` of placeholder files (removed on exit): the
# CLI synthesizes the app even to bootstrap or destroy, and the template's shape does not
# depend on the binaries.
placeholder_root=
out=
trap 'rm -rf ${placeholder_root:+"$placeholder_root"} ${out:+"$out"}' EXIT
with_placeholders() {
  local dirs
  dirs=$(node --import tsx test/synth.ts)
  placeholder_root=$(dirname "$(node -p 'JSON.parse(process.argv[1]).lambdaDir' "$dirs")")
  "$@" -c "lambdaDir=$placeholder_root/lambda" -c "webDir=$placeholder_root/web"
}

build() {
  "$root/scripts/package.sh" --arm64
  "$root/scripts/web-build.sh"
}

case "$command" in
  test)
    CFN_LINT="$("$root/scripts/venv.sh")/bin/cfn-lint"
    export CFN_LINT
    npx --no-install biome check --error-on-warnings bin lib test
    npx --no-install tsc --noEmit
    started=$(date +%s)
    offline node --import tsx --test --test-reporter=spec test/*.test.ts
    echo "cdk: template tests took $(($(date +%s) - started)) s"
    out=$(mktemp -d)
    started=$(date +%s)
    with_placeholders offline "${cdk[@]}" synth --quiet -o "$out"
    echo "cdk: cdk synth (offline, no credentials) took $(($(date +%s) - started)) s"
    ;;
  synth)
    build
    offline "${cdk[@]}" synth --quiet -c lambdaDir="$lambda_dir" "$@"
    echo "cdk: the template is cdk/cdk.out/Parley.template.json"
    ;;
  deploy)
    build
    "${cdk[@]}" deploy -c lambdaDir="$lambda_dir" --outputs-file cdk.out/outputs.json "$@"
    ;;
  destroy)
    with_placeholders "${cdk[@]}" destroy "$@"
    echo "cdk: retained, delete them yourself if you mean to: the DynamoDB table (turn its deletion"
    echo "     protection off first), the bots bucket and the Cognito user pool (same)."
    ;;
  bootstrap)
    with_placeholders "${cdk[@]}" bootstrap "$@"
    ;;
  *)
    echo "usage: scripts/cdk.sh test|synth|deploy|destroy|bootstrap [cdk arguments]" >&2
    exit 2
    ;;
esac
