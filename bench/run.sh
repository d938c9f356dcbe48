#!/usr/bin/env bash
# Side-by-side benchmark: our server against the official automerge-repo JS sync server
# (../shared/bench/ref-server.mjs), on the same workloads, driven by the same JS load generator
# (../shared/bench/load.mjs), each server pinned to core 0 and the generator to core 1.
# Then the Rust load generator (kooperacja-load, issue #8) drives all three servers: ours, the
# JS reference and samod (samod-bench-server), pinned the same way.
#
#   bench/run.sh                 # the default workloads: 10/10/50 and 50/20/50
#   WORKLOADS="10:10:50" bench/run.sh
#   # the sitting of #23: typing only, ours with the relay path off and on beside ref and samod
#   TYPING=1 WORKLOADS="10:10:50:0:3 10:10:20:1000:3" JS_SERVERS="ours ours-relay ref samod" \
#     RUST_WORKLOADS="10:10:50:0:3 10:10:20:1000:3" SERVERS="ours ours-relay ref samod" \
#     CONNECT_ONLY="" STORED="" DURABLE="" bench/run.sh
#   JS=0 bench/run.sh            # only the Rust generator's scenarios
#   RUST_WORKLOADS="10:10:50:0:3" SERVERS="ours samod" CONNECT_ONLY="" JS=0 bench/run.sh
#
# WORKLOADS (the JS generator): clients:docs:edits[:interval_ms[:repeats]]; JS_SERVERS: which servers it drives.
# RUST_WORKLOADS (" " for none): clients:docs:edits:interval_ms:repeats[:s] (interval 0 = flat out; "s" spreads
# the clients' paced rounds over the interval instead of starting them together);
# SERVERS may also name ours-tls (ours over TLS with a pinned development certificate) and ours-relay
# (ours with `serve --relay`, #23); TYPING=1: the typing-only workload in both generators (#23).
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
JS_SERVERS=${JS_SERVERS:-"ref ours"}
RUST_WORKLOADS=${RUST_WORKLOADS-"10:10:50:0:3 50:20:50:0:1 10:10:20:1000:3 10:10:20:1000:3:s"}
SERVERS=${SERVERS:-"ours ref samod"}
CONNECT_ONLY=${CONNECT_ONLY-"1000:20:3:20000"}
STORED=${STORED-"100000:20000:128"}
DURABLE=${DURABLE-"10:20:100:1 10:20:100:10 10:20:100:100"}
OUT=${OUT:-$ROOT/bench/results/$(date -u +%Y%m%dT%H%M%SZ)}
WORK=$(mktemp -d)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
mkdir -p "$OUT"
prepare

for w in $( [ "$JS" = 1 ] && echo "$WORKLOADS" ); do
  IFS=: read -r C D E I R <<<"$w"
  for r in $(seq 1 "${R:-1}"); do
    for s in $JS_SERVERS; do
      echo "== JS generator: $s, $C clients x $D docs x $E edits, interval ${I:-0} ms, run $r" >&2
      start_server "$s" "js-$C-$D-$E-${I:-0}-$r"
      js_load "$OUT/js-$s-$C-$D-$E-${I:-0}-$r.json" --clients "$C" --docs "$D" --edits "$E" --interval "${I:-0}"
      echo "js $s $C:$D:$E:${I:-0} run $r: $(relay_counters)" >>"$OUT/relay-counters.txt"
      stop_server
    done
  done
done

if [ "$JS" = 1 ]; then
  (cd "$WORK/js" && node summarize.mjs "$OUT"/js-*.json) | tee "$OUT/summary.txt"
fi

# ---- the Rust load generator against ours, the JS reference and samod

for w in $RUST_WORKLOADS; do
  IFS=: read -r C D E I R S <<<"$w"
  for r in $(seq 1 "${R:-1}"); do
    for s in $SERVERS; do
      echo "== rust generator: $s, $C clients x $D docs x $E edits, interval $I ms $S, run $r" >&2
      start_server "$s" "$C-$D-$E-$I$S-$r"
      echo -n "$s run $r: " >>"$OUT/rust-summary.txt"
      rust_load "$OUT/rust-$s-$C-$D-$E-$I$S-$r.json" --clients "$C" --docs "$D" --edits "$E" --interval "$I" \
        ${S:+--stagger}
      echo "rust $s $C:$D:$E:$I$S run $r: $(relay_counters)" >>"$OUT/relay-counters.txt"
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

python3 "$ROOT/bench/summary.py" "$OUT" | tee "$OUT/table.md"
