#!/usr/bin/env bash
# Side-by-side benchmark: our server against the official automerge-repo JS sync server
# (../shared/bench/ref-server.mjs), on the same workloads, driven by the same JS load generator
# (../shared/bench/load.mjs), each server pinned to core 0 and the generator to core 1.
#
#   bench/run.sh                 # the default workloads: 10/10/50 and 50/20/50
#   WORKLOADS="10:10:50" bench/run.sh
#
# Results (JSON per run and a summary table) go to $OUT (default: bench/results/<timestamp>).
# Everything binds to 127.0.0.1 only.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared/bench}
WORKLOADS=${WORKLOADS:-"10:10:50 50:20:50"}
OUT=${OUT:-$ROOT/bench/results/$(date -u +%Y%m%dT%H%M%SZ)}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
mkdir -p "$OUT"

echo "== preparing the JS reference and load generator (npm ci)" >&2
cp -r "$SHARED"/. "$WORK/js"
(cd "$WORK/js" && npm ci --no-audit --no-fund >/dev/null 2>&1)
echo "== building our server (release)" >&2
(cd "$ROOT" && cargo build --release -q -p kooperacja-server)
BIN=$ROOT/target/release/kooperacja-server

# Starts a command pinned to core 0 in the background; prints its pid once its JSON ready line
# (first stdout line) has appeared.
start_pinned() {
  local log=$1; shift
  taskset -c 0 "$@" >"$log" 2>"$log.err" &
  local pid=$!
  for _ in $(seq 1 200); do
    if grep -q '"ready"' "$log" 2>/dev/null; then echo "$pid"; return 0; fi
    sleep 0.05
  done
  echo "server did not start: $(cat "$log.err")" >&2
  return 1
}

load() {
  local url=$1 pid=$2 clients=$3 docs=$4 edits=$5 json=$6
  (cd "$WORK/js" && taskset -c 1 node load.mjs "$url" --clients "$clients" --docs "$docs" \
    --edits "$edits" --server-pid "$pid" --json "$json" --quiet) || true
}

for w in $WORKLOADS; do
  IFS=: read -r C D E <<<"$w"
  echo "== workload $C clients x $D docs x $E edits" >&2

  # The JS reference server (keep-alive 60 s so that slow rounds do not drop sockets).
  port=$((20000 + RANDOM % 20000))
  pid=$(start_pinned "$WORK/ref.log" node "$WORK/js/ref-server.mjs" --port "$port" --dir "$WORK/ref-$w" --keep-alive 60000)
  load "ws://127.0.0.1:$port" "$pid" "$C" "$D" "$E" "$OUT/ref-$C-$D-$E.json" >/dev/null 2>&1
  kill "$pid"; wait "$pid" 2>/dev/null || true

  # Ours: a user, a device token in the URL (as browsers pass it), plain HTTP on loopback.
  data="$WORK/ours-$w"
  "$BIN" admin --data-dir "$data" user add --login bench --name "Bench" --role social-worker >/dev/null
  token=$("$BIN" admin --data-dir "$data" device enroll --user bench | sed 's/.*"token":"\([^"]*\)".*/\1/')
  port=$((20000 + RANDOM % 20000))
  pid=$(start_pinned "$WORK/ours.log" "$BIN" serve --insecure-http --allow-untyped-documents \
    --listen "127.0.0.1:$port" --data-dir "$data")
  load "ws://127.0.0.1:$port/sync?token=$token" "$pid" "$C" "$D" "$E" "$OUT/ours-$C-$D-$E.json" >/dev/null 2>&1
  kill "$pid"; wait "$pid" 2>/dev/null || true
done

(cd "$WORK/js" && node summarize.mjs "$OUT"/*.json) | tee "$OUT/summary.txt"
