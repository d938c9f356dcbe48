# Shared by bench/run.sh and bench/relay.sh (sourced, not run): preparing the servers and load
# generators, and starting each server pinned to core 0 with a fresh data directory.
#
# The caller sets ROOT (the repository), SHARED (../shared/bench), WORK (a temporary directory)
# and, for typing-only runs (#23), TYPING=1.

# Servers are started in command substitutions (not the caller's jobs): their pids are kept.
SERVER_PIDS=""
# Every server and the temporary directory go when the caller exits.
trap 'kill $(jobs -p) $SERVER_PIDS 2>/dev/null || true; rm -rf "$WORK"' EXIT
# The caller's server settings (KOOPERACJA_STORE, a memory budget...) must not leak into runs.
unset "${!KOOPERACJA_@}"
# The generators open every socket with one device token: no per-device or per-user cap here.
export KOOPERACJA_MAX_CONNECTIONS_PER_DEVICE=1000000 KOOPERACJA_MAX_CONNECTIONS_PER_USER=1000000

# Copies the JS reference and load generator into $WORK/js (with TYPING=1, patched with
# bench/load-typing.patch: the `--typing` workload) and builds ours, kooperacja-load and samod;
# sets BIN, LOAD and SAMOD to copies of the binaries, so that a build in the same tree during
# the runs cannot swap one.
prepare() {
  echo "== preparing the JS reference and load generator (npm ci)" >&2
  cp -r "$SHARED"/. "$WORK/js"
  if [ "${TYPING:-0}" = 1 ]; then
    patch -s -d "$WORK/js" -p1 <"$ROOT/bench/load-typing.patch"
  fi
  (cd "$WORK/js" && npm ci --no-audit --no-fund >/dev/null 2>&1)
  echo "== building our server, the Rust load generator and the samod server (release)" >&2
  (cd "$ROOT" && cargo build --release -q -p kooperacja-server -p kooperacja-tests --bins)
  mkdir -p "$WORK/bin"
  cp "${CARGO_TARGET_DIR:-$ROOT/target}"/release/{kooperacja-server,kooperacja-load,samod-bench-server} "$WORK/bin/"
  BIN=$WORK/bin/kooperacja-server
  LOAD=$WORK/bin/kooperacja-load
  SAMOD=$WORK/bin/samod-bench-server
}

# Stops $SERVER_PID and waits until it is gone (not our child: see SERVER_PIDS).
stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  while kill -0 "$SERVER_PID" 2>/dev/null; do sleep 0.05; done
}

# Starts a command pinned to core 0 in the background; prints its pid once its JSON ready line
# (first stdout line) has appeared (within START_TRIES × 50 ms). SERVER_WRAP (e.g. valgrind and
# its options) runs the command under another program.
start_pinned() {
  local log=$1; shift
  # shellcheck disable=SC2086 # SERVER_WRAP is a list of arguments
  taskset -c 0 ${SERVER_WRAP:-} "$@" >"$log" 2>"$log.err" &
  local pid=$!
  for _ in $(seq 1 "${START_TRIES:-200}"); do
    if grep -q '"ready"' "$log" 2>/dev/null; then echo "$pid"; return 0; fi
    sleep 0.05
  done
  echo "server did not start: $(cat "$log.err")" >&2
  return 1
}

# Starts server $1 pinned to core 0 with a fresh data directory named after $2; sets SERVER_PID,
# SERVER_URL (the WebSocket URL without a token), TOKEN, PIN (ours over TLS) and, for ours,
# METRICS_URL (/metrics on a listener of its own, read with `relay_counters`).
#   ours        our server, plain HTTP on loopback, untyped documents allowed, $OURS_ARGS
#   ours-relay  the same with the relay path on (`serve --relay`, #23)
#   ours-tls    ours over TLS with a development certificate (pinned by the generator)
#   ref         the JS reference (keep-alive 60 s so that slow rounds do not drop sockets)
#   samod       samod-bench-server
start_server() {
  local name=$1 run=$2 port=$((20000 + RANDOM % 20000))
  TOKEN=""
  PIN=""
  METRICS_URL=""
  case $name in
    ours | ours-relay | ours-tls)
      local data="$WORK/$name-$run" extra="" tls="--insecure-http"
      [ "$name" = ours-relay ] && extra="--relay"
      [ "$name" = ours-tls ] && tls="--dev-tls"
      "$BIN" admin --data-dir "$data" user add --login bench --name "Bench" --role social-worker >/dev/null
      TOKEN=$("$BIN" admin --data-dir "$data" device enroll --user bench | sed 's/.*"token":"\([^"]*\)".*/\1/')
      # shellcheck disable=SC2086 # OURS_ARGS is a list of arguments
      SERVER_PID=$(start_pinned "$WORK/$name.log" "$BIN" serve $tls --allow-untyped-documents \
        --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$((port + 1))" --data-dir "$data" \
        $extra ${OURS_ARGS:-})
      METRICS_URL="http://127.0.0.1:$((port + 1))/metrics"
      if [ "$name" = ours-tls ]; then
        PIN=$(grep '"ready"' "$WORK/ours-tls.log" | sed 's/.*"fingerprint":"\([^"]*\)".*/\1/')
        SERVER_URL="wss://127.0.0.1:$port/sync"
      else
        SERVER_URL="ws://127.0.0.1:$port/sync"
      fi ;;
    ref)
      SERVER_PID=$(start_pinned "$WORK/ref.log" node "$WORK/js/ref-server.mjs" --port "$port" \
        --dir "$WORK/ref-$run" --keep-alive 60000)
      SERVER_URL="ws://127.0.0.1:$port" ;;
    samod)
      SERVER_PID=$(start_pinned "$WORK/samod.log" "$SAMOD" --port "$port" --dir "$WORK/samod-$run")
      SERVER_URL="ws://127.0.0.1:$port" ;;
    *)
      echo "unknown server $name" >&2
      return 1 ;;
  esac
  SERVER_PIDS="$SERVER_PIDS $SERVER_PID"
}

# The JS load generator (pinned to core 1) against the started server: load.mjs passes a device
# token in the URL, as browsers do. Arguments: the JSON report's path, then load.mjs's options.
js_load() {
  local json=$1; shift
  local url=$SERVER_URL
  [ -n "$TOKEN" ] && url="$url?token=$TOKEN"
  local typing=""
  [ "${TYPING:-0}" = 1 ] && typing="--typing"
  # shellcheck disable=SC2086
  (cd "$WORK/js" && taskset -c 1 node load.mjs "$url" --server-pid "$SERVER_PID" --json "$json" --quiet \
    $typing "$@") >/dev/null 2>&1 || true
}

# The Rust load generator (pinned to core 1) against the started server; its one-line summary
# goes to $OUT/rust-summary.txt. Arguments: the JSON report's path, then kooperacja-load's options.
rust_load() {
  local json=$1; shift
  local typing=""
  [ "${TYPING:-0}" = 1 ] && typing="--typing"
  # shellcheck disable=SC2086
  taskset -c 1 "$LOAD" "$SERVER_URL" --server-pid "$SERVER_PID" --json "$json" --quiet \
    --settle-timeout 180 --timeout 180 ${TOKEN:+--token "$TOKEN"} ${PIN:+--pin "$PIN"} $typing "$@" \
    | tee -a "$OUT/rust-summary.txt" || true
}

# Ours: the relay path's counters (#23) at /metrics, as one line "relayed=… materialised=… …".
relay_counters() {
  [ -n "$METRICS_URL" ] || return 0
  curl -s "$METRICS_URL" | awk '
    /^kooperacja_relay_changes_total /          { r = $2 }
    /^kooperacja_materialised_changes_total /   { m = $2 }
    /^kooperacja_relay_batches_applied_total /  { b = $2 }
    /^kooperacja_relay_changes_applied_total /  { a = $2 }
    /^kooperacja_relay_applied_for_batch_total / { fb = $2 }
    /^kooperacja_relay_applied_for_peer_total /  { fp = $2 }
    /^kooperacja_relay_applied_for_compaction_total / { fc = $2 }
    /^kooperacja_relay_applied_for_read_total /  { fr = $2 }
    END { printf "relayed=%d materialised=%d batches_applied=%d (batch %d, peer %d, compaction %d, read %d) relayed_applied=%d\n",
          r, m, b, fb, fp, fc, fr, a }'
}
