#!/usr/bin/env bash
# The project's single test command (`npm test`). Works on a fresh clone: installs first.
# Stops at the first failing step. The last line is `N passed, 0 failed` (read by CI).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CI="${CI:-true}"

passed=0

step() {
  local name="$1"
  shift
  echo
  echo "==> [$((passed + 1))] $name"
  local started=$SECONDS status=0
  "$@" || status=$?
  if ((status != 0)); then
    echo >&2
    echo "FAILED: step '$name' (exit $status)" >&2
    echo "$passed passed, 1 failed"
    exit "$status"
  fi
  echo "--- $name ok ($((SECONDS - started)) s)"
  passed=$((passed + 1))
}

step "setup" bash scripts/setup.sh
if ! command -v pnpm >/dev/null; then
  PATH="$(npm prefix --global)/bin:$PATH" # pnpm was just installed by setup.sh
fi
step "typecheck" pnpm typecheck
step "depcheck" pnpm depcheck
step "depcheck self-test" node scripts/depcheck-selftest.mjs
step "vitest" pnpm vitest
if [[ -f scripts/cli-smoke.sh ]]; then
  step "cli smoke" bash scripts/cli-smoke.sh
fi
if [[ -f bench/src/main.ts ]]; then
  step "bench smoke" pnpm bench --quick
fi

echo
echo "$passed passed, 0 failed"
