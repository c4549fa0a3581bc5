#!/usr/bin/env bash
# Runs the whole test suite (`pnpm test`) with two CPU-burning processes beside it, as on a busy
# 2-core machine: the suite's timeouts must hold there too (see "Reliability and security" in the
# README). The burners are stopped however the suite ends, and its exit status is this script's.
#
#   scripts/test-under-load.sh                 # pnpm test with 2 burners
#   TEST_LOAD_BURNERS=4 scripts/test-under-load.sh pnpm --filter @gorilla-ts/train test
set -euo pipefail
cd "$(dirname "$0")/.."

burners=()
stop_burners() {
  for pid in "${burners[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${burners[@]}"; do wait "$pid" 2>/dev/null || true; done
  burners=()
}
command_pid=
stop_all() {
  if [ -n "$command_pid" ]; then kill "$command_pid" 2>/dev/null || true; fi
  stop_burners
}
trap stop_burners EXIT
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM

count=${TEST_LOAD_BURNERS:-2}
for _ in $(seq 1 "$count"); do
  yes >/dev/null &
  burners+=("$!")
done
echo "test-under-load: ${count} CPU burners running (pids ${burners[*]})"

# TURBO_FORCE: run every task again; a cache hit would replay the results of an unloaded run
# (in .ci/run the suite has just passed without load, so every task would be a hit).
if [ "$#" -eq 0 ]; then set -- env TURBO_FORCE=true pnpm test; fi
# In the background, so that a signal to this script is handled at once (bash runs traps only
# between commands, and `wait` is interruptible).
"$@" &
command_pid=$!
status=0
wait "$command_pid" || status=$?
command_pid=
stop_burners
echo "test-under-load: '$*' exited with ${status}; burners stopped"
exit "$status"
