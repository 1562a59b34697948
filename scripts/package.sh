#!/usr/bin/env bash
# Builds the seven Lambda functions for provided.al2023 on x86_64 with cargo-lambda (zig as
# the linker, both from the project's venv) and prints each zip's size.
# x86_64 because that is the Rust target this toolchain ships; the functions are plain
# Rust with rustls, so `--arm64` works as well where the aarch64 std is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(scripts/venv.sh)
# cargo-lambda finds zig through `python3 -m ziglang`, so the venv goes first on PATH.
export PATH="$venv/bin:$PATH"
out=${PARLEY_PACKAGE_DIR:-${CARGO_TARGET_DIR:-target}/lambda}
functions=(create-chat chat-config chat-session chat-room session-message session-stream auth-check)
args=()
for f in "${functions[@]}"; do args+=(--package "$f"); done
cargo lambda build --release --x86-64 --output-format zip --lambda-dir "$out" "${args[@]}"
for f in "${functions[@]}"; do
  zip="$out/$f/bootstrap.zip"
  [ -f "$zip" ] || { echo "package: $zip is missing" >&2; exit 1; }
  printf '%-16s %8d bytes  %s\n' "$f" "$(stat -c %s "$zip")" "$zip"
done
