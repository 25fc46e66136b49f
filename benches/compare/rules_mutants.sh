#!/usr/bin/env bash
# Rule agreement with SpamAssassin on malformed and re-encoded mail: every mutation of
# tests/rules_sa/mutate.py applied to the 303-message sample of spamc.sh (every 20th message
# of each corpus folder), then examples/rule_diff.rs on each mutation's messages. Prints,
# per mutation, how many messages have a rule (sub-rules included) hit on one side only,
# and the differences of the first few.
#
#   MAILWARDEN_CORPUS=/tmp/corpus bash benches/compare/rules_mutants.sh [MUTATION...]
#
# About 30 s a mutation. SA_SITE_RULES=DIR as in rules_corpus.sh.
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
cp target/release/examples/rule_diff "$work/rule_diff"
for d in easy-ham-1 easy-ham-2 hard-ham-1 spam-1 spam-2; do
  find "$MAILWARDEN_CORPUS/$d" -name '*.eml' | sort | awk 'NR % 20 == 1'
done >"$work/list"
python3 tests/rules_sa/mutate.py "$work/list" "$work/mut" "$@"
for dir in "$work"/mut/*/; do
  name=$(basename "$dir")
  # shellcheck disable=SC2046
  "$work/rule_diff" $(ls "$dir"*.eml) >"$work/out" 2>&1
  awk '!/^  /{f=$0} /only:/ && !/\[\]/{print f, $0}' "$work/out" >"$work/differ"
  echo "$name: $(awk '{print $1}' "$work/differ" | sort -u | wc -l) of $(ls "$dir" | wc -l) differ"
  head -4 "$work/differ" | sed "s|$work/mut/||; s/^/    /"
done
