#!/usr/bin/env bash
# Runs every side-by-side comparison (clamd.sh: mailwarden vs clamscan vs clamd+clamdscan;
# spamc.sh: mailwarden vs spamd+spamc) and writes their tables, with the date, the machine and
# its load, to benches/compare/RESULTS.md. About 10 minutes on the 2-core machine.
#
#   MAILWARDEN_CORPUS=/tmp/corpus bash benches/compare/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=benches/compare/RESULTS.md
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{
  echo "# mailwarden side by side with ClamAV and SpamAssassin"
  echo
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') by benches/compare/run.sh on $(nproc) cores"
  echo "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo) RAM),"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg). Every scanner runs on core 0, one"
  echo "thread or child each; start-up (database/rule loading) is its own column and is not in"
  echo "the rates."
  echo
  echo "## Virus scanning: the same messages and signature files"
  echo
  bash benches/compare/clamd.sh
  echo
  echo "## Rule scoring: the same messages and SpamAssassin rules"
  echo
  bash benches/compare/spamc.sh
  echo
  echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
} > "$tmp"
mv "$tmp" "$out"
cat "$out"
