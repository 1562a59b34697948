#!/usr/bin/env bash
# Starts moto's server on a free loopback port, runs the given command with
# AWS_ENDPOINT_URL (and test credentials) pointing at it, and stops it afterwards,
# whatever the command's outcome. Usage: scripts/aws-emulator.sh COMMAND [ARGS…]
set -euo pipefail
venv=$("$(dirname "$0")/venv.sh")
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp)
server="$(cd "$(dirname "$0")" && pwd)/moto-server"
"$server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do
  curl -s -o /dev/null "http://127.0.0.1:$port/moto-api/" && break
  kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "aws-emulator: moto did not start" >&2; exit 1; }
  sleep 0.1
done
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_REGION=${AWS_REGION:-us-east-1}
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
# The emulator's process id, so a test can stop and restart it (see parley-aws tests).
export PARLEY_EMULATOR_PID=$pid PARLEY_EMULATOR_PORT=$port PARLEY_EMULATOR_BIN="$server"
"$@"
