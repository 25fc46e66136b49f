#!/usr/bin/env bash
# Fuzz smoke run: builds every target in fuzz/ (no sanitizer) and runs each for
# FUZZ_SMOKE_SECONDS (default 5) from the seed corpora fuzz/seeds.sh builds. Fails on any
# crash, oracle failure, hang or out-of-memory; the input is left in fuzz/artifacts/.
# Cost on the 2-core machine (measured 2026-11-29): 1 min 28 s to build every target from
# scratch (seconds when fuzz/target is warm), then 126 s for the 14 runs with the corpora grown
# by about an hour of fuzzing (replaying a grown corpus is most of it; the seeds alone replay
# in about a second per target).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash fuzz/run.sh "${FUZZ_SMOKE_SECONDS:-5}"
