use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";    # so `prove -l bindings/perl/t` works from the repository too

use_ok('Mail::Warden') or BAIL_OUT('cannot load Mail::Warden');

like(Mail::Warden->version, qr/\A0\.\d+\.\d+/, 'the library reports a 0.x version');
ok(-f $Mail::Warden::LIBRARY, "library found at $Mail::Warden::LIBRARY");
diag("libmailwarden " . Mail::Warden->version . " from $Mail::Warden::LIBRARY");

# MAILWARDEN_LIB wins over every other place, and a wrong value is a clear error.
{
    local $ENV{MAILWARDEN_LIB} = '/nonexistent/libmailwarden.so';
    my $err = `"$^X" "-I$FindBin::Bin/../lib" -e "require Mail::Warden" 2>&1`;
    isnt($? >> 8, 0, 'loading fails when MAILWARDEN_LIB names a missing file');
    like($err, qr{MAILWARDEN_LIB=/nonexistent/libmailwarden\.so is not a readable file},
        'and says which variable is wrong');
}
{
    local $ENV{MAILWARDEN_LIB} = $Mail::Warden::LIBRARY;
    my $got = `"$^X" "-I$FindBin::Bin/../lib" -MMail::Warden -e "print \\\$Mail::Warden::LIBRARY" 2>&1`;
    is($got, $Mail::Warden::LIBRARY, 'MAILWARDEN_LIB is used as given');
}

done_testing;
