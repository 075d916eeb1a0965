#!/usr/bin/env bash
# The server the journeys run against (Playwright's `webServer`): the built web app and the
# server bundle, exactly what `npm start` runs, on 127.0.0.1:$E2E_PORT with a fresh SQLite
# file in a temporary folder that is removed when the server stops.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/build-web.sh
pnpm --filter @loom/server build >/dev/null

data="$(mktemp -d -t loom-e2e-XXXXXX)"
server=""
stop() {
  [[ -n "$server" ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$data"
}
trap stop EXIT
trap 'exit 143' INT TERM

PORT="${E2E_PORT:?E2E_PORT is set by e2e/playwright.config.ts}" HOST=127.0.0.1 DATABASE_URL="$data/loom.db" LOG_LEVEL=warn \
  node --enable-source-maps apps/server/dist/main.js &
server=$!
wait "$server"
