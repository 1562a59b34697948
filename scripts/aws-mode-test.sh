#!/usr/bin/env bash
# `PARLEY_MODE=aws` end to end: the `parley` server on DynamoDB, S3 and Cognito of the
# local AWS emulator (started here), with users the emulator's Cognito really signs in.
# Usage: scripts/aws-mode-test.sh path/to/parley
set -euo pipefail
bin=${1:?usage: aws-mode-test.sh path/to/parley}
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${AWS_ENDPOINT_URL:-}" ]; then
  exec "$here/aws-emulator.sh" "$0" "$bin"
fi
python="$("$here/venv.sh")/bin/python"
eval "$("$bin" bootstrap)"
export PARLEY_TABLE PARLEY_BUCKET COGNITO_USER_POOL_ID COGNITO_CLIENT_ID
port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp)
# A short user-status cache, so that the console actions below take effect in seconds.
ttl=2
PARLEY_MODE=aws PORT=$port PARLEY_PUBLIC_URL="http://127.0.0.1:$port" PARLEY_USER_STATUS_TTL_SECONDS=$ttl \
  PARLEY_GUEST_KEY=$(head -c 32 /dev/urandom | base64 | tr -d '\n') "$bin" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
P=http://127.0.0.1:$port
for _ in $(seq 100); do curl -sf "$P/health" >/dev/null && break; sleep 0.1; done
fail() { echo "aws-mode: FAILED: $1"; echo "--- server log"; cat "$log"; exit 1; }

ALICE=$("$python" "$here/emulator-user.py" alice@example.com)
BOB=$("$python" "$here/emulator-user.py" bob@example.com)
BOT=$(curl -s -X POST "$P/create-chat" -H "authorization: Bearer $ALICE" -H 'content-type: application/json' \
  -d '{"title":"Cloud bot","systemPrompt":"Be brief."}')
CODE=$(jq -r .shareableUrl <<<"$BOT" | sed 's|.*/s/||')
[ -n "$CODE" ] && [ "$CODE" != null ] || fail "no bot: $BOT"
SESSION=$(curl -s -X POST "$P/chat-session" -H 'content-type: application/json' -d "{\"shareCode\":\"$CODE\"}")
SID=$(jq -r .sessionId <<<"$SESSION"); GUEST=$(jq -r .guestToken <<<"$SESSION")
REPLY=$(curl -s -X POST "$P/session-message" -H "authorization: Bearer $GUEST" -H 'content-type: application/json' \
  -d "{\"sessionId\":\"$SID\",\"message\":\"Hello from the cloud path\"}")
grep -q 'offline model' <<<"$REPLY" || fail "no reply: $REPLY"
COUNT=$(curl -s "$P/session/$SID/messages" -H "authorization: Bearer $GUEST" | jq '.messages | length')
[ "$COUNT" = 2 ] || fail "history has $COUNT messages"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' "$P/session/$SID" -H "authorization: Bearer $BOB")
[ "$STATUS" = 404 ] || fail "bob got $STATUS for the guest's session"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' "$P/chat-configs" -H "authorization: Bearer not-a-token")
[ "$STATUS" = 401 ] || fail "a bad token got $STATUS"
# Console actions are honoured as auth-check honours them: a disabled user and a signed-out
# access token are refused (401) within the user-status cache's TTL.
refused_within_ttl() { # TOKEN WHAT: polls until 401, failing after the TTL (plus a second)
  local deadline=$(( $(date +%s%N) / 1000000 + ttl * 1000 + 1000 )) status
  while :; do
    status=$(curl -s -o /dev/null -w '%{http_code}' "$P/chat-configs" -H "authorization: Bearer $1")
    [ "$status" = 401 ] && return 0
    [ "$status" = 200 ] || fail "$2 got $status"
    [ $(( $(date +%s%N) / 1000000 )) -lt "$deadline" ] || fail "$2 still served after ${ttl}s"
    sleep 0.1
  done
}
CAROL=$("$python" "$here/emulator-user.py" carol@example.com)
STATUS=$(curl -s -o /dev/null -w '%{http_code}' "$P/chat-configs" -H "authorization: Bearer $CAROL")
[ "$STATUS" = 200 ] || fail "carol got $STATUS before she was disabled"
"$python" "$here/emulator-user.py" --disable carol@example.com
refused_within_ttl "$CAROL" "the ID token of a disabled user"
DAVE=$("$python" "$here/emulator-user.py" --access dave@example.com)
STATUS=$(curl -s -o /dev/null -w '%{http_code}' "$P/chat-configs" -H "authorization: Bearer $DAVE")
[ "$STATUS" = 200 ] || fail "dave's access token got $STATUS before he signed out"
"$python" "$here/emulator-user.py" --sign-out "$DAVE"
refused_within_ttl "$DAVE" "an access token after GlobalSignOut"
# A guest token is good on its own session's routes only, with the same answers locally.
STATUS=$(curl -s -o /dev/null -w '%{http_code}' "$P/chat-configs" -H "authorization: Bearer $GUEST")
[ "$STATUS" = 401 ] || fail "a guest token got $STATUS off its session"
# The emulator stopped mid-test: a problem+json 503 and no crash; back once it returns.
kill "$PARLEY_EMULATOR_PID"
for _ in $(seq 100); do curl -s -o /dev/null "$AWS_ENDPOINT_URL/moto-api/" || break; sleep 0.1; done
OUT=$(curl -s -D - "$P/share/$CODE")
grep -q '^HTTP/1.1 503' <<<"$OUT" || fail "no 503 while the emulator is down: $OUT"
grep -qi '^content-type: application/problem+json' <<<"$OUT" || fail "the 503 is not problem+json"
grep -q '"code":"service_unavailable"' <<<"$OUT" || fail "the 503 has no stable code"
kill -0 "$pid" || fail "the server died with the emulator"
"$PARLEY_EMULATOR_BIN" -H 127.0.0.1 -p "$PARLEY_EMULATOR_PORT" >/dev/null 2>&1 &
epid=$!
trap 'kill "$pid" "$epid" 2>/dev/null || true; wait "$pid" "$epid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "$AWS_ENDPOINT_URL/moto-api/" && break; sleep 0.1; done
env -u COGNITO_USER_POOL_ID -u COGNITO_CLIENT_ID "$bin" bootstrap >/dev/null
# The emulator keeps nothing across restarts: the bot is gone, but the store answers.
STATUS=$(curl -s -o /dev/null -w '%{http_code}' "$P/share/$CODE")
[ "$STATUS" = 404 ] || fail "after the emulator came back the API answered $STATUS"
echo "aws-mode: 1 passed, 0 failed"
