#!/usr/bin/env bash
# Fuzzes every target for SECONDS each (default 60), one after the other, on one CPU core.
#
#   fuzz/run.sh [SECONDS]
#
# Environment: TARGETS (space-separated, default all four), FUZZ_CPU (the core to pin to with
# taskset, default 1; empty to not pin), FUZZ_JOBS is not used: one process per target.
#
# New interesting inputs go to fuzz/work/<target>/ (not committed); fuzz/corpus/<target>/ (the
# committed seeds) is only read. Any crash, timeout, leak or out-of-memory artifact libFuzzer
# writes is copied to fuzz/regressions/<target>/, where sync-core/tests/fuzz_regressions.rs
# replays it in `cargo test`. Prints executions and executions per second per target; the
# whole log of each run is in fuzz/logs/<target>.log.
#
# cargo-fuzz needs nightly flags; on a stable toolchain RUSTC_BOOTSTRAP=1 enables them. The
# targets are built without AddressSanitizer (`-s none`): sync-core forbids unsafe code, what
# is looked for is panics, aborts, hangs and memory blow-ups, and ASan slowed the Automerge
# targets several times over.
set -euo pipefail

seconds="${1:-60}"
cd "$(dirname "$0")"
read -r -a targets <<<"${TARGETS:-frame_decode engine_input document_load presence_decode}"
cpu="${FUZZ_CPU-1}"
export RUSTC_BOOTSTRAP=1

pin=()
if [[ -n "$cpu" ]] && command -v taskset >/dev/null; then
    pin=(taskset -c "$cpu")
fi

"${pin[@]}" cargo fuzz build -O -s none
mkdir -p logs
found=0
summary=()
for target in "${targets[@]}"; do
    mkdir -p "work/$target" "artifacts/$target" "regressions/$target"
    log="logs/$target.log"
    marker="$(mktemp)"
    status=0
    "${pin[@]}" cargo fuzz run -O -s none "$target" "work/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        >"$log" 2>&1 || status=$?
    # libFuzzer's final statistics: `stat::number_of_executed_units: N`, or the `#N DONE` line.
    execs="$(awk '/^stat::number_of_executed_units:/ {n=$2} END {print n}' "$log")"
    if [[ -z "$execs" ]]; then
        execs="$(grep -Eo '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 | tr -dc '0-9')"
    fi
    rate="$(grep -Eo 'exec/s: [0-9]+' "$log" | tail -1 | tr -dc '0-9')"
    crashes=0
    while IFS= read -r -d '' artifact; do
        cp "$artifact" "regressions/$target/"
        crashes=$((crashes + 1))
    done < <(find "artifacts/$target" -type f -newer "$marker" -print0)
    rm -f "$marker"
    found=$((found + crashes))
    summary+=("$(printf '%-16s %12s executions %8s exec/s %3d artifacts (exit %d)' \
        "$target" "${execs:-?}" "${rate:-?}" "$crashes" "$status")")
done

printf '\nfuzzed each target for %ss\n' "$seconds"
printf '%s\n' "${summary[@]}"
if ((found > 0)); then
    echo "artifacts copied to fuzz/regressions/<target>/: reproduce with"
    echo "  RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/regressions/<target>/<file>"
    exit 1
fi
