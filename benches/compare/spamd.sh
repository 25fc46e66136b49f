#!/bin/sh
# Messages per second of SpamAssassin (network tests off, one process pinned to core 0) over
# the files the `rules/scan/corpus` benchmark scans: every 20th file of each corpus folder.
# Uses spamd + spamc (Debian packages `spamd` and `spamc`) when installed; otherwise times
# one Mail::SpamAssassin process checking the same files (tests/rules_sa/sa_hits.pl), which
# is the work a single spamd child does, without the socket round trip.
# Usage: benches/compare/spamd.sh CORPUS_DIR
# Then:  MAILWARDEN_CORPUS=CORPUS_DIR taskset -c 0 cargo bench --bench rules -- rules/scan
set -eu
corpus=${1:?usage: $0 CORPUS_DIR}
here=$(cd "$(dirname "$0")/../.." && pwd)
port=${SPAMD_PORT:-17830}
list=$(mktemp)
pidfile=$(mktemp -u)
trap 'if [ -f "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi; rm -f "$list"' EXIT
for d in easy-ham-1 easy-ham-2 hard-ham-1 spam-1 spam-2; do
    ls "$corpus/$d" | sort | awk 'NR % 20 == 1' | sed "s|^|$corpus/$d/|"
done > "$list"
n=$(wc -l < "$list")
if command -v spamd >/dev/null && command -v spamc >/dev/null; then
    how="spamd (1 child) + spamc"
    taskset -c 0 spamd -L --max-children=1 --min-children=1 --port "$port" \
        --listen 127.0.0.1 --pidfile "$pidfile" --syslog=stderr 2>/dev/null &
    ready=0
    for _ in $(seq 1 60); do
        # -x: fail instead of answering "0/0" when spamd is not up; exit 1 means spam.
        rc=0; echo | spamc -x -p "$port" -c >/dev/null 2>&1 || rc=$?
        if [ -f "$pidfile" ] && [ "$rc" -le 1 ]; then ready=1; break; fi
        sleep 1
    done
    [ "$ready" = 1 ] || { echo "spamd did not start" >&2; exit 1; }
    start=$(date +%s.%N)
    while read -r f; do
        spamc -x -p "$port" -c < "$f" > /dev/null || [ $? -eq 1 ]  # exit 1 means spam
    done < "$list"
    end=$(date +%s.%N)
else
    how="one Mail::SpamAssassin process (spamd/spamc not installed)"
    # Start-up (rule compilation) is timed apart, as spamd does it once.
    t0=$(date +%s.%N)
    head -1 "$list" | taskset -c 0 perl "$here/tests/rules_sa/sa_hits.pl" > /dev/null
    t1=$(date +%s.%N)
    taskset -c 0 perl "$here/tests/rules_sa/sa_hits.pl" < "$list" > /dev/null
    t2=$(date +%s.%N)
    start=0
    end=$(echo "($t2 - $t1) - ($t1 - $t0)" | bc)
fi
secs=$(echo "$end - $start" | bc)
echo "SpamAssassin via $how: $n messages in $secs s: $(echo "scale=1; $n / $secs" | bc) messages/s"
