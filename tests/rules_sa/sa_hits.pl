#!/usr/bin/perl
# Oracle for tests/rules_differential.rs: runs the installed SpamAssassin (network tests off,
# Bayes off, stock rules) over the message files named on stdin, one per line, and prints
# "path<TAB>RULE,RULE,..." with every rule hit (tests=, the same list `spamassassin -L -t`
# reports; with SA_SUBTESTS=1 in the environment also the __ sub-rules). SA_SITE_RULES=DIR
# reads the site configuration (local.cf, *.pre) from DIR instead of /etc/spamassassin: a
# copy without sa-compile.pre compares against SpamAssassin without compiled body rules.
# Written for mailwarden; uses only Mail::SpamAssassin's public API.
use strict;
use warnings;
use Mail::SpamAssassin;

my $sa = Mail::SpamAssassin->new({
    local_tests_only => 1,
    dont_copy_prefs  => 1,
    userprefs_filename => '/dev/null',
    post_config_text => "use_bayes 0\nuse_auto_whitelist 0\nbayes_auto_learn 0\n",
    ($ENV{SA_SITE_RULES} ? (site_rules_filename => $ENV{SA_SITE_RULES}) : ()),
});
$sa->init(1);
while (my $path = <STDIN>) {
    chomp $path;
    next unless length $path;
    open(my $fh, '<', $path) or do { print "$path\t!unreadable\n"; next };
    binmode $fh;
    # Slurp with $/ undefined only here: SpamAssassin's code uses chomp, which does
    # nothing while $/ is undefined.
    my $text = do { local $/; <$fh> };
    close $fh;
    my $msg = $sa->parse($text);
    my $pms = $sa->check($msg);
    my $hits = $pms->get_names_of_tests_hit();
    # With SA_SUBTESTS set, the __ sub-rules that hit too (examples/rule_diff.rs).
    if ($ENV{SA_SUBTESTS}) {
        my $sub = $pms->get_names_of_subtests_hit();
        $hits = join(',', grep { length } $hits, $sub);
    }
    print "$path\t$hits\n";
    $pms->finish();
    $msg->finish();
}
