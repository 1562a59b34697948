#!/usr/bin/env bash
# Builds the web app into web/dist for `parley` to serve: `npm ci` when package-lock.json
# changed or node_modules is missing, `vite build` when a source changed. Each step is
# skipped when a stamp holds the hash of what it last ran on. `--install-only` stops
# after `npm ci` (make test builds and checks by itself).
set -euo pipefail
cd "$(dirname "$0")/../web"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "web-build: Node.js 20.19 or newer (with npm) is needed to build the web app" >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "web-build: Node.js 20.19 or newer is needed, this is $(node --version)" >&2
  exit 1
fi

hash_of() { sha256sum "$@" | sha256sum | cut -d' ' -f1; }

lock_hash=$(hash_of package-lock.json)
if [ ! -d node_modules ] || [ "$(cat node_modules/.parley-stamp 2>/dev/null)" != "$lock_hash" ]; then
  echo "web-build: npm ci"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.parley-stamp
fi
[ "${1:-}" = "--install-only" ] && exit 0

mapfile -d '' sources < <(find src public index.html vite.config.ts tsconfig.json package-lock.json \
  -type f ! -name '*.test.ts' ! -name '*.test.tsx' -print0 | sort -z)
source_hash=$(hash_of "${sources[@]}")
if [ ! -f dist/index.html ] || [ "$(cat .build-stamp 2>/dev/null)" != "$source_hash" ]; then
  echo "web-build: vite build"
  npx vite build --logLevel warn
  echo "$source_hash" > .build-stamp
fi
