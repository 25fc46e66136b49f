package Mail::Warden::Report;

use strict;
use warnings;

use Carp qw(croak);

our $VERSION = '0.1.0';

# The mw_header_op values (part of the ABI).
my %HEADER_OP = (0 => 'add', 1 => 'change', 2 => 'delete');

# Called once by Mail::Warden with its FFI::Platypus instance: binds the report accessors
# into this package.
sub _attach {
    my ($ffi) = @_;
    my $p = __PACKAGE__;
    $ffi->attach([mw_report_free           => "${p}::_free"]           => ['opaque']           => 'void');
    $ffi->attach([mw_action_name           => "${p}::_action_name"]    => ['uint32']           => 'string');
    $ffi->attach([mw_category_name         => "${p}::_category_name"]  => ['uint32']           => 'string');
    $ffi->attach([mw_report_action         => "${p}::_action"]         => ['opaque']           => 'uint32');
    $ffi->attach([mw_report_category       => "${p}::_category"]       => ['opaque']           => 'uint32');
    $ffi->attach([mw_report_score          => "${p}::_score"]          => ['opaque']           => 'double');
    $ffi->attach([mw_report_required_score => "${p}::_required"]       => ['opaque']           => 'double');
    $ffi->attach([mw_report_reply_code     => "${p}::_reply_code"]     => ['opaque']           => 'uint16');
    $ffi->attach([mw_report_reply_enhanced => "${p}::_reply_enhanced"] => ['opaque']           => 'string');
    $ffi->attach([mw_report_reply_text     => "${p}::_reply_text"]     => ['opaque']           => 'string');
    $ffi->attach([mw_report_reply          => "${p}::_reply"]          => ['opaque']           => 'string');
    $ffi->attach([mw_report_virus_count    => "${p}::_virus_count"]    => ['opaque']           => 'size_t');
    $ffi->attach([mw_report_virus_name     => "${p}::_virus_name"]     => ['opaque', 'size_t'] => 'string');
    $ffi->attach([mw_report_rule_count     => "${p}::_rule_count"]     => ['opaque']           => 'size_t');
    $ffi->attach([mw_report_rule           => "${p}::_rule"]
        => ['opaque', 'size_t', 'string*', 'double*', 'string*'] => 'uint32');
    $ffi->attach([mw_report_unchecked_count => "${p}::_unchecked_count"] => ['opaque'] => 'size_t');
    $ffi->attach([mw_report_unchecked       => "${p}::_unchecked"]
        => ['opaque', 'size_t', 'string*', 'string*', 'string*'] => 'uint32');
    $ffi->attach([mw_report_header_edit_count => "${p}::_header_count"] => ['opaque'] => 'size_t');
    $ffi->attach([mw_report_header_edit       => "${p}::_header"]
        => ['opaque', 'size_t', 'uint32*', 'string*', 'string*'] => 'uint32');
    $ffi->attach([mw_report_json => "${p}::_json"] => ['opaque'] => 'string');
    return;
}

# Takes ownership of an mw_report pointer.
sub _new {
    my ($class, $ptr) = @_;
    croak 'Mail::Warden::Report: no report' unless $ptr;
    return bless \$ptr, $class;
}

# The library's strings are UTF-8; Perl callers get characters.
sub _str {
    my ($s) = @_;
    return undef unless defined $s;    ## no critic (ProhibitExplicitReturnUndef)
    utf8::decode($s);
    return $s;
}

sub action   { return _action_name(_action(${ $_[0] })) }
sub category { return _category_name(_category(${ $_[0] })) }
sub score          { return _score(${ $_[0] }) }
sub required_score { return _required(${ $_[0] }) }

sub viruses {
    my $r = ${ $_[0] };
    return map { _str(_virus_name($r, $_)) } 0 .. _virus_count($r) - 1;
}
sub is_virus { return _virus_count(${ $_[0] }) > 0 ? 1 : 0 }

sub is_spam {
    my $r = ${ $_[0] };
    return _score($r) >= _required($r) ? 1 : 0;
}

sub rules {
    my $r = ${ $_[0] };
    my @rules;
    for my $i (0 .. _rule_count($r) - 1) {
        my ($name, $score, $description);
        _rule($r, $i, \$name, \$score, \$description) == 0 or croak "Mail::Warden::Report: rule $i vanished";
        push @rules, { name => _str($name), score => $score, description => _str($description) };
    }
    return @rules;
}

sub unchecked {
    my $r = ${ $_[0] };
    my @found;
    for my $i (0 .. _unchecked_count($r) - 1) {
        my ($reason, $path, $detail);
        _unchecked($r, $i, \$reason, \$path, \$detail) == 0
            or croak "Mail::Warden::Report: unchecked finding $i vanished";
        push @found, { reason => _str($reason), path => _str($path), detail => _str($detail) };
    }
    return @found;
}

sub headers {
    my $r = ${ $_[0] };
    my @edits;
    for my $i (0 .. _header_count($r) - 1) {
        my ($op, $name, $value);
        _header($r, $i, \$op, \$name, \$value) == 0 or croak "Mail::Warden::Report: header edit $i vanished";
        push @edits, { op => $HEADER_OP{$op} // "op-$op", name => _str($name), value => _str($value) };
    }
    return @edits;
}

sub smtp_reply     { return _str(_reply(${ $_[0] })) }
sub reply_code     { return _reply_code(${ $_[0] }) }
sub reply_enhanced { return _str(_reply_enhanced(${ $_[0] })) }
sub reply_text     { return _str(_reply_text(${ $_[0] })) }

sub as_json { return _json(${ $_[0] }) }

sub data {
    my ($self) = @_;
    require JSON::PP;
    return JSON::PP->new->utf8->decode($self->as_json);
}

sub banned { return @{ $_[0]->data->{banned} || [] } }

sub CLONE_SKIP { 1 }

sub DESTROY {
    my ($self) = @_;
    return if ${^GLOBAL_PHASE} eq 'DESTRUCT';
    _free($$self) if $$self;
    $$self = undef;
}

1;

__END__

=encoding utf8

=head1 NAME

Mail::Warden::Report - the verdict and findings of one Mail::Warden scan

=head1 SYNOPSIS

    my $report = Mail::Warden->new->scan(\$message, sender => 'alice@example.org');

    $report->action;       # "reject"
    $report->category;     # "virus"
    $report->viruses;      # ("Eicar-Test-Signature")
    $report->smtp_reply;   # "554 5.7.1 Message contains Eicar-Test-Signature virus, rejected"
    printf "%.1f/%.1f %s\n", $report->score, $report->required_score,
        join ',', map { $_->{name} } $report->rules;
    my $all = $report->data;   # the whole report as a Perl structure

=head1 DESCRIPTION

A report is what C<scan> and C<scan_file> return. It owns the library's C<mw_report> and frees
it when it goes out of scope; it does not depend on the L<Mail::Warden> object that made it,
so it may outlive it. Strings come back as Perl character strings (the library's UTF-8
decoded); C<as_json> returns the UTF-8 bytes as the library wrote them.

=head1 METHODS

=head2 action

What the MTA should do: C<accept>, C<tag> (deliver with the header edits), C<quarantine>,
C<discard>, C<reject> or C<tempfail>.

=head2 category

The deciding category, amavisd-new's: C<clean>, C<oversized>, C<bad-header>, C<spammy>
(score at or above the required score), C<spam> (at or above the kill level), C<unchecked>,
C<banned>, C<virus>. The highest applies.

=head2 score, required_score

The spam score (the sum of the rule hits) and the score at which a message is spam (the
policy's tag2 level, 5.0 by default).

=head2 is_spam

True when C<score E<gt>= required_score>, as SpamAssassin's C<is_spam>. A message can be both
spam and a virus; C<category> tells which decides.

=head2 is_virus, viruses

Whether a virus was found, and the distinct virus names, first found first.

=head2 rules

The rule hits, each C<< { name => 'GTUBE', score => 1000, description => '...' } >>.

=head2 unchecked

What could not be checked (the message is then never called clean), each
C<< { reason => 'encrypted', path => '2 a.zip', detail => '...' } >>.

=head2 banned

The banned-content findings, each C<< { path => '2', rule => 'executable', detail => '...' } >>
(read from the JSON report: the C ABI has no accessor for them). C<path> is the object path:
MIME parts numbered as IMAP does, joined with C</>; members of a container follow after a
space.

=head2 smtp_reply, reply_code, reply_enhanced, reply_text

The SMTP reply for the action as one line (C<554 5.7.1 Message seems to be spam, rejected>)
and in its parts (C<554>, C<5.7.1>, the text).

=head2 headers

The header edits, in the order they are to be applied, each
C<< { op => 'add' | 'change' | 'delete', name => 'X-Spam-Status', value => '...' } >>
(C<change> replaces the first field of that name or adds it; C<delete> removes every field of
that name and has an empty value).

=head2 as_json, data

The whole report as one line of JSON (the shape of C<mailwarden scan --json>: every object
scanned, the anomalies, the per-recipient verdicts), and the same decoded with L<JSON::PP>.

=cut
