use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";    # so `prove -l bindings/perl/t` works from the repository too
use Time::HiRes qw(time);

use Mail::Warden;

# 100,000 scans must not grow the process: every report, every string an accessor returned,
# every engine and scanner is freed. Small messages (a clean one, GTUBE, EICAR in turn) keep
# this to a few seconds; every accessor is called on each report so their strings are
# exercised too. Growth is measured from process RSS after a warm-up (allocator pools, Perl's
# own arenas), so any per-scan leak of 16 bytes or more would show as over 1.5 MB.
plan skip_all => 'needs /proc/self/status (Linux)' unless -r '/proc/self/status';

sub rss_kb {
    open my $fh, '<', '/proc/self/status' or die "cannot read /proc/self/status: $!";
    while (<$fh>) { return $1 if /^VmRSS:\s+(\d+)\s+kB/ }
    die 'no VmRSS in /proc/self/status';
}

my $N = $ENV{MAILWARDEN_LEAK_SCANS} || 100_000;
my $EICAR = 'X5O!P%@AP[4\PZX54(P^)7CC)7}$' . 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
my $GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
my $head  = "From: a\@example.org\r\nTo: b\@example.net\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nSubject: s\r\n\r\n";
my @messages = ("${head}hello\r\n", "$head$GTUBE\r\n", "$head$EICAR\r\n");
my @expect = qw(clean spam virus);

my $w = Mail::Warden->new;
my $bad = 0;
my $scan = sub {
    my ($i) = @_;
    my $r = $w->scan(\$messages[$i % 3], sender => 'a@example.org', recipients => ['b@example.net']);
    my $strings = join '', $r->action, $r->category, $r->smtp_reply, $r->reply_text, $r->reply_enhanced,
        $r->viruses, (map { values %$_ } $r->rules, $r->headers, $r->unchecked);
    $bad++ if $r->category ne $expect[$i % 3] || $r->score < 0 || !length $strings;
    $r->as_json if $i % 10 == 0;
};

$scan->($_) for 1 .. 5_000;    # warm-up
my $before = rss_kb();
my $t0     = time;
$scan->($_) for 1 .. $N;
my $elapsed = time - $t0;
my $after   = rss_kb();
is($bad, 0, "all $N reports had the expected category");
cmp_ok($after - $before, '<', 1536, "RSS grew by less than 1.5 MB over $N scans ($before -> $after kB)");
diag(sprintf '%d scans in %.1f s (%.1f us each), RSS %d -> %d kB', $N, $elapsed, $elapsed / $N * 1e6, $before, $after);

# Engines and scanners: build and drop 2,000 (the default engine; each has a scanner).
Mail::Warden->new->scan(\$messages[1]) for 1 .. 200;
$before = rss_kb();
Mail::Warden->new->scan(\$messages[1]) for 1 .. 2_000;
$after = rss_kb();
cmp_ok($after - $before, '<', 1536, "RSS grew by less than 1.5 MB over 2,000 engines ($before -> $after kB)");

done_testing;
