#!/usr/bin/env bash
# Instructions per edit under callgrind (#23): each server in its own run of valgrind's callgrind
# (pinned to core 0), driven by a load generator's typing-only workload (core 1; GEN=rust, the
# default, or GEN=js for load.mjs) twice,
# with E1 and E2 edits per document; the difference of the two runs' instruction totals over the
# difference of their edits is the marginal cost of one edit: start-up, connecting, creating and
# fetching the documents cancel out.
#
#   bench/relay-callgrind.sh     # ours (relay off and on) and samod, 10×10×(10, 30), paced 1 edit/s/doc
#   SERVERS="ours-relay" CLIENTS=10 DOCS=10 E1=20 E2=40 INTERVAL=0 bench/relay-callgrind.sh
#
# Paced by default: under valgrind a server is some twenty times slower, and a flat-out run
# would measure how it batches a backlog no native run has.
#
# The JS reference is left out: valgrind cannot follow V8's generated code usefully. Results (the
# callgrind files, the generator's reports and a table) go to $OUT.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared/bench}
SERVERS=${SERVERS:-"ours ours-relay samod"}
CLIENTS=${CLIENTS:-10}
DOCS=${DOCS:-10}
E1=${E1:-10}
E2=${E2:-30}
INTERVAL=${INTERVAL:-1000}
GEN=${GEN:-rust}
OUT=${OUT:-$ROOT/bench/results/callgrind-$(date -u +%Y%m%dT%H%M%SZ)}
WORK=$(mktemp -d)
TYPING=1
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
mkdir -p "$OUT"
prepare
START_TRIES=2400

# The instruction total of a callgrind output file.
total() { awk '/^(summary|totals):/ { print $2; exit }' "$1"; }

echo "| server ($GEN generator, interval $INTERVAL ms) | instructions, ${CLIENTS}×${DOCS}×${E1} | ${CLIENTS}×${DOCS}×${E2} | per edit (difference) | relay counters (${E2}) |" >>"$OUT/table.md"
echo "| --- | --- | --- | --- | --- |" >>"$OUT/table.md"
for s in $SERVERS; do
  declare -A ir=()
  counters=""
  for e in "$E1" "$E2"; do
    echo "== callgrind: $s, ${CLIENTS}×${DOCS}×$e, typing only" >&2
    SERVER_WRAP="valgrind --tool=callgrind --callgrind-out-file=$OUT/cg-$GEN-$s-$e.out" start_server "$s" "cg-$e"
    "${GEN}_load" "$OUT/cg-$GEN-$s-$e.json" --clients "$CLIENTS" --docs "$DOCS" --edits "$e" --interval "$INTERVAL" \
      >/dev/null
    [ "$e" = "$E2" ] && counters=$(relay_counters)
    stop_server
    ir[$e]=$(total "$OUT/cg-$GEN-$s-$e.out")
  done
  edits=$((CLIENTS * DOCS * (E2 - E1)))
  per=$(python3 -c "print(f'{(${ir[$E2]} - ${ir[$E1]}) / $edits / 1e6:.3f} M')")
  echo "| $s | ${ir[$E1]} | ${ir[$E2]} | $per | ${counters:-—} |" >>"$OUT/table.md"
  unset ir
done
cat "$OUT/table.md"
