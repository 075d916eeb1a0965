#!/usr/bin/env bash
# `npm start`: installs what is missing, then starts the server (PORT, default 3000).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
if ! command -v pnpm >/dev/null; then
  PATH="$(npm prefix --global)/bin:$PATH" # pnpm was just installed by setup.sh
fi
exec pnpm --filter @loom/server start
