#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), one after the other (FUZZ_JOBS at a
# time, default 1), after building the seed corpora (fuzz/seeds.sh). Exits non-zero when a
# target finds a crash, a hang (a single input over FUZZ_TIMEOUT seconds, default 10) or an
# out-of-memory (over 2 GB RSS); libFuzzer leaves the input in fuzz/artifacts/<target>/.
#
#   bash fuzz/run.sh 60                 # every target, a minute each
#   FUZZ_TARGETS="scan mime" bash fuzz/run.sh 1200
#   FUZZ_SANITIZER=address bash fuzz/run.sh 300   # ASan (slower; checks the C decoders too)
#   FUZZ_JOBS=2 bash fuzz/run.sh 5      # two targets at a time (the CI smoke run, 2 cores)
#
# Needs cargo-fuzz (scripts/setup.sh installs it); the stable toolchain runs it with
# RUSTC_BOOTSTRAP=1. The default sanitizer is none: the library is safe Rust, and the build
# then takes about half as long, which the CI smoke run (scripts/test.d/60-fuzz.sh) needs.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
sanitizer=${FUZZ_SANITIZER:-none}
timeout=${FUZZ_TIMEOUT:-10}
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz missing: run scripts/setup.sh" >&2; exit 1; }
bash seeds.sh >/dev/null
targets=${FUZZ_TARGETS:-$(cargo fuzz list)}
# one build of every target (cargo fuzz build takes one target or all)
cargo fuzz build -O -s "$sanitizer" 2>&1 | grep -v '^\s*\(Compiling\|Finished\)' >&2 || true
jobs=${FUZZ_JOBS:-1}
# Runs one target; prints its result line, returns non-zero on a finding.
run_target() {
  local t=$1 start log execs cov
  start=$(date +%s)
  log=$(mktemp)
  if cargo fuzz run -O -s "$sanitizer" "$t" -- -max_total_time="$secs" -timeout="$timeout" \
      -rss_limit_mb=2048 -max_len=262144 -print_final_stats=1 >"$log" 2>&1; then
    execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "$t: ok, ${execs:-?} runs in $(( $(date +%s) - start )) s, ${cov:-cov: ?}"
    rm -f "$log"
  else
    echo "$t: FAILED after $(( $(date +%s) - start )) s" >&2
    grep -E 'panicked|ERROR|SUMMARY|Test unit written|Output of' "$log" | head -20 >&2
    rm -f "$log"
    return 1
  fi
}
# FUZZ_JOBS lanes, each running every jobs-th target in turn; every target runs even after
# a finding, and any finding fails the whole run.
status=0
pids=()
for lane in $(seq 0 $((jobs - 1))); do
  (
    i=0
    failed=0
    for t in $targets; do
      if [ $((i % jobs)) -eq "$lane" ]; then
        run_target "$t" || failed=1
      fi
      i=$((i + 1))
    done
    exit $failed
  ) &
  pids+=($!)
done
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done
exit $status
