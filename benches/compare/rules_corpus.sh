#!/usr/bin/env bash
# Rule agreement with SpamAssassin over the whole corpus, sub-rules included: runs
# examples/rule_diff.rs on twenty lists of about 303 messages (`awk 'NR % 20 == k'` over each
# corpus folder; one run over all 6,046 files at once deadlocks on the pipe to SpamAssassin)
# and prints every message on which a rule hits on one side only, then the count.
#
#   MAILWARDEN_CORPUS=/tmp/corpus bash benches/compare/rules_corpus.sh [K...]
#
# K: which lists (0..19; all by default). About 30 s a list against a SpamAssassin with
# sa-compile'd rules, a minute without. SA_SITE_RULES=DIR compares against SpamAssassin
# reading its site configuration from DIR instead of /etc/spamassassin: a copy without
# sa-compile.pre is SpamAssassin without compiled body rules (what scripts/setup.sh
# installs; Debian's default install compiles them, and they run in another order).
set -euo pipefail
cd "$(dirname "$0")/../.."
export MAILWARDEN_CORPUS="${MAILWARDEN_CORPUS:-$PWD/target/corpus}"
if [ ! -d "$MAILWARDEN_CORPUS" ]; then
  bash ../shared/tools/unpack-corpus.sh "$MAILWARDEN_CORPUS" >/dev/null
fi
command -v spamassassin >/dev/null || { echo "spamassassin missing: run scripts/setup.sh" >&2; exit 1; }
cargo build --release --quiet --example rule_diff
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A copy, so a rebuild while this runs does not change the binary under it.
cp target/release/examples/rule_diff "$work/rule_diff"
lists=("$@")
[ ${#lists[@]} -gt 0 ] || lists=($(seq 0 19))
for k in "${lists[@]}"; do
  for d in easy-ham-1 easy-ham-2 hard-ham-1 spam-1 spam-2; do
    ls "$MAILWARDEN_CORPUS/$d"/*.eml | awk -v k="$k" 'NR % 20 == k'
  done >"$work/list"
  # shellcheck disable=SC2046
  "$work/rule_diff" $(cat "$work/list") >"$work/out.$k" 2>&1
  awk '!/^  /{f=$0} /only:/ && !/\[\]/{print f, $0}' "$work/out.$k"
done | tee "$work/differ"
echo "messages that differ: $(awk '{print $1}' "$work/differ" | sort -u | wc -l) (lists: ${lists[*]})"
