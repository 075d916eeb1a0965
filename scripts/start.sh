#!/usr/bin/env bash
# `npm start`: installs what is missing, builds the web app when its sources changed, then
# starts the server (http://127.0.0.1:3000; PORT, HOST, DATABASE_URL… in apps/server/src/env.ts).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
if ! command -v pnpm >/dev/null; then
  PATH="$(npm prefix --global)/bin:$PATH" # pnpm was just installed by setup.sh
fi

bash scripts/build-web.sh
exec pnpm --filter @loom/server start
