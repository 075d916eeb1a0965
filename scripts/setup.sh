#!/usr/bin/env bash
# Installs what the workspace needs. Idempotent; takes ~2 s when everything is installed.
# The first install compiles better-sqlite3 from source (~2 min on 2 cores).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CI="${CI:-true}" # no prompts

ensure_pnpm() {
  local version
  version="$(pnpm --version 2>/dev/null || true)"
  if [[ "$version" == 10.* ]]; then
    return
  fi
  echo "setup: installing pnpm@10 (found: ${version:-none})"
  npm install --global --no-fund --no-audit pnpm@10
  hash -r
  if ! command -v pnpm >/dev/null; then
    echo "setup: pnpm was installed but is not on PATH; add \"$(npm prefix --global)/bin\" to PATH" >&2
    exit 1
  fi
}

install_dependencies() {
  # pnpm-workspace.yaml sets `reporter: silent` (for `pnpm flow --json`): show install progress,
  # without cursor movements when the output goes to a CI log.
  local reporter=append-only
  [[ -t 1 ]] && reporter=default
  if [[ -f pnpm-lock.yaml ]]; then
    pnpm install --frozen-lockfile --reporter="$reporter"
  else
    pnpm install --reporter="$reporter"
  fi
}

ensure_pnpm
install_dependencies
# Debian packages: chromium (e2e), runsc and bubblewrap (sandboxes). Skipped with a note without root.
bash scripts/system-packages.sh
