#!/bin/sh
# Messages per second of SpamAssassin (spamd, one child, network tests off) over the same
# files the `rules/scan/corpus` benchmark scans: every 20th file of each corpus folder.
# Usage: benches/compare/spamd.sh CORPUS_DIR
# Then: MAILWARDEN_CORPUS=CORPUS_DIR taskset -c 0 cargo bench --bench rules -- rules/scan
set -eu
corpus=${1:?usage: $0 CORPUS_DIR}
port=${SPAMD_PORT:-17830}
list=$(mktemp)
pidfile=$(mktemp -u)
trap 'kill "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null || true; rm -f "$list"' EXIT
for d in easy-ham-1 easy-ham-2 hard-ham-1 spam-1 spam-2; do
    ls "$corpus/$d" | sort | awk 'NR % 20 == 1' | sed "s|^|$corpus/$d/|"
done > "$list"
n=$(wc -l < "$list")
taskset -c 0 spamd -L --max-children=1 --min-children=1 --port "$port" \
    --listen 127.0.0.1 --pidfile "$pidfile" --syslog=stderr 2>/dev/null &
for _ in $(seq 1 60); do
    spamc -p "$port" -c < /dev/null >/dev/null 2>&1 && break
    sleep 1
done
start=$(date +%s.%N)
while read -r f; do
    spamc -p "$port" -c < "$f" > /dev/null || true
done < "$list"
end=$(date +%s.%N)
echo "spamd: $n messages in $(echo "$end - $start" | bc) s: $(echo "scale=1; $n / ($end - $start)" | bc) messages/s"
