#!/usr/bin/env bash
# The long kill -9 run of issue #9: the crash test (tests/tests/crash.rs) with many rounds,
# in release mode. Each round streams edits from three tablets, kills the real server binary
# with SIGKILL at a random edit, and restarts it on the same data dir; at the end a fresh
# tablet checks that every change the server had acknowledged is there.
#
#   scripts/crash-long.sh [ROUNDS]      (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-300}"
started=$(date +%s)
KOOPERACJA_CRASH_ROUNDS="$rounds" cargo test --release -p kooperacja-tests --test crash \
  -- --nocapture 2>&1 | grep -E "^crash:|test result|panicked|FAILED"
echo "took $(( $(date +%s) - started )) s"
