use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";    # so `prove -l bindings/perl/t` works from the repository too
use File::Temp qw(tempdir);
use JSON::PP;

use Mail::Warden;

my $EICAR = 'X5O!P%@AP[4\PZX54(P^)7CC)7}$' . 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
my $GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
my $HEAD  = "From: alice\@example.org\r\nTo: bob\@example.net\r\n"
    . "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <t\@example.org>\r\n";

sub message { my ($subject, $body) = @_; return "${HEAD}Subject: $subject\r\n\r\n$body\r\n" }

my %ENVELOPE = (
    client_address => '192.0.2.7',
    client_name    => 'client.example.org',
    helo           => 'client.example.org',
    sender         => '<alice@example.org>',
    recipients     => ['bob@example.net', 'carol@example.net'],
);

my $w = Mail::Warden->new;
isa_ok($w, 'Mail::Warden');

# --- a clean message -----------------------------------------------------------------------
my $clean = message('lunch', 'Lunch at noon on Friday?');
my $r = $w->scan(\$clean, %ENVELOPE);
isa_ok($r, 'Mail::Warden::Report');
# Delivered with the X-Spam-* header edits: "tag", not "accept".
is($r->action,   'tag', 'clean: delivered with the header edits');
is($r->category, 'clean',  'clean: category clean');
is($r->score + 0, 0, 'clean: score 0');
is($r->required_score, 5, 'clean: the default required score is 5');
ok(!$r->is_virus, 'clean: no virus');
ok(!$r->is_spam,  'clean: not spam');
is_deeply([$r->viruses],   [], 'clean: no virus names');
is_deeply([$r->rules],     [], 'clean: no rule hits');
is_deeply([$r->unchecked], [], 'clean: nothing unchecked');
is($r->smtp_reply, '250 2.0.0 Ok', 'clean: the reply');
is($r->reply_code, 250, 'clean: reply code');
my %headers = map { ($_->{name} => $_) } $r->headers;
is($headers{'X-Spam-Score'}{value}, '0.0 () none', 'clean: X-Spam-Score edit, MIMEDefang style');
is($headers{'X-Spam-Score'}{op},    'add',         'clean: added');
like($headers{'X-Spam-Status'}{value}, qr/\ANo, score=0\.0 required=5\.0 /, 'clean: X-Spam-Status');

# The envelope reached the library: one verdict per recipient, in order.
my $data = $r->data;
is_deeply([map { $_->{recipient} } @{ $data->{recipients} }], ['bob@example.net', 'carol@example.net'],
    'the recipients reached the library');
is($data->{size}, length $clean, 'the whole message was written');

# --- EICAR, from memory and from a file ---------------------------------------------------
my $eicar = "${HEAD}Subject: eicar\r\nMIME-Version: 1.0\r\n"
    . "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
    . "--XX\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
    . "--XX\r\nContent-Type: application/octet-stream; name=\"eicar.com\"\r\n"
    . "Content-Disposition: attachment; filename=\"eicar.com\"\r\n\r\n$EICAR\r\n--XX--\r\n";
my $dir = tempdir(CLEANUP => 1);
open my $fh, '>:raw', "$dir/eicar.eml" or die $!;
print $fh $eicar;
close $fh;
for my $case (['scan', sub { $w->scan(\$eicar, %ENVELOPE) }], ['scan_file', sub { $w->scan_file("$dir/eicar.eml", %ENVELOPE) }]) {
    my ($how, $call) = @$case;
    my $v = $call->();
    is($v->action,   'reject', "$how eicar: rejected");
    is($v->category, 'virus',  "$how eicar: category virus");
    ok($v->is_virus, "$how eicar: is_virus");
    is_deeply([$v->viruses], ['Eicar-Test-Signature'], "$how eicar: the virus name");
    is($v->smtp_reply, '554 5.7.1 Message contains Eicar-Test-Signature virus, rejected', "$how eicar: reply");
    is($v->reply_code, 554, "$how eicar: code");
    is($v->reply_enhanced, '5.7.1', "$how eicar: enhanced code");
    is($v->reply_text, 'Message contains Eicar-Test-Signature virus, rejected', "$how eicar: text");
}

# A message bigger than scan_file's 64 KB chunk, with the virus after the first chunk.
my $big = "${HEAD}Subject: big\r\n\r\n" . ("filler line of text, nothing to see here at all\r\n" x 3000) . "$EICAR\r\n";
open $fh, '>:raw', "$dir/big.eml" or die $!;
print $fh $big;
close $fh;
my $b = $w->scan_file("$dir/big.eml");
ok($b->is_virus, 'scan_file: a virus past the first 64 KB chunk is found');
is($b->data->{size}, length $big, 'scan_file: every chunk was written');

# --- GTUBE ----------------------------------------------------------------------------------
my $gtube = message('gtube', $GTUBE);
my $g = $w->scan(\$gtube, %ENVELOPE);
is($g->action,   'reject', 'gtube: rejected');
is($g->category, 'spam',   'gtube: category spam');
ok($g->is_spam,  'gtube: is_spam');
ok(!$g->is_virus, 'gtube: not a virus');
is($g->score, 1000, 'gtube: score 1000');
is_deeply([$g->rules],
    [{ name => 'GTUBE', score => 1000, description => 'Generic Test for Unsolicited Bulk Email' }],
    'gtube: the rule hit with score and description');
is($g->smtp_reply, '554 5.7.1 Message seems to be spam, rejected', 'gtube: the spam reply');
my @edits = $g->headers;
my ($subject) = grep { $_->{name} eq 'Subject' } @edits;
is_deeply($subject, { op => 'change', name => 'Subject', value => '***SPAM*** gtube' }, 'gtube: subject tag edit');
my ($score) = grep { $_->{name} eq 'X-Spam-Score' } @edits;
is($score->{value}, '1000.0 (' . ('*' x 40) . ') GTUBE', 'gtube: X-Spam-Score with 40 stars at most');

# The examples/ sample scans the same way from its file.
# The repository's sample (absent when the distribution is tested on its own).
SKIP: {
    my $file = "$FindBin::Bin/../../../examples/messages/gtube.eml";
    skip 'not in a mailwarden checkout', 1 unless -f $file;
    is($w->scan_file($file)->category, 'spam', 'examples/messages/gtube.eml is spam');
}

# --- as_json agrees with the accessors ------------------------------------------------------
my $j = JSON::PP->new->utf8->decode($g->as_json);
is($j->{action},   $g->action,   'json: action');
is($j->{category}, $g->category, 'json: category');
is($j->{score},    $g->score,    'json: score');
is($j->{smtp_reply}, $g->smtp_reply, 'json: smtp_reply');
is_deeply($j->{rules}, [$g->rules], 'json: rules');
is_deeply($j->{headers}, \@edits, 'json: headers');
is_deeply($g->data, $j, 'data decodes as_json');

# --- unchecked and banned ---------------------------------------------------------------------
my $ambiguous = "${HEAD}Subject: ambiguous\r\nMIME-Version: 1.0\r\n"
    . "Content-Type: multipart/mixed; boundary=\"AA\"; boundary=\"BB\"\r\n\r\n"
    . "--AA\r\nContent-Type: text/plain\r\n\r\none\r\n--AA--\r\n";
my $u = $w->scan(\$ambiguous);
is($u->category, 'unchecked', 'two boundary parameters: unchecked');
my ($finding) = $u->unchecked;
is($finding->{reason}, 'ambiguous_mime', 'unchecked: the reason');
is($finding->{path}, '', 'unchecked: the path (the message itself)');
like($finding->{detail}, qr/boundary/, 'unchecked: the detail');

my $exe = "${HEAD}Subject: exe\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n"
    . "--BB\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
    . "--BB\r\nContent-Type: application/octet-stream; name=\"run.exe\"\r\n"
    . "Content-Disposition: attachment; filename=\"run.exe\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    . "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgAAAAA==\r\n--BB--\r\n";
my $x = $w->scan(\$exe);
is($x->category, 'banned', 'a Windows executable attachment is banned');
my ($ban) = $x->banned;
is($ban->{path}, '2', 'banned: the MIME part path');
is($ban->{rule}, 'executable', 'banned: the rule');

# --- envelope variants ------------------------------------------------------------------------
my $one = $w->scan(\$clean, recipients => 'dave@example.net', sender => '<>');
is_deeply([map { $_->{recipient} } @{ $one->data->{recipients} }], ['dave@example.net'],
    'one recipient as a plain string; the envelope does not carry over from the last scan');
my $none = $w->scan(\$clean);
is_deeply($none->data->{recipients}, [], 'no envelope at all');
my $v6 = $w->scan(\$clean, client_address => 'IPv6:2001:db8::1');
is($v6->category, 'clean', 'an IPv6: address as Sendmail writes it is accepted');

# UTF-8 text in the envelope is passed as UTF-8.
# UTF-8 text in the envelope is passed as UTF-8, whether given as characters (wide or Latin-1)
# or as UTF-8 bytes.
for my $rcpt ("j\x{fc}rgen\@example.net", "\x{4f60}\x{597d}\@example.net") {
    my $bytes = $rcpt;
    utf8::encode($bytes);
    for my $given ([characters => $rcpt], ['UTF-8 bytes' => $bytes]) {
        my $got = $w->scan(\$clean, recipients => [$given->[1]])->data->{recipients}[0]{recipient};
        is($got, $rcpt, "a non-ASCII recipient given as $given->[0] round-trips");
    }
}

# A message held as a character string with only Latin-1 characters is scanned as bytes.
my $latin = message('caf' . "\x{e9}", 'ol' . "\x{e9}");
utf8::upgrade($latin);
my $latin_before = $latin;
is($w->scan(\$latin)->data->{size}, length $latin, 'an upgraded Latin-1 string is scanned as its bytes');
ok(utf8::is_utf8($latin) && $latin eq $latin_before, "and the caller's string is left as it was");
my $clean_before = $clean;
$w->scan(\$clean);
is($clean, $clean_before, "scan leaves the caller's bytes alone");

# --- a configuration file ----------------------------------------------------------------------
open $fh, '>', "$dir/spammy.toml" or die $!;
print $fh "[policy]\nkill_level = 2000.0\n";
close $fh;
my $site = Mail::Warden->new(config => "$dir/spammy.toml");
my $s = $site->scan(\$gtube);
is($s->category, 'spammy', 'config: with kill_level 2000 GTUBE is only spammy');
is($s->action, 'tag', 'config: and tagged, not rejected');
ok($s->is_spam, 'config: still is_spam');

# --- a report outlives its engine; objects are independent ----------------------------------
my $kept = do { my $tmp = Mail::Warden->new; $tmp->scan(\$gtube) };
is($kept->category, 'spam', 'a report stays valid after its Mail::Warden is gone');
is(scalar(() = $kept->headers), 5, 'and its strings too');

# --- a forked child (as MIMEDefang's workers) scans with the parent's object -----------------
my $pid = open(my $child, '-|') // die "fork: $!";
if (!$pid) {
    print $w->scan(\$gtube)->category;
    exit 0;
}
my $got = do { local $/; <$child> };
close $child;
is($got, 'spam', 'a forked child scans with the object its parent built');
is($w->scan(\$eicar)->category, 'virus', 'and the parent still can');

done_testing;
