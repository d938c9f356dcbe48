#!/usr/bin/env bash
# Acknowledged-durable edits/s of our server on sled and on PostgreSQL, same workload, same
# sitting (issue #10): the release server pinned to core 0 (PostgreSQL too), the Rust load
# generator (kooperacja-load) on core 1. A throwaway PostgreSQL cluster on loopback.
#
#   bench/pg-vs-sled.sh [CLIENTS DOCS EDITS] [ROUNDS]     (default 10 10 50, 3 rounds)
set -euo pipefail
# The generator opens every socket with one device token: no per-device or per-user cap here.
export KOOPERACJA_MAX_CONNECTIONS_PER_DEVICE=1000000 KOOPERACJA_MAX_CONNECTIONS_PER_USER=1000000
ROOT=$(cd "$(dirname "$0")/.." && pwd)
C=${1:-10}; D=${2:-10}; E=${3:-50}; ROUNDS=${4:-3}
cd "$ROOT"
# CARGO and CARGO_TARGET_DIR may name another cargo (a wrapper) and a shared target directory.
${CARGO:-cargo} build --release -q -p kooperacja-server -p kooperacja-tests
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET/release/kooperacja-server
LOAD=$TARGET/release/kooperacja-load
WORK=$(mktemp -d)
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PG_PORT=55431
if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$WORK"; AS_PG="runuser -u postgres --"; else AS_PG=""; fi
$AS_PG "$PG_BIN/initdb" -D "$WORK/pg" -A trust -U postgres >/dev/null
$AS_PG taskset -c 0 "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w \
  -o "-p $PG_PORT -k $WORK -c listen_addresses=127.0.0.1" start >/dev/null
trap '$AS_PG "$PG_BIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true; kill $(jobs -p) 2>/dev/null || true' EXIT
URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"

run() { # store-name round [--store URL]
  local name=$1 round=$2; shift 2
  local data="$WORK/$name-$round" port=$((30000 + RANDOM % 20000))
  local store_args=("$@")
  if [ "$name" = pg ]; then
    psql -q "$URL" -c "DROP SCHEMA public CASCADE; CREATE SCHEMA public;" >/dev/null
  fi
  "$BIN" admin --data-dir "$data" "${store_args[@]}" user add --login bench --name Bench --role social-worker >/dev/null
  local token
  token=$("$BIN" admin --data-dir "$data" "${store_args[@]}" device enroll --user bench | sed 's/.*"token":"\([^"]*\)".*/\1/')
  taskset -c 0 "$BIN" serve --insecure-http --allow-untyped-documents --listen "127.0.0.1:$port" \
    --data-dir "$data" "${store_args[@]}" >"$data.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 200); do grep -q '"ready"' "$data.log" 2>/dev/null && break; sleep 0.05; done
  local pg_before; pg_before=$(pg_cpu)
  local line
  line=$(taskset -c 1 "$LOAD" "ws://127.0.0.1:$port/sync" --token "$token" --clients "$C" --docs "$D" \
    --edits "$E" --server-pid "$pid" --json "$WORK/$name-$round.json" --quiet 2>/dev/null | tail -1 || true)
  local pg_after; pg_after=$(pg_cpu)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$name round $round: $line; postgres cpu $(python3 -c "print(round($pg_after - $pg_before, 2))") s"
}
# CPU seconds of every process of the postgres user (the cluster's backends).
pg_cpu() {
  python3 - <<'PY'
import os
tick = os.sysconf("SC_CLK_TCK"); total = 0
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    try:
        if os.stat(f"/proc/{pid}").st_uid != int(os.popen('id -u postgres').read() or 0):
            continue
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        total += (int(f[11]) + int(f[12])) / tick
    except OSError:
        pass
print(round(total, 2))
PY
}
for round in $(seq 1 "$ROUNDS"); do
  run sled "$round"
  run pg "$round" --store "$URL"
done
