//! URIs in the rendered body text, found as SpamAssassin's `_process_text_uri_list` finds
//! them (PerMsgStatus.pm, 4.0.1): its Thunderbird-like pattern, tried at each position of
//! each body line, with three alternatives in order:
//!
//! 1. a known scheme or prefix (`http://`, `https://`, `ftp://`, `www.`, `www1.`, `ftp.`)
//!    and everything up to a delimiter;
//! 2. a mail address (`mailto:...`, or `local@domain`);
//! 3. a schemeless host name ending in a valid TLD (`example.com`, `timtoken.py`), with an
//!    optional port and path.
//!
//! Then the found text is trimmed and classified as SpamAssassin does (a `)` without `(`
//! ends it, trailing punctuation goes, a host must be a valid FQDN, a mail domain must end in
//! a valid TLD) and given its scheme. The result goes through the canonicalization of
//! [`super::uris`] with the URIs of the HTML parser.
//!
//! The pattern is matched by hand, not by a regex: it needs look-behind, and its greedy
//! runs with lookahead reduce to "the maximal run, if it ends at a delimiter".

use super::texts::Registry;

/// ESC: the ISO-2022 shift (SpamAssassin bug 4522) delimits URIs.
const ESC: u8 = 0x1b;
/// A non-breaking space delimits URIs too.
const NBSP: u8 = 0xa0;
/// Longest URI body after a scheme, a `mailto:` or a `/`.
const MAX_RUN: usize = 2048;
/// Longest local part and longest domain part of a bare address.
const MAX_MAIL_PART: usize = 251;
/// Longest schemeless host before its final dot (`[a-z\d][a-z\d._-]{0,251}`).
const MAX_HOST: usize = 252;

fn word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// A membership table of the bytes of `SPACES` and `set`, for the delimiter tests below,
/// which run at every byte of the body text (`[u8]::contains` on the set was 1% of a scan).
const fn delimiters(set: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < SPACES.len() {
        table[SPACES[i] as usize] = true;
        i += 1;
    }
    let mut i = 0;
    while i < set.len() {
        table[set[i] as usize] = true;
        i += 1;
    }
    table
}

/// Perl's `\s`, ESC and NBSP: in every delimiter set below.
const SPACES: &[u8] = &[b' ', b'\t', b'\n', b'\r', 0x0b, 0x0c, ESC, NBSP];
const START_DELIM: [bool; 256] = delimiters(b"><\"'`,{[(|");
const END_DELIM: [bool; 256] = delimiters(b"><\"`}]{[|");
const SCHEMELESS_START: [bool; 256] = delimiters(b"!\"#$&'()*+,/:;<=>?@[\\]^`{|}~");

/// `$tbirdstartdelim`: what may come just before a URI.
fn start_delim(b: u8) -> bool {
    START_DELIM[usize::from(b)]
}

/// `$tbirdenddelim`: what ends a URI.
fn end_delim(b: u8) -> bool {
    END_DELIM[usize::from(b)]
}

/// `$tbirdenddelimemail`: what ends a mail address (also `,`, `(`, `'` and 8-bit bytes).
fn end_delim_email(b: u8) -> bool {
    end_delim(b) || matches!(b, b',' | b'(' | b'\'') || b >= 0x80
}

/// `$scstartdelim`: what may come just before a schemeless host.
fn schemeless_start(b: u8) -> bool {
    SCHEMELESS_START[usize::from(b)]
}

/// Length of the run of bytes from `at` that `inside` accepts.
fn run(text: &[u8], at: usize, inside: impl Fn(u8) -> bool) -> usize {
    text[at.min(text.len())..]
        .iter()
        .take_while(|&&b| inside(b))
        .count()
}

/// Whether position `at` ends a URI: the end of the text or an end delimiter.
fn ends(text: &[u8], at: usize, delim: impl Fn(u8) -> bool) -> bool {
    text.get(at).is_none_or(|&b| delim(b))
}

fn starts_with_ci(text: &[u8], at: usize, prefix: &[u8]) -> bool {
    text.get(at..at + prefix.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(prefix))
}

/// What kind of text the pattern found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Scheme,
    Mail,
    /// With the host (`$schost`), as byte offsets.
    Schemeless(usize, usize),
}

/// Alternative 1 at `at`: the end of the match.
fn known_scheme(text: &[u8], at: usize) -> Option<usize> {
    let prefix = [&b"http://"[..], b"https://", b"ftp://"]
        .iter()
        .find(|p| starts_with_ci(text, at, p))
        .map(|p| p.len())
        .or_else(|| {
            if starts_with_ci(text, at, b"www") {
                let digits = run(text, at + 3, |b| b.is_ascii_digit()).min(2);
                (text.get(at + 3 + digits) == Some(&b'.')).then_some(3 + digits + 1)
            } else {
                starts_with_ci(text, at, b"ftp.").then_some(4)
            }
        })?;
    let body = run(text, at + prefix, |b| !end_delim(b));
    (1..=MAX_RUN).contains(&body).then_some(at + prefix + body)
}

/// Alternative 2 at `at`: the end of the match (`has_at`: whether the text holds an `@`,
/// without which only `mailto:` can match).
fn mail(text: &[u8], at: usize, has_at: bool) -> Option<usize> {
    if starts_with_ci(text, at, b"mailto:") {
        let body = run(text, at + 7, |b| !end_delim_email(b));
        if (1..=MAX_RUN).contains(&body) {
            return Some(at + 7 + body);
        }
    }
    if !has_at {
        return None;
    }
    let local = run(text, at, |b| !end_delim_email(b) && b != b'@');
    if !(1..=MAX_MAIL_PART).contains(&local) || text.get(at + local) != Some(&b'@') {
        return None;
    }
    let domain = run(text, at + local + 1, |b| !end_delim_email(b));
    (1..=MAX_MAIL_PART)
        .contains(&domain)
        .then_some(at + local + 1 + domain)
}

/// Alternative 3 at `at`: the end of the match and the host.
fn schemeless(text: &[u8], at: usize, registry: &Registry) -> Option<(usize, usize, usize)> {
    if at > 0 && !schemeless_start(text[at - 1]) {
        return None;
    }
    if !text.get(at).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    let hostish = run(text, at, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
    });
    // The longest host first: a dot, then a TLD that is a whole label (not followed by a
    // letter, a digit, `-` or a dot and a letter or digit).
    let last_dot = (at + 1..at + hostish.min(MAX_HOST + 1))
        .rev()
        .filter(|&e| text[e] == b'.')
        .find_map(|e| {
            let label = run(text, e + 1, |b| b.is_ascii_alphanumeric() || b == b'-');
            let end = e + 1 + label;
            let tld = std::str::from_utf8(&text[e + 1..end]).ok()?;
            let dot_word = text.get(end) == Some(&b'.')
                && text.get(end + 1).is_some_and(u8::is_ascii_alphanumeric);
            (label > 0 && !dot_word && registry.valid_tld(tld)).then_some(end)
        })?;
    let host_end = last_dot;
    // `\.?(?::\d{1,5})?(?:/[^delim]{1,2048})?` then a delimiter, trying the longest first.
    let dots: &[usize] = if text.get(host_end) == Some(&b'.') {
        &[1, 0]
    } else {
        &[0]
    };
    for &dot in dots {
        let after_dot = host_end + dot;
        let mut ports = Vec::with_capacity(2);
        if text.get(after_dot) == Some(&b':') {
            let digits = run(text, after_dot + 1, |b| b.is_ascii_digit()).min(5);
            if digits > 0 {
                ports.push(after_dot + 1 + digits);
            }
        }
        ports.push(after_dot);
        for after_port in ports {
            if text.get(after_port) == Some(&b'/') {
                let path = run(text, after_port + 1, |b| !end_delim(b));
                if (1..=MAX_RUN).contains(&path) {
                    return Some((after_port + 1 + path, at, host_end));
                }
            }
            if ends(text, after_port, end_delim) {
                return Some((after_port, at, host_end));
            }
        }
    }
    None
}

/// The pattern at `at`: the end of the match and what it found.
fn match_at(text: &[u8], at: usize, has_at: bool, registry: &Registry) -> Option<(usize, Kind)> {
    let before = at.checked_sub(1).map(|i| text[i]);
    let boundary = before.is_some_and(word) != text.get(at).is_some_and(|&b| word(b));
    let shifted = at >= 3 && text[at - 3] == ESC && text[at - 2] == b'(' && text[at - 1] != b'\n';
    if !(boundary || shifted || before.is_some_and(start_delim)) {
        return None;
    }
    if let Some(end) = known_scheme(text, at).filter(|&e| ends(text, e, end_delim)) {
        return Some((end, Kind::Scheme));
    }
    if let Some(end) = mail(text, at, has_at).filter(|&e| ends(text, e, end_delim_email)) {
        return Some((end, Kind::Mail));
    }
    schemeless(text, at, registry).map(|(end, h0, h1)| (end, Kind::Schemeless(h0, h1)))
}

/// SpamAssassin's `is_fqdn_valid` for an ASCII host.
pub(crate) fn fqdn_valid(host: &[u8]) -> bool {
    let host = host.to_ascii_lowercase();
    let mut end = host.len();
    while end > 0 && host[end - 1] == b'.' {
        end -= 1;
    }
    let host = &host[..end];
    if host.len() > 253 {
        return false;
    }
    let labels: Vec<&[u8]> = host.split(|&b| b == b'.').collect();
    let n = labels.len();
    n > 1
        && labels.iter().enumerate().all(|(i, l)| {
            let edge = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
            (1..=63).contains(&l.len())
                && l.first().is_some_and(edge)
                && l.last().is_some_and(edge)
                && l.iter().all(|&b| edge(&b) || b == b'-')
                // the last two labels (registered domain and TLD) take no underscore
                && (i + 2 < n || !l.contains(&b'_'))
        })
}

/// Trims found text as SpamAssassin does: a `)` with no `(` before it ends the URI (the
/// last such `)` before the first `(`), and trailing punctuation goes.
fn trim(raw: &[u8]) -> &[u8] {
    let first_open = raw.iter().position(|&b| b == b'(').unwrap_or(raw.len());
    let raw = match raw[..first_open].iter().rposition(|&b| b == b')') {
        Some(close) => &raw[..close],
        None => raw,
    };
    let keep = raw
        .iter()
        .rposition(|b| !b"-~!@#^&*()_+=:;'?,.".contains(b))
        .map_or(0, |i| i + 1);
    &raw[..keep]
}

/// SpamAssassin's `Util::url_encode`, which a `mailto:` found in text with a `%xx` in it
/// goes through: escapes of printable ASCII (`%21`-`%7E`) are decoded, other escapes stay,
/// and control bytes, 8-bit bytes, `"`, `%`, `<` and `>` outside an escape are escaped.
fn url_encode(uri: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(uri.len());
    let mut i = 0;
    while i < uri.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if uri[i] == b'%'
            && let (Some(h), Some(l)) = (
                uri.get(i + 1).copied().and_then(hex),
                uri.get(i + 2).copied().and_then(hex),
            )
        {
            let c = (h * 16 + l) as u8;
            if (2..=7).contains(&h) && c != 0x20 && c != 0x7f {
                out.push(c);
            } else {
                out.extend_from_slice(&uri[i..i + 3]);
            }
            i += 3;
        } else {
            let b = uri[i];
            if b <= 0x20 || b >= 0x7f || b"\"%<>".contains(&b) {
                out.extend_from_slice(format!("%{b:02x}").as_bytes());
            } else {
                out.push(b);
            }
            i += 1;
        }
    }
    out
}

/// The URI SpamAssassin makes of text found as `kind`, or `None` when it drops it.
fn classify(raw: &[u8], kind: Kind, host: Option<&[u8]>, registry: &Registry) -> Option<Vec<u8>> {
    if kind == Kind::Mail && !raw.contains(&b'@') {
        return None;
    }
    if host.is_some_and(|h| !fqdn_valid(h)) {
        return None;
    }
    let lower = raw.to_ascii_lowercase();
    if lower.starts_with(b"cid:") || lower.starts_with(b"mid:") {
        return None;
    }
    // `^\w+:\/{0,2}$`: a scheme and nothing else.
    if let Some(colon) = lower.iter().position(|&b| b == b':')
        && colon > 0
        && lower[..colon].iter().all(|&b| word(b))
        && lower[colon + 1..].len() <= 2
        && lower[colon + 1..].iter().all(|&b| b == b'/')
    {
        return None;
    }
    let has_scheme = [&b"http:"[..], b"https:", b"ftp:", b"mailto:"]
        .iter()
        .any(|s| lower.starts_with(s));
    let mut uri = if has_scheme {
        raw.to_vec()
    } else if lower.starts_with(b"ftp.") {
        [&b"ftp://"[..], raw].concat()
    } else if lower.starts_with(b"www")
        && lower[3..].iter().take_while(|b| b.is_ascii_digit()).count() <= 2
        && lower[3..].iter().find(|b| !b.is_ascii_digit()) == Some(&b'.')
    {
        [&b"http://"[..], raw].concat()
    } else if raw.iter().position(|&b| b == b'/').is_some_and(|s| {
        raw.iter()
            .rposition(|&b| b == b'@')
            .is_some_and(|a| a > s + 1)
    }) {
        // `\/.+\@`: a slash with something after it before an @ is no mail address.
        [&b"http://"[..], raw].concat()
    } else if let Some(at) = raw.iter().position(|&b| b == b'@') {
        {
            // `\@.+?\.`: a dot after the @ and at least one byte between.
            if !raw[at + 1..].iter().skip(1).any(|&b| b == b'.') {
                return None;
            }
            if memchr::memmem::find(raw, b"&nbsp;").is_some() {
                return None;
            }
            // `^(?:skype|e?-?mail)?:+`: common misparses.
            let mut rest = raw;
            let l = rest.to_ascii_lowercase();
            for p in [&b"skype"[..], b"e-mail", b"email", b"-mail", b"mail"] {
                if l.starts_with(p) && l.get(p.len()) == Some(&b':') {
                    rest = &rest[p.len()..];
                    break;
                }
            }
            while rest.first() == Some(&b':') {
                rest = &rest[1..];
            }
            [&b"mailto:"[..], rest].concat()
        }
    } else {
        if !raw.contains(&b'.') {
            return None;
        }
        [&b"http://"[..], raw].concat()
    };
    if uri.len() >= 7 && uri[..7].eq_ignore_ascii_case(b"mailto:") {
        if uri
            .windows(3)
            .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
        {
            uri = url_encode(&uri);
        }
        let at = uri.iter().position(|&b| b == b'@')?;
        let tail = &uri[at + 1..];
        let mut host = &tail[..tail
            .iter()
            .position(|b| b"?&>".contains(b))
            .unwrap_or(tail.len())];
        while host.ends_with(b"%20") {
            host = &host[..host.len() - 3];
        }
        if !registry.is_domain_valid(&String::from_utf8_lossy(host)) {
            return None;
        }
    }
    Some(uri)
}

/// The URIs SpamAssassin parses from the rendered body `lines` (the Subject first), in the
/// order found, each once.
pub fn parse(lines: &[Vec<u8>], registry: &Registry, out: &mut Vec<Vec<u8>>) {
    let mut seen = std::collections::HashSet::new();
    for text in lines {
        // Every alternative needs a `.` (a host), an `@` or a `:` (`mailto:`, `http:`).
        if memchr::memchr3(b'.', b'@', b':', text).is_none() {
            continue;
        }
        let has_at = memchr::memchr(b'@', text).is_some();
        let mut at = 0;
        while at < text.len() {
            let Some((end, kind)) = match_at(text, at, has_at, registry) else {
                at += 1;
                continue;
            };
            let raw = trim(&text[at..end]);
            let host = match kind {
                Kind::Schemeless(h0, h1) => Some(&text[h0..h1]),
                _ => None,
            };
            if seen.insert(raw.to_vec())
                && let Some(uri) = classify(raw, kind, host, registry)
            {
                out.push(uri);
            }
            at = end.max(at + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        Registry {
            tlds: ["com", "org", "net", "py", "uk", "de", "info"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            ..Registry::default()
        }
    }

    fn uris(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        parse(&[text.as_bytes().to_vec()], &registry(), &mut out);
        out.iter()
            .map(|u| String::from_utf8_lossy(u).into_owned())
            .collect()
    }

    /// Every expectation here was checked against SpamAssassin 4.0.1 (`spamassassin -D uri`
    /// on a message with the line as its body), before canonicalization.
    #[test]
    fn schemes_prefixes_and_bare_hosts() {
        assert_eq!(
            uris("see http://example.com/a?b=1, or www2.example.org."),
            ["http://example.com/a?b=1", "http://www2.example.org"]
        );
        assert_eq!(uris("ftp.example.net/pub"), ["ftp://ftp.example.net/pub"]);
        // Schemeless hosts need a listed TLD that is a whole label.
        assert_eq!(
            uris("a mod to timtoken.py and c.l.py posts"),
            ["http://timtoken.py", "http://c.l.py"]
        );
        assert_eq!(uris("version 2.0.py3 or foo.pyx"), Vec::<String>::new());
        assert_eq!(uris("example.com:8080/x y"), ["http://example.com:8080/x"]);
        // A schemeless host must follow a delimiter and end at one.
        assert_eq!(uris("xexample.com- foo"), Vec::<String>::new());
        // `)` is no end delimiter: SpamAssassin finds nothing in `(example.com)`.
        assert_eq!(uris("(example.com)"), Vec::<String>::new());
        assert_eq!(
            uris("foo%40example.com mailto:foo%40example.com"),
            Vec::<String>::new()
        );
        // A `)` without `(` ends the URI; trailing punctuation goes.
        assert_eq!(
            uris("(see http://example.com/x) and http://example.com/y)."),
            ["http://example.com/x", "http://example.com/y"]
        );
    }

    #[test]
    fn mail_addresses() {
        assert_eq!(
            uris("write to John.Doe@example.com, or mailto:list@example.org?subject=x"),
            [
                "mailto:John.Doe@example.com",
                "mailto:list@example.org?subject=x"
            ]
        );
        // No dot after the @, an unknown TLD, a cid: reference: dropped.
        assert_eq!(uris("Vi@gra user@host.invalid"), Vec::<String>::new());
        assert_eq!(
            uris("[cid:image001.png@01D4986E.E3459640]"),
            Vec::<String>::new()
        );
        // A slash before the @ makes it a web address.
        assert_eq!(
            uris("example.com/~user@home"),
            ["http://example.com/~user@home"]
        );
        assert_eq!(uris("e-mail:bob@example.de"), ["mailto:bob@example.de"]);
    }

    #[test]
    fn fqdn_rules() {
        assert!(fqdn_valid(b"a_b.example.com"));
        assert!(!fqdn_valid(b"a.exa_mple.com"));
        assert!(!fqdn_valid(b"-a.example.com"));
        assert!(!fqdn_valid(b"com"));
        assert!(fqdn_valid(b"example.com."));
    }

    #[test]
    fn hostile_lines_do_not_panic() {
        for text in [
            "\u{1b}(Bhttp://x.com",
            "@@@@",
            "mailto:",
            "www.",
            "a.b.c.d.e.f.g.com.",
            "x@.com",
            "%41@%",
        ] {
            let _ = uris(text);
        }
        let long = "a.".repeat(5000) + "com";
        let _ = uris(&long);
    }
}
