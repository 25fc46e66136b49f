use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";    # so `prove -l bindings/perl/t` works from the repository too
use File::Temp qw(tempdir);

use Mail::Warden;

# Every error croaks with the caller's line and, for library errors, the result code name and
# the library's own message. After an error the object scans the next message normally.
my $dir = tempdir(CLEANUP => 1);
sub write_file { my ($name, $text) = @_; open my $fh, '>', "$dir/$name" or die $!; print $fh $text; close $fh; "$dir/$name" }

my $err;
# --- configuration ---------------------------------------------------------------------------
eval { Mail::Warden->new(config => "$dir/missing.toml") };
like($@, qr/\AMail::Warden: loading configuration \Q$dir\E\/missing\.toml failed: MW_RESULT_IO: .*No such file/,
    'missing config file: MW_RESULT_IO with the OS message');
like($@, qr/ at \Q${\ __FILE__ }\E line \d+\.$/, 'reported at the caller');

my $typo = write_file('typo.toml', "[policy]\nkil_level = 8.0\n");
eval { Mail::Warden->new(config => $typo) };
like($@, qr/MW_RESULT_CONFIG: .*kil_level/s, 'an unknown key: MW_RESULT_CONFIG naming the key');

my $syntax = write_file('syntax.toml', "[policy\nkill_level = 8.0\n");
eval { Mail::Warden->new(config => $syntax) };
like($@, qr/MW_RESULT_CONFIG/, 'malformed TOML: MW_RESULT_CONFIG');

my $range = write_file('range.toml', "[limits]\nmax_levels = 0\n");
eval { Mail::Warden->new(config => $range) };
like($@, qr/MW_RESULT_(INVALID_SETTING|CONFIG)/, 'an out-of-range limit is refused');

eval { Mail::Warden->new(conf => $typo) };
like($@, qr/unknown argument\(s\): conf/, 'an unknown constructor argument');
eval { Mail::Warden->new(config => [$typo]) };
like($@, qr/config must be a file path/, 'config must be a path');
eval { Mail::Warden->new(config => "$typo\0.toml") };
like($@, qr/config path contains a NUL character/, 'a NUL in the config path is not silently cut');

# --- envelope ----------------------------------------------------------------------------------
my $w = Mail::Warden->new;
my $msg = "From: a\@example.org\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nSubject: x\r\n\r\nhello\r\n";

eval { $w->scan(\$msg, recipients => ['first@example.net'], client_address => 'not-an-ip') };
like($@, qr/setting client_address 'not-an-ip' failed: MW_RESULT_INVALID_ADDRESS: /, 'a bad client address');
my $after = $w->scan(\$msg);
is_deeply($after->data->{recipients}, [], 'the failed scan left nothing behind for the next one');

eval { $w->scan(\$msg, recipient => 'x@example.net') };
like($@, qr/unknown envelope key 'recipient' \(known: client_address, client_name, helo, recipients, sender\)/,
    'a misspelt envelope key');
eval { $w->scan(\$msg, recipients => { a => 1 }) };
like($@, qr/recipients must be an address or an array reference/, 'recipients of the wrong shape');
eval { $w->scan(\$msg, sender => ['a@example.org']) };
like($@, qr/envelope sender must be a string/, 'a reference as the sender');
eval { $w->scan(\$msg, helo => "evil\0helo") };
like($@, qr/envelope helo contains a NUL character/, 'a NUL in the HELO');
eval { $w->scan(\$msg, recipients => ['ok@example.net', undef]) };
like($@, qr/envelope recipient must be a string/, 'an undefined recipient');

# --- the message -------------------------------------------------------------------------------
eval { $w->scan($msg) };
like($@, qr/pass the message as a reference to a scalar/, 'the message by value');
eval { $w->scan(\undef) };
like($@, qr/the message is undefined/, 'an undefined message');
my $wide = "Subject: \x{263a}\r\n\r\nhi\r\n";
eval { $w->scan(\$wide) };
like($@, qr/characters above 0xFF; pass encoded bytes/, 'characters that are not bytes');

eval { $w->scan_file("$dir/nope.eml") };
like($@, qr/cannot open \Q$dir\E\/nope\.eml: No such file/, 'a missing file');
eval { $w->scan_file($dir) };
like($@, qr/cannot (open|read) \Q$dir\E/, 'a directory');
eval { $w->scan_file() };
like($@, qr/no path given/, 'no path');

# Hostile content never croaks: it becomes findings.
for my $junk ('', "\0\0\0", "\r\n\r\n", "--x\r\n" x 1000, "Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n",
    join('', map { chr } 0 .. 255) x 50) {
    my $r = eval { $w->scan(\$junk) };
    ok($r && defined $r->category, 'hostile input gives a report (' . length($junk) . ' bytes)') or diag $@;
}

is($w->scan(\$msg)->category, 'clean', 'after all that the object still scans');

done_testing;
