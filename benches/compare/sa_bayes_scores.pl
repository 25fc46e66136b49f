#!/usr/bin/perl
# Prints "label probability" for each "label<TAB>path" line of LIST, using SpamAssassin with
# only its Bayes plugin and the BAYES_xx rules (site config SITE, database DB).
# Usage: sa_bayes_scores.pl SITE DB LIST > scores
use strict;
use warnings;
use Mail::SpamAssassin;
use Time::HiRes qw(time);

my ($site, $db, $list) = @ARGV;
die "usage: $0 SITE DB LIST\n" unless defined $list;
my $sa = Mail::SpamAssassin->new({
    site_rules_filename  => $site,
    rules_filename       => $site,
    userprefs_filename   => '/dev/null',
    dont_copy_prefs      => 1,
    local_tests_only     => 1,
    post_config_text     => "bayes_path $db/bayes\n",
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
    my $p = $status->{bayes_score};
    $p = 0.5 unless defined $p;
    print "$label $p\n";
    $status->finish;
    $mail->finish;
    $n++;
}
printf STDERR "spamassassin classify: %d messages in %.2f s = %.0f messages/s (one process, Bayes rules only)\n",
    $n, time - $t0, $n / ((time - $t0) || 1e-9);
