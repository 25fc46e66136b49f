//! The texts each rule type reads, built once per message the way SpamAssassin builds them.
//!
//! - body: the Subject, then every text part (HTML rendered), whitespace runs collapsed and
//!   blank-line runs turned into paragraph breaks, one paragraph per line, lines over 2,048
//!   bytes split at a space, each part cut at 50,000 bytes.
//! - rawbody: text parts decoded, not rendered, in chunks of 2-4 KB at line ends;
//!   `text/calendar` skipped; 500,000 bytes per part.
//! - uri: links from HTML attributes and URLs in the rendered text.
//! - full: the pristine message.
//! - headers: looked up per rule with modifiers (see [`Texts::header`]).

use super::parser::Area;
use crate::mime::header::HeaderField;
use crate::object::Origin;
use crate::view::MessageView;

const BODY_PART_CAP: usize = 50_000;
const RAWBODY_PART_CAP: usize = 500_000;
const MAX_LINE: usize = 2_048;

/// Texts of one message.
#[derive(Debug, Default)]
pub struct Texts<'v> {
    /// `body` lines.
    pub body: Vec<Vec<u8>>,
    /// How many of the first `body` lines are the Subject (`tflags nosubject` skips them).
    pub subject_lines: usize,
    /// `rawbody` chunks.
    pub rawbody: Vec<Vec<u8>>,
    /// `uri` values.
    pub uris: Vec<Vec<u8>>,
    /// `<a href>` targets of the HTML parts that the body text does not also spell out
    /// (SpamAssassin's URIs of type `a` and not `parsed`), as written; FreeMail reads the
    /// `mailto:` ones.
    pub anchor_links: Vec<Vec<u8>>,
    /// Top-level header fields.
    pub headers: &'v [HeaderField],
    /// The message body as received (after the header block), undecoded.
    pub raw_body: &'v [u8],
    /// The message as received (`ALL:raw` reads its header block as Message.pm cuts it).
    pub raw: &'v [u8],
    /// `EnvelopeFrom` (the SMTP sender).
    pub envelope_from: Option<String>,
    /// The header fields of every node of SpamAssassin's part tree (the message first,
    /// attached messages' parts after their `message/rfc822` part), for `mimeheader`
    /// rules: from the MIME walk of [`super::mime_evals::analyze`], which reads the raw
    /// message as Message.pm does.
    pub mime_headers: Vec<Vec<HeaderField>>,
    /// Each top-level header decoded (RFC 2047) and trimmed once, parallel to `headers`.
    pub decoded: Vec<String>,
    /// The raw values as Message.pm keeps them in a message it reads as LF (first and last
    /// line end in LF) that has CRLF lines in its header: every line end as received, the
    /// final LF dropped, so a CR stays (`Subject:raw =~ /\015/`). Parallel to `headers`;
    /// `None` otherwise, or when the fields do not line up with `headers`.
    raw_with_crs: Option<Vec<Vec<u8>>>,
    /// The Received chain split by trust.
    pub relays: super::relays::Relays,
    /// What SpamAssassin's HTML parser records, per HTML part.
    pub html: Vec<super::html_evals::HtmlStats>,
    /// SpamAssassin's `madiff`: the largest share (percent) of an HTML alternative's
    /// words missing from its text alternative.
    pub madiff: super::mime_evals::Madiff,
    /// Base64 image parts by type (gif, png, jpeg), as ImageInfo counts them.
    pub images: super::mime_evals::ImageInfo,
    /// What the MIME walk of the raw message found.
    pub mime: super::mime_evals::MimeStats,
    /// Header lookups already made, by `name:modifier:...` (many rules read the same one).
    header_cache: std::cell::RefCell<HeaderCache>,
    /// The same by the slot number the rule plan gives each header text
    /// ([`Texts::header_in_slot`]): no key to hash for each of the ~400 header rules a
    /// message runs.
    header_slots: std::cell::RefCell<Vec<Option<HeaderText>>>,
    /// Date header minus the closest Received time, computed on first use.
    date_diff: std::cell::OnceCell<i64>,
    /// The forged-Hotmail verdict two evals share, computed on first use.
    pub hotmail: std::cell::OnceCell<Option<bool>>,
    /// The share of capitals `check_for_uppercase` reads (the stock rules ask three
    /// times), computed on first use.
    pub uppercase: std::cell::OnceCell<f64>,
    /// The sender addresses of SpamAssassin's `all_from_addrs`, computed on first use.
    pub from_addrs: std::cell::OnceCell<std::collections::BTreeSet<String>>,
    /// The distinct URI hosts `check_uri_host_listed` looks up (six stock lists), computed
    /// on first use.
    pub uri_hosts: std::cell::OnceCell<Vec<String>>,
    /// The Bayes spam probability ([`MessageView::bayes`]).
    pub bayes: Option<f64>,
    /// `body`, `rawbody` and `uri` lines each joined with `\n`, for the rule filters and
    /// the literal prefilter (one search per text instead of one per line).
    joined: [Vec<u8>; 3],
    /// Where each line starts in `joined`.
    line_starts: [Vec<usize>; 3],
    /// Registry boundaries for the `:host` and `:domain` modifiers.
    registry: std::sync::Arc<Registry>,
    /// [`part_header_values`] already computed, by (name, raw).
    part_header_cache: std::cell::RefCell<PartHeaderCache>,
    /// Indexes into `headers` by lower-case field name, built on first use.
    by_name: std::cell::OnceCell<std::collections::HashMap<String, Vec<usize>, FastHash>>,
}

/// [`part_header_values`] by name: decoded, then raw.
type PartHeaderCache =
    [std::collections::HashMap<String, std::rc::Rc<Vec<Option<Vec<u8>>>>, FastHash>; 2];

/// FNV-1a, for the per-message caches: short keys, hundreds of lookups a message, no
/// keys from outside the rule files.
#[derive(Default, Clone, Copy)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Builds [`Fnv`] hashers.
type FastHash = std::hash::BuildHasherDefault<Fnv>;

/// SpamAssassin's registry boundaries (`util_rb_tld`, `util_rb_2tld`, `util_rb_3tld`),
/// lower case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Registry {
    /// Top-level domains.
    pub tlds: std::collections::HashSet<String>,
    /// Two-label public suffixes (`co.uk`).
    pub two: std::collections::HashSet<String>,
    /// Three-label public suffixes.
    pub three: std::collections::HashSet<String>,
}

impl Registry {
    /// Whether `tld` may end a host name: in the list, or (without a list) two or more
    /// letters.
    pub(crate) fn valid_tld(&self, tld: &str) -> bool {
        if self.tlds.is_empty() {
            tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic())
        } else {
            self.tlds.contains(&tld.to_ascii_lowercase())
        }
    }

    /// SpamAssassin's `is_domain_valid`: two labels at least, ending in a valid TLD.
    pub fn is_domain_valid(&self, domain: &str) -> bool {
        let domain = domain.trim_end_matches('.');
        domain.contains('.')
            && domain.split('.').all(|l| !l.is_empty())
            && domain.rsplit('.').next().is_some_and(|t| self.valid_tld(t))
    }

    /// The registered domain of `host` (SpamAssassin's `trim_domain`): one label more than
    /// its public suffix (a listed three- or two-label suffix, else the TLD).
    pub fn trim_domain(&self, host: &str) -> String {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let labels: Vec<&str> = host.split('.').collect();
        let tail = |n: usize| labels[labels.len().saturating_sub(n)..].join(".");
        let keep = if labels.len() > 3 && self.three.contains(&tail(3)) {
            4
        } else if labels.len() > 2 && self.two.contains(&tail(2)) {
            3
        } else {
            2
        };
        tail(keep)
    }

    /// The first host name in `text` that ends in a valid TLD: after an `@` first, then
    /// anywhere.
    fn find_host(&self, text: &str) -> Option<String> {
        let hosts = |s: &str| -> Option<String> {
            s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
                .map(|w| w.trim_matches(|c| c == '.' || c == '-'))
                .find(|w| {
                    w.contains('.')
                        && w.rsplit('.').next().is_some_and(|t| self.valid_tld(t))
                        && w.split('.').all(|l| !l.is_empty())
                })
                .map(str::to_string)
        };
        text.rfind('@')
            .and_then(|at| hosts(&text[at + 1..]))
            .or_else(|| hosts(text))
    }
}

/// The first IPv4 address in `text` (not part of a longer dotted run), else the first IPv6
/// address.
fn find_ip(text: &str) -> Option<std::net::IpAddr> {
    let words = text.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':'));
    let words: Vec<&str> = words.filter(|w| !w.is_empty()).collect();
    words
        .iter()
        .find_map(|w| {
            w.parse::<std::net::Ipv4Addr>()
                .ok()
                .map(std::net::IpAddr::V4)
        })
        .or_else(|| {
            words.iter().filter(|w| w.contains(':')).find_map(|w| {
                w.parse::<std::net::Ipv6Addr>()
                    .ok()
                    .map(std::net::IpAddr::V6)
            })
        })
}

/// The `:host`, `:domain`, `:ip` and `:revip` modifiers applied to header candidates, as
/// SpamAssassin's `get()` applies them after the others; candidates without one drop out.
fn host_modifiers(
    candidates: Vec<Vec<u8>>,
    modifiers: &[String],
    registry: &Registry,
) -> Option<Vec<Vec<u8>>> {
    let has = |m: &str| modifiers.iter().any(|x| x == m);
    let (domain, host) = (has("domain"), has("host") || has("domain"));
    let (revip, ip) = (has("revip"), has("ip") || has("revip"));
    if !host && !ip {
        return Some(candidates);
    }
    let out: Vec<Vec<u8>> = candidates
        .iter()
        .filter_map(|c| {
            let text = String::from_utf8_lossy(c);
            let text = text.trim();
            let value = if host {
                let h = if has("addr") {
                    text.rsplit_once('@').map(|(_, h)| h.to_string())
                } else {
                    registry.find_host(text)
                }?;
                if domain { registry.trim_domain(&h) } else { h }
            } else {
                match find_ip(text)? {
                    std::net::IpAddr::V4(v4) if revip => {
                        let o = v4.octets();
                        format!("{}.{}.{}.{}", o[3], o[2], o[1], o[0])
                    }
                    std::net::IpAddr::V6(v6) if revip => {
                        let hex: String = v6.octets().iter().map(|b| format!("{b:02x}")).collect();
                        let mut nibbles: Vec<String> = hex.chars().map(String::from).collect();
                        nibbles.reverse();
                        nibbles.join(".")
                    }
                    ip => ip.to_string(),
                }
            };
            let mut v = value.into_bytes();
            v.push(b'\n');
            Some(v)
        })
        .collect();
    (!out.is_empty()).then_some(out)
}

type HeaderCache = std::collections::HashMap<String, HeaderText, FastHash>;

/// A header text as rules match it, shared; `None` when the message has no such field.
pub type HeaderText = Option<std::rc::Rc<Vec<u8>>>;

/// Index of `area`'s text in [`Texts::joined`]'s array.
fn slot(area: Area) -> usize {
    match area {
        Area::Body => 0,
        Area::Rawbody => 1,
        _ => 2,
    }
}

/// `text` with each character as one byte when it is UTF-8 with some non-ASCII
/// character and none above U+00FF (Perl's byte string); `None` otherwise.
fn latin1_if_narrow(text: &[u8]) -> Option<Vec<u8>> {
    let s = std::str::from_utf8(text).ok()?;
    if s.is_ascii() || s.chars().any(|c| u32::from(c) > 0xff) {
        return None;
    }
    Some(s.chars().map(|c| u32::from(c) as u8).collect())
}

/// The part of a raw message after its header block (empty when it has no body).
/// The pristine header block as Message.pm collects it (`pristine_headers`): after an
/// mbox `From ` line, every line up to and including the blank line that ends the header,
/// or up to a line starting with `--`, the fourth line that is not a field, or the end.
/// In a CRLF message (first or last line), a bare LF in the header gets its CR (bug 7785).
fn pristine_header(raw: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let mut lines = raw.split_inclusive(|b| *b == b'\n').peekable();
    // Byte offsets of the block: after an mbox separator, up to `end`.
    let mut from = 0;
    if lines
        .peek()
        .is_some_and(|l| super::mime_evals::mbox_separator(l))
    {
        from = lines.next().map_or(0, <[u8]>::len);
    }
    let has_crlf = |l: &[u8]| memchr::memmem::find(l, b"\r\n").is_some();
    let last_line = raw[..raw.len().saturating_sub(1)]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(raw, |p| &raw[p + 1..]);
    let crlf = lines.peek().is_some_and(|l| has_crlf(l)) || has_crlf(last_line);
    let (mut end, mut errors) = (from, 0);
    for l in lines {
        if !matches!(l.first(), Some(b' ' | b'\t')) {
            if l == b"\n" || crlf && l == b"\r\n" {
                end += l.len();
                break;
            }
            if l.starts_with(b"--") {
                break;
            }
            if !super::mime_evals::header_like(l) {
                errors += 1;
                if errors > 3 {
                    break;
                }
            }
        }
        end += l.len();
    }
    let block = &raw[from..end];
    if !crlf {
        return std::borrow::Cow::Borrowed(block);
    }
    let mut out = Vec::with_capacity(block.len() + block.len() / 16);
    for (i, &b) in block.iter().enumerate() {
        if b == b'\n' && (i == 0 || block[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    std::borrow::Cow::Owned(out)
}

/// Lines a part's header block is looked for in, backwards from its body
/// ([`last_content_type`]); a longer block is left to the engine's reading.
const PART_HEADER_LINES: usize = 200;

/// The type and charset of the last Content-Type field of the part `o` is the body of,
/// when its header holds several that disagree: SpamAssassin (`header()` in scalar
/// context) reads the last, the engine's default reading the first. `None` otherwise, and
/// when the part's header cannot be found in `raw` (a decoded attachment's parts, a
/// header without its blank line). The header is found backwards from the body: the blank
/// line before it, then the lines up to a blank line, a delimiter or the message's start.
fn last_content_type(
    o: &crate::object::Object<'_>,
    raw: &[u8],
) -> Option<(String, Option<String>)> {
    let body = o.encoded.map_or(o.data.as_ptr(), |e| e.body.as_ptr()) as usize;
    let start = raw.as_ptr() as usize;
    if body <= start || body > start + raw.len() {
        return None;
    }
    let mut end = body - start;
    // The line before `end` (without its newline), and where it starts.
    let line_before = |end: usize| {
        let at = raw[..end.saturating_sub(1)]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        (at, &raw[at..end])
    };
    let (at, blank) = line_before(end);
    if !(blank == b"\n" || blank == b"\r\n") {
        return None;
    }
    end = at;
    let mut lines: Vec<&[u8]> = Vec::new();
    while end > 0 && lines.len() < PART_HEADER_LINES {
        let (at, line) = line_before(end);
        if line == b"\n" || line == b"\r\n" || line.starts_with(b"--") {
            break;
        }
        if at == 0 && super::mime_evals::mbox_separator(line) {
            break;
        }
        lines.push(line);
        end = at;
        if at == 0 {
            break;
        }
    }
    if lines.len() == PART_HEADER_LINES {
        return None;
    }
    lines.reverse();
    // Each Content-Type field's value, continuation lines joined.
    let mut values: Vec<Vec<u8>> = Vec::new();
    let mut in_ct = false;
    for l in lines {
        let l = l.strip_suffix(b"\n").unwrap_or(l);
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        if matches!(l.first(), Some(b' ' | b'\t')) {
            if in_ct && let Some(v) = values.last_mut() {
                v.push(b' ');
                v.extend_from_slice(l.trim_ascii());
            }
            continue;
        }
        in_ct = l.len() > 13 && l[..13].eq_ignore_ascii_case(b"content-type:");
        if in_ct {
            values.push(l[13..].trim_ascii().to_vec());
        }
    }
    let last = values.last()?;
    if values.iter().all(|v| v.eq_ignore_ascii_case(last)) {
        return None;
    }
    let (t, _, charset) = super::mime_evals::content_type(Some(last));
    Some((t, charset.map(|c| c.to_ascii_lowercase())))
}

/// `ALL:raw`: the fields of the pristine header, each with its continuation lines, as
/// PerMsgStatus's `/^([^ \t].*?\n)(?![ \t])/smgi` picks them, joined. A continuation line
/// opening the block, and the LF-only blank line closing it, are left out.
fn all_raw(raw: &[u8]) -> Vec<u8> {
    let header = pristine_header(raw);
    let h = &header[..];
    let mut out = Vec::with_capacity(h.len());
    let mut at = 0;
    while at < h.len() {
        // `at` is a line start.
        let next_line = memchr::memchr(b'\n', &h[at..]).map_or(h.len(), |p| at + p + 1);
        if matches!(h[at], b' ' | b'\t') {
            at = next_line;
            continue;
        }
        // The first newline after the field's first byte not followed by a blank.
        let mut q = at + 1;
        let end = loop {
            match memchr::memchr(b'\n', &h[q.min(h.len())..]) {
                Some(p) => {
                    let nl = q + p;
                    if !matches!(h.get(nl + 1), Some(b' ' | b'\t')) {
                        break Some(nl + 1);
                    }
                    q = nl + 1;
                }
                None => break None,
            }
        };
        match end {
            Some(e) => {
                out.extend_from_slice(&h[at..e]);
                at = e;
            }
            None => at = next_line,
        }
    }
    out
}

/// A rendered part cut near [`BODY_PART_CAP`] as SpamAssassin cuts it: after the first
/// newline within 1 KB past the cap, else after a space there, else at the cap.
fn scan_cut(text: &[u8]) -> &[u8] {
    if text.len() <= BODY_PART_CAP {
        return text;
    }
    let window = &text[BODY_PART_CAP..text.len().min(BODY_PART_CAP + 1025)];
    let cut = memchr::memchr(b'\n', window)
        .or_else(|| memchr::memchr(b' ', window))
        .map_or(BODY_PART_CAP, |p| BODY_PART_CAP + p + 1);
    &text[..cut]
}

/// Length of the whitespace character at `text[i..]`, 0 when there is none: ASCII space,
/// tab, CR, LF, VT and FF, and the UTF-8 encoded Unicode spaces (NBSP, U+0085, U+1680,
/// U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000), which Perl's `\s` matches in
/// the character string SpamAssassin renders HTML into (`&nbsp;` becomes a space there).
fn ws_len(text: &[u8], i: usize) -> usize {
    match text[i..] {
        [b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c, ..] => 1,
        [0xc2, 0x85 | 0xa0, ..] => 2,
        [0xe1, 0x9a, 0x80, ..] | [0xe2, 0x81, 0x9f, ..] | [0xe3, 0x80, 0x80, ..] => 3,
        [0xe2, 0x80, 0x80..=0x8a | 0xa8 | 0xa9 | 0xaf, ..] => 3,
        _ => 0,
    }
}

/// SpamAssassin's body whitespace rules: a whitespace run holding two or more newlines is
/// a paragraph break (a newline) from its first newline to its last, any other whitespace
/// run is one space (see [`ws_len`] for what is whitespace). A NUL byte is a newline:
/// SpamAssassin marks the paragraph breaks with NULs while it collapses the whitespace,
/// then turns every NUL into a newline, the text's own too.
fn normalize_whitespace(text: &[u8]) -> Vec<u8> {
    // Bytes that start no whitespace (see `ws_len`) and are not NUL, copied in runs.
    const PLAIN: [bool; 256] = {
        let mut t = [true; 256];
        let special = [
            0u8, b' ', b'\t', b'\r', b'\n', 0x0b, 0x0c, 0xc2, 0xe1, 0xe2, 0xe3,
        ];
        let mut k = 0;
        while k < special.len() {
            t[special[k] as usize] = false;
            k += 1;
        }
        t
    };
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let plain = text[i..]
            .iter()
            .take_while(|&&b| PLAIN[usize::from(b)])
            .count();
        if plain > 0 {
            out.extend_from_slice(&text[i..i + plain]);
            i += plain;
            continue;
        }
        if ws_len(text, i) == 0 {
            out.push(if text[i] == 0 { b'\n' } else { text[i] });
            i += 1;
            continue;
        }
        let start = i;
        while i < text.len() {
            match ws_len(text, i) {
                0 => break,
                n => i += n,
            }
        }
        let run = &text[start..i];
        let first = run.iter().position(|&b| b == b'\n');
        let last = run.iter().rposition(|&b| b == b'\n');
        match (first, last) {
            (Some(f), Some(l)) if f < l => {
                // A CR ending a line is not whitespace of its own (SpamAssassin reads
                // CRLF as LF).
                if run[..f].iter().any(|&b| b != b'\r') {
                    out.push(b' ');
                }
                out.push(b'\n');
                if l + 1 < run.len() {
                    out.push(b' ');
                }
            }
            _ => out.push(b' '),
        }
    }
    out
}

/// Splits after each newline (lines keep it), then cuts lines over [`MAX_LINE`] bytes after
/// their last space within the limit (or at the limit when there is none), as
/// SpamAssassin's `split_into_array_of_short_lines` does.
fn short_lines(text: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for mut line in text.split_inclusive(|&b| b == b'\n') {
        while line.len() > MAX_LINE {
            let cut = line[..=MAX_LINE]
                .iter()
                .rposition(|&b| b == b' ')
                .map_or(MAX_LINE, |p| p + 1);
            out.push(line[..cut].to_vec());
            line = &line[cut..];
        }
        out.push(line.to_vec());
    }
    out
}

/// `data` with every CRLF turned into LF (borrowed when there is none).
/// [`Texts::raw_with_crs`]: the header block of `raw` split into fields as Message.pm
/// splits it (a line starting with a blank continues the field, a line with a colon starts
/// one, others are skipped), each value every line end kept but the last LF.
fn raw_values_with_crs(raw: &[u8], headers: &[HeaderField]) -> Option<Vec<Vec<u8>>> {
    if super::mime_evals::crlf_message(raw) {
        return None;
    }
    let mut lines = raw.split_inclusive(|&b| b == b'\n').peekable();
    if lines
        .peek()
        .is_some_and(|l| super::mime_evals::mbox_separator(l))
    {
        lines.next();
    }
    let mut values: Vec<Vec<u8>> = Vec::new();
    let mut names: Vec<&[u8]> = Vec::new();
    let mut any_cr = false;
    let mut open = false;
    for line in lines {
        let content = line.strip_suffix(b"\n").unwrap_or(line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content.is_empty() {
            break;
        }
        any_cr |= line.ends_with(b"\r\n");
        if line[0] == b' ' || line[0] == b'\t' {
            if open && let Some(v) = values.last_mut() {
                v.extend_from_slice(line);
            }
            continue;
        }
        match memchr::memchr(b':', line) {
            Some(colon) => {
                names.push(line[..colon].trim_ascii_end());
                values.push(line[colon + 1..].to_vec());
                open = true;
            }
            None => open = false,
        }
    }
    if !any_cr
        || values.len() != headers.len()
        || names
            .iter()
            .zip(headers)
            .any(|(n, h)| !n.eq_ignore_ascii_case(h.name.as_bytes()))
    {
        return None;
    }
    for v in &mut values {
        if v.ends_with(b"\n") {
            v.pop();
        }
    }
    Some(values)
}

fn crlf_to_lf(data: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if memchr::memmem::find(data, b"\r\n").is_none() {
        return std::borrow::Cow::Borrowed(data);
    }
    let mut out = Vec::with_capacity(data.len());
    let mut rest = data;
    while let Some(p) = memchr::memmem::find(rest, b"\r\n") {
        out.extend_from_slice(&rest[..p]);
        out.push(b'\n');
        rest = &rest[p + 2..];
    }
    out.extend_from_slice(rest);
    std::borrow::Cow::Owned(out)
}

/// Perl's `\s` on a byte string: ASCII white space, vertical tab included.
fn perl_space(b: &u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

/// The most blank lines of a run SpamAssassin keeps (`$max_blank_lines` in Message.pm).
const MAX_BLANK_LINES: usize = 20;

/// SpamAssassin's Message.pm, before it parses the MIME structure, cuts every run of more
/// than [`MAX_BLANK_LINES`] blank lines (`/^\s*$/`: nothing but ASCII white space) of the
/// raw body down to that many; a run that opens the body keeps one more (its loop stops at
/// line 0 without counting it). Padding a message with blank lines therefore changes
/// neither its rendered text nor its HTML length there. `at_body_start` says whether `data`
/// opens the message body.
fn collapse_blank_runs(data: &[u8], at_body_start: bool) -> std::borrow::Cow<'_, [u8]> {
    let blank = |line: &[u8]| line.iter().all(perl_space);
    let mut out: Option<Vec<u8>> = None;
    // Bytes of `data` before `copied` are in `out` (when it exists).
    let mut copied = 0;
    // The current run of blank lines: its length, where its second line starts, and where
    // its last `keep - 1` lines start (bounded, so a message of newlines costs no memory).
    let mut run = 0usize;
    let mut second = 0usize;
    let mut keep = MAX_BLANK_LINES;
    let mut last: std::collections::VecDeque<usize> =
        std::collections::VecDeque::with_capacity(MAX_BLANK_LINES + 1);
    let mut at = 0;
    loop {
        let end = (at < data.len())
            .then(|| memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |p| at + p + 1));
        if let Some(end) = end.filter(|&end| blank(&data[at..end])) {
            if run == 0 {
                keep = if at_body_start && at == 0 {
                    MAX_BLANK_LINES + 1
                } else {
                    MAX_BLANK_LINES
                };
                last.clear();
            } else if run == 1 {
                second = at;
            }
            run += 1;
            if last.len() == keep - 1 {
                last.pop_front();
            }
            last.push_back(at);
            at = end;
            continue;
        }
        if run > keep {
            // Perl's splice keeps the run's first line and its last `keep - 1`.
            let o = out.get_or_insert_with(|| Vec::with_capacity(data.len()));
            o.extend_from_slice(&data[copied..second]);
            copied = last.front().copied().unwrap_or(at);
        }
        run = 0;
        match end {
            Some(end) => at = end,
            None => break,
        }
    }
    match out {
        None => std::borrow::Cow::Borrowed(data),
        Some(mut o) => {
            o.extend_from_slice(&data[copied..]);
            std::borrow::Cow::Owned(o)
        }
    }
}

/// Part `o`'s text as SpamAssassin decodes it from the raw part, where that differs from
/// the engine's `data`: base64 holding an `=` before more data ([`spamassassin_base64`];
/// a list footer after a padded part), and quoted-printable whose raw lines hold a run of
/// more than [`MAX_BLANK_LINES`] blank lines (Message.pm cuts it before decoding). `None`
/// when `data` is what SpamAssassin reads.
fn spamassassin_decoding(o: &crate::object::Object<'_>, body_start: *const u8) -> Option<Vec<u8>> {
    use crate::mime::decode::TransferEncoding;
    let encoded = o.encoded?;
    match encoded.encoding {
        TransferEncoding::Base64 => {
            let body = encoded.body;
            let pad_inside = memchr::memchr(b'=', body)
                .is_some_and(|p| body[p..].iter().any(|&b| base64_digit(b)));
            pad_inside.then(|| spamassassin_base64(body))
        }
        TransferEncoding::QuotedPrintable => {
            let cut = collapse_blank_runs(encoded.body, encoded.body.as_ptr() == body_start);
            Some(spamassassin_qp(&cut))
        }
        _ => None,
    }
}

/// `Util::qp_decode`, its three substitutions in turn: blanks before a line end dropped,
/// soft line breaks (`=` then LF or CRLF: a bare CR is no line end there) removed, then
/// `=XX` decoded, so a soft break inside `=4=\n1` still makes an `A`. The engine's
/// decoder is more lenient (a bare CR ends a line, as Outlook reads it).
fn spamassassin_qp(body: &[u8]) -> Vec<u8> {
    let line_end = |rest: &[u8]| rest.starts_with(b"\n") || rest.starts_with(b"\r\n");
    let mut trimmed = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if matches!(body[i], b' ' | b'\t') {
            let run = body[i..]
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count();
            if !line_end(&body[i + run..]) {
                trimmed.extend_from_slice(&body[i..i + run]);
            }
            i += run;
        } else {
            trimmed.push(body[i]);
            i += 1;
        }
    }
    let mut joined = Vec::with_capacity(trimmed.len());
    let mut i = 0;
    while i < trimmed.len() {
        if trimmed[i] == b'=' && line_end(&trimmed[i + 1..]) {
            i += if trimmed[i + 1] == b'\n' { 2 } else { 3 };
        } else {
            joined.push(trimmed[i]);
            i += 1;
        }
    }
    let hex = |b: u8| char::from(b).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(joined.len());
    let mut i = 0;
    while i < joined.len() {
        if joined[i] == b'='
            && let (Some(h), Some(l)) = (
                joined.get(i + 1).and_then(|&b| hex(b)),
                joined.get(i + 2).and_then(|&b| hex(b)),
            )
        {
            out.push(h << 4 | l);
            i += 3;
        } else {
            out.push(joined[i]);
            i += 1;
        }
    }
    out
}

fn base64_digit(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// `Util::base64_decode`: white space removed; text of only base64 digits and `=`, a
/// multiple of 4 long, goes to MIME::Base64 with each run of `=` before the end read as
/// `A`s; anything else keeps its digits and `=`s, loses its final padding, and is
/// uudecoded with every `=` left inside read as the digit 63 (`tr` maps 65 characters onto
/// 64).
fn spamassassin_base64(body: &[u8]) -> Vec<u8> {
    // One pass to choose the path, one to collect the digits: no copy of the whole body.
    let (mut len, mut clean) = (0usize, true);
    for b in body.iter().filter(|b| !perl_space(b)) {
        len += 1;
        clean &= base64_digit(*b) || *b == b'=';
    }
    let mut digits: Vec<u8> = Vec::with_capacity(len);
    if clean && len >= 2 && len % 4 == 0 {
        digits.extend(body.iter().filter(|b| !perl_space(b)));
        let pad = digits.iter().rev().take_while(|&&b| b == b'=').count();
        digits.truncate(len - pad);
        for b in &mut digits {
            if *b == b'=' {
                *b = b'A';
            }
        }
    } else {
        digits.extend(body.iter().filter(|&&b| base64_digit(b) || b == b'='));
        while digits.last() == Some(&b'=') {
            digits.pop();
        }
        for b in &mut digits {
            if *b == b'=' {
                *b = b'/';
            }
        }
    }
    if digits.len() % 4 == 1 {
        digits.pop();
    }
    crate::mime::decode::base64(&digits).0
}

/// Whether a part name ends in `.html`, `.htm`, `.shtml` or `.shtm` (Node.pm's
/// `effective_type`: `/\.s?html?$/i`).
fn named_html(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".html", ".htm", ".shtml", ".shtm"]
        .iter()
        .any(|e| lower.ends_with(e))
}

/// The `uri` rules' list, as SpamAssassin's `get_uri_list` builds it: the URIs `parsed` from
/// the rendered body text (the Subject included) and those of the HTML parser, each
/// canonicalized with its variants. A text URI none of whose variants has a domain
/// (`http://AkkaBay.comIf`, from words run together) is dropped, as
/// `add_uri_detail_list` drops it; HTML URIs are all kept.
fn uri_list(
    parsed: Vec<Vec<u8>>,
    html_uris: Vec<Vec<u8>>,
    networks: &super::run::TrustNetworks,
) -> Vec<Vec<u8>> {
    use super::uris::{MAX_URIS, canonicalize, has_domain};
    let (redirectors, registry) = (&networks.redirectors, &networks.registry);
    let mut all: Vec<Vec<u8>> = Vec::new();
    for uri in parsed {
        if all.len() >= MAX_URIS {
            break;
        }
        let cleaned = canonicalize(std::slice::from_ref(&uri), redirectors, registry);
        if cleaned.iter().any(|c| has_domain(c, registry)) {
            all.extend(cleaned);
        }
    }
    all.extend(canonicalize(&html_uris, redirectors, registry));
    let mut seen = std::collections::HashSet::new();
    all.retain(|u| seen.insert(u.clone()));
    all.truncate(MAX_URIS);
    all
}

/// A decoded part's `rawbody` lines, as `get_decoded_body_text_array` makes them: the part
/// cut near [`RAWBODY_PART_CAP`] (after the first newline, else `>`, else space within
/// 1 KB past it, else at it), then `split_into_array_of_short_paragraphs`: pieces of
/// 2,048 to 4,096 bytes, each ending after the first newline, else `>`, else space from
/// 2,048 bytes on, else cut at 2,048; a part of at most 2,048 bytes is one piece (an empty
/// part an empty one).
fn chunks(data: &[u8], out: &mut Vec<Vec<u8>>) {
    const MAX: usize = 2048;
    // The first of `c` in `data[from..to]`, as an index into `data`.
    let find = |c: u8, from: usize, to: usize| {
        let to = to.min(data.len());
        (from < to)
            .then(|| memchr::memchr(c, &data[from..to]).map(|p| from + p))
            .flatten()
    };
    let data = if data.len() > RAWBODY_PART_CAP {
        let (from, to) = (RAWBODY_PART_CAP, RAWBODY_PART_CAP + 1025);
        match find(b'\n', from, to)
            .or_else(|| find(b'>', from, to))
            .or_else(|| find(b' ', from, to))
        {
            Some(idx) => &data[..=idx],
            None => &data[..RAWBODY_PART_CAP],
        }
    } else {
        data
    };
    if data.len() <= MAX {
        out.push(data.to_vec());
        return;
    }
    let mut ofs = 0;
    while data.len() - ofs > 2 * MAX {
        let (from, to) = (ofs + MAX, ofs + 2 * MAX);
        let j = find(b'\n', from, to)
            .or_else(|| find(b'>', from, to))
            .or_else(|| find(b' ', from, to))
            .unwrap_or(ofs + MAX);
        out.push(data[ofs..=j].to_vec());
        ofs = j + 1;
    }
    if ofs < data.len() {
        out.push(data[ofs..].to_vec());
    }
}

impl<'v> Texts<'v> {
    /// Builds the texts of `view`.
    pub fn build(view: &MessageView<'v, '_>, networks: &super::run::TrustNetworks) -> Texts<'v> {
        let mime = super::mime_evals::analyze(view.raw);
        let mut t = Texts {
            headers: view.headers,
            raw_body: &view.raw[mime.body_offset.min(view.raw.len())..],
            raw: view.raw,
            envelope_from: view.envelope.sender.clone(),
            mime_headers: Vec::new(),
            mime,
            relays: super::relays::parse(
                view.headers,
                &networks.trusted,
                &networks.internal,
                &networks.originating_ip_headers,
            ),
            registry: networks.registry.clone(),
            bayes: view.bayes,
            decoded: view
                .headers
                .iter()
                .map(HeaderField::spamassassin_value)
                .collect(),
            raw_with_crs: raw_values_with_crs(view.raw, view.headers),
            ..Default::default()
        };
        // SpamAssassin's rendered body: every leaf part in order, a newline between parts,
        // text parts rendered and cut at BODY_PART_CAP; then whitespace normalized and the
        // Subject line put first.
        let mut text: Vec<u8> = Vec::new();
        let mut html_uris: Vec<Vec<u8>> = Vec::new();
        let mut anchors: Vec<Vec<u8>> = Vec::new();
        let body_start = t.raw_body.as_ptr();
        for o in view.objects {
            if o.origin != Origin::MimePart {
                continue;
            }
            if !text.is_empty() {
                text.push(b'\n');
            }
            // SpamAssassin's effective type: a part named `*.html`, `*.htm` or `*.shtml` is
            // rendered as HTML whatever its declared type (an `application/octet-stream`
            // attachment `offer.html`), and is rawbody text too.
            // The type and charset SpamAssassin gives the part: the engine's, unless the
            // part has Content-Type fields that disagree (SpamAssassin reads the last).
            let last = last_content_type(o, view.raw);
            let (declared, charset) = match &last {
                Some((t, c)) => (Some(t.as_str()), c.as_deref()),
                None => (o.declared_type.as_deref(), o.charset.as_deref()),
            };
            let is_html = declared == Some("text/html");
            let is_text = declared.is_none_or(|t| t.starts_with("text/"));
            let html_by_name = !is_html && o.name.as_deref().is_some_and(named_html);
            if !is_text && !html_by_name {
                continue;
            }
            // SpamAssassin decodes the part itself, differently from the engine where an
            // `=` sits inside base64 data, and after cutting blank-line runs in the raw
            // lines ([`spamassassin_decoding`]).
            let redecoded = spamassassin_decoding(o, body_start);
            // SpamAssassin's decoded text has LF line ends: it squashes CRLF in a CRLF
            // message, and after decoding base64 and quoted-printable text.
            let lf = crlf_to_lf(redecoded.as_deref().unwrap_or(&o.data));
            // Text that was not transfer-decoded has its blank-line runs cut here (an
            // attached message's own text too: SpamAssassin parses it as a message).
            let lf = match (&o.data, lf) {
                (std::borrow::Cow::Borrowed(d), lf) if o.encoded.is_none() => {
                    let at_body_start = d.as_ptr() == body_start;
                    match collapse_blank_runs(&lf, at_body_start) {
                        std::borrow::Cow::Borrowed(_) => lf,
                        std::borrow::Cow::Owned(c) => std::borrow::Cow::Owned(c),
                    }
                }
                (_, lf) => lf,
            };
            // SpamAssassin 4 renders text recoded to UTF-8 (`normalize_charset`, on by
            // default); rawbody keeps the part's own bytes.
            let data = if networks.normalize_charset {
                crate::mime::charset::spamassassin_normalize(&lf, charset)
            } else {
                std::borrow::Cow::Borrowed(&lf[..])
            };
            if is_html || html_by_name {
                t.html.push(super::html_evals::analyze(&data));
                let r = crate::mime::html::render_spamassassin(&data);
                // Perl keeps an ASCII page's text a byte string: a character reference
                // under 256 (`&#146;`) is one byte there, unless one above 255 made the
                // string Unicode (then all are UTF-8). hard-ham-1/00160's `&#146;`s are
                // single bytes to `__HIGHBITS`.
                let narrow = if data.is_ascii() {
                    latin1_if_narrow(&r.text)
                } else {
                    None
                };
                text.extend_from_slice(scan_cut(narrow.as_deref().unwrap_or(&r.text)));
                html_uris.extend(r.uris);
                anchors.extend(r.anchors);
            } else {
                text.extend_from_slice(scan_cut(&data));
            }
            if declared != Some("text/calendar") {
                chunks(&lf, &mut t.rawbody);
            }
        }
        // `get_header('subject')` in scalar context: the last Subject field.
        let mut body = match view.header("Subject").last() {
            Some(subject) => subject.spamassassin_value().into_bytes(),
            None => Vec::new(),
        };
        body.push(b'\n');
        body.extend_from_slice(&normalize_whitespace(&text));
        t.body = short_lines(&body);
        t.subject_lines = 1;
        let html_img = t.html.iter().any(|h| h.inside.contains_key("img"));
        t.mime_headers = std::mem::take(&mut t.mime.part_headers);
        t.madiff = t.mime.madiff(html_img);
        t.images = t.mime.images;
        let mut parsed = Vec::new();
        super::text_uris::parse(&t.body, &networks.registry, &mut parsed);
        let spelled: std::collections::HashSet<&[u8]> = parsed.iter().map(Vec::as_slice).collect();
        anchors.retain(|a| !spelled.contains(a.as_slice()));
        t.anchor_links = anchors;
        t.uris = uri_list(parsed, html_uris, networks);
        t.index_lines();
        t
    }

    /// Joins the lines of each text for the filters and the literal prefilter.
    fn index_lines(&mut self) {
        self.joined = [&self.body, &self.rawbody, &self.uris].map(|lines| lines.join(&b'\n'));
        self.line_starts = [&self.body, &self.rawbody, &self.uris].map(|lines| {
            lines
                .iter()
                .scan(0, |at, l| {
                    let start = *at;
                    *at += l.len() + 1;
                    Some(start)
                })
                .collect()
        });
    }

    /// Rewrites every `body` line with `rewrite` (the URI list keeps what the original
    /// text held).
    pub(crate) fn rewrite_body(&mut self, rewrite: impl Fn(&[u8]) -> Vec<u8>) {
        for line in &mut self.body {
            *line = rewrite(line);
        }
        self.index_lines();
    }

    /// The lines rules of `area` run over (`body`, `rawbody` or `uri`).
    pub fn lines(&self, area: Area) -> &[Vec<u8>] {
        match area {
            Area::Body => &self.body,
            Area::Rawbody => &self.rawbody,
            _ => &self.uris,
        }
    }

    /// The lines of `area` joined with `\n`.
    pub fn joined(&self, area: Area) -> &[u8] {
        &self.joined[slot(area)]
    }

    /// The index of the line of `area` that byte `at` of [`Texts::joined`] belongs to.
    pub fn line_at(&self, area: Area, at: usize) -> usize {
        self.line_starts[slot(area)]
            .partition_point(|&s| s <= at)
            .saturating_sub(1)
    }

    /// Where line `line` of `area` starts in [`Texts::joined`], if there is such a line.
    pub fn line_start(&self, area: Area, line: usize) -> Option<usize> {
        self.line_starts[slot(area)].get(line).copied()
    }

    /// The text a `header` rule matches: the values of [`Texts::header`] joined as
    /// SpamAssassin 4's Check plugin joins them (`join($harr[0] =~ /\n\z/ ? "" : "\n",
    /// @harr)`): header values end with a newline and are simply concatenated; the
    /// addresses of `:addr`, the names of `:name` and the hosts of `:host` have none and are
    /// joined with one, so `From:addr =~ /\s/` holds for a From with two addresses.
    /// Computed once per message for each `key` (which must name `name` and `modifiers`
    /// uniquely) and shared.
    pub fn header_cached(&self, key: &str, name: &str, modifiers: &[String]) -> HeaderText {
        if let Some(v) = self.header_cache.borrow().get(key) {
            return v.clone();
        }
        let v = self.header_text(name, modifiers);
        self.header_cache
            .borrow_mut()
            .insert(key.to_string(), v.clone());
        v
    }

    /// [`Texts::header_cached`] for a caller that numbers its header texts itself: `slot`
    /// must name `name` and `modifiers` uniquely, as the key does there.
    pub fn header_in_slot(&self, slot: usize, name: &str, modifiers: &[String]) -> HeaderText {
        if let Some(Some(v)) = self.header_slots.borrow().get(slot) {
            return v.clone();
        }
        let v = self.header_text(name, modifiers);
        let mut slots = self.header_slots.borrow_mut();
        if slots.len() <= slot {
            slots.resize(slot + 1, None);
        }
        slots[slot] = Some(v.clone());
        v
    }

    /// The values of [`Texts::header`] joined (see [`Texts::header_cached`]).
    fn header_text(&self, name: &str, modifiers: &[String]) -> HeaderText {
        self.header(name, modifiers).map(|mut values| {
            std::rc::Rc::new(if values.len() == 1 {
                values.pop().unwrap_or_default()
            } else {
                let sep: &[u8] = if values.first().is_some_and(|v| v.ends_with(b"\n")) {
                    b""
                } else {
                    b"\n"
                };
                values.join(sep)
            })
        })
    }

    /// [`part_header_values`] of this message's parts, computed once per (name, raw).
    pub fn part_header_cached(&self, name: &str, raw: bool) -> std::rc::Rc<Vec<Option<Vec<u8>>>> {
        let slot = usize::from(raw);
        if let Some(v) = self.part_header_cache.borrow()[slot].get(name) {
            return v.clone();
        }
        let v = std::rc::Rc::new(part_header_values(&self.mime_headers, name, raw));
        self.part_header_cache.borrow_mut()[slot].insert(name.to_string(), v.clone());
        v
    }

    /// The Date header's distance from the Received times, in seconds (see
    /// [`super::dates::date_diff`]), computed once.
    pub fn date_diff(&self) -> i64 {
        *self.date_diff.get_or_init(|| super::dates::date_diff(self))
    }

    /// The envelope sender when the caller gave none, inferred as SpamAssassin does: the
    /// `envelope-from` the last untrusted relay recorded, else X-Envelope-From,
    /// Envelope-Sender or Return-Path when no Received line comes before it (a header added
    /// before the last hop is not the local MTA's record); nothing for fetchmail'd mail
    /// with an X-Sender.
    fn inferred_envelope_from(&self) -> Option<String> {
        let hop = self
            .relays
            .untrusted
            .first()
            .or_else(|| self.relays.trusted.last());
        if let Some(h) = hop
            && h.envfrom.find('@').is_some_and(|p| p > 0)
        {
            return Some(h.envfrom.clone());
        }
        let first_addr = |name: &str| -> Option<String> {
            self.header(name, &["first".to_string(), "addr".to_string()])?
                .into_iter()
                .next()
                .map(|a| String::from_utf8_lossy(&a).trim().to_string())
                .filter(|a| !a.is_empty())
        };
        if first_addr("X-Sender").is_some_and(|a| a.contains('@'))
            && self.headers.iter().any(|h| {
                h.name.eq_ignore_ascii_case("Received")
                    && memchr::memmem::find(&h.raw_value, b"(fetchmail").is_some()
            })
        {
            return None;
        }
        let received_before = |name: &str| {
            let first_received = self
                .headers
                .iter()
                .position(|h| h.name.eq_ignore_ascii_case("Received"));
            let field = self
                .headers
                .iter()
                .rposition(|h| h.name.eq_ignore_ascii_case(name));
            matches!((first_received, field), (Some(r), Some(f)) if r < f)
        };
        for (name, stop) in [
            ("X-Envelope-From", true),
            ("Envelope-Sender", false),
            ("Return-Path", false),
        ] {
            if let Some(a) = first_addr(name) {
                if !received_before(name) {
                    return Some(a);
                }
                if stop {
                    return None;
                }
            }
        }
        None
    }

    /// The candidate values a header rule tests, or `None` when the header is absent.
    ///
    /// Each value keeps its trailing newline; repeated headers are joined with newlines.
    /// `:raw` keeps folding and encoded words; `:addr` and `:name` yield one candidate per
    /// address; `:first`/`:last` pick one occurrence.
    /// `:host`, `:domain`, `:ip` and `:revip` apply last, to each candidate.
    pub fn header(&self, name: &str, modifiers: &[String]) -> Option<Vec<Vec<u8>>> {
        let candidates = self.header_fields(name, modifiers)?;
        host_modifiers(candidates, modifiers, &self.registry)
    }

    /// [`Texts::header`] before the host and IP modifiers.
    fn header_fields(&self, name: &str, modifiers: &[String]) -> Option<Vec<Vec<u8>>> {
        // `:addr` parses the raw value too, as SpamAssassin's `get` does (`$needraw`): an
        // encoded word glued to an address is no address there.
        let raw = modifiers.iter().any(|m| m == "raw" || m == "addr");
        // Appends field `i`'s value and a newline to `out`.
        let push_value = |i: usize, out: &mut Vec<u8>| {
            if let Some(values) = raw.then_some(self.raw_with_crs.as_ref()).flatten() {
                let r = &values[i];
                let blank = r.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
                out.extend_from_slice(&r[blank..]);
            } else if raw {
                // Folds as SpamAssassin keeps them: a LF (CRLF squashed), a CR elsewhere
                // left alone (`__CR_IN_SUBJ`).
                let r = &self.headers[i].raw_value;
                let blank = r.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
                out.extend_from_slice(&crlf_to_lf(&r[blank..]));
            } else {
                out.extend_from_slice(self.decoded[i].as_bytes());
            }
            out.push(b'\n');
        };
        // The fields named any of `names` (ASCII case-insensitively), in message order.
        let pick = |names: &[&str]| -> Vec<usize> {
            let by_name = self.by_name.get_or_init(|| {
                let mut map = std::collections::HashMap::<_, Vec<usize>, FastHash>::default();
                for (i, h) in self.headers.iter().enumerate() {
                    map.entry(h.name.to_ascii_lowercase()).or_default().push(i);
                }
                map
            });
            let mut out = Vec::new();
            for n in names {
                if let Some(v) = by_name.get(n.to_ascii_lowercase().as_str()) {
                    out.extend_from_slice(v);
                }
            }
            if names.len() > 1 {
                out.sort_unstable();
                out.dedup();
            }
            out
        };
        let mut fields: Vec<usize> = match name {
            "ALL" if raw => return Some(vec![all_raw(self.raw)]),
            "ALL" => {
                let mut all = Vec::new();
                for (i, h) in self.headers.iter().enumerate() {
                    all.extend_from_slice(h.name.as_bytes());
                    all.extend_from_slice(b": ");
                    push_value(i, &mut all);
                }
                return Some(vec![all]);
            }
            "ALL-TRUSTED" | "ALL-INTERNAL" | "ALL-UNTRUSTED" | "ALL-EXTERNAL" => {
                // Headers above the first untrusted relay's Received line (that line
                // included), or from that line down, as SpamAssassin splits them.
                let k = self.relays.trusted_received;
                let trusted = name == "ALL-TRUSTED" || name == "ALL-INTERNAL";
                let mut all = Vec::new();
                let mut index: Option<usize> = None;
                for (i, h) in self.headers.iter().enumerate() {
                    if h.name.eq_ignore_ascii_case("Received") {
                        index = Some(index.map_or(0, |x| x + 1));
                    }
                    let here = index.map_or(0, |x| x + 1);
                    let take = if trusted { here <= k + 1 } else { here > k };
                    if take {
                        all.extend_from_slice(h.name.as_bytes());
                        all.extend_from_slice(b": ");
                        push_value(i, &mut all);
                    }
                    if trusted && here == k + 1 {
                        // The first untrusted relay's own Received line closes the range.
                        break;
                    }
                }
                return (!all.is_empty()).then(|| vec![all]);
            }
            _ if name.starts_with("X-Spam-Relays-") => {
                return self.relays.header(name).map(|v| vec![v.into_bytes()]);
            }
            "ToCc" => pick(&["To", "Cc"]),
            "MESSAGEID" => pick(&[
                "Message-Id",
                "Resent-Message-Id",
                "X-Message-Id",
                "X-Original-Message-ID",
            ]),
            "EnvelopeFrom" => match self
                .envelope_from
                .clone()
                .or_else(|| self.inferred_envelope_from())
            {
                Some(s) => {
                    let mut v = s.into_bytes();
                    v.push(b'\n');
                    if modifiers.iter().any(|m| m == "addr") {
                        return Some(addresses(&v));
                    }
                    return Some(vec![v]);
                }
                None => return None,
            },
            _ => pick(&[name]),
        };
        if fields.is_empty() {
            return None;
        }
        if modifiers.iter().any(|m| m == "first") {
            fields.truncate(1);
        } else if modifiers.iter().any(|m| m == "last") {
            fields.drain(..fields.len() - 1);
        }
        let mut joined: Vec<u8> = Vec::new();
        for &i in &fields {
            push_value(i, &mut joined);
        }
        let candidates = if modifiers.iter().any(|m| m == "addr") {
            addresses(&joined)
        } else if modifiers.iter().any(|m| m == "name") {
            display_names(&joined)
        } else {
            vec![joined]
        };
        Some(candidates)
    }
}

/// The value of header `name` in each node of the part tree, as MIMEHeader reads it with
/// `get_header` (or `raw_header`: undecoded, folding kept) in scalar context: the *last*
/// such field of the part, with a trailing newline; `None` for a part without one (which
/// the rule then tests as its `if_unset` text, an empty one by default: Perl's undef).
pub fn part_header_values(
    parts: &[Vec<HeaderField>],
    name: &str,
    raw: bool,
) -> Vec<Option<Vec<u8>>> {
    parts
        .iter()
        .map(|part| {
            let h = part
                .iter()
                .rev()
                .find(|h| h.name.eq_ignore_ascii_case(name))?;
            let mut v = if raw {
                crlf_to_lf(h.raw_value.trim_ascii_start()).into_owned()
            } else {
                h.spamassassin_value().into_bytes()
            };
            v.push(b'\n');
            Some(v)
        })
        .collect()
}

/// Splits an address-list value into addresses (`<a@b>` or bare `a@b`), comments dropped;
/// words without `@` are no addresses.
fn addresses(v: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for part in split_list(v) {
        let p = strip_comments(&part);
        let p = p.trim_ascii();
        // The angle brackets outside quoted strings (`"<Karen Duarte" <k@example.com>`:
        // spam-1/00210).
        let (addr, enclosed) = match (unquoted_byte(p, b'<'), memchr::memrchr(b'>', p)) {
            (Some(a), Some(b)) if a < b => {
                let inner = p[a + 1..b].trim_ascii();
                (literal_domain_prefix(inner).unwrap_or(inner).to_vec(), true)
            }
            _ => (p.to_vec(), false),
        };
        // A second `@` ends the domain (`a@b@21cn.com` is `a@b`: spam-2/00080).
        let addr = match memchr::memchr(b'@', &addr) {
            Some(at) if addr.first() != Some(&b'"') => {
                match memchr::memchr(b'@', &addr[at + 1..]) {
                    Some(second) => addr[..at + 1 + second].to_vec(),
                    None => addr,
                }
            }
            _ => addr,
        };
        // SpamAssassin's parse_header_addresses gives no address for a word without `@`
        // (`Return-Path: yyyy`, `To: undisclosed-recipients:;`), nor for anything its
        // mail pattern does not match (`X-Sender: @ (Unverified)`). A bare value it reads
        // as a phrase first, and takes the phrase when that is an address with a valid
        // host: `"woie"q_ewo6443@hotmail.com` is woieq_ewo6443@hotmail.com.
        if mail_address(&addr) {
            out.push(addr);
        } else if !enclosed {
            let joined = phrase(&addr);
            let host_ok = joined
                .iter()
                .position(|&b| b == b'@')
                .is_some_and(|at| super::text_uris::fqdn_valid(&joined[at + 1..]));
            if mail_address(&joined) && host_ok {
                out.push(joined);
            }
        }
    }
    if out.is_empty() {
        out.push(Vec::new());
    }
    out
}

/// The first `byte` outside double-quoted strings.
fn unquoted_byte(p: &[u8], byte: u8) -> Option<usize> {
    let (mut quoted, mut escaped) = (false, false);
    for (i, &b) in p.iter().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            _ if b == byte && !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// `local@[literal]` when an enclosed address is that followed by more words: the address
/// parser SpamAssassin uses stops at the literal's `]` (`<u@[1086695621] [ufa]>` is
/// `u@[1086695621]`: spam-2/00135).
fn literal_domain_prefix(inner: &[u8]) -> Option<&[u8]> {
    let at = memchr::memchr(b'@', inner)?;
    if inner.get(at + 1) != Some(&b'[') {
        return None;
    }
    let close = memchr::memchr(b']', &inner[at..])? + at;
    let rest = &inner[close + 1..];
    (rest.first().is_some_and(u8::is_ascii_whitespace)).then_some(&inner[..=close])
}

/// A display name as SpamAssassin's address parser reads the phrase before `<`: quoted
/// strings unquoted (backslash escapes undone) and the words between them, comments
/// dropped, all run together (`"" Angles " Puglisi" ` is ` Angles  Puglisi `).
fn phrase(p: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(p.len());
    let mut i = 0;
    while i < p.len() {
        if p[i] == b'"' {
            i += 1;
            while i < p.len() && p[i] != b'"' {
                if p[i] == b'\\' && i + 1 < p.len() {
                    i += 1;
                }
                out.push(p[i]);
                i += 1;
            }
            i += 1;
        } else {
            let end = p[i..]
                .iter()
                .position(|&b| b == b'"')
                .map_or(p.len(), |e| i + e);
            out.extend_from_slice(&strip_comments(&p[i..end]));
            i = end;
        }
    }
    out
}

/// What `get(':name')` makes of a name: unless it is all white space, runs of white space
/// become one space, the ends are trimmed and surrounding single quotes dropped.
fn normalize_name(name: Vec<u8>) -> Vec<u8> {
    if name.iter().all(u8::is_ascii_whitespace) {
        return name;
    }
    let mut out: Vec<u8> = Vec::with_capacity(name.len());
    for w in name
        .split(u8::is_ascii_whitespace)
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(w);
    }
    match out.strip_prefix(b"'").and_then(|n| n.strip_suffix(b"'")) {
        Some(inner) if out.len() >= 2 => inner.to_vec(),
        _ => out,
    }
}

/// Whether `a` is an address as SpamAssassin's `$header_address_mailre` has it: a quoted or
/// plain local part, `@`, and a domain (or an address literal), none of them empty.
fn mail_address(a: &[u8]) -> bool {
    let special = |b: u8| b.is_ascii_whitespace() || b"<>()[],:;".contains(&b);
    let local = if a.first() == Some(&b'"') {
        let mut i = 1;
        while i < a.len() && a[i] != b'"' {
            i += if a[i] == b'\\' { 2 } else { 1 };
        }
        if i >= a.len() {
            return false;
        }
        i + 1
    } else {
        a.iter().take_while(|&&b| b != b'@' && !special(b)).count()
    };
    if local == 0 || a.get(local) != Some(&b'@') {
        return false;
    }
    let domain = &a[local + 1..];
    let literal = domain.len() > 2
        && domain.starts_with(b"[")
        && domain.ends_with(b"]")
        && domain[1..domain.len() - 1]
            .iter()
            .all(|&b| b.is_ascii_digit() || b == b':' || b == b'.');
    literal
        || (!domain.is_empty()
            && domain
                .iter()
                .all(|&b| b != b'"' && b != b'@' && !special(b)))
}

fn display_names(v: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for part in split_list(v) {
        let name = match unquoted_byte(&part, b'<') {
            // A group label (`name:` outside quotes) is no part of the phrase
            // (`qvaC:"\My Documents..." <a@b>`: spam-2/00916).
            Some(a) => phrase(match unquoted_byte(&part[..a], b':') {
                Some(colon) => &part[colon + 1..a],
                None => &part[..a],
            }),
            None => {
                // `addr (Name)` form.
                match (memchr::memchr(b'(', &part), memchr::memrchr(b')', &part)) {
                    (Some(a), Some(b)) if a < b => part[a + 1..b].to_vec(),
                    _ => Vec::new(),
                }
            }
        };
        out.push(normalize_name(name));
    }
    if out.is_empty() {
        out.push(Vec::new());
    }
    out
}

fn strip_comments(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut depth = 0usize;
    let mut quoted = false;
    for &b in v {
        match b {
            b'"' if depth == 0 => {
                quoted = !quoted;
                out.push(b);
            }
            b'(' if !quoted => depth += 1,
            b')' if !quoted && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(b),
            _ => {}
        }
    }
    out
}

/// Splits at commas and newlines outside quotes and angle brackets.
fn split_list(v: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut quoted = false;
    let mut angle = false;
    for &b in v {
        match b {
            b'"' => {
                quoted = !quoted;
                cur.push(b);
            }
            b'<' if !quoted => {
                angle = true;
                cur.push(b);
            }
            b'>' if !quoted => {
                angle = false;
                cur.push(b);
            }
            b',' | b'\n' if !quoted && !angle => {
                if !cur.trim_ascii().is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                cur.clear();
            }
            _ => cur.push(b),
        }
    }
    if !cur.trim_ascii().is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_printable_as_util_pm_decodes_it() {
        let qp = |t: &[u8]| spamassassin_qp(t);
        assert_eq!(qp(b"a=3Db =\nc  \r\nd=41=4a"), b"a=b c\r\ndAJ");
        // Blanks after `=` before a line end go first, then the soft break.
        assert_eq!(qp(b"a=  \nb"), b"ab");
        // A soft break inside an escape completes it, as the substitutions run in turn.
        assert_eq!(qp(b"=4=\n1"), b"A");
        // A bare CR ends no line: `=` before it stays, blanks before it too; so do a
        // final `=` and final blanks.
        assert_eq!(
            qp(b"face=3D\"Cent=\rury\" x \ry="),
            b"face=\"Cent=\rury\" x \ry="
        );
        assert_eq!(qp(b"end  "), b"end  ");
        assert_eq!(qp(b"=zz==41"), b"=zz=A");
    }

    #[test]
    fn body_lines_as_spamassassin_builds_them() {
        let norm = |t: &[u8]| short_lines(&normalize_whitespace(t));
        assert_eq!(
            norm(b"Hello\nworld  again\n\n\nSecond\tpara\n"),
            vec![b"Hello world again\n".to_vec(), b"Second para ".to_vec()]
        );
        // Spaces around a paragraph break stay (one each); CRLF reads as LF.
        assert_eq!(
            norm(b" a  \n \n b\r\n\r\nc"),
            vec![b" a \n".to_vec(), b" b\n".to_vec(), b"c".to_vec()]
        );
        // A no-break space rendered from `&nbsp;` is whitespace; the other characters of
        // the lead bytes of Unicode spaces are not, and a NUL is a newline.
        assert_eq!(norm(b"a\xc2\xa0 b"), vec![b"a b".to_vec()]);
        assert_eq!(
            normalize_whitespace(b"\xc2\xa9\xe2\x82\xac\xe2\x80\x83x\x00y\xe3\x80\x80\xe3\x81\x82"),
            b"\xc2\xa9\xe2\x82\xac x\ny \xe3\x81\x82"
        );
        // Long lines are cut after their last space within 2,048 bytes, else at 2,048.
        let long = [b'a'; 5000];
        assert_eq!(
            norm(&long).iter().map(Vec::len).collect::<Vec<_>>(),
            [2048, 2048, 904]
        );
        let mut spaced = vec![b'x'; 3000];
        spaced[100] = b' ';
        assert_eq!(norm(&spaced)[0].len(), 101);
        // A part is cut after the first newline past the scan size.
        let mut part = vec![b'y'; BODY_PART_CAP + 10];
        part[BODY_PART_CAP + 3] = b'\n';
        assert_eq!(scan_cut(&part).len(), BODY_PART_CAP + 4);
    }

    #[test]
    fn blank_line_runs_cut_as_message_pm_cuts_them() {
        // 25 blank lines (some holding white space) between two lines: the first and the
        // last 19 stay, as Perl's splice leaves them.
        let mut data = b"top\n".to_vec();
        for i in 0..25 {
            data.extend_from_slice(format!("{}\n", " ".repeat(i % 3)).as_bytes());
        }
        data.extend_from_slice(b"end\n");
        let cut = collapse_blank_runs(&data, false);
        let lines: Vec<&[u8]> = cut.split_inclusive(|b| *b == b'\n').collect();
        assert_eq!(lines.len(), 22);
        assert_eq!(lines[1], b"\n");
        let last19: Vec<String> = (6..25)
            .map(|i| format!("{}\n", " ".repeat(i % 3)))
            .collect();
        let kept: Vec<String> = lines[2..21]
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        assert_eq!(kept, last19);
        // Twenty stay as they are; a run opening the body keeps 21; a final run without
        // a newline on its last line is a run too.
        let twenty = [b"a\n".as_slice(), &[b'\n'; 20], b"b"].concat();
        assert!(matches!(
            collapse_blank_runs(&twenty, false),
            std::borrow::Cow::Borrowed(_)
        ));
        let opening = [&[b'\n'; 30][..], b"b\n"].concat();
        assert_eq!(collapse_blank_runs(&opening, true).len(), 21 + 2);
        assert_eq!(collapse_blank_runs(&opening, false).len(), 20 + 2);
        let trailing = [b"a\n".as_slice(), &[b'\n'; 30], b"  "].concat();
        assert_eq!(collapse_blank_runs(&trailing, false).len(), 2 + 19 + 2);
        // Nothing but blank lines, and nothing at all.
        assert_eq!(collapse_blank_runs(&[b'\n'; 40], false).len(), 20);
        assert!(collapse_blank_runs(b"", true).is_empty());
    }

    #[test]
    fn base64_decoded_as_util_pm_decodes_it() {
        // Expected bytes printed by SpamAssassin 4.0.1's Util::base64_decode.
        let hex = |s: &str| -> Vec<u8> {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_default())
                .collect()
        };
        let cases = [
            ("aGVsbG8=\n", "68656c6c6f"),
            ("aGk=aGk=", "6869006869"),
            ("aGk=aGk=\n-- footer_x\n", "68693f68693f7e8a2d7abc"),
            ("DQo=\n---\nThis sf.net\n", "0d0a3f4e18acb1f9de"),
            ("aGVsbG8", "68656c6c6f"),
            ("aGVsbG8=\n\n___\nab", "68656c6c6f3f69"),
        ];
        for (input, bytes) in cases {
            assert_eq!(
                spamassassin_base64(input.as_bytes()),
                hex(bytes),
                "{input:?}"
            );
        }
    }

    #[test]
    fn address_lists() {
        assert_eq!(
            addresses(b"\"A, B\" <a@x.example>, c@y.example (C)\n"),
            vec![b"a@x.example".to_vec(), b"c@y.example".to_vec()]
        );
        assert_eq!(display_names(b"\"Al\" <a@x>\n"), vec![b"Al".to_vec()]);
    }
}
