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
vitest_report="$(mktemp)"
trap 'rm -f "$vitest_report"' EXIT
step "vitest" pnpm vitest --reporter=default --reporter=json --outputFile.json="$vitest_report"
tests_passed="$(node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(r.numPassedTests)' "$vitest_report")"
if [[ -f scripts/cli-smoke.sh ]]; then
  step "cli smoke" bash scripts/cli-smoke.sh
fi
if [[ -f bench/src/main.ts ]]; then
  step "bench smoke" pnpm bench --quick
fi

echo
echo "vitest: $tests_passed tests passed; checks: $passed steps passed"
# One line for CI: the vitest tests plus the other checks (each step but vitest counts one).
echo "$((tests_passed + passed - 1)) passed, 0 failed"
