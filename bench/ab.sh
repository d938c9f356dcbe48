#!/usr/bin/env bash
# A/B: two builds of our server on the same workload, runs interleaved (A, B, A, B, ...) in one
# sitting, each server pinned to core 0 and the Rust load generator to core 1. For checking that a
# change (a refactor, encryption at rest) keeps the server's CPU per edit and latency.
#
#   bench/ab.sh BEFORE_SERVER AFTER_SERVER LOAD_GENERATOR [RUNS] [CLIENTS:DOCS:EDITS]
#   bench/ab.sh /tmp/before/kooperacja-server target/release/kooperacja-server \
#               target/release/kooperacja-load 5 10:10:50
#
# Prints one line per run and the medians of server CPU per edit and p50/p99 latency for each side.
# Binds to 127.0.0.1 only. Results (the generator's JSON per run) stay in $OUT (default: a temp dir).
set -euo pipefail
A=$(realpath "$1") B=$(realpath "$2") LOAD=$(realpath "$3")
RUNS=${4:-5}
IFS=: read -r C D E <<<"${5:-10:10:50}"
OUT=${OUT:-$(mktemp -d)}
WORK=$(mktemp -d)
PID=""
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
unset "${!KOOPERACJA_@}"
# The generator opens every socket with one device token: no per-device or per-user cap here.
export KOOPERACJA_MAX_CONNECTIONS_PER_DEVICE=1000000 KOOPERACJA_MAX_CONNECTIONS_PER_USER=1000000

run_one() {
  local side=$1 bin=$2 run=$3 data="$WORK/$1-$3" port=$((20000 + RANDOM % 20000))
  "$bin" admin --data-dir "$data" user add --login bench --name "Bench" --role social-worker >/dev/null
  local token
  token=$("$bin" admin --data-dir "$data" device enroll --user bench | sed 's/.*"token":"\([^"]*\)".*/\1/')
  taskset -c 0 "$bin" serve --insecure-http --allow-untyped-documents --listen "127.0.0.1:$port" \
    --data-dir "$data" >"$WORK/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 200); do grep -q '"ready"' "$WORK/server.log" && break; sleep 0.05; done
  taskset -c 1 "$LOAD" "ws://127.0.0.1:$port/sync" --server-pid "$PID" --token "$token" --quiet \
    --settle-timeout 180 --timeout 180 --clients "$C" --docs "$D" --edits "$E" --interval 0 \
    --json "$OUT/$side-$run.json" >/dev/null || true
  kill "$PID" 2>/dev/null || true
  while kill -0 "$PID" 2>/dev/null; do sleep 0.05; done
  python3 - "$OUT/$side-$run.json" "$side" "$run" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
e, l = r.get("edit", {}), r.get("latencyMs", {})
print(f"{sys.argv[2]} run {sys.argv[3]}: server CPU/edit {e.get('serverCpuMsPerEdit')} ms, "
      f"p50 {l.get('p50')} ms, p99 {l.get('p99')} ms, verified {r.get('verified')}")
PY
}

for run in $(seq 1 "$RUNS"); do
  run_one A "$A" "$run"
  run_one B "$B" "$run"
done

python3 - "$OUT" <<'PY'
import glob, json, os, statistics, sys
out = sys.argv[1]
med = {}
for side in ("A", "B"):
    rs = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(out, f"{side}-*.json")))]
    cpu = [r["edit"]["serverCpuMsPerEdit"] for r in rs if r.get("edit", {}).get("serverCpuMsPerEdit")]
    p50 = [r["latencyMs"]["p50"] for r in rs if r.get("latencyMs", {}).get("p50") is not None]
    p99 = [r["latencyMs"]["p99"] for r in rs if r.get("latencyMs", {}).get("p99") is not None]
    med[side] = statistics.median(cpu) if cpu else None
    print(f"{side}: median server CPU/edit {med[side]} ms (runs {sorted(cpu)}), "
          f"median p50 {statistics.median(p50) if p50 else None} ms, median p99 {statistics.median(p99) if p99 else None} ms")
if med["A"] and med["B"]:
    print(f"B/A server CPU per edit: {med['B'] / med['A']:.3f}")
PY
echo "JSON per run: $OUT"
