#!/usr/bin/env bash
# Builds the seven Lambda functions for provided.al2023 with cargo-lambda (zig as the
# linker, both from the project's venv) and prints each zip's size.
# Usage: scripts/package.sh [--arm64] [EXTRA_PACKAGE…]
# x86_64 by default; `--arm64` (Graviton) adds the aarch64 standard library with rustup
# first if it is missing. The functions are plain Rust with rustls, so both work.
# EXTRA_PACKAGE: more binary packages to zip alongside (`make bench` adds lambda-echo).
set -euo pipefail
cd "$(dirname "$0")/.."
arch=--x86-64
if [ "${1:-}" = "--arm64" ]; then
  arch=--arm64
  shift
  if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
    rustup target add aarch64-unknown-linux-gnu
  fi
fi
venv=$(scripts/venv.sh)
# cargo-lambda finds zig through `python3 -m ziglang`, so the venv goes first on PATH.
export PATH="$venv/bin:$PATH"
out=${PARLEY_PACKAGE_DIR:-${CARGO_TARGET_DIR:-target}/lambda}
functions=(create-chat chat-config chat-session chat-room session-message session-stream auth-check "$@")
args=()
for f in "${functions[@]}"; do args+=(--package "$f"); done
cargo lambda build --release "$arch" --output-format zip --lambda-dir "$out" "${args[@]}"
for f in "${functions[@]}"; do
  zip="$out/$f/bootstrap.zip"
  [ -f "$zip" ] || { echo "package: $zip is missing" >&2; exit 1; }
  printf '%-16s %8d bytes  %s\n' "$f" "$(stat -c %s "$zip")" "$zip"
done
