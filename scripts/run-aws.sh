#!/usr/bin/env bash
# `PARLEY_MODE=aws make run`: the local server on the AWS adapters. With PARLEY_TABLE
# set it uses those resources (a real account, or an emulator you run); without it, it
# starts the local AWS emulator, bootstraps it and serves against it.
# Usage: scripts/run-aws.sh path/to/parley
set -euo pipefail
bin=${1:?usage: run-aws.sh path/to/parley}
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${PARLEY_TABLE:-}" ] && [ -z "${AWS_ENDPOINT_URL:-}" ]; then
  exec "$here/aws-emulator.sh" "$0" "$bin"
fi
if [ -z "${PARLEY_TABLE:-}" ]; then
  eval "$("$bin" bootstrap)"
  export PARLEY_TABLE PARLEY_BUCKET COGNITO_USER_POOL_ID COGNITO_CLIENT_ID
  echo "Emulator at $AWS_ENDPOINT_URL; sign in with:"
  echo "  env AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL COGNITO_USER_POOL_ID=$COGNITO_USER_POOL_ID COGNITO_CLIENT_ID=$COGNITO_CLIENT_ID AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=$AWS_REGION \\"
  echo "    $("$here/venv.sh")/bin/python $here/emulator-user.py alice@example.com"
fi
export PARLEY_MODE=aws
export PARLEY_PUBLIC_URL=${PARLEY_PUBLIC_URL:-http://127.0.0.1:${PORT:-8787}}
export PARLEY_GUEST_KEY=${PARLEY_GUEST_KEY:-$(head -c 32 /dev/urandom | base64 | tr -d '\n')}
"$bin"
