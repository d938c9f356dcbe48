#!/usr/bin/env bash
# Side-by-side benchmark: our server against the official automerge-repo JS sync server
# (../shared/bench/ref-server.mjs), on the same workloads, driven by the same JS load generator
# (../shared/bench/load.mjs), each server pinned to core 0 and the generator to core 1.
# Then the Rust load generator (kooperacja-load, issue #8) drives all three servers: ours, the
# JS reference and samod (samod-bench-server), pinned the same way.
#
#   bench/run.sh                 # the default workloads: 10/10/50 and 50/20/50
#   WORKLOADS="10:10:50" bench/run.sh
#   JS=0 bench/run.sh            # only the Rust generator's scenarios
#   RUST_WORKLOADS="10:10:50:0:3" SERVERS="ours samod" CONNECT_ONLY="" JS=0 bench/run.sh
#
# RUST_WORKLOADS (" " for none): clients:docs:edits:interval_ms:repeats[:s] (interval 0 = flat out; "s" spreads
# the clients' paced rounds over the interval instead of starting them together);
# SERVERS may also name ours-tls (ours over TLS with a pinned development certificate);
# CONNECT_ONLY: tablets:docs:edits:interval_ms against ours only ("" to skip).
# STORED: documents:reads:memory_budget_mb, the stored-documents scenario against ours ("" to skip).
# DURABLE: clients:docs:edits:batch..., acknowledged-durable changes/s against ours ("" to skip).
#
# Results (JSON per run and a summary table) go to $OUT (default: bench/results/<timestamp>).
# Everything binds to 127.0.0.1 only.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared/bench}
WORKLOADS=${WORKLOADS:-"10:10:50 50:20:50"}
JS=${JS:-1}
RUST_WORKLOADS=${RUST_WORKLOADS-"10:10:50:0:3 50:20:50:0:1 10:10:20:1000:3 10:10:20:1000:3:s"}
SERVERS=${SERVERS:-"ours ref samod"}
CONNECT_ONLY=${CONNECT_ONLY-"1000:20:3:20000"}
STORED=${STORED-"100000:20000:128"}
DURABLE=${DURABLE-"10:20:100:1 10:20:100:10 10:20:100:100"}
OUT=${OUT:-$ROOT/bench/results/$(date -u +%Y%m%dT%H%M%SZ)}
WORK=$(mktemp -d)
# Servers are started in command substitutions (not this shell's jobs): their pids are kept.
SERVER_PIDS=""
trap 'kill $(jobs -p) $SERVER_PIDS 2>/dev/null || true; rm -rf "$WORK"' EXIT
# The caller's server settings (KOOPERACJA_STORE, a memory budget...) must not leak into runs.
unset "${!KOOPERACJA_@}"
# The generator opens every socket with one device token: no per-device or per-user cap here.
export KOOPERACJA_MAX_CONNECTIONS_PER_DEVICE=1000000 KOOPERACJA_MAX_CONNECTIONS_PER_USER=1000000
mkdir -p "$OUT"

echo "== preparing the JS reference and load generator (npm ci)" >&2
cp -r "$SHARED"/. "$WORK/js"
(cd "$WORK/js" && npm ci --no-audit --no-fund >/dev/null 2>&1)
echo "== building our server, the Rust load generator and the samod server (release)" >&2
(cd "$ROOT" && cargo build --release -q -p kooperacja-server -p kooperacja-tests --bins)
# Copies, so that a build in the same tree during the runs cannot swap a binary.
mkdir -p "$WORK/bin"
cp "${CARGO_TARGET_DIR:-$ROOT/target}"/release/{kooperacja-server,kooperacja-load,samod-bench-server} "$WORK/bin/"
BIN=$WORK/bin/kooperacja-server
LOAD=$WORK/bin/kooperacja-load
SAMOD=$WORK/bin/samod-bench-server

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  # Not our child (see SERVER_PIDS): wait until it is gone before the next one starts.
  while kill -0 "$SERVER_PID" 2>/dev/null; do sleep 0.05; done
}

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

for w in $( [ "$JS" = 1 ] && echo "$WORKLOADS" ); do
  IFS=: read -r C D E <<<"$w"
  echo "== workload $C clients x $D docs x $E edits" >&2

  # The JS reference server (keep-alive 60 s so that slow rounds do not drop sockets).
  port=$((20000 + RANDOM % 20000))
  pid=$(start_pinned "$WORK/ref.log" node "$WORK/js/ref-server.mjs" --port "$port" --dir "$WORK/ref-$w" --keep-alive 60000)
  load "ws://127.0.0.1:$port" "$pid" "$C" "$D" "$E" "$OUT/ref-$C-$D-$E.json" >/dev/null 2>&1
  SERVER_PID=$pid stop_server

  # Ours: a user, a device token in the URL (as browsers pass it), plain HTTP on loopback.
  data="$WORK/ours-$w"
  "$BIN" admin --data-dir "$data" user add --login bench --name "Bench" --role social-worker >/dev/null
  token=$("$BIN" admin --data-dir "$data" device enroll --user bench | sed 's/.*"token":"\([^"]*\)".*/\1/')
  port=$((20000 + RANDOM % 20000))
  pid=$(start_pinned "$WORK/ours.log" "$BIN" serve --insecure-http --allow-untyped-documents \
    --listen "127.0.0.1:$port" --data-dir "$data")
  load "ws://127.0.0.1:$port/sync?token=$token" "$pid" "$C" "$D" "$E" "$OUT/ours-$C-$D-$E.json" >/dev/null 2>&1
  SERVER_PID=$pid stop_server
done

if [ "$JS" = 1 ]; then
  (cd "$WORK/js" && node summarize.mjs "$OUT"/ref-*.json "$OUT"/ours-*.json) | tee "$OUT/summary.txt"
fi

# ---- the Rust load generator against ours, the JS reference and samod

# Starts server $1 ("ours", "ref", "samod") pinned to core 0 with a fresh data directory; sets
# SERVER_PID, SERVER_URL and TOKEN.
start_server() {
  local name=$1 run=$2 port=$((20000 + RANDOM % 20000))
  TOKEN=""
  PIN=""
  case $name in
    ours)
      local data="$WORK/ours-$run"
      "$BIN" admin --data-dir "$data" user add --login bench --name "Bench" --role social-worker >/dev/null
      TOKEN=$("$BIN" admin --data-dir "$data" device enroll --user bench | sed 's/.*"token":"\([^"]*\)".*/\1/')
      SERVER_PID=$(start_pinned "$WORK/ours.log" "$BIN" serve --insecure-http --allow-untyped-documents \
        --listen "127.0.0.1:$port" --data-dir "$data" ${OURS_ARGS:-})
      SERVER_URL="ws://127.0.0.1:$port/sync" ;;
    ours-tls)
      # Ours over TLS: a development certificate made on start, pinned by the generator.
      local data="$WORK/ours-tls-$run"
      "$BIN" admin --data-dir "$data" user add --login bench --name "Bench" --role social-worker >/dev/null
      TOKEN=$("$BIN" admin --data-dir "$data" device enroll --user bench | sed 's/.*"token":"\([^"]*\)".*/\1/')
      SERVER_PID=$(start_pinned "$WORK/ours-tls.log" "$BIN" serve --dev-tls --allow-untyped-documents \
        --listen "127.0.0.1:$port" --data-dir "$data" ${OURS_ARGS:-})
      PIN=$(grep '"ready"' "$WORK/ours-tls.log" | sed 's/.*"fingerprint":"\([^"]*\)".*/\1/')
      SERVER_URL="wss://127.0.0.1:$port/sync" ;;
    ref)
      SERVER_PID=$(start_pinned "$WORK/ref.log" node "$WORK/js/ref-server.mjs" --port "$port" \
        --dir "$WORK/ref-$run" --keep-alive 60000)
      SERVER_URL="ws://127.0.0.1:$port" ;;
    samod)
      SERVER_PID=$(start_pinned "$WORK/samod.log" "$SAMOD" --port "$port" --dir "$WORK/samod-$run")
      SERVER_URL="ws://127.0.0.1:$port" ;;
  esac
  SERVER_PIDS="$SERVER_PIDS $SERVER_PID"
}


rust_load() {
  local json=$1; shift
  taskset -c 1 "$LOAD" "$SERVER_URL" --server-pid "$SERVER_PID" --json "$json" --quiet \
    --settle-timeout 180 --timeout 180 ${TOKEN:+--token "$TOKEN"} ${PIN:+--pin "$PIN"} "$@" \
    | tee -a "$OUT/rust-summary.txt" || true
}

for w in $RUST_WORKLOADS; do
  IFS=: read -r C D E I R S <<<"$w"
  for r in $(seq 1 "${R:-1}"); do
    for s in $SERVERS; do
      echo "== rust generator: $s, $C clients x $D docs x $E edits, interval $I ms $S, run $r" >&2
      start_server "$s" "$C-$D-$E-$I$S-$r"
      echo -n "$s run $r: " >>"$OUT/rust-summary.txt"
      rust_load "$OUT/rust-$s-$C-$D-$E-$I$S-$r.json" --clients "$C" --docs "$D" --edits "$E" --interval "$I" \
        ${S:+--stagger}
      stop_server
    done
  done
done

if [ -n "$CONNECT_ONLY" ]; then
  IFS=: read -r C D E I <<<"$CONNECT_ONLY"
  echo "== rust generator: ours, $C connected tablets x $D docs, $E edits every $I ms" >&2
  start_server ours "connect-$C"
  echo -n "ours connect-only: " >>"$OUT/rust-summary.txt"
  rust_load "$OUT/rust-connect-ours-$C-$D-$E-$I.json" --connect-only "$C" --docs "$D" --edits "$E" --interval "$I"
  stop_server
fi

for w in $DURABLE; do
  IFS=: read -r C D E B <<<"$w"
  for r in 1 2 3; do
    echo "== acknowledged-durable rate: ours, $C x $D x $E in frames of $B, run $r" >&2
    start_server ours "durable-$C-$D-$E-$B-$r"
    echo -n "ours durable run $r: " >>"$OUT/rust-summary.txt"
    rust_load "$OUT/durable-ours-$C-$D-$E-$B-$r.json" --durable-rate --clients "$C" --docs "$D" \
      --edits "$E" --batch "$B"
    stop_server
  done
done

if [ -n "$STORED" ]; then
  IFS=: read -r N READS BUDGET <<<"$STORED"
  echo "== stored documents: ours, $N documents, $READS random reads, budget $BUDGET MiB" >&2
  OURS_ARGS="--memory-budget-mb $BUDGET" start_server ours "stored-$N"
  echo -n "ours stored: " >>"$OUT/rust-summary.txt"
  rust_load "$OUT/stored-ours-$N-$READS-$BUDGET.json" --stored "$N" --reads "$READS"
  stop_server
fi

python3 "$ROOT/bench/rust_summary.py" "$OUT" | tee "$OUT/rust-table.md"
