#!/usr/bin/env bash
# Fuzz smoke run: builds every target in fuzz/ (no sanitizer) and runs each for
# FUZZ_SMOKE_SECONDS (default 5) from the seed corpora fuzz/seeds.sh builds, one target per
# core at a time (FUZZ_JOBS, default nproc). Fails on any crash, oracle failure, hang or
# out-of-memory; the input is left in fuzz/artifacts/.
# Cost on the 2-core machine: about 1.5 minutes to build every target from scratch (seconds
# when fuzz/target is warm), then about 6 s a target (2026-12-07: 20 targets, two at a time).
set -euo pipefail
cd "$(dirname "$0")/../.."
FUZZ_JOBS="${FUZZ_JOBS:-$(nproc)}" bash fuzz/run.sh "${FUZZ_SMOKE_SECONDS:-5}"
