#!/usr/bin/env bash
# Runs the README's quick start word for word against a freshly started local server
# (on a free port, with a throwaway data directory) and checks what it prints.
set -euo pipefail
bin=${1:?usage: quickstart-test.sh path/to/parley}
root=$(cd "$(dirname "$0")/.." && pwd)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
data=$(mktemp -d)
log=$(mktemp)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data" "$log"' EXIT

PORT=$port PARLEY_DATA_DIR=$data "$bin" >"$log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  sleep 0.1
done

# The block between the markers, with the port this run uses.
script=$(sed -n '/<!-- quickstart:begin -->/,/<!-- quickstart:end -->/p' "$root/README.md" \
  | sed '1,2d;$d' | sed '$d' | sed "s/8787/$port/g")
out=$(bash -euo pipefail -c "$script")
echo "$out"

fail() { echo "quickstart: FAILED: $1"; echo "--- server log"; cat "$log"; exit 1; }
grep -q '"chatConfigId"' <<<"$out" || fail "no bot was created"
grep -q 'offline model' <<<"$out" || fail "no reply from the offline model"
grep -q '"role":"assistant"' <<<"$out" || fail "the history has no reply"
[ "$(grep -c '^event: delta' <<<"$out")" -ge 5 ] || fail "the streamed reply did not come in pieces"
grep -q '^event: done' <<<"$out" || fail "the streamed reply did not end with done"
# The pieces arrive one after another, not all at the end: the first delta comes well
# before the last (the offline model writes a word every 30 ms).
token=$(curl -s -X POST "http://127.0.0.1:$port/dev/sign-in" -H 'content-type: application/json' \
  -d '{"email":"stream@example.com"}' | jq -r .idToken)
bot=$(curl -s -X POST "http://127.0.0.1:$port/create-chat" -H "authorization: Bearer $token" \
  -H 'content-type: application/json' -d '{"title":"Streamer"}' | jq -r .chatConfigId)
session=$(curl -s -X POST "http://127.0.0.1:$port/chat-session" -H "authorization: Bearer $token" \
  -H 'content-type: application/json' -d "{\"chatConfigId\":\"$bot\"}" | jq -r .sessionId)
times=$(curl -sN -X POST "http://127.0.0.1:$port/session-message/stream" -H "authorization: Bearer $token" \
  -H 'content-type: application/json' -d "{\"sessionId\":\"$session\",\"message\":\"pieces\"}" \
  | while IFS= read -r line; do if [[ $line == "event: delta" ]]; then date +%s%3N; fi; done)
spread=$(( $(tail -n1 <<<"$times") - $(head -n1 <<<"$times") ))
[ "$spread" -ge 300 ] || fail "the deltas arrived within ${spread} ms: not streamed"
echo "quickstart: $(wc -l <<<"$times") deltas over ${spread} ms"
[ "$(tail -n1 <<<"$out")" = "404" ] || fail "bob did not get a 404 for the session"
grep -q 'route="/session-message"' "$log" || grep -q 'route=/session-message' "$log" || fail "no request log line"
# Ctrl-C stops the server cleanly: exit status 0 after its last words.
kill -INT "$pid"
status=0; wait "$pid" || status=$?
[ "$status" -eq 0 ] || fail "the server exited with $status on Ctrl-C"
grep -q 'stopped' "$log" || fail "the server did not say it stopped"
echo "quickstart: 1 passed, 0 failed"
