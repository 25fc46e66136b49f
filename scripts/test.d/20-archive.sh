#!/usr/bin/env bash
# Archive area: every generated bomb must end UNCHECKED in under 1 s of CPU and 64 MiB of peak
# RSS (run.sh exits non-zero otherwise) and the table in benches/bombs/RESULTS.md is refreshed.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash benches/bombs/run.sh
