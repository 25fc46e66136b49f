#!/usr/bin/env bash
# Rule scoring, same messages, same SpamAssassin rules (Debian's stock rules in
# /usr/share/spamassassin plus /etc/spamassassin), same machine: mailwarden (one engine, one
# thread: examples/throughput.rs) vs spamd (one child, network tests off) + spamc, one spamc
# per message as an MTA hook runs it. Both pinned to core 0. Prints a Markdown table.
#
#   MAILWARDEN_CORPUS=/tmp/corpus bash benches/compare/spamc.sh
#
# Messages: every 20th file of each corpus folder (the set `rules/scan/corpus` in
# benches/rules.rs and benches/compare/spamd.sh use). Start-up is excluded: spamd is ready (it
# answers a ping) and has checked every message once before the clock starts; mailwarden's
# engine build is reported apart. Peak memory: VmHWM of the spamd parent plus its child.
# mailwarden is measured twice: with mimalloc (the CLI's allocator, and the library's with its
# `mimalloc` feature) and with the system's malloc (the library in a host that keeps glibc's).
#
# This machine's speed drifts by a factor of two or more within minutes, so the two sides are
# measured in alternating rounds (ROUNDS, default 3): each round times mailwarden (both
# allocators, five passes each), then spamd over the same messages (about 40 s), then
# mailwarden with mimalloc again, and its speed-up is spamd's time over the mean of the two
# mimalloc times around it. The table gives the median round; the line under it every
# round's ratios.
set -euo pipefail
cd "$(dirname "$0")/../.."
export MAILWARDEN_CORPUS="${MAILWARDEN_CORPUS:-$PWD/target/corpus}"
if [ ! -d "$MAILWARDEN_CORPUS" ]; then
  bash ../shared/tools/unpack-corpus.sh "$MAILWARDEN_CORPUS" >/dev/null
fi
for c in spamd spamc; do
  command -v $c >/dev/null || { echo "$c missing: run scripts/setup.sh" >&2; exit 1; }
done
port=${SPAMD_PORT:-17831}
work="$(mktemp -d)"
spamd_pid=
cleanup() {
  if [ -n "$spamd_pid" ]; then kill "$spamd_pid" 2>/dev/null || true; wait "$spamd_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cargo build --release --quiet --example throughput --features mimalloc
cp target/release/examples/throughput "$work/throughput-mimalloc"
cargo build --release --quiet --example throughput
cp target/release/examples/throughput "$work/throughput-system"
list="$work/files.txt"
for d in easy-ham-1 easy-ham-2 hard-ham-1 spam-1 spam-2; do
  find "$MAILWARDEN_CORPUS/$d" -name '*.eml' | sort | awk 'NR % 20 == 1'
done > "$list"
n=$(wc -l < "$list")
bytes=$(xargs -d '\n' cat < "$list" | wc -c)
now() { date +%s.%N; }
rates() { python3 -c "import sys; n,b,s=int(sys.argv[1]),int(sys.argv[2]),float(sys.argv[3]); print(f'{n/s:.1f} {b/s/1e6:.3f}')" "$n" "$bytes" "$1"; }

measure() {
  taskset -c 0 "$work/throughput-$1" --list "$list" \
    --rules /usr/share/spamassassin --rules /etc/spamassassin --passes 5
}
get() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

t0=$(now)
taskset -c 0 spamd -L -x --max-children=1 --min-children=1 --port "$port" --listen 127.0.0.1 \
  --pidfile "$work/spamd.pid" --syslog=stderr 2>"$work/spamd.log" &
spamd_pid=$!
for _ in $(seq 1 300); do
  spamc -p "$port" -K >/dev/null 2>&1 && break
  sleep 0.2
done
t1=$(now)
startup=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
check() {
  local spam=0
  while read -r f; do
    if ! spamc -p "$port" -c < "$f" >/dev/null; then spam=$((spam + 1)); fi  # exit 1: spam
  done < "$list"
  echo "$spam"
}
check >/dev/null   # warm-up: every message once
rounds=${ROUNDS:-3}
: > "$work/rounds"
for r in $(seq 1 "$rounds"); do
  out_mi=$(measure mimalloc)
  out_sys=$(measure system)
  t0=$(now)
  sa_spam=$(check)
  t1=$(now)
  after_mi=$(measure mimalloc)
  mi_s=$(python3 -c "print(($(get "$out_mi" scan_s) + $(get "$after_mi" scan_s)) / 2)")
  echo "$mi_s $(get "$out_sys" scan_s) $(python3 -c "print($t1 - $t0)")" >> "$work/rounds"
  echo "$out_mi" | sed "s/scan_s=[^ ]*/scan_s=$mi_s/" > "$work/mi.$r"
  echo "$out_sys" > "$work/sys.$r"
done
# The median round by the mimalloc ratio (spamd's time over mailwarden's).
read -r median _ _ sa_s < <(python3 - "$work/rounds" <<'PY'
import sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
order = sorted(range(len(rows)), key=lambda i: rows[i][2] / rows[i][0])
m = order[len(order) // 2]
print(m + 1, *rows[m])
PY
)
out_mi=$(cat "$work/mi.$median")
out_sys=$(cat "$work/sys.$median")
rss=0
for p in $(pgrep -P "$spamd_pid") "$spamd_pid"; do
  rss=$(( rss + $(awk '/VmHWM/ {print $2}' "/proc/$p/status") ))
done

echo "| scanner | start-up s | messages/s | MB/s | peak RSS MB | spam found | speed |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for out in "$out_mi" "$out_sys"; do
  mw_s=$(get "$out" scan_s)
  read -r mps mbps < <(rates "$mw_s")
  echo "| mailwarden (1 thread, stock rules, allocator: $(get "$out" allocator)) | $(get "$out" load_s) | $mps | $mbps | $(( $(get "$out" peak_rss_kb) / 1024 )) | $(get "$out" flagged) | $(python3 -c "print(f'{$sa_s / $mw_s:.1f}x spamd')") |"
done
read -r mps mbps < <(rates "$sa_s")
echo "| spamd (1 child) + spamc | $startup | $mps | $mbps | $(( rss / 1024 )) | $sa_spam | |"
echo
python3 - "$work/rounds" "$n" <<'PY'
import sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
n = int(sys.argv[2])
print("Rounds (mailwarden mimalloc / system / spamd messages/s, speed-ups): " + "; ".join(
    f"{n / mi:.0f} / {n / sy:.0f} / {n / sa:.1f}, {sa / mi:.1f}x / {sa / sy:.1f}x"
    for mi, sy, sa in rows) + ". The table shows the median round.")
PY
echo
echo "Input: $n messages, $bytes bytes (every 20th of each folder of $MAILWARDEN_CORPUS). SpamAssassin $(spamassassin --version | head -1 | awk '{print $3}'), network tests off (-L); mailwarden scores score set 0 (no network, no Bayes). Processor: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') (the two need not gain alike from a faster one)."
