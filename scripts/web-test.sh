#!/usr/bin/env bash
# The web app's checks: lint, types, unit tests, the API types current with
# docs/openapi.json, then the browser journeys in Chromium against a real `parley`
# (the binary given as $1) serving the freshly built app.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
parley="${1:?usage: web-test.sh PATH_TO_PARLEY}"
"$root/scripts/web-build.sh" --install-only
cd "$root/web"

echo "web: lint"
npx biome check --error-on-warnings src e2e
echo "web: tsc --noEmit"
npx tsc --noEmit
echo "web: vitest"
npx vitest run --reporter=dot
echo "web: API types current with docs/openapi.json"
fresh=$(mktemp --suffix=.d.ts)
trap 'rm -f "$fresh"' EXIT
npx openapi-typescript ../docs/openapi.json -o "$fresh" >/dev/null 2>&1
if ! diff -q "$fresh" src/api/schema.d.ts >/dev/null; then
  echo "web/src/api/schema.d.ts is stale: run \`npm run api-types\` in web/" >&2
  diff -u src/api/schema.d.ts "$fresh" | head -40 >&2
  exit 1
fi
"$root/scripts/web-build.sh"
echo "web: playwright"
PARLEY_BIN="$parley" PARLEY_WEB_DIR="$root/web/dist" npx playwright test
