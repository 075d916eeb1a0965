#!/usr/bin/env bash
# Builds the web app into apps/web/dist when its sources (or the shared package) changed
# since the last build. Used by `npm start` and by the end-to-end suite's server.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

web_is_stale() {
  [[ ! -f apps/web/dist/index.html ]] ||
    [[ -n "$(find apps/web/src apps/web/index.html apps/web/vite.config.ts apps/web/package.json packages/shared/src -newer apps/web/dist/index.html -print -quit)" ]]
}
if web_is_stale; then
  echo "build-web: building the web app (apps/web/dist)"
  pnpm --filter @loom/web build --logLevel warn
fi
