#!/usr/bin/env bash
# Side-by-side signature matching speed: mailwarden (criterion, benches/signatures.rs) and
# clamscan with the same generated databases over the same files. Writes
# benches/compare/signatures.md and prints it.
#
#   MAILWARDEN_CORPUS=/tmp/corpus bash benches/compare/clamscan.sh
#
# clamscan's time includes loading its database; the load time (clamscan on one empty file) is
# measured separately and subtracted, so both columns are matching speed over the same bytes.
set -euo pipefail
cd "$(dirname "$0")/../.."
export MAILWARDEN_CORPUS="${MAILWARDEN_CORPUS:-/tmp/corpus}"
if [ ! -d "$MAILWARDEN_CORPUS" ]; then
  bash ../shared/tools/unpack-corpus.sh "$MAILWARDEN_CORPUS" >/dev/null
fi
command -v clamscan >/dev/null || { echo "clamscan missing: run scripts/setup.sh" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
MAILWARDEN_BENCH_EXPORT="$work" cargo bench --quiet --bench signatures >/dev/null
files="$work/files.txt"
bytes=$(xargs -d '\n' cat < "$files" | wc -c)
nfiles=$(wc -l < "$files")
: > "$work/empty"
now() { date +%s.%N; }

if [ "${SKIP_MAILWARDEN:-0}" != 1 ]; then
  cargo bench --quiet --bench signatures -- --warm-up-time 1 --measurement-time 3 >"$work/criterion.txt" 2>&1
fi

out=benches/compare/signatures.md
{
  echo "# Signature matching: mailwarden vs clamscan"
  echo
  echo "Input: $nfiles files, $bytes bytes ($MAILWARDEN_CORPUS). Machine: $(nproc) cores, $(uname -m)."
  echo "clamscan $(clamscan --version | cut -d/ -f1 | sed 's/ClamAV //'), one process, default options;"
  echo "its database load time is measured on an empty file and subtracted."
  echo "mailwarden: criterion mean of \`signatures/scan/<db>\` (all signatures over every message)"
  echo "and \`signatures/build/<db>\` (load + compile from the file)."
  echo
  echo "| database | clamscan load s | clamscan MB/s | mailwarden build s | mailwarden MB/s | ratio |"
  echo "|---|---:|---:|---:|---:|---:|"
} > "$out"
for db in ndb-1000 ndb-10000 ndb-100000 hdb-100000; do
  t0=$(now); clamscan --no-summary -d "$work/$db" "$work/empty" >/dev/null || true; t1=$(now)
  clamscan --no-summary -d "$work/$db" -f "$files" >/dev/null || true; t2=$(now)
  python3 - "$db" "$t0" "$t1" "$t2" "$bytes" >>"$out" <<'PY'
import json, os, sys
db, t0, t1, t2, size = sys.argv[1], *map(float, sys.argv[2:5]), int(sys.argv[5])
load = t1 - t0
scan = max(t2 - t1 - load, 1e-9)
clam = size / scan / 1e6
def mean(group):
    p = f"target/criterion/{group}/{db}/new/estimates.json"
    if not os.path.exists(p):
        return None
    return json.load(open(p))["mean"]["point_estimate"] / 1e9
s, b = mean("signatures_scan"), mean("signatures_build")
ours = size / s / 1e6 if s else float("nan")
fmt = lambda x: "n/a" if x is None else f"{x:.3f}"
print(f"| {db} | {load:.2f} | {clam:.1f} | {fmt(b)} | {ours:.1f} | {ours / clam:.1f}x |")
PY
done
cat "$out"
