#!/usr/bin/env bash
# Runs the CLI the way the README shows it, through `pnpm flow`, on every example:
# validate, run with --json, replay the log, and check exit codes and outputs agree.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

declare -A inputs=(
  [hello]='{"name":"Ada"}'
  [support-triage]='{"subject":"Late order","body":"Where is my parcel?","orderId":"A-7"}'
  [retry-and-fallback]='{}'
  [parallel-report]='{"orders":[{"customer":"ana","amount":3},{"customer":"bo","amount":4}]}'
)

for name in hello support-triage retry-and-fallback parallel-report; do
  pnpm flow validate "examples/$name.json"
  pnpm flow run "examples/$name.json" --input "${inputs[$name]}" --json > "$tmp/$name.ndjson"
  # Every stdout line must be a run event; the last one says the run succeeded.
  node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8").trimEnd().split("\n");
    lines.forEach((l, i) => { const e = JSON.parse(l); if (e.v !== 1 || e.seq !== i + 1) throw new Error(`line ${i + 1} is not event ${i + 1}: ${l}`); });
    const last = JSON.parse(lines.at(-1));
    if (last.type !== "run.finished" || last.status !== "succeeded") throw new Error("run did not succeed: " + lines.at(-1));
  ' "$tmp/$name.ndjson"
  pnpm flow replay "$tmp/$name.ndjson" > "$tmp/$name.replay.txt"
  grep -q ': succeeded' "$tmp/$name.replay.txt"
  echo "ok: $name ($(wc -l < "$tmp/$name.ndjson") events, replayed)"
done

# A failing run exits 1; an invalid flow exits 2.
status=0
pnpm flow run packages/engine/src/replay/__fixtures__/failing-step.json --input '{"items":[1]}' > /dev/null || status=$?
[[ $status == 1 ]] || { echo "expected exit 1 for a failed run, got $status" >&2; exit 1; }
echo '{"version":1,"id":"x","name":"x","nodes":[{"id":"a","kind":"nope"}],"edges":[]}' > "$tmp/bad.json"
status=0
pnpm flow validate "$tmp/bad.json" 2> "$tmp/bad.err" || status=$?
[[ $status == 2 ]] || { echo "expected exit 2 for an invalid flow, got $status" >&2; exit 1; }
grep -q 'node "a" field kind: unknown node kind "nope"' "$tmp/bad.err"
echo "ok: exit codes 1 (failed run) and 2 (invalid flow)"
