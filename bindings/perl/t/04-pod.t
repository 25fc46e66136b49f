use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";    # so `prove -l bindings/perl/t` works from the repository too
use File::Spec;
use Pod::Checker;

# The POD of both modules is well formed, and the synopses compile against the real API.
for my $module (qw(Mail/Warden.pm Mail/Warden/Report.pm)) {
    my $file = "$FindBin::Bin/../lib/$module";
    my $checker = Pod::Checker->new(-warnings => 2);
    open my $null, '>', File::Spec->devnull or die $!;
    $checker->parse_from_file($file, $null);
    is($checker->num_errors, 0, "$module: POD has no errors");
    is($checker->num_warnings, 0, "$module: POD has no warnings");

    open my $fh, '<', $file or die "$file: $!";
    my $text = do { local $/; <$fh> };
    my ($synopsis) = $text =~ /^=head1 SYNOPSIS\n(.*?)^=head1/ms;
    ok(defined $synopsis && $synopsis =~ /\S/, "$module: has a synopsis");
    # Compile only: the synopsis names files that do not exist here.
    my $ok = eval "no strict 'vars'; no warnings 'void'; sub { $synopsis }; 1";    ## no critic (ProhibitStringyEval)
    ok($ok, "$module: the synopsis compiles") or diag $@;
}

done_testing;
