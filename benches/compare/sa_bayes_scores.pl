#!/usr/bin/perl
# Prints "label probability" for each "label<TAB>path" line of LIST, using SpamAssassin with
# only its Bayes plugin and the BAYES_xx rules (site config SITE, database DB).
# With a fourth argument `full`, prints "label score" instead: the whole filter, the stock
# rules of /usr/share/spamassassin and /etc/spamassassin (the files mailwarden is given in
# benches/compare/fullscan.sh) with Bayes from DB, local tests only; SITE is then unused.
# Usage: sa_bayes_scores.pl SITE DB LIST [full] > scores
use strict;
use warnings;
use Mail::SpamAssassin;
use Time::HiRes qw(time);

my ($site, $db, $list, $mode) = @ARGV;
die "usage: $0 SITE DB LIST [full]\n" unless defined $list;
my $full = defined $mode && $mode eq 'full';
my $sa = Mail::SpamAssassin->new({
    site_rules_filename  => $full ? '/etc/spamassassin' : $site,
    rules_filename       => $full ? '/usr/share/spamassassin' : $site,
    userprefs_filename   => '/dev/null',
    dont_copy_prefs      => 1,
    local_tests_only     => 1,
    post_config_text     => "bayes_path $db/bayes\n"
        . ($full ? "use_bayes 1\nbayes_auto_learn 0\nbayes_auto_expire 0\nbayes_learn_to_journal 0\n" : ''),
});
$sa->init(1);
open(my $fh, '<', $list) or die "$list: $!";
my ($n, $t0) = (0, time);
while (my $line = <$fh>) {
    chomp $line;
    my ($label, $path) = split /\t/, $line, 2;
    open(my $m, '<', $path) or die "$path: $!";
    my $text = do { local $/; <$m> };
    close $m;
    my $mail = $sa->parse($text);
    my $status = $sa->check($mail);
    my $value;
    if ($full) {
        $value = $status->get_score();
    } else {
        $value = $status->{bayes_score};
        $value = 0.5 unless defined $value;
    }
    print "$label $value\n";
    $status->finish;
    $mail->finish;
    $n++;
}
printf STDERR "spamassassin %s: %d messages in %.2f s = %.0f messages/s (one process)\n",
    $full ? 'scan (rules and Bayes)' : 'classify (Bayes rules only)',
    $n, time - $t0, $n / ((time - $t0) || 1e-9);
