#!/usr/bin/env bash
# Runs the CLI the way the README shows it, through `pnpm flow`, on every example:
# validate, run with --json, replay the log, and check exit codes and outputs agree.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Every example, run with the input of its first golden case (examples/<flow>.golden.json).
for flow in examples/*.json; do
  [[ $flow == *.golden.json ]] && continue
  name="$(basename "$flow" .json)"
  input="$(node -e 'console.log(JSON.stringify(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[0].input))' "examples/$name.golden.json")"
  pnpm flow validate "$flow"
  pnpm flow run "$flow" --input "$input" --json > "$tmp/$name.ndjson"
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
