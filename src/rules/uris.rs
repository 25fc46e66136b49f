//! The URI list `uri` rules see, canonicalized as SpamAssassin's
//! `Util::uri_list_canonicalize` does (Mail::SpamAssassin 4.0.1): every URI found keeps its
//! place and gains variants, so a rule written against the plain form also matches an
//! obfuscated one:
//!
//! - `http:www.x` and `http:/x` get their two slashes, backslashes become slashes, a
//!   scheme-less URI gets `http://` (`ftp://` for `ftp.` hosts), `?` or `#` right after the
//!   host gets a `/` before it;
//! - `%xx` escapes of printable characters are decoded (others kept), and numeric
//!   character references of printable characters and of the Unicode dots are decoded;
//! - default ports are dropped, user names before `@` and junk after the host removed;
//! - hosts written as decimal, hex or octal numbers become dotted quads;
//! - a URI inside another (a redirector: `redirector_pattern` lines, else any
//!   `http://` after the host) is listed, and canonicalized, on its own;
//! - `http://word` also lists `http://www.word.com`, as Firefox does;
//! - `mailto:` addresses lose `?subject=` parameters and `%20` padding.
//!
//! - an internationalized host name is also listed in its punycode form, as
//!   `Util::idn_to_ascii` converts it (the Unicode full stops are dots there).
//!
//! The result has no duplicates.

use super::compile::Matcher;
use super::texts::Registry;

/// Most URIs one message yields, variants included: a bound against a redirector chain
/// or a message made of millions of links.
pub(crate) const MAX_URIS: usize = 20_000;

/// The `redirector_pattern`s, in order, and the ones `regex` compiled as one set: most
/// URIs match no redirector, and one search of the set says so instead of one search (for
/// a capture group) per pattern.
#[derive(Debug, Clone, Default)]
pub struct Redirectors {
    patterns: Vec<Matcher>,
    /// The `regex` patterns (set pattern `k` is `patterns[in_set[k]]`), when they compile
    /// as a set.
    set: Option<(regex::bytes::RegexSet, Vec<usize>)>,
}

impl Redirectors {
    /// The redirectors, tried in this order.
    pub fn new(patterns: Vec<Matcher>) -> Self {
        let (in_set, sources): (Vec<usize>, Vec<&str>) = patterns
            .iter()
            .enumerate()
            .filter_map(|(i, m)| match m {
                Matcher::Regex(r) => Some((i, r.as_str())),
                Matcher::Pcre2(_) => None,
            })
            .unzip();
        let set = regex::bytes::RegexSetBuilder::new(sources)
            .size_limit(super::compile::REGEX_SIZE_LIMIT)
            .dfa_size_limit(super::compile::REGEX_SIZE_LIMIT)
            .build()
            .ok()
            .map(|set| (set, in_set));
        Redirectors { patterns, set }
    }

    /// The first capture group of each pattern that matches `uri`, in order (`None` for a
    /// match without one).
    fn targets<'a>(&'a self, uri: &'a [u8]) -> impl Iterator<Item = Vec<u8>> + 'a {
        let mut can_match = vec![true; self.patterns.len()];
        if let Some((set, in_set)) = &self.set {
            let matched = set.matches(uri);
            for (k, &i) in in_set.iter().enumerate() {
                can_match[i] = matched.matched(k);
            }
        }
        self.patterns
            .iter()
            .zip(can_match)
            .filter(|(_, can)| *can)
            .filter_map(move |(re, _)| re.first_group(uri))
    }
}

/// The canonical list of `uris`: each cleaned original, then its variants, without
/// duplicates, in first-seen order.
pub fn canonicalize(
    uris: &[Vec<u8>],
    redirectors: &Redirectors,
    registry: &Registry,
) -> Vec<Vec<u8>> {
    let mut work: Vec<Vec<u8>> = uris.to_vec();
    let mut variants: Vec<Vec<u8>> = Vec::new();
    let mut i = 0;
    while i < work.len() && work.len() + variants.len() < MAX_URIS {
        let uri = clean(&work[i]);
        work[i].clone_from(&uri);
        i += 1;
        let found = one(&uri, redirectors, registry, &mut variants);
        work.extend(found);
    }
    let mut seen = std::collections::HashSet::new();
    work.into_iter()
        .chain(variants)
        .filter(|u| seen.insert(u.clone()))
        .collect()
}

/// Whether SpamAssassin's `RegistryBoundaries::uri_to_domain` finds a domain in `uri`: an IP
/// address, or a valid host name ending in a valid TLD. `javascript:`, `cid:` and `file:`
/// URIs have none, a `mailto:` with two `@` has none, and neither has a host holding a
/// `%` escape of a printable character (its decoded variant is looked at instead).
pub fn has_domain(uri: &[u8], registry: &Registry) -> bool {
    let uri = uri.to_ascii_lowercase();
    if [&b"javascript:"[..], b"cid:", b"file:"]
        .iter()
        .any(|p| uri.starts_with(p))
    {
        return false;
    }
    let host: &[u8] = if let Some(rest) = uri.strip_prefix(b"mailto:") {
        let rest = rest.split(|&b| b == b'?').next().unwrap_or_default();
        match memchr::memchr_iter(b'@', rest).count() {
            1 => &rest[memchr::memrchr(b'@', rest).map_or(0, |p| p + 1)..],
            _ => return false,
        }
    } else {
        let scheme = uri.iter().take_while(|b| b.is_ascii_lowercase()).count();
        let mut rest = &uri[..];
        if scheme > 0 && uri.get(scheme) == Some(&b':') {
            rest = &uri[scheme + 1..];
            let slashes = rest.iter().take(2).take_while(|&&b| b == b'/').count();
            rest = &rest[slashes..];
        }
        let rest = rest
            .split(|&b| matches!(b, b'/' | b'?' | b'#'))
            .next()
            .unwrap_or_default();
        let rest = &rest[memchr::memrchr(b'@', rest).map_or(0, |p| p + 1)..];
        // `:\d*$`: a port, or a bare colon
        match memchr::memrchr(b':', rest) {
            Some(c) if rest[c + 1..].iter().all(u8::is_ascii_digit) => &rest[..c],
            _ => rest,
        }
    };
    let printable_escape = host.windows(3).any(|w| {
        w[0] == b'%'
            && matches!(
                (w[1], w[2]),
                (b'2', b'1'..=b'9' | b'a'..=b'f')
                    | (b'3'..=b'6', b'0'..=b'9' | b'a'..=b'f')
                    | (b'7', b'0'..=b'9' | b'a'..=b'e')
            )
    });
    if printable_escape {
        return false;
    }
    let ipv4 = host.split(|&b| b == b'.').count() == 4
        && host
            .split(|&b| b == b'.')
            .all(|p| (1..=3).contains(&p.len()) && p.iter().all(u8::is_ascii_digit));
    ipv4 || (super::text_uris::fqdn_valid(host)
        && std::str::from_utf8(host).is_ok_and(|h| registry.is_domain_valid(h)))
}

/// Newlines and CRs dropped, surrounding white space trimmed.
fn clean(uri: &[u8]) -> Vec<u8> {
    uri.iter()
        .copied()
        .filter(|&b| b != b'\n' && b != b'\r')
        .collect::<Vec<u8>>()
        .trim_ascii()
        .to_vec()
}

fn starts_with_ci(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn push(out: &mut Vec<Vec<u8>>, parts: &[&[u8]]) {
    out.push(parts.concat());
}

/// The variants of one URI (into `variants`); returns the URIs found inside it
/// (redirector targets), which are canonicalized in turn.
fn one(
    uri: &[u8],
    redirectors: &Redirectors,
    registry: &Registry,
    variants: &mut Vec<Vec<u8>>,
) -> Vec<Vec<u8>> {
    // `#abc`, `?x`, `/image.gif` (but not `//host`): not links to anywhere.
    if uri.len() <= 1
        || matches!(uri[0], b'#' | b'?' | b'&')
        || (uri[0] == b'/' && uri.get(1) != Some(&b'/'))
    {
        return Vec::new();
    }
    let colon = memchr::memchr(b':', uri);
    let at = memchr::memchr(b'@', uri);
    if starts_with_ci(uri, b"mailto:") || at.is_some_and(|a| colon.is_none_or(|c| a < c)) {
        mail_variants(uri, variants);
        return Vec::new();
    }
    let mut nuri: Vec<u8> = uri
        .iter()
        .map(|&b| if b == b'\\' { b'/' } else { b })
        .collect();
    // http:www.x, http:/x -> http://x
    for scheme in [&b"https:"[..], b"http:"] {
        if starts_with_ci(&nuri, scheme) {
            let slashes = nuri[scheme.len()..]
                .iter()
                .take_while(|&&b| b == b'/')
                .count()
                .min(2);
            let mut n = nuri[..scheme.len()].to_vec();
            n.extend_from_slice(b"//");
            n.extend_from_slice(&nuri[scheme.len() + slashes..]);
            nuri = n;
            break;
        }
    }
    if has_escape(&nuri) {
        nuri = url_encode(&nuri);
    }
    let schemed = nuri.iter().position(|&b| b == b':').is_some_and(|c| {
        c > 0
            && nuri[..c]
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    if !schemed {
        let prefix: &[u8] = if nuri.starts_with(b"ftp.") {
            b"ftp://"
        } else {
            b"http://"
        };
        nuri = [prefix, &nuri].concat();
    }
    // http://host?x -> http://host/?x
    if let Some(after) = http_prefix(&nuri) {
        let host_end = nuri[after..]
            .iter()
            .position(|&b| matches!(b, b'/' | b'?' | b'#'))
            .map(|p| p + after);
        if let Some(e) = host_end
            && e > after
            && matches!(nuri[e], b'?' | b'#')
        {
            nuri.insert(e, b'/');
        }
    }
    nuri = decode_references(&nuri);
    if nuri != uri {
        variants.push(nuri.clone());
    }
    http_variants(&nuri, redirectors, registry, variants)
}

/// `http://` or `https://` at the start: the offset after it.
fn http_prefix(s: &[u8]) -> Option<usize> {
    if starts_with_ci(s, b"http://") {
        Some(7)
    } else if starts_with_ci(s, b"https://") {
        Some(8)
    } else {
        None
    }
}

fn has_escape(s: &[u8]) -> bool {
    s.windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}

/// Util::url_encode: `%xx` of printable characters decoded (control, space, 8-bit and
/// `0x7f` escapes kept), and in the rest control, space, 8-bit, `"`, `%`, `<` and `>`
/// escaped.
fn url_encode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let escape = s[i] == b'%'
            && s.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && s.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
        if escape {
            let token = &s[i..i + 3];
            let hex = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
            let value = hex(token[1]) * 16 + hex(token[2]);
            // Util.pm keeps the escape when its two digits contain `20`, `7f` or start
            // with 0, 1, 8, 9 or a-f; otherwise `%[2-7]x` is decoded.
            let keep = token[1..].eq_ignore_ascii_case(b"20")
                || token[1..].eq_ignore_ascii_case(b"7f")
                || matches!(
                    token[1].to_ascii_lowercase(),
                    b'0' | b'1' | b'8' | b'9' | b'a'..=b'f'
                );
            if keep {
                out.extend_from_slice(token);
            } else {
                out.push(value);
            }
            i += 3;
            continue;
        }
        let b = s[i];
        if b <= 0x20 || b >= 0x7f || matches!(b, b'"' | b'%' | b'<' | b'>') {
            out.extend_from_slice(format!("%{b:02x}").as_bytes());
        } else {
            out.push(b);
        }
        i += 1;
    }
    out
}

/// `&#33;`..`&#126;` and `&#x21;`..`&#x7e;` decoded, and the references of the Unicode
/// full stops (U+3002, U+FF0E, U+FF61) and of `.` itself made `.`.
fn decode_references(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'&' && s.get(i + 1) == Some(&b'#') {
            let rest = &s[i + 2..];
            let (hex, digits_at) = match rest.first() {
                Some(b'x' | b'X') => (true, 1),
                _ => (false, 0),
            };
            let digits: Vec<u8> = rest[digits_at..]
                .iter()
                .copied()
                .take_while(|b| {
                    if hex {
                        b.is_ascii_hexdigit()
                    } else {
                        b.is_ascii_digit()
                    }
                })
                .collect();
            let end = digits_at + digits.len();
            if !digits.is_empty() && rest.get(end) == Some(&b';') {
                let text = std::str::from_utf8(&digits).unwrap_or("");
                let value = u32::from_str_radix(text, if hex { 16 } else { 10 }).ok();
                let dot = matches!(value, Some(0x2e | 0x3002 | 0xff0e | 0xff61));
                match value {
                    Some(v) if (33..=126).contains(&v) => {
                        out.push(v as u8);
                        i += 2 + end + 1;
                        continue;
                    }
                    _ if dot => {
                        out.push(b'.');
                        i += 2 + end + 1;
                        continue;
                    }
                    _ => {}
                }
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// The `mailto:` variants: `?subject=` and `&` parameters cut, `%20` padding dropped,
/// `"Name" <addr>` reduced to the address.
fn mail_variants(uri: &[u8], variants: &mut Vec<Vec<u8>>) {
    let Some(at) = memchr::memchr(b'@', uri) else {
        return;
    };
    if at == 0 {
        return;
    }
    let after = &uri[at + 1..];
    // ^([^@]+@[^?]+)\?
    if let Some(q) = memchr::memchr(b'?', after)
        && q > 0
    {
        variants.push(uri[..at + 1 + q].to_vec());
    }
    // ^([^@]+@[^?&]+)&
    if let Some(a) = after.iter().position(|&b| b == b'?' || b == b'&')
        && a > 0
        && after[a] == b'&'
    {
        variants.push(uri[..at + 1 + a].to_vec());
    }
    // ^(?:mailto:)?(?:%20)*([^@]+@[^?&%]+)
    if memchr::memmem::find(uri, b"%20").is_some() {
        let mut s = if starts_with_ci(uri, b"mailto:") {
            &uri[7..]
        } else {
            uri
        };
        while let Some(r) = s.strip_prefix(b"%20") {
            s = r;
        }
        if let Some(a) = memchr::memchr(b'@', s)
            && a > 0
        {
            let end = s[a + 1..]
                .iter()
                .position(|&b| matches!(b, b'?' | b'&' | b'%'))
                .map_or(s.len(), |p| a + 1 + p);
            if end > a + 1 {
                push(variants, &[b"mailto:", &s[..end]]);
            }
        }
    }
    // ^[^?&]*<([^@>]+@[^>]+)>
    if let Some(lt) = memchr::memchr(b'<', uri)
        && !uri[..lt].iter().any(|&b| b == b'?' || b == b'&')
        && let Some(gt) = memchr::memchr(b'>', &uri[lt..]).map(|g| g + lt)
    {
        let inner = &uri[lt + 1..gt];
        if let Some(a) = memchr::memchr(b'@', inner)
            && a > 0
            && a + 1 < inner.len()
        {
            push(variants, &[b"mailto:", inner]);
        }
    }
}

/// The variants of an `http(s)://` URI; returns redirector targets.
fn http_variants(
    nuri: &[u8],
    redirectors: &Redirectors,
    registry: &Registry,
    variants: &mut Vec<Vec<u8>>,
) -> Vec<Vec<u8>> {
    let Some(after) = http_prefix(nuri) else {
        return Vec::new();
    };
    let proto: Vec<u8> = nuri[..after].to_ascii_lowercase();
    // ([^@/?#]*@)?([^/?#:]+)((?::(\d*))?.*)
    let rest_all = &nuri[after..];
    let stop = rest_all
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest_all.len());
    let (auth, host_start) = match memchr::memchr(b'@', &rest_all[..stop]) {
        Some(a) => (&rest_all[..=a], a + 1),
        None => (&rest_all[..0], 0),
    };
    let host_end = rest_all[host_start..]
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#' | b':'))
        .map_or(rest_all.len(), |p| host_start + p);
    if host_end == host_start {
        return Vec::new();
    }
    let mut host: Vec<u8> = rest_all[host_start..host_end].to_vec();
    let rest = &rest_all[host_end..];
    let port: Option<&[u8]> = rest.strip_prefix(b":").map(|r| {
        let d = r.iter().take_while(|b| b.is_ascii_digit()).count();
        &r[..d]
    });
    // A `:` not followed by digits is no port (`(?::(\d*))?` matches an empty one too).
    let default_port: &[u8] = if proto == b"http://" { b"80" } else { b"443" };
    let port_value: &[u8] = match port {
        Some(p) if !p.is_empty() => p,
        _ => default_port,
    };
    // `$rest_noport`: the rest without a default port (`:80\b`), when a port was given.
    let rest_noport: Option<&[u8]> = port.map(|p| {
        let after_port = &rest[1 + p.len()..];
        let boundary = after_port
            .first()
            .is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'));
        if p == default_port && boundary {
            push(variants, &[&proto, &host, after_port]);
            after_port
        } else {
            rest
        }
    });
    let lower_host = host.to_ascii_lowercase();
    // An internationalized host also in its ASCII form (punycode), which the rest of the
    // list works on.
    let ascii_host = idn_to_ascii(&host);
    if ascii_host != lower_host {
        push(variants, &[&proto, &ascii_host, rest]);
        if let Some(r) = rest_noport.filter(|r| !r.is_empty()) {
            push(variants, &[&proto, &ascii_host, r]);
        }
        host = ascii_host;
    }
    // Control characters and spaces in the host are dropped by browsers.
    if host.iter().any(|&b| b <= 0x20) {
        host.retain(|&b| b > 0x20);
        push(variants, &[&proto, &host, rest]);
    }
    let whole: Vec<u8> = [&proto[..], &host, rest].concat();
    let mut targets = Vec::new();
    let mut matched = false;
    if let Some(t) = redirectors.targets(&whole).find(|t| t.contains(&b'.')) {
        targets.push(t);
        matched = true;
    }
    if !matched {
        // The hard-coded redirector: `https?:/{0,2}[^&#]+` anywhere after the host.
        let lower = rest.to_ascii_lowercase();
        let first = [
            memchr::memmem::find(&lower, b"http:"),
            memchr::memmem::find(&lower, b"https:"),
        ]
        .into_iter()
        .flatten()
        .min();
        if let Some(p) = first {
            let end = rest[p..]
                .iter()
                .position(|&b| b == b'&' || b == b'#')
                .map_or(rest.len(), |e| p + e);
            let t = &rest[p..end];
            if t.contains(&b'.') {
                targets.push(t.to_vec());
            }
        }
    }
    // user@ inside the host, and junk after it (`example.biz!!!`).
    if let Some(a) = host.iter().rposition(|&b| b == b'@') {
        host.drain(..=a);
        push(variants, &[&proto, &host, rest]);
    }
    let trimmed = host
        .iter()
        .rposition(u8::is_ascii_alphanumeric)
        .map_or(0, |p| p + 1);
    if trimmed < host.len() {
        host.truncate(trimmed);
        push(variants, &[&proto, &host, rest]);
    }
    if let Some(ip) = numeric_host(&host) {
        push(variants, &[&proto, ip.as_bytes(), rest]);
    } else if proto == b"http://"
        && auth.is_empty()
        && lower_host != b"localhost"
        && port_value == b"80"
    {
        let word = lower_host.strip_prefix(b"www.").unwrap_or(&lower_host);
        let host_str = String::from_utf8_lossy(&lower_host).into_owned();
        if !word.is_empty() && !word.contains(&b'.') && !registry.is_domain_valid(&host_str) {
            push(variants, &[&proto, b"www.", word, b".com", rest]);
        }
    }
    targets
}

/// `Util::idn_to_ascii`: a host in its ASCII-compatible form. Plain ASCII host names are
/// only lower-cased; UTF-8 ones have the Unicode full stops made dots, Latin-1 ones
/// (letters only) are read as such, and both then go through UTS 46 processing (what
/// libidn2 does for SpamAssassin with `IDN2_NONTRANSITIONAL`): lower case, normalization,
/// punycode. A host that fails the conversion stays as it was (with its dots normalized);
/// one in neither encoding is lower-cased.
fn idn_to_ascii(host: &[u8]) -> Vec<u8> {
    if host
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || b"_.:[]-".contains(b))
    {
        return host.to_ascii_lowercase();
    }
    let unicode: String = match std::str::from_utf8(host) {
        Ok(s) => s.replace(['\u{3002}', '\u{ff0e}', '\u{ff61}'], "."),
        Err(_) => {
            let latin1_letter = |b: u8| {
                b.is_ascii_alphanumeric()
                    || b"_.-".contains(&b)
                    || matches!(b, 0xc0..=0xd6 | 0xd8..=0xde | 0xe0..=0xf6 | 0xf8..=0xfe)
            };
            if !host.iter().all(|&b| latin1_letter(b)) {
                return host.to_ascii_lowercase();
            }
            let latin1: String = host.iter().map(|&b| char::from(b)).collect();
            return idna::domain_to_ascii_cow(latin1.as_bytes(), idna::AsciiDenyList::EMPTY)
                .map_or_else(|_| host.to_vec(), |a| a.into_owned().into_bytes());
        }
    };
    match idna::domain_to_ascii_cow(unicode.as_bytes(), idna::AsciiDenyList::EMPTY) {
        Ok(ascii) => ascii.into_owned().into_bytes(),
        Err(_) => unicode.into_bytes(),
    }
}

/// A host written as a number: four decimal, hex (`0x..`) or octal (`0..`) parts, one hex
/// number (its last 32 bits) or one decimal number; as a dotted quad.
fn numeric_host(host: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(host).ok()?;
    let parts: Vec<&str> = s.split('.').collect();
    let octet = |p: &str| -> Option<String> {
        let lower = p.to_ascii_lowercase();
        if let Some(h) = lower.strip_prefix("0x") {
            if h.is_empty() || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            let trimmed = h.trim_start_matches('0');
            return Some(
                u128::from_str_radix(if trimmed.is_empty() { "0" } else { trimmed }, 16)
                    .ok()?
                    .to_string(),
            );
        }
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Leading zeros: octal when what follows is a small octal number (Util.pm's
        // `^0+([1-3][0-7]{0,2}|[4-7][0-7]?)\b`), else the zeros just go.
        let digits = p.trim_start_matches('0');
        if digits.len() < p.len() {
            let b = digits.as_bytes();
            let octal = match b.first() {
                Some(b'1'..=b'3') => {
                    b.len() <= 3 && b[1..].iter().all(|c| (b'0'..=b'7').contains(c))
                }
                Some(b'4'..=b'7') => {
                    b.len() <= 2 && b[1..].iter().all(|c| (b'0'..=b'7').contains(c))
                }
                _ => false,
            };
            if octal {
                return Some(u32::from_str_radix(digits, 8).ok()?.to_string());
            }
        }
        Some(digits.to_string())
    };
    if parts.len() == 4 {
        let all_numeric = parts.iter().all(|p| {
            let l = p.to_ascii_lowercase();
            (l.starts_with("0x") && l.len() > 2 && l[2..].bytes().all(|b| b.is_ascii_hexdigit()))
                || (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        });
        if all_numeric {
            let octets: Option<Vec<String>> = parts.iter().map(|p| octet(p)).collect();
            return octets.map(|o| o.join("."));
        }
        return None;
    }
    if parts.len() != 1 {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let value: u64 = if let Some(h) = lower.strip_prefix("0x") {
        if h.is_empty() || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        // Only the last eight hex digits count.
        let tail = &h[h.len().saturating_sub(8)..];
        u64::from_str_radix(tail, 16).ok()?
    } else if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()?
    } else {
        return None;
    };
    // Util.pm's decode_ulong_to_ip: the first four bytes of the number's hex form.
    let hex = format!("{value:08x}");
    let bytes: Vec<u8> = (0..4)
        .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("0"), 16).unwrap_or(0))
        .collect();
    Some(format!(
        "{}.{}.{}.{}",
        bytes[0], bytes[1], bytes[2], bytes[3]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_to_ascii_as_util_pm_converts_them() {
        // Expected values printed by SpamAssassin 4.0.1's Util::idn_to_ascii (libidn2).
        let cases: [(&[u8], &[u8]); 10] = [
            (
                "www.aacsb.edu.\u{53bb}\u{67e5}\u{8be2}\u{3002}".as_bytes(),
                b"www.aacsb.edu.xn--1nr228byj0a.",
            ),
            ("B\u{fc}cher.DE".as_bytes(), b"xn--bcher-kva.de"),
            (b"b\xfccher.de", b"xn--bcher-kva.de"),
            (
                "\u{43f}\u{440}\u{438}\u{43c}\u{435}\u{440}.\u{440}\u{444}".as_bytes(),
                b"xn--e1afmkfd.xn--p1ai",
            ),
            (b"EXAMPLE.com", b"example.com"),
            (b"Example.biz!!!", b"example.biz!!!"),
            (b"ex ample.com", b"ex ample.com"),
            ("a\u{ff0e}b\u{e9}.com".as_bytes(), b"a.xn--b-bga.com"),
            (b"x\x80\x81.com", b"x\x80\x81.com"),
            ("stra\u{df}e.de".as_bytes(), b"xn--strae-oqa.de"),
        ];
        for (host, ascii) in cases {
            assert_eq!(
                idn_to_ascii(host),
                ascii,
                "{}",
                String::from_utf8_lossy(host)
            );
        }
        // The list gains the punycode form; a host followed by CJK text has no valid
        // domain left (spam-2/00276: SpamAssassin lists no URI for it).
        let registry = Registry::default();
        let list = canonicalize(
            &["http://B\u{fc}cher.de/x".as_bytes().to_vec()],
            &Redirectors::default(),
            &registry,
        );
        assert!(list.contains(&b"http://xn--bcher-kva.de/x".to_vec()));
        let list = canonicalize(
            &["http://www.aacsb.edu.\u{53bb}\u{67e5}\u{3002}"
                .as_bytes()
                .to_vec()],
            &Redirectors::default(),
            &registry,
        );
        assert!(!list.iter().any(|u| has_domain(u, &registry)), "{list:?}");
    }

    fn canon(uris: &[&str]) -> Vec<String> {
        canonicalize(
            &uris
                .iter()
                .map(|u| u.as_bytes().to_vec())
                .collect::<Vec<_>>(),
            &Redirectors::default(),
            &Registry::default(),
        )
        .into_iter()
        .map(|u| String::from_utf8_lossy(&u).into_owned())
        .collect()
    }

    #[test]
    fn domains_as_uri_to_domain_finds_them() {
        let registry = Registry {
            tlds: ["com", "net"].iter().map(|s| s.to_string()).collect(),
            ..Registry::default()
        };
        let has = |u: &str| has_domain(u.as_bytes(), &registry);
        assert!(has("http://www.Example.com/path?q"));
        assert!(has("http://user:pw@example.com:8080/"));
        assert!(has("https://192.0.2.1/x"));
        assert!(has("mailto:a@example.net?subject=x"));
        assert!(has("www.example.com"));
        assert!(!has("http://example.comIf"));
        assert!(!has("http://P.Eng"));
        assert!(!has("http://localhost/"));
        assert!(!has("mailto:a@b@example.com"));
        assert!(!has("javascript:void(0)"));
        assert!(!has("http://ex%61mple.com/"));
        assert!(!has("http://-bad-.example.com/"));
    }

    #[test]
    fn schemes_slashes_and_hosts() {
        let c = canon(&["www.example.com?x=1"]);
        assert!(
            c.contains(&"http://www.example.com/?x=1".to_string()),
            "{c:?}"
        );
        let c = canon(&["http:\\\\evil.example\\path"]);
        assert!(c.contains(&"http://evil.example/path".to_string()), "{c:?}");
        // The default port goes, and with it the user name (Util.pm rebuilds the URI
        // from scheme, host and the rest).
        let c = canon(&["http://user@host.example:80/a"]);
        assert_eq!(
            c,
            ["http://user@host.example:80/a", "http://host.example/a"]
        );
        // Relative links stay as they are, without variants (Util.pm skips them but keeps
        // every original in its result).
        assert_eq!(
            canon(&["#top", "/img.gif", "?q"]),
            ["#top", "/img.gif", "?q"]
        );
    }

    #[test]
    fn escapes_and_references() {
        let c = canon(&["http://%65xample.com/%2Fx%20y"]);
        assert!(
            c.contains(&"http://example.com//x%20y".to_string()),
            "{c:?}"
        );
        let c = canon(&["http://example.com/&#65;b&#x63;&#12290;"]);
        assert!(c.contains(&"http://example.com/Abc.".to_string()), "{c:?}");
    }

    #[test]
    fn numeric_hosts() {
        let c = canon(&["http://0x7f.1.2.03/"]);
        assert!(c.contains(&"http://127.1.2.3/".to_string()), "{c:?}");
        // As in Util.pm, a zero octet loses its zeros entirely.
        let c = canon(&["http://0x7f.0.0.01/"]);
        assert!(c.contains(&"http://127...1/".to_string()), "{c:?}");
        let c = canon(&["http://3232235777/x"]);
        assert!(c.contains(&"http://192.168.1.1/x".to_string()), "{c:?}");
        let c = canon(&["http://0xc0a80101/"]);
        assert!(c.contains(&"http://192.168.1.1/".to_string()), "{c:?}");
    }

    #[test]
    fn redirector_patterns_in_order_past_targets_without_a_dot() {
        use crate::rules::compile::compile_pattern;
        use crate::rules::parser::Pattern;
        let pattern = |source: &str| {
            compile_pattern(&Pattern {
                source: source.into(),
                flags: "i".into(),
                delimiter: '/',
            })
            .expect("compiles")
        };
        let redirectors = Redirectors::new(vec![
            // A target without a dot is no target: the next pattern is tried.
            pattern(r"^http://r\.example/go/(\w+)$"),
            pattern(r"^http://r\.example/(?:go|to)/(.*)$"),
            // PCRE2 (lookbehind), outside the set: still tried in its turn.
            pattern(r"^http://(?<=//)p\.example/\?u=(.*)$"),
            pattern(r"^http://r\.example/go/(.*)$"),
        ]);
        assert!(matches!(redirectors.patterns[2], Matcher::Pcre2(_)));
        let targets = |u: &str| {
            redirectors
                .targets(u.as_bytes())
                .map(|t| String::from_utf8_lossy(&t).into_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            targets("http://r.example/go/home"),
            ["home", "home", "home"]
        );
        assert_eq!(
            targets("http://R.example/go/x.example/"),
            ["x.example/", "x.example/"]
        );
        assert_eq!(targets("http://p.example/?u=y.example"), ["y.example"]);
        assert!(targets("http://elsewhere.example/go/x.example").is_empty());
        let c = canonicalize(
            &[
                b"http://r.example/go/home".to_vec(),
                b"http://r.example/to/z.example/".to_vec(),
            ],
            &redirectors,
            &Registry::default(),
        );
        let c: Vec<String> = c
            .iter()
            .map(|u| String::from_utf8_lossy(u).into_owned())
            .collect();
        assert!(c.contains(&"http://z.example/".to_string()), "{c:?}");
        assert!(!c.iter().any(|u| u.ends_with("//home")), "{c:?}");
    }

    #[test]
    fn redirectors_and_firefox_completion() {
        let c = canon(&["http://rd.yahoo.com/*http://80.71.71.88/farm/?aid=8"]);
        assert!(
            c.contains(&"http://80.71.71.88/farm/?aid=8".to_string()),
            "{c:?}"
        );
        let c = canon(&["http://foobar/x"]);
        assert!(c.contains(&"http://www.foobar.com/x".to_string()), "{c:?}");
    }

    fn piece() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        prop_oneof![
            Just(b"http://".to_vec()),
            Just(b"https:".to_vec()),
            Just(b"mailto:".to_vec()),
            Just(b"www.".to_vec()),
            Just(b"%41".to_vec()),
            Just(b"%2".to_vec()),
            Just(b"%20".to_vec()),
            Just(b"&#46;".to_vec()),
            Just(b"&#x3002;".to_vec()),
            Just(b"0x".to_vec()),
            Just(b"@".to_vec()),
            Just(b":80".to_vec()),
            Just(b":".to_vec()),
            Just(b"/".to_vec()),
            Just(b"\\".to_vec()),
            Just(b"?".to_vec()),
            Just(b"#".to_vec()),
            Just(b"<".to_vec()),
            Just(b".".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..8),
        ]
    }

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// URI-shaped and arbitrary bytes never panic, and the list stays bounded.
        #[test]
        fn hostile_uris(uris in proptest::collection::vec(
            proptest::collection::vec(piece(), 0..24).prop_map(|p| p.concat()), 0..8)) {
            let out = canonicalize(&uris, &Redirectors::default(), &Registry::default());
            proptest::prop_assert!(out.len() <= MAX_URIS + uris.len());
        }
    }

    #[test]
    fn mail_addresses() {
        let c = canon(&["mailto:a@b.example?subject=hi", "mailto:%20%20c@d.example"]);
        assert!(c.contains(&"mailto:a@b.example".to_string()), "{c:?}");
        assert!(c.contains(&"mailto:c@d.example".to_string()), "{c:?}");
    }
}
