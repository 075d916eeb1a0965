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
e2e_passed=0
if [[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]]; then
  e2e_report=e2e/artifacts/results.json
  rm -f "$e2e_report"
  step "e2e journeys (Chromium)" pnpm e2e
  e2e_passed="$(node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(r.stats.expected)' "$e2e_report")"
else
  echo
  echo "==> e2e journeys: SKIPPED: no Chromium at ${CHROMIUM_PATH:-/usr/bin/chromium} (scripts/system-packages.sh installs it when run as root)"
fi
if [[ -f bench/src/main.ts ]]; then
  step "bench smoke" pnpm bench --quick
fi

echo
echo "vitest: $tests_passed tests passed; e2e: $e2e_passed journeys passed; checks: $passed steps passed"
# One line for CI: the vitest tests and e2e journeys plus the other checks (each other step counts one).
e2e_steps=$((e2e_passed > 0 ? 1 : 0))
echo "$((tests_passed + e2e_passed + passed - 1 - e2e_steps)) passed, 0 failed"
