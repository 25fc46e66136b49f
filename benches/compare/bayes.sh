#!/bin/sh
# Bayes accuracy and speed, mailwarden vs SpamAssassin, on the same split of the SpamAssassin
# public corpus: train on the even-numbered messages, test on the odd-numbered ones.
# Usage: benches/compare/bayes.sh CORPUS_DIR   (unpack with /work/shared/tools/unpack-corpus.sh)
# Needs the spamassassin package. Takes about 1 minute for mailwarden and 5-10 for SpamAssassin
# on one core. Set SKIP_SA=1 to run mailwarden only.
set -eu
corpus=${1:?usage: $0 CORPUS_DIR}
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$here"
cargo build --release --example bayes_eval >/dev/null 2>&1 || cargo build --release --example bayes_eval
eval_bin=target/release/examples/bayes_eval

echo "== mailwarden"
taskset -c 0 "$eval_bin" train-test "$corpus" "$work/mw.db" "$work/mw.scores"
echo "== mailwarden, with 4 train-on-error passes (mailwarden learn --passes 4)"
PASSES=4 MARGIN=0.1 taskset -c 0 "$eval_bin" train-test "$corpus" "$work/mw-tone.db" "$work/mw-tone.scores"

[ "${SKIP_SA:-0}" = 1 ] && exit 0
echo "== SpamAssassin $(perl -MMail::SpamAssassin -e 'print $Mail::SpamAssassin::VERSION') (Bayes plugin and BAYES_xx rules only)"
"$eval_bin" split "$corpus" train > "$work/train"
"$eval_bin" split "$corpus" test > "$work/test"
awk -F'\t' '$1=="spam"{print $2}' "$work/train" > "$work/train.spam"
awk -F'\t' '$1=="ham"{print $2}' "$work/train" > "$work/train.ham"
# A private site configuration: the Bayes plugin, the stock BAYES_xx rules taken from the
# installed 23_bayes.cf, no auto-learning, no expiry during the run.
mkdir -p "$work/site" "$work/db"
printf 'loadplugin Mail::SpamAssassin::Plugin::Check\nloadplugin Mail::SpamAssassin::Plugin::Bayes\n' > "$work/site/bayes.pre"
# The TLD list SpamAssassin's URI parsing (and so its Bayes URI tokens) needs.
if [ -f /usr/share/spamassassin/20_aux_tlds.cf ]; then
    cp /usr/share/spamassassin/20_aux_tlds.cf "$work/site/"
fi
grep -E '^(body|tflags|describe)[[:space:]]+BAYES_' /usr/share/spamassassin/23_bayes.cf > "$work/site/bayes.cf"
cat >> "$work/site/bayes.cf" <<CF
use_bayes 1
bayes_auto_learn 0
bayes_auto_expire 0
bayes_learn_to_journal 0
CF
start=$(date +%s.%N)
taskset -c 0 sa-learn --siteconfigpath "$work/site" -p /dev/null --dbpath "$work/db" --no-sync --spam -f "$work/train.spam" >/dev/null
taskset -c 0 sa-learn --siteconfigpath "$work/site" -p /dev/null --dbpath "$work/db" --no-sync --ham -f "$work/train.ham" >/dev/null
taskset -c 0 sa-learn --siteconfigpath "$work/site" -p /dev/null --dbpath "$work/db" --sync >/dev/null
end=$(date +%s.%N)
n=$(cat "$work/train.spam" "$work/train.ham" | wc -l)
awk -v n="$n" -v s="$start" -v e="$end" 'BEGIN{printf "spamassassin learn: %d messages in %.2f s = %.0f messages/s (sa-learn, one process)\n", n, e-s, n/(e-s)}'
sa-learn --siteconfigpath "$work/site" -p /dev/null --dbpath "$work/db" --dump magic | grep -E 'nspam|nham|ntokens' | tr -s ' ' | sed 's/^/  /'
taskset -c 0 perl "$here/benches/compare/sa_bayes_scores.pl" "$work/site" "$work/db" "$work/test" > "$work/sa.scores"
"$eval_bin" metrics "$work/sa.scores" spamassassin
