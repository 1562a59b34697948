#!/usr/bin/env bash
# `make bench`: every figure of bench/REPORT.md, each measured in this run beside its
# reference, then the report, its chart (bench/latency.png) and the table on stdout.
#   - sends per second and p50/p99/max latency at 1, 16, 50 and 200 clients, JSON and
#     streamed, offline model, local server over loopback (crates/parley-local/benches/send.rs),
#     and the time a streamed reply's first delta adds over the provider's (stream.rs);
#   - the same sends from wrk, in a process of its own, against `parley` in another, with
#     an OpenAI stand-in that answers at once: issue 11's setup for the local store
#     (crates/parley-local/benches/wrk.rs), with the server's own CPU time per send;
#   - cold start and peak RSS of every function binary, as zipped, beside a bare
#     lambda_runtime echo built in the same cargo-lambda run (parley-runtime/benches/cold_start.rs);
#   - AWS requests per warm send by operation, counted at the local AWS emulator
#     (functions/session-message/tests/round_trips.rs);
#   - bytes written per message at message 1, 100 and 2,000, SQLite (benches/bytes.rs) and
#     DynamoDB (parley-aws/tests/long_conversation.rs), and a history page of 50;
#   - x86_64 and arm64 zip sizes (scripts/package.sh; arm64 adds the aarch64 std once).
# Usage: scripts/bench.sh [--smoke]
# --smoke (part of `make test`): tiny counts, debug builds, no packaging, report to a
# temporary directory: it proves the bench still runs, not how fast anything is.
set -euo pipefail
cd "$(dirname "$0")/.."
smoke=0
[ "${1:-}" = "--smoke" ] && smoke=1
venv=$(scripts/venv.sh)
target=${CARGO_TARGET_DIR:-$PWD/target}
functions=(create-chat chat-config chat-session chat-room session-message session-stream auth-check)
results=$(mktemp)
export PARLEY_BENCH_OUT=$results
started=$(date +%s)

if [ $smoke = 1 ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out" "$results"' EXIT
  export PARLEY_BENCH_LEVELS=1,4 PARLEY_BENCH_REQUESTS=40 PARLEY_BENCH_STREAMS=1
  export PARLEY_BENCH_STREAM_SENDS=2 PARLEY_BENCH_MESSAGES=120 PARLEY_BENCH_RUNS=1
  export PARLEY_BENCH_WRK_LEVELS=1,4 PARLEY_BENCH_WRK_SECONDS=1
  # Debug builds of what `make test` builds anyway; `cargo test --bench` runs a
  # harness-less bench once, in the test profile.
  run_bench() { cargo test --locked -q -p "$1" ${3:+--features "$3"} --bench "$2"; }
  args=()
  for f in "${functions[@]}" lambda-echo; do args+=(-p "$f"); done
  cargo build --locked -q "${args[@]}"
  bins="lambda-echo=$target/debug/lambda-echo"
  for f in "${functions[@]}"; do bins+=",$f=$target/debug/$f"; done
else
  out=bench
  # The raw figures are kept beside the report (bench/results.jsonl), also from a run cut short.
  trap 'cp "$results" "$out/results.jsonl"; rm -f "$results"' EXIT
  run_bench() { cargo bench --locked -q -p "$1" ${3:+--features "$3"} --bench "$2"; }
  sizes() { # arch, then package.sh's lines: name bytes bytes path
    while read -r name bytes _ _; do
      printf '{"kind":"zip","arch":"%s","function":"%s","bytes":%s}\n' "$1" "$name" "$bytes" >>"$results"
    done
  }
  echo "== packaging (cargo-lambda, release): x86_64"
  PARLEY_PACKAGE_DIR="$target/lambda-x86_64" scripts/package.sh lambda-echo | tee >(cat >&2) | sizes x86_64
  # Cold starts of the x86_64 binaries that were just zipped (this machine is x86_64).
  bins="lambda-echo=$target/x86_64-unknown-linux-gnu/release/lambda-echo"
  for f in "${functions[@]}"; do bins+=",$f=$target/x86_64-unknown-linux-gnu/release/$f"; done
fi

echo "== sends over loopback HTTP (JSON and streamed), and the streamed reply's first delta"
run_bench parley-local send
run_bench parley-local stream
echo "== the local store under wrk (parley and wrk in processes of their own)"
run_bench parley-local wrk
echo "== bytes per message (SQLite)"
run_bench parley-local bytes
echo "== cold starts"
PARLEY_BENCH_BINS=$bins run_bench parley-runtime cold_start testing
echo "== AWS requests per warm send, and bytes per message on DynamoDB (local AWS emulator)"
scripts/aws-emulator.sh cargo test --locked -q -p session-message --test round_trips
# 2,000 appends to the emulator: `make test` runs this test already, so the smoke run
# leaves it out.
[ $smoke = 1 ] || scripts/aws-emulator.sh cargo test --locked -q -p parley-aws --test long_conversation
if [ $smoke = 0 ]; then
  # Last, as the first run cross-builds every dependency for aarch64 (minutes).
  echo "== packaging (cargo-lambda, release): arm64"
  PARLEY_PACKAGE_DIR="$target/lambda-arm64" scripts/package.sh --arm64 lambda-echo | tee >(cat >&2) | sizes arm64
fi

"$venv/bin/python" scripts/bench_report.py "$results" "$out" "$(( $(date +%s) - started ))" $([ $smoke = 1 ] && echo --smoke)
