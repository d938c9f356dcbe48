#!/usr/bin/env bash
# The case app's benchmarks (issue #17) in one command: 200 realistic cases seeded on an
# in-process server, their first sync into Chromium and into a Rust tablet (and into a tablet
# when each case carries attachment entries), cold offline opens of the caseload, and typing
# into a 10,000-character note. Figures: docs/benchmarks.md.
#
#   bench/case-app.sh                      # defaults: 200 cases, 7 opens, 300 keystrokes
#   bench/case-app.sh --cases 50 --opens 3 # any of the example's flags
#   CPUS=0,1 bench/case-app.sh             # the cores it runs on (default: core 1 only)
#   CARGO=/work/cargo-wt CARGO_TARGET_DIR=/work/main/target bench/case-app.sh
#
# Everything (server, Node, Chromium) runs pinned to $CPUS: one core stands in for a modest
# tablet; during the offline opens and the typing the server is idle. Needs Node >= 20,
# web/node_modules and /usr/bin/chromium; web/dist is built here when missing (the server
# embeds it at compile time).
#
# Output: the example's lines, and its JSON line in $OUT (default bench/results/case-app-<time>.json).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CARGO=${CARGO:-cargo}
CPUS=${CPUS:-1}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=${OUT:-$ROOT/bench/results/case-app-$(date -u +%Y%m%dT%H%M%SZ).json}
cd "$ROOT"
if [ ! -f web/dist/app/index.html ]; then
  (cd web && npm ci --no-audit --no-fund && npm run build)
fi
"$CARGO" build --release -p kooperacja-tests --example case-app-bench
mkdir -p "$(dirname "$OUT")"
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
taskset -c "$CPUS" "$TARGET/release/examples/case-app-bench" "$@" 2>"$LOG.err" | tee "$LOG" || {
  tail -50 "$LOG.err" >&2
  exit 1
}
grep '^{"bench"' "$LOG" >"$OUT"
echo "saved: $OUT"
