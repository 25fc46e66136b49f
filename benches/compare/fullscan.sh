#!/bin/sh
# The whole filter, mailwarden vs SpamAssassin, on the Bayes split of the SpamAssassin public
# corpus: both learn the even-numbered messages into their Bayes databases (once each, no
# train-on-error), then score the odd-numbered ones with SpamAssassin's stock rules
# (/usr/share/spamassassin and /etc/spamassassin) plus Bayes, local tests only (score set 2).
# A message is spam at or above required_score (5). This is what a site running either
# filter would see; benches/compare/bayes.sh measures the Bayes classifiers alone.
# Usage: benches/compare/fullscan.sh CORPUS_DIR   (unpack with /work/shared/tools/unpack-corpus.sh)
# Needs the spamassassin package. Takes about 6 minutes on one core, nearly all of it
# SpamAssassin. Set SKIP_SA=1 to run mailwarden only; KEEP=DIR keeps the scores there.
set -eu
corpus=${1:?usage: $0 CORPUS_DIR}
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$here"
cargo build --release --quiet --bin mailwarden --example bayes_eval
bin=target/release/mailwarden
eval_bin=target/release/examples/bayes_eval
"$eval_bin" split "$corpus" train > "$work/train"
"$eval_bin" split "$corpus" test > "$work/test"
awk -F'\t' '$1=="spam"{print $2}' "$work/train" > "$work/train.spam"
awk -F'\t' '$1=="ham"{print $2}' "$work/train" > "$work/train.ham"
cut -f2 "$work/test" > "$work/test.paths"

echo "== mailwarden $(git describe --always --dirty 2>/dev/null || echo)"
db="$work/mw.db"
xargs "$bin" learn --spam --db "$db" < "$work/train.spam" >/dev/null
xargs "$bin" learn --ham --db "$db" < "$work/train.ham" >/dev/null
"$bin" bayes --stats --db "$db" | sed 's/^/  /'
printf '[bayes]\npath = "%s"\n' "$db" > "$work/mw.toml"
start=$(date +%s.%N)
# One scan of every test message (its JSON line names the path); labels joined by path.
xargs "$bin" scan --json --jobs 1 -c "$work/mw.toml" \
    --rules /usr/share/spamassassin --rules /etc/spamassassin < "$work/test.paths" > "$work/mw.json" || true
end=$(date +%s.%N)
perl -MJSON::PP -e '
    my %label;
    open(my $t, "<", $ARGV[0]) or die; while (<$t>) { chomp; my ($l, $p) = split /\t/; $label{$p} = $l }
    open(my $j, "<", $ARGV[1]) or die;
    while (<$j>) { my $r = decode_json($_); print "$label{$r->{path}} $r->{score}\n" if exists $label{$r->{path}} }
' "$work/test" "$work/mw.json" > "$work/mw.scores"
n=$(wc -l < "$work/mw.scores")
[ "$n" -eq "$(wc -l < "$work/test")" ] || { echo "mailwarden scored $n of $(wc -l < "$work/test") test messages" >&2; exit 1; }
awk -v n="$n" -v s="$start" -v e="$end" 'BEGIN{printf "mailwarden scan: %d messages in %.2f s = %.0f messages/s (one thread, rule loading included)\n", n, e-s, n/(e-s)}'
"$eval_bin" metrics "$work/mw.scores" "mailwarden (rules + Bayes)" 5

if [ "${SKIP_SA:-0}" != 1 ]; then
    echo "== SpamAssassin $(perl -MMail::SpamAssassin -e 'print $Mail::SpamAssassin::VERSION')"
    mkdir -p "$work/db"
    learn() {
        sa-learn -p /dev/null --dbpath "$work/db" --cf='bayes_auto_expire 0' --cf='bayes_learn_to_journal 0' "$@"
    }
    learn --no-sync --spam -f "$work/train.spam" >/dev/null
    learn --no-sync --ham -f "$work/train.ham" >/dev/null
    learn --sync >/dev/null
    learn --dump magic | grep -E 'nspam|nham|ntokens' | tr -s ' ' | sed 's/^/  /'
    perl "$here/benches/compare/sa_bayes_scores.pl" - "$work/db" "$work/test" full > "$work/sa.scores"
    "$eval_bin" metrics "$work/sa.scores" "SpamAssassin (rules + Bayes)" 5
fi
if [ -n "${KEEP:-}" ]; then
    mkdir -p "$KEEP"
    cp "$work"/*.scores "$work/test" "$KEEP"/
fi
