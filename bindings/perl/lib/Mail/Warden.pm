package Mail::Warden;

use strict;
use warnings;

use Carp qw(croak);
use Cwd ();
use File::Basename ();
use File::Spec ();
use FFI::Platypus 2.00;
use FFI::Platypus::Buffer qw(scalar_to_buffer);
use Mail::Warden::Report;

our $VERSION = '0.1.0';

# The C library's file, found once when the module is loaded (see "FINDING THE LIBRARY").
our $LIBRARY = _find_library();

my $ffi = FFI::Platypus->new(api => 2, lib => [$LIBRARY]);

# Every mw_result is a uint32_t; handles are opaque pointers. mw_engine_new_* and
# mw_scan_finish write their handle through a pointer-to-pointer (opaque*).
$ffi->attach([mw_version     => '_version']     => []         => 'string');
$ffi->attach([mw_result_name => '_result_name'] => ['uint32'] => 'string');
$ffi->attach([mw_last_error  => '_last_error']  => []         => 'string');
$ffi->attach([mw_engine_new_default     => '_engine_new_default'] => ['opaque*']           => 'uint32');
$ffi->attach([mw_engine_new_from_config => '_engine_new_config']  => ['string', 'opaque*'] => 'uint32');
$ffi->attach([mw_engine_free            => '_engine_free']        => ['opaque']            => 'void');
$ffi->attach([mw_scan_new                => '_scan_new']         => ['opaque', 'opaque*']         => 'uint32');
$ffi->attach([mw_scan_set_client_address => '_scan_set_address'] => ['opaque', 'string']          => 'uint32');
$ffi->attach([mw_scan_set_client_name    => '_scan_set_name']    => ['opaque', 'string']          => 'uint32');
$ffi->attach([mw_scan_set_helo           => '_scan_set_helo']    => ['opaque', 'string']          => 'uint32');
$ffi->attach([mw_scan_set_sender         => '_scan_set_sender']  => ['opaque', 'string']          => 'uint32');
$ffi->attach([mw_scan_add_recipient      => '_scan_add_rcpt']    => ['opaque', 'string']          => 'uint32');
$ffi->attach([mw_scan_write              => '_scan_write']       => ['opaque', 'opaque', 'size_t'] => 'uint32');
$ffi->attach([mw_scan_finish             => '_scan_finish']      => ['opaque', 'opaque*']         => 'uint32');
$ffi->attach([mw_scan_reset              => '_scan_reset']       => ['opaque']                    => 'void');
$ffi->attach([mw_scan_free               => '_scan_free']        => ['opaque']                    => 'void');

Mail::Warden::Report::_attach($ffi);

# The library's ABI version must be one this binding was written for (the soname's major).
{
    my $v = _version();
    croak "Mail::Warden: $LIBRARY reports version '$v'; this binding needs libmailwarden 0.x"
        unless defined $v && $v =~ /\A0\.\d+/;
}

# How each envelope key is passed to the scanner, in the order they are applied.
my @ENVELOPE = (
    [client_address => \&_scan_set_address],
    [client_name    => \&_scan_set_name],
    [helo           => \&_scan_set_helo],
    [sender         => \&_scan_set_sender],
);
my %ENVELOPE_KEY = map { ($_->[0] => 1) } @ENVELOPE;
$ENVELOPE_KEY{recipients} = 1;

use constant CHUNK => 64 * 1024;

sub _find_library {
    if (defined(my $lib = $ENV{MAILWARDEN_LIB})) {
        croak "Mail::Warden: MAILWARDEN_LIB=$lib is not a readable file" unless -f $lib && -r _;
        return $lib;
    }
    my @candidates;
    # An installation with mailwarden.pc (scripts/install.sh): its libdir first.
    my $libdir = `pkg-config --variable=libdir mailwarden 2>/dev/null`;
    if ($? == 0 && defined $libdir) {
        chomp $libdir;
        push @candidates, "$libdir/libmailwarden.so.0", "$libdir/libmailwarden.so" if length $libdir;
    }
    # The dynamic linker's usual places.
    push @candidates, map { ("$_/libmailwarden.so.0", "$_/libmailwarden.so") }
        qw(/usr/local/lib /usr/lib /usr/lib64 /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu);
    # A checkout: the repository holding this file (bindings/perl/lib/Mail/Warden.pm, or
    # bindings/perl/blib/lib/... under `make test`), its target/release then target/debug.
    my $dir = File::Basename::dirname(Cwd::abs_path(__FILE__));
    for (1 .. 6) {
        $dir = File::Basename::dirname($dir);
        if (-f File::Spec->catfile($dir, 'Cargo.toml') && -d File::Spec->catdir($dir, 'bindings', 'perl')) {
            push @candidates, map { File::Spec->catfile($dir, 'target', $_, 'libmailwarden.so') } qw(release debug);
            last;
        }
    }
    for my $path (@candidates) {
        return File::Spec->rel2abs($path) if -f $path && -r _;
    }
    croak "Mail::Warden: cannot find libmailwarden.so; set MAILWARDEN_LIB to its path, "
        . "install it (scripts/install.sh, then pkg-config finds it), or build it "
        . "(cargo build --release). Looked in: @candidates";
}

# Croaks with the library's message for a failed call.
sub _check {
    my ($rc, $what) = @_;
    return if $rc == 0;
    my $detail = _last_error();
    my $name   = _result_name($rc);
    croak "Mail::Warden: $what failed: $name" . (defined $detail && length $detail ? ": $detail" : '');
}

sub version { return _version() }

sub new {
    my ($class, %args) = @_;
    my $config = delete $args{config};
    croak 'Mail::Warden->new: unknown argument(s): ' . join(', ', sort keys %args) if %args;
    my $engine;
    if (defined $config) {
        croak 'Mail::Warden->new: config must be a file path' if ref $config;
        croak 'Mail::Warden->new: config path contains a NUL character' if $config =~ /\0/;
        _check(_engine_new_config($config, \$engine), "loading configuration $config");
    } else {
        _check(_engine_new_default(\$engine), 'building the default engine');
    }
    my $scan;
    my $rc = _scan_new($engine, \$scan);
    if ($rc != 0) {
        _engine_free($engine);
        _check($rc, 'creating a scanner');
    }
    return bless { engine => $engine, scan => $scan }, $class;
}

# Applies the envelope to the scanner; croaks (after resetting it) on a bad key or value.
sub _envelope {
    my ($self, $envelope) = @_;
    my $scan = $self->{scan};
    for my $key (sort keys %$envelope) {
        next if $ENVELOPE_KEY{$key};
        _scan_reset($scan);
        croak "Mail::Warden: unknown envelope key '$key' (known: "
            . join(', ', sort keys %ENVELOPE_KEY) . ')';
    }
    for my $entry (@ENVELOPE) {
        my ($key, $setter) = @$entry;
        my $value = $envelope->{$key};
        next unless defined $value;
        my $rc = $setter->($scan, _text($scan, $key, $value));
        if ($rc != 0) {
            _scan_reset($scan);
            _check($rc, "setting $key '$value'");
        }
    }
    if (defined(my $rcpts = $envelope->{recipients})) {
        if (ref $rcpts && ref $rcpts ne 'ARRAY') {
            _scan_reset($scan);
            croak 'Mail::Warden: recipients must be an address or an array reference of addresses';
        }
        for my $rcpt (ref $rcpts ? @$rcpts : $rcpts) {
            my $rc = _scan_add_rcpt($scan, _text($scan, 'recipient', $rcpt));
            if ($rc != 0) {
                _scan_reset($scan);
                _check($rc, "adding recipient '$rcpt'");
            }
        }
    }
}

# An envelope value as UTF-8 bytes for the C side.
sub _text {
    my ($scan, $key, $value) = @_;
    if (!defined $value || ref $value) {
        _scan_reset($scan);
        croak "Mail::Warden: envelope $key must be a string";
    }
    if ($value =~ /\0/) {
        _scan_reset($scan);
        croak "Mail::Warden: envelope $key contains a NUL character";
    }
    # Characters are encoded as UTF-8. A byte string is passed as it is when it is valid UTF-8
    # (as MTAs hand addresses over) and otherwise read as Latin-1 characters.
    my $bytes = "$value";
    my $probe = $bytes;
    utf8::encode($bytes) if utf8::is_utf8($bytes) || !utf8::decode($probe);
    return $bytes;
}

# Writes the bytes of the scalar \$bytes refers to, from the scalar's own buffer (the library
# copies them; Perl's copy is not needed).
sub _write {
    my ($scan, $bytes) = @_;
    return 0 unless length $$bytes;
    my ($ptr, $len) = scalar_to_buffer($$bytes);
    return _scan_write($scan, $ptr, $len);
}

sub _finish {
    my ($self) = @_;
    my $report;
    _check(_scan_finish($self->{scan}, \$report), 'scanning');
    return Mail::Warden::Report->_new($report);
}

sub scan {
    my ($self, $message, %envelope) = @_;
    croak 'Mail::Warden->scan: pass the message as a reference to a scalar: $w->scan(\$bytes)'
        unless ref $message eq 'SCALAR';
    croak 'Mail::Warden->scan: the message is undefined' unless defined $$message;
    if (utf8::is_utf8($$message)) {
        # Perl's internal UTF-8 form of a string of bytes: scan a downgraded copy.
        my $copy = $$message;
        utf8::downgrade($copy, 1)
            or croak 'Mail::Warden->scan: the message has characters above 0xFF; pass encoded bytes '
            . '(for example Encode::encode("UTF-8", $text))';
        $message = \$copy;
    }
    $self->_envelope(\%envelope);
    my $rc = _write($self->{scan}, $message);
    if ($rc != 0) {
        _scan_reset($self->{scan});
        _check($rc, 'writing the message');
    }
    return $self->_finish;
}

sub scan_file {
    my ($self, $path, %envelope) = @_;
    croak 'Mail::Warden->scan_file: no path given' unless defined $path && !ref $path;
    open my $fh, '<:raw', $path or croak "Mail::Warden->scan_file: cannot open $path: $!";
    $self->_envelope(\%envelope);
    my $scan = $self->{scan};
    while (1) {
        my $n = read $fh, my $chunk, CHUNK;
        if (!defined $n) {
            my $err = $!;
            _scan_reset($scan);
            croak "Mail::Warden->scan_file: cannot read $path: $err";
        }
        last if $n == 0;
        my $rc = _write($scan, \$chunk);
        if ($rc != 0) {
            _scan_reset($scan);
            _check($rc, "writing $path");
        }
    }
    close $fh;
    return $self->_finish;
}

# Perl ithreads would copy the handles into the new thread and free them twice: a new thread
# gets undef instead (build a Mail::Warden per thread).
sub CLONE_SKIP { 1 }

sub DESTROY {
    my ($self) = @_;
    return if ${^GLOBAL_PHASE} eq 'DESTRUCT';    # the process is exiting: the OS frees it
    _scan_free(delete $self->{scan})     if $self->{scan};
    _engine_free(delete $self->{engine}) if $self->{engine};
}

1;

__END__

=encoding utf8

=head1 NAME

Mail::Warden - scan mail for viruses, spam and banned content with libmailwarden

=head1 SYNOPSIS

    use Mail::Warden;

    my $warden = Mail::Warden->new;                              # embedded defaults
    my $site   = Mail::Warden->new(config => '/etc/mailwarden.toml');

    my $report = $warden->scan_file('incoming.eml',
        client_address => '192.0.2.1',
        helo           => 'mx.example.org',
        sender         => 'alice@example.org',
        recipients     => ['bob@example.net'],
    );
    # or, from memory: $warden->scan(\$bytes, sender => ...)

    if ($report->is_virus) {
        print "virus: ", join(', ', $report->viruses), "\n";
    } elsif ($report->is_spam) {
        printf "spam, score %.1f: %s\n", $report->score,
            join(',', map { $_->{name} } $report->rules);
    }
    print $report->action, "\n";        # accept tag quarantine discard reject tempfail
    print $report->smtp_reply, "\n";    # 554 5.7.1 Message contains ... virus, rejected
    for my $edit ($report->headers) {   # what to do to the header
        print "$edit->{op} $edit->{name}: $edit->{value}\n";
    }

=head1 DESCRIPTION

Mail::Warden is the Perl binding of mailwarden, an embeddable mail-content filter: one call
does what a gateway otherwise spreads over ClamAV, SpamAssassin, amavisd-new and a MIME
walker, and returns a verdict with the SMTP reply, the header edits and every finding. It
binds, through L<FFI::Platypus>, the same shared library C programs link
(C<libmailwarden.so.0>, see F<include/mailwarden.h>); there is no XS to compile.

A C<Mail::Warden> object holds one engine (the compiled signatures, rules and policy) and one
scanner. Build it once per process and scan many messages with it: a scan costs no set-up.
Each scan returns a L<Mail::Warden::Report>.

=head1 METHODS

=head2 new

    my $w = Mail::Warden->new;
    my $w = Mail::Warden->new(config => $path);

Without arguments the engine uses the embedded defaults: built-in EICAR and GTUBE detection,
Debian's amavisd-new limits and the default policy; it needs no files. With C<config> it
reads the TOML file C<mailwarden --config> reads (relative paths in it are resolved against
the file's directory). Croaks with the library's message when the file cannot be read or is
wrong, for example
C<Mail::Warden: loading configuration x.toml failed: MW_RESULT_CONFIG: ...>.

=head2 scan

    my $report = $w->scan(\$bytes, %envelope);

Scans a whole message (header and body, LF or CRLF line ends) held in a scalar, passed by
reference so it is not copied. The scalar must hold bytes: a string with characters above
0xFF croaks (encode it first). Malformed content never croaks; it becomes findings.

=head2 scan_file

    my $report = $w->scan_file($path, %envelope);

Reads the message from a file in 64 KB chunks and scans it. Croaks when the file cannot be
opened or read.

=head2 The envelope

Both scan methods take the SMTP envelope as key/value pairs, all optional:

=over

=item client_address

The SMTP client's IPv4 or IPv6 address (C<IPv6:> prefixed addresses as Sendmail writes them
are accepted). Anything else croaks with C<MW_RESULT_INVALID_ADDRESS>.

=item client_name

The client's reverse-DNS name.

=item helo

The HELO/EHLO argument.

=item sender

MAIL FROM; angle brackets are removed, C<''> or C<< '<>' >> is the null sender.

=item recipients

One address or a reference to an array of addresses (RCPT TO).

=back

An unknown key croaks, so a typo cannot silently drop part of the envelope. Values reach the
library as UTF-8: a character string is encoded, a byte string that is valid UTF-8 (as MTAs
and MIMEDefang hand addresses over) is passed as it is, and any other byte string is taken as
Latin-1 characters. A NUL character croaks.

=head2 version

    Mail::Warden->version;    # "0.1.0", the C library's version

=head1 FINDING THE LIBRARY

When the module is loaded it looks for the shared library in this order and croaks, naming the
places it looked, if none has it:

=over

=item 1. the file named by the environment variable C<MAILWARDEN_LIB>;

=item 2. the C<libdir> of C<pkg-config mailwarden> (after C<scripts/install.sh>);

=item 3. F</usr/local/lib>, F</usr/lib>, F</usr/lib64> and Debian's multiarch directories;

=item 4. the repository's F<target/release>, then F<target/debug>, when the module is used
from a checkout (F<bindings/perl/lib>, or F<bindings/perl/blib> under C<make test>).

=back

C<$Mail::Warden::LIBRARY> holds the path that was chosen.

=head1 RESOURCES, PROCESSES AND THREADS

The engine and scanner are freed when the object goes out of scope; each report is freed when
the report goes out of scope. Scanning 100,000 messages in a loop does not grow the process
(F<t/03-leak.t> checks it).

An object may be used in a child after C<fork> (as MIMEDefang's workers do): each process has
its own copy. Perl threads do not share objects: one created before a thread starts is
C<undef> inside it; create one per thread.

=head1 SEE ALSO

L<Mail::Warden::Report>; the repository's F<README.md> ("Use from Perl and MIMEDefang") and
F<examples/mimedefang/mimedefang-filter>, a complete MIMEDefang filter built on this module.

=cut
