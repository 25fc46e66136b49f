#!/usr/bin/env bash
# Fuzz smoke run: builds every target in fuzz/ (no sanitizer) and runs each for
# FUZZ_SMOKE_SECONDS (default 5) from the seed corpora fuzz/seeds.sh builds. Fails on any
# crash, oracle failure, hang or out-of-memory; the input is left in fuzz/artifacts/.
# Cost on the 2-core machine: about 1.5 min to build from scratch (seconds when fuzz/target is
# warm) plus 14 targets x (5 s + start-up) = about 1.5 min.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash fuzz/run.sh "${FUZZ_SMOKE_SECONDS:-5}"
