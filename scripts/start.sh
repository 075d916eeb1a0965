#!/usr/bin/env bash
# `npm start`: installs what is missing, builds the web app when its sources changed, then
# starts the server (http://127.0.0.1:3000; PORT, HOST, DATABASE_URL… in apps/server/src/env.ts).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
if ! command -v pnpm >/dev/null; then
  PATH="$(npm prefix --global)/bin:$PATH" # pnpm was just installed by setup.sh
fi

web_is_stale() {
  [[ ! -f apps/web/dist/index.html ]] ||
    [[ -n "$(find apps/web/src apps/web/index.html apps/web/vite.config.ts apps/web/package.json packages/shared/src -newer apps/web/dist/index.html -print -quit)" ]]
}
if web_is_stale; then
  echo "start: building the web app (apps/web/dist)"
  pnpm --filter @loom/web build --logLevel warn
fi
exec pnpm --filter @loom/server start
