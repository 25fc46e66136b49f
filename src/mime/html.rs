//! HTML rendered to visible text, and the URIs it links to.
//!
//! A small tolerant scanner over bytes (charset-agnostic, as SpamAssassin's rules see the
//! undecoded bytes of a part): tags are dropped, `script`/`style` content and comments are
//! skipped, block elements become paragraph breaks, `<br>` a line break, character
//! references are decoded (numeric ones above 0x7F as UTF-8), and `href`/`src`/`action`/
//! `background` attribute values are collected. Work is linear in the input.

/// The result of rendering.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    /// Visible text; paragraphs separated by a blank line.
    pub text: Vec<u8>,
    /// Link targets in document order, entities decoded.
    pub uris: Vec<Vec<u8>>,
    /// The `href` targets of `<a>` tags alone (a subset of `uris`), in document order.
    pub anchors: Vec<Vec<u8>>,
}

const BLOCK: &[&str] = &[
    "p",
    "div",
    "table",
    "tr",
    "td",
    "th",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "hr",
    "pre",
    "title",
    "center",
    "form",
    "dl",
    "dt",
    "dd",
    "address",
    "body",
    "head",
    "html",
];

const URI_ATTRS: &[&str] = &["href", "src", "action", "background", "cite", "lowsrc"];

/// Where the comment opening at `at` (`<!--`) ends: after `-->`, or, when none follows,
/// after the first `>` (HTML::Parser's fallback: `<!--#rotate>Terrific!!` in spam-2/00384
/// leaves its text visible), or at the end.
pub fn comment_end(html: &[u8], at: usize) -> usize {
    find(html, b"-->", at + 4)
        .map(|p| p + 3)
        .or_else(|| find(html, b">", at + 4).map(|p| p + 1))
        .unwrap_or(html.len())
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    memchr::memmem::find(hay.get(from..)?, needle).map(|p| p + from)
}

/// Decodes character references as HTML::Parser 3.81 does (checked against it): `&#N;`
/// and `&#xH;` (the `;` optional, U+0000 and values past U+10FFFF left alone), and the
/// named references of [`super::entities`], case-sensitively. A name above U+00FF needs
/// its `;`; a Latin-1 one does not, and is taken as the longest known prefix of the
/// letters and digits that follow (`&copy2` is `©2`, `&ampx` is `&x`).
pub fn decode_entities(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'&'
            && let Some((c, used)) = reference_at(&s[i + 1..])
        {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            i += 1 + used;
            continue;
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// The character a reference right after a `&` stands for, and how many bytes it takes.
fn reference_at(s: &[u8]) -> Option<(char, usize)> {
    use super::entities::ENTITIES;
    let semi = |at: usize| usize::from(s.get(at) == Some(&b';'));
    if let Some(num) = s.strip_prefix(b"#") {
        let (digits, radix, skip) = match num.first() {
            Some(b'x' | b'X') => (
                num[1..]
                    .iter()
                    .take_while(|b| b.is_ascii_hexdigit())
                    .count(),
                16,
                2,
            ),
            _ => (num.iter().take_while(|b| b.is_ascii_digit()).count(), 10, 1),
        };
        if digits == 0 || digits > 8 {
            return None;
        }
        let text = std::str::from_utf8(&s[skip..skip + digits]).ok()?;
        let c = u32::from_str_radix(text, radix)
            .ok()
            .filter(|&n| n != 0)
            .and_then(char::from_u32)?;
        return Some((c, skip + digits + semi(skip + digits)));
    }
    let name_len = s
        .iter()
        .take(32)
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    let lookup = |name: &[u8]| {
        let name = std::str::from_utf8(name).ok()?;
        ENTITIES
            .binary_search_by(|(n, _, _)| n.cmp(&name))
            .ok()
            .map(|i| ENTITIES[i])
    };
    // The whole name with its `;`.
    if semi(name_len) == 1
        && let Some((_, code, _)) = lookup(&s[..name_len])
    {
        return Some((char::from_u32(code)?, name_len + 1));
    }
    // Else the longest Latin-1 name the text starts with.
    (2..=name_len)
        .rev()
        .find_map(|n| {
            let (_, code, needs_semi) = lookup(&s[..n])?;
            (!needs_semi).then(|| (char::from_u32(code), n + semi(n)))
        })
        .and_then(|(c, n)| Some((c?, n)))
}

/// Parses `name=value` attributes of one tag body.
fn attributes(tag: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tag.len() {
        while i < tag.len() && (tag[i].is_ascii_whitespace() || tag[i] == b'/') {
            i += 1;
        }
        let ns = i;
        while i < tag.len() && !tag[i].is_ascii_whitespace() && tag[i] != b'=' && tag[i] != b'/' {
            i += 1;
        }
        let name = tag[ns..i].to_ascii_lowercase();
        while i < tag.len() && tag[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < tag.len() && tag[i] == b'=' {
            i += 1;
            while i < tag.len() && tag[i].is_ascii_whitespace() {
                i += 1;
            }
            let value = if i < tag.len() && (tag[i] == b'"' || tag[i] == b'\'') {
                let q = tag[i];
                let vs = i + 1;
                let ve = tag[vs..]
                    .iter()
                    .position(|&b| b == q)
                    .map_or(tag.len(), |p| p + vs);
                i = (ve + 1).min(tag.len());
                &tag[vs..ve]
            } else {
                let vs = i;
                while i < tag.len() && !tag[i].is_ascii_whitespace() {
                    i += 1;
                }
                &tag[vs..i]
            };
            out.push((name, value.to_vec()));
        } else if !name.is_empty() {
            // A bare attribute's value is its name, as HTML::Parser reports it (`<a href
            // onclick=...>` gives SpamAssassin the URI `href`).
            out.push((name.clone(), name));
        } else {
            i += 1;
        }
    }
    out
}

/// Whether HTML.pm's `html_uri` reads attribute `attr` of element `tag` as a link: a
/// background of body and table cells, `href` of a, area, link and base, `src` of the
/// embedding elements, a form's `action`. Other attributes (`cite`, `lowsrc`, an input's
/// `src`) are no URIs there (easy-ham-1/00883's `<blockquote cite="mid...">`).
fn spamassassin_uri_attr(tag: &str, attr: &[u8]) -> bool {
    match tag {
        "body" | "table" | "tr" | "td" => attr == b"background",
        "a" | "area" | "link" => attr == b"href" || attr == b"data-saferedirecturl",
        "img" | "frame" | "iframe" | "embed" | "script" | "bgsound" => attr == b"src",
        "form" => attr == b"action",
        "base" => attr == b"href",
        _ => false,
    }
}

/// The target of `<meta http-equiv="refresh" content="0; url=...">`, as HTML.pm takes it:
/// after the last `url=`, up to a `;`.
fn meta_refresh_url(attrs: &[(Vec<u8>, Vec<u8>)]) -> Option<Vec<u8>> {
    let get = |name: &[u8]| attrs.iter().find(|(a, _)| a == name).map(|(_, v)| v);
    let equiv = get(b"http-equiv")?;
    find(&equiv.to_ascii_lowercase(), b"refresh", 0)?;
    let content = get(b"content")?;
    let lower = content.to_ascii_lowercase();
    // `s/^.*\burl\s*=\s*//i`: the last `url` at a word start followed by `=`.
    let mut start = None;
    let mut from = 0;
    while let Some(p) = find(&lower, b"url", from) {
        let word_start = p == 0 || !(lower[p - 1].is_ascii_alphanumeric() || lower[p - 1] == b'_');
        let mut j = p + 3;
        while j < lower.len() && lower[j].is_ascii_whitespace() {
            j += 1;
        }
        if word_start && lower.get(j) == Some(&b'=') {
            j += 1;
            while j < lower.len() && lower[j].is_ascii_whitespace() {
                j += 1;
            }
            start = Some(j);
        }
        from = p + 1;
    }
    let rest = &content[start?..];
    // `s/\s*;.*//`: up to the first `;`, blanks before it dropped.
    let end = memchr::memchr(b';', rest).unwrap_or(rest.len());
    Some(rest[..end].trim_ascii_end().to_vec())
}

/// Renders HTML bytes: block elements become paragraph breaks, `<br>` a line break, an
/// image a space.
pub fn render(html: &[u8]) -> Rendered {
    render_with(html, Mode::Blocks)
}

/// Renders HTML bytes as SpamAssassin's HTML.pm does for the text its `body` rules see:
/// white space runs in text become one space; `br` and `div` a newline, `p`, `hr`,
/// `blockquote`, `pre`, `listing`, `plaintext`, `xmp` and `title` a blank line, table
/// cells, list items, `dt`/`dd`, `embed` and headings a space, each at both their start
/// and end tag (a space left by the text before is dropped, a space starting the text
/// after is dropped); other tags, tables and rows included, nothing.
pub fn render_spamassassin(html: &[u8]) -> Rendered {
    render_with(&spamassassin_prepare(html), Mode::SpamAssassin)
}

/// Prepares HTML as Mail::SpamAssassin::HTML does before parsing it: `&nbsp;` to a space,
/// `<br/>` to `<br>`, curly double quotes (UTF-8) to `"` (so `<a href=”x”>` has a quoted
/// value, and the rendered text has straight quotes).
pub fn spamassassin_prepare(html: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(html.len());
    let mut i = 0;
    while i < html.len() {
        let rest = &html[i..];
        if rest.starts_with(b"&nbsp;") {
            out.push(b' ');
            i += 6;
        } else if rest.starts_with(&[0xe2, 0x80, 0x9c]) || rest.starts_with(&[0xe2, 0x80, 0x9d]) {
            out.push(b'"');
            i += 3;
        } else if rest[0] == b'<' {
            let name = rest[1..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            let mut j = 1 + name;
            while j < rest.len() && matches!(rest[j], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
                j += 1;
            }
            if name > 0 && rest[j..].starts_with(b"/>") {
                out.extend_from_slice(&rest[..1 + name]);
                out.push(b'>');
                i += j + 2;
            } else {
                out.push(b'<');
                i += 1;
            }
        } else {
            // Up to the next byte any case above starts with, copied as it is.
            let plain = memchr::memchr3(b'&', b'<', 0xe2, &rest[1..]).map_or(rest.len(), |p| p + 1);
            out.extend_from_slice(&rest[..plain]);
            i += plain;
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Blocks,
    SpamAssassin,
}

/// Where the tag starting at `html[start]` (a `<`) ends: its first `>` outside a quoted
/// attribute value (a quote opens a value right after `=` or white space), or the end of
/// the text. `<meta content="text/html; <p>charset=x">` is one tag.
pub fn tag_end(html: &[u8], start: usize) -> usize {
    let mut quote: Option<u8> = None;
    let mut j = start + 1;
    while j < html.len() {
        let b = html[j];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if (b == b'"' || b == b'\'')
                && matches!(
                    html[j - 1],
                    b'=' | b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c
                ) =>
            {
                quote = Some(b);
            }
            None if b == b'>' => return j,
            None => {}
        }
        j += 1;
    }
    html.len()
}

/// A URI without surrounding white space and no-break spaces (HTML.pm's `canon_uri`).
fn trim_uri(uri: &[u8]) -> &[u8] {
    let mut u = uri.trim_ascii();
    loop {
        let before = u.len();
        u = u.strip_prefix(b"\xc2\xa0").unwrap_or(u).trim_ascii_start();
        u = u.strip_suffix(b"\xc2\xa0").unwrap_or(u).trim_ascii_end();
        if u.len() == before {
            return u;
        }
    }
}

fn has_prefix_ci(s: &[u8], prefixes: &[&[u8]]) -> bool {
    prefixes
        .iter()
        .any(|p| s.len() >= p.len() && s[..p.len()].eq_ignore_ascii_case(p))
}

/// The base a `<base href>` sets, as HTML.pm takes it: only an absolute http, https or ftp
/// URI, its trailing file name dropped, ending in `/`.
fn base_of(uri: &[u8]) -> Option<Vec<u8>> {
    static FILE: std::sync::LazyLock<regex::bytes::Regex> = std::sync::LazyLock::new(|| {
        regex::bytes::Regex::new(r"(?i-u)^([a-z]+:/{0,2}[^/]+/.*?)[^/.]+\.[^/.]{2,4}$")
            .expect("static regex")
    });
    if !has_prefix_ci(uri, &[b"http:", b"https:", b"ftp:"]) {
        return None;
    }
    let mut base = match FILE.captures(uri) {
        Some(c) => c[1].to_vec(),
        None => uri.to_vec(),
    };
    if base.last() != Some(&b'/') {
        base.push(b'/');
    }
    Some(base)
}

/// The parts of a URI (RFC 2396's regular expression: scheme, authority, path, query,
/// fragment).
struct UriParts<'a> {
    scheme: Option<&'a [u8]>,
    authority: Option<&'a [u8]>,
    path: &'a [u8],
    query: Option<&'a [u8]>,
    fragment: Option<&'a [u8]>,
}

fn uri_parts(u: &[u8]) -> UriParts<'_> {
    let mut rest = u;
    let scheme = match u
        .iter()
        .position(|&b| matches!(b, b':' | b'/' | b'?' | b'#'))
    {
        Some(p) if p > 0 && u[p] == b':' => {
            rest = &u[p + 1..];
            Some(&u[..p])
        }
        _ => None,
    };
    let authority = rest.strip_prefix(b"//").map(|a| {
        let end = a
            .iter()
            .position(|&b| matches!(b, b'/' | b'?' | b'#'))
            .unwrap_or(a.len());
        rest = &a[end..];
        &a[..end]
    });
    let end = rest
        .iter()
        .position(|&b| b == b'?' || b == b'#')
        .unwrap_or(rest.len());
    let path = &rest[..end];
    rest = &rest[end..];
    let query = rest.strip_prefix(b"?").map(|q| {
        let end = q.iter().position(|&b| b == b'#').unwrap_or(q.len());
        rest = &q[end..];
        &q[..end]
    });
    // Perl's `.*`: the fragment stops at a newline.
    let fragment = rest
        .strip_prefix(b"#")
        .map(|f| &f[..f.iter().position(|&b| b == b'\n').unwrap_or(f.len())]);
    UriParts {
        scheme,
        authority,
        path,
        query,
        fragment,
    }
}

/// RFC 2396bis `remove_dot_segments`, as HTML.pm writes it (a leading `./` or `../`
/// becomes `/`). One pass: each rewrite of the input (`/./` to `/`, `/../` to `/`) is
/// a step forward over it, so a hostile `/./././...` costs linear time.
fn remove_dot_segments(path: &[u8]) -> Vec<u8> {
    let mut at = if path.starts_with(b"./") {
        1
    } else if path.starts_with(b"../") {
        2
    } else {
        0
    };
    let mut output: Vec<u8> = Vec::with_capacity(path.len());
    while at < path.len() {
        let rest = &path[at..];
        if rest == b"/." {
            output.push(b'/');
            break;
        } else if rest.starts_with(b"/./") {
            at += 2;
        } else if rest == b"/.." || rest.starts_with(b"/../") {
            // drop the last segment of the output, with its slash
            let cut = output.iter().rposition(|&b| b == b'/').unwrap_or(0);
            output.truncate(cut);
            if rest.len() == 3 {
                output.push(b'/');
                break;
            }
            at += 3;
        } else {
            let lead = usize::from(rest[0] == b'/');
            let seg = rest[lead..]
                .iter()
                .position(|&b| b == b'/')
                .map_or(rest.len(), |p| p + lead);
            output.extend_from_slice(&rest[..seg]);
            at += seg;
        }
    }
    output
}

/// HTML.pm's `target_uri`: `r` resolved against `base` (RFC 2396 section 5.2, a scheme
/// equal to the base's counting as none, and a scheme-less `//www.`/`//ftp.` host getting
/// `http:`/`ftp:`).
fn target_uri(base: &[u8], r: &[u8]) -> Vec<u8> {
    let r = uri_parts(r);
    let b = uri_parts(base);
    let r_scheme = r.scheme.filter(|s| b.scheme != Some(*s));
    let (scheme, authority, path, query) = if let Some(s) = r_scheme {
        (Some(s), r.authority, remove_dot_segments(r.path), r.query)
    } else if r.authority.is_some() {
        (b.scheme, r.authority, remove_dot_segments(r.path), r.query)
    } else if r.path.is_empty() {
        (b.scheme, b.authority, b.path.to_vec(), r.query.or(b.query))
    } else if r.path.first() == Some(&b'/') {
        (b.scheme, b.authority, remove_dot_segments(r.path), r.query)
    } else {
        let merged = if b.authority.is_some() && b.path.is_empty() {
            [b"/", r.path].concat()
        } else {
            let keep = b.path.iter().rposition(|&b| b == b'/').map_or(0, |p| p + 1);
            [&b.path[..keep], r.path].concat()
        };
        (b.scheme, b.authority, remove_dot_segments(&merged), r.query)
    };
    let mut out = Vec::with_capacity(base.len() + path.len() + 8);
    match (scheme.filter(|s| !s.is_empty() && *s != b"0"), authority) {
        (Some(s), _) => {
            out.extend_from_slice(s);
            out.push(b':');
        }
        (None, Some(a)) if has_prefix_ci(a, &[b"www"]) && www_or_ftp(a, 3) => {
            out.extend_from_slice(b"http:")
        }
        (None, Some(a)) if has_prefix_ci(a, &[b"ftp"]) && www_or_ftp(a, 3) => {
            out.extend_from_slice(b"ftp:")
        }
        _ => {}
    }
    if let Some(a) = authority {
        out.extend_from_slice(b"//");
        out.extend_from_slice(a);
    }
    out.extend_from_slice(&path);
    if let Some(q) = query {
        out.push(b'?');
        out.extend_from_slice(q);
    }
    if let Some(f) = r.fragment {
        out.push(b'#');
        out.extend_from_slice(f);
    }
    out
}

/// `/^(?:www|ftp)\d*\./i` after the `n`-letter prefix: digits, then a dot.
fn www_or_ftp(a: &[u8], n: usize) -> bool {
    let digits = a[n..].iter().take_while(|b| b.is_ascii_digit()).count();
    a.get(n + digits) == Some(&b'.')
}

/// Whether `name` is one of HTML::Parser's literal elements, whose content is text up to
/// the matching end tag (or to the end, for `plaintext`) rather than markup; `Some(true)`
/// when entities in it are decoded (`title`, `textarea`), `Some(false)` when not
/// (`script`, `style`, `xmp`, `iframe`, `plaintext`). Checked against HTML::Parser 3.81.
pub fn literal_element(name: &str) -> Option<bool> {
    match name {
        "title" | "textarea" => Some(true),
        "script" | "style" | "xmp" | "iframe" | "plaintext" => Some(false),
        _ => None,
    }
}

/// HTML.pm's `html_whitespace` for a tag.
fn spamassassin_whitespace(name: &str) -> Option<&'static [u8]> {
    match name {
        "br" | "div" => Some(b"\n"),
        "li" | "th" | "td" | "dt" | "dd" | "embed" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
            Some(b" ")
        }
        "p" | "hr" | "blockquote" | "pre" | "listing" | "plaintext" | "xmp" | "title" => {
            Some(b"\n\n")
        }
        _ => None,
    }
}

/// HTML.pm's `display_text`: the rendered text as a sequence of text and white-space
/// chunks, of which only the last matters.
struct Display {
    /// Whether the last chunk was inserted white space (`None`: nothing yet).
    last_whitespace: Option<bool>,
    /// Whether the last chunk is text ending in a space (an empty text chunk does not).
    text_ends_in_space: bool,
}

impl Display {
    fn whitespace(&mut self, out: &mut Vec<u8>, ws: &[u8]) {
        if self.last_whitespace == Some(false) && self.text_ends_in_space {
            out.pop();
        }
        out.extend_from_slice(ws);
        self.last_whitespace = Some(true);
        self.text_ends_in_space = false;
    }

    fn text(&mut self, out: &mut Vec<u8>, text: &[u8]) {
        let mut collapsed = Vec::with_capacity(text.len());
        let mut i = 0;
        while i < text.len() {
            let run = if matches!(text[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0c | 0x0b) {
                text[i..]
                    .iter()
                    .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0c | 0x0b))
                    .count()
            } else if text[i..].starts_with(b"\xc2\xa0") {
                2
            } else {
                0
            };
            if run > 0 {
                collapsed.push(b' ');
                i += run;
            } else {
                collapsed.push(text[i]);
                i += 1;
            }
        }
        let collapsed = if self.last_whitespace == Some(true) {
            collapsed.strip_prefix(b" ").unwrap_or(&collapsed)
        } else {
            &collapsed[..]
        };
        out.extend_from_slice(collapsed);
        self.last_whitespace = Some(false);
        self.text_ends_in_space = collapsed.last() == Some(&b' ');
    }
}

fn render_with(html: &[u8], mode: Mode) -> Rendered {
    let mut r = Rendered::default();
    let mut display = Display {
        last_whitespace: None,
        text_ends_in_space: false,
    };
    // Lowercased once, so finding each `</script` stays linear overall.
    let lower = html.to_ascii_lowercase();
    let mut text_start = 0;
    let mut i = 0;
    // `<base href>`: the base relative links resolve against (SpamAssassin mode).
    let mut base_href: Option<Vec<u8>> = None;
    let flush = |r: &mut Rendered, display: &mut Display, from: usize, to: usize| {
        if from < to {
            let decoded = decode_entities(&html[from..to]);
            match mode {
                Mode::Blocks => r.text.extend_from_slice(&decoded),
                Mode::SpamAssassin => display.text(&mut r.text, &decoded),
            }
        }
    };
    while i < html.len() {
        if html[i] != b'<' {
            i += 1;
            continue;
        }
        let next = html.get(i + 1).copied().unwrap_or(b' ');
        if !(next.is_ascii_alphabetic() || next == b'/' || next == b'!' || next == b'?') {
            i += 1;
            continue;
        }
        flush(&mut r, &mut display, text_start, i);
        if html[i..].starts_with(b"<!--") {
            i = comment_end(html, i);
            text_start = i;
            continue;
        }
        let end = tag_end(html, i);
        let inner = &html[i + 1..end];
        let closing = inner.first() == Some(&b'/');
        let body = if closing { &inner[1..] } else { inner };
        let name_len = body
            .iter()
            .position(|b| b.is_ascii_whitespace() || *b == b'/')
            .unwrap_or(body.len());
        let name = body[..name_len].to_ascii_lowercase();
        let name = String::from_utf8_lossy(&name).into_owned();
        i = (end + 1).min(html.len());
        if !closing && (name == "script" || name == "style") {
            let close = format!("</{name}");
            i = find(&lower, close.as_bytes(), i).map_or(html.len(), |p| {
                memchr::memchr(b'>', &html[p..]).map_or(html.len(), |q| p + q + 1)
            });
        } else if mode == Mode::SpamAssassin {
            if let Some(ws) = spamassassin_whitespace(&name) {
                display.whitespace(&mut r.text, ws);
            }
        } else if name == "br" {
            r.text.push(b'\n');
        } else if BLOCK.contains(&name.as_str()) {
            r.text.extend_from_slice(b"\n\n");
        } else if name == "img" && !closing {
            r.text.push(b' ');
        }
        if !closing {
            let attrs = attributes(&body[name_len..]);
            let links: Vec<(Vec<u8>, Vec<u8>)> = if mode == Mode::SpamAssassin {
                let mut links: Vec<_> = attrs
                    .iter()
                    .filter(|(attr, _)| spamassassin_uri_attr(&name, attr))
                    .cloned()
                    .collect();
                if name == "meta"
                    && let Some(url) = meta_refresh_url(&attrs)
                {
                    links.push((b"content".to_vec(), url));
                }
                links
            } else {
                attrs
                    .into_iter()
                    .filter(|(attr, _)| URI_ATTRS.contains(&String::from_utf8_lossy(attr).as_ref()))
                    .collect()
            };
            for (attr, value) in links {
                if !value.is_empty() {
                    let uri = if mode == Mode::SpamAssassin {
                        // As HTML.pm's push_uri: trimmed, then resolved against the
                        // `<base href>` seen so far (`./a.xml` is `/a.xml`).
                        let uri = trim_uri(&decode_entities(&value)).to_vec();
                        if uri.is_empty() {
                            continue;
                        }
                        let target = if has_prefix_ci(
                            &uri,
                            &[b"data:", b"mailto:", b"file:", b"cid:", b"tel:"],
                        ) {
                            uri.clone()
                        } else {
                            target_uri(base_href.as_deref().unwrap_or_default(), &uri)
                        };
                        if name == "base" && attr.eq_ignore_ascii_case(b"href") {
                            base_href = base_of(&uri).or(base_href.take());
                        }
                        // HTML.pm also files an anchor's text under its href as written,
                        // so the unresolved form is a URI too (`/mhg/?aid=...` beside
                        // `http://200.43.112.5/mhg/?aid=...`: spam-1/00412).
                        if name == "a" && attr.eq_ignore_ascii_case(b"href") && uri != target {
                            r.uris.push(uri.clone());
                        }
                        if target.is_empty() {
                            continue;
                        }
                        target
                    } else {
                        decode_entities(value.trim_ascii())
                    };
                    if name == "a" && attr.eq_ignore_ascii_case(b"href") {
                        r.anchors.push(uri.clone());
                    }
                    r.uris.push(uri);
                }
            }
            // HTML::Parser's other literal elements: their content is text (script and
            // style were skipped above).
            if mode == Mode::SpamAssassin
                && name != "script"
                && name != "style"
                && let Some(decode) = literal_element(&name)
            {
                let end = if name == "plaintext" {
                    html.len()
                } else {
                    find(&lower, format!("</{name}").as_bytes(), i).unwrap_or(html.len())
                };
                if end > i {
                    if decode {
                        display.text(&mut r.text, &decode_entities(&html[i..end]));
                    } else {
                        display.text(&mut r.text, &html[i..end]);
                    }
                }
                i = end;
            }
        }
        text_start = i;
    }
    flush(&mut r, &mut display, text_start, html.len());
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spamassassin_links_come_from_html_pm_attributes_only() {
        // The expected list is SpamAssassin 4.0.1's get_uri_list for this HTML.
        let html = br#"<html><head><meta http-equiv="Refresh" content="5; URL = http://refresh.example/a?b=1 ; x"></head><body background="http://bg.example/i.gif"><blockquote cite="http://cite.example/"><img lowsrc="http://low.example/" src="http://src.example/i.gif"><input type=image src="http://input.example/x"><a x/href="http://slash.example/">y</a><form action="http://form.example/go"></form><div data-saferedirecturl="http://div.example/"></div><a data-saferedirecturl="http://safe.example/" href="http://a.example/">z</a></body></html>"#;
        let mut uris: Vec<String> = render_spamassassin(html)
            .uris
            .iter()
            .map(|u| String::from_utf8_lossy(u).into_owned())
            .collect();
        uris.sort();
        assert_eq!(
            uris,
            [
                "http://a.example/",
                "http://bg.example/i.gif",
                "http://form.example/go",
                "http://refresh.example/a?b=1",
                "http://safe.example/",
                "http://slash.example/",
                "http://src.example/i.gif",
            ]
        );
    }

    /// HTML::Parser 3.81: a `<!--` with no `-->` after it ends at the first `>`.
    #[test]
    fn relative_links_resolve_as_html_pm_resolves_them() {
        // Each expected value is Mail::SpamAssassin::HTML::target_uri's (4.0.1).
        for (base, r, want) in [
            (
                "",
                "./Alarms,%20New%20Hours_files/filelist.xml",
                "/Alarms,%20New%20Hours_files/filelist.xml",
            ),
            ("", "../x/../y", "/y"),
            (
                "http://a.example/b/c.html",
                "d/e?f#g",
                "http://a.example/b/d/e?f#g",
            ),
            ("http://a.example/b/", "/top", "http://a.example/top"),
            ("http://a.example", "rel", "http://a.example/rel"),
            ("", "//www.x.example/p", "http://www.x.example/p"),
            ("", "//ftp2.x.example", "ftp://ftp2.x.example"),
            ("http://a.example/b/c", "http:d", "http://a.example/b/d"),
            ("http://a.example/b/c", "?q", "http://a.example/b/c?q"),
            ("", "#frag", "#frag"),
            ("", "page.html", "page.html"),
            ("http://a.example/x/", "../../up", "http://a.example/up"),
            ("", "/a/./b/../c", "/a/c"),
        ] {
            let got = target_uri(base.as_bytes(), r.as_bytes());
            assert_eq!(String::from_utf8_lossy(&got), want, "{base} + {r}");
        }
        // Linear on hostile input.
        let long = "/.".repeat(200_000) + "/x";
        assert_eq!(target_uri(b"", long.as_bytes()), b"/x");
        let r = render_spamassassin(
            b"<base href=\"http://b.example/dir/index.html\"><a href=\"x.html\">x</a>\
              <img src=\"mailto:a@b.example\"><a href=\" \">y</a>",
        );
        let uris: Vec<String> = r
            .uris
            .iter()
            .map(|u| String::from_utf8_lossy(u).into_owned())
            .collect();
        assert_eq!(
            uris,
            [
                "http://b.example/dir/index.html",
                // The anchor's href as written too (HTML.pm files its text under it).
                "x.html",
                "http://b.example/dir/x.html",
                "mailto:a@b.example"
            ]
        );
    }

    #[test]
    fn spamassassin_prepares_quotes_spaces_and_empty_tags() {
        let r = render_spamassassin(
            "Registered 01 \u{201c}Y\u{201d}&nbsp;plates<br/>next <a href=\u{201d}http://q.example/\u{201d}>x</a>"
                .as_bytes(),
        );
        assert_eq!(
            String::from_utf8_lossy(&r.text),
            "Registered 01 \"Y\" plates\nnext x"
        );
        assert_eq!(r.uris, [b"http://q.example/".to_vec()]);
        // Other entities, other UTF-8 characters starting like the quotes, and `<` that opens
        // no empty tag, pass as they are.
        assert_eq!(
            spamassassin_prepare(b"a&amp;b\xe2\x82\xac<br />c&nbsp;< p/>&nbsp\xe2\x80\x9d"),
            b"a&amp;b\xe2\x82\xac<br>c < p/>&nbsp\""
        );
    }

    #[test]
    fn a_quoted_attribute_value_may_hold_a_greater_than_sign() {
        let r = render_spamassassin(b"<meta content=\"text/html; <p>charset=x\"><p>hello");
        assert_eq!(String::from_utf8_lossy(&r.text), "\n\nhello");
        // An unterminated quote swallows the rest, as in HTML::Parser.
        let r = render_spamassassin(b"ok <a href=\"x>hello</a> world");
        assert_eq!(String::from_utf8_lossy(&r.text), "ok ");
    }

    #[test]
    fn character_references_as_html_parser_decodes_them() {
        // Each case checked with HTML::Parser 3.81 (dtext).
        let d = |s: &str| String::from_utf8(decode_entities(s.as_bytes())).expect("utf-8");
        assert_eq!(d("a&nbsp b"), "a\u{a0} b");
        assert_eq!(d("a&amp b"), "a& b");
        assert_eq!(d("a&eacute b"), "a\u{e9} b");
        assert_eq!(d("a&euro b"), "a&euro b");
        assert_eq!(d("a&euro;b"), "a\u{20ac}b");
        assert_eq!(d("a&AMP;b"), "a&AMP;b");
        assert_eq!(d("a&ampx b"), "a&x b");
        assert_eq!(d("a&#8364 b"), "a\u{20ac} b");
        assert_eq!(d("a&#x20ac b"), "a\u{20ac} b");
        assert_eq!(d("a&copy2 b"), "a\u{a9}2 b");
        assert_eq!(d("a&lt3 b"), "a<3 b");
        assert_eq!(d("a&Eacute;b"), "a\u{c9}b");
        assert_eq!(d("a&ampx; b"), "a&x; b");
        assert_eq!(d("a&eurox; b"), "a&eurox; b");
        assert_eq!(d("a&#; b"), "a&#; b");
        assert_eq!(d("a&#0; b"), "a&#0; b");
        assert_eq!(d("a&#1114112; b"), "a&#1114112; b");
        assert_eq!(d("a&#65;1 b"), "aA1 b");
        assert_eq!(d("a&amp;amp; b"), "a&amp; b");
        assert_eq!(
            d("&trade;&hellip;&mdash;&rsquo;"),
            "\u{2122}\u{2026}\u{2014}\u{2019}"
        );
        assert_eq!(d("&"), "&");
        assert_eq!(d("&#x"), "&#x");
    }

    #[test]
    fn literal_elements_hold_text_not_tags() {
        // As Mail::SpamAssassin::HTML renders them (HTML::Parser 3.81): a <script> inside
        // an <iframe> is text, entities stay encoded there and in <xmp>, and are decoded in
        // <title> and <textarea>.
        let r = render_spamassassin(
            b"<iframe src=\"http://ad.example/\"><script src=x>&amp;</script></iframe>\
              <title>a&amp;b <b>c</b></title><xmp><i>&lt;</i></xmp>",
        );
        assert_eq!(
            String::from_utf8_lossy(&r.text),
            "<script src=x>&amp;</script>\n\na&b <b>c</b>\n\n\n\n<i>&lt;</i>\n\n"
        );
        assert_eq!(r.uris, [b"http://ad.example/".to_vec()]);
        let r = render_spamassassin(b"<p>x<plaintext><a href=http://no.example>y");
        assert!(r.uris.is_empty());
        assert!(String::from_utf8_lossy(&r.text).ends_with("<a href=http://no.example>y"));
    }

    #[test]
    fn an_unterminated_comment_ends_at_the_first_gt() {
        let r =
            render_spamassassin(b"<b><!--#rotate>Terific!! <a href=\"http://x.example/\">go</a>");
        let text = String::from_utf8_lossy(&r.text);
        assert!(text.contains("Terific!! go"), "{text}");
        assert_eq!(r.uris, [b"http://x.example/".to_vec()]);
        let r = render_spamassassin(b"a<!-- b > c -->d");
        assert_eq!(String::from_utf8_lossy(&r.text).trim(), "ad");
    }

    #[test]
    fn spamassassin_rendering_of_tables_and_blocks() {
        // As HTML.pm renders it (checked with Mail::SpamAssassin::HTML): rows add nothing,
        // cells a space at both tags, source white space between tags collapses away.
        let html =
            b"<TABLE><TR><TD><FONT size=2>NAME</FONT></TD>\n   <TD><INPUT name=NAME></TD></TR>\n\
                     <TR><TD>ADDRESS</TD><TD><INPUT name=ADDRESS></TD></TR></TABLE>";
        assert_eq!(render_spamassassin(html).text, b" NAME    ADDRESS   ");
        assert_eq!(
            render_spamassassin(b"<p>one  two</p><div>three<br>four</div>").text,
            b"\n\none two\n\n\nthree\nfour\n"
        );
    }

    #[test]
    fn renders_text_and_links() {
        let r = render(
            b"<html><head><style>p{}</style></head><body><p>Hello &amp; <b>bye</b></p>\
              <!-- hidden --><a href=\"http://x.example/a?b=1&amp;c=2\">click</a><script>no</script>",
        );
        let t = String::from_utf8_lossy(&r.text);
        assert!(t.contains("Hello & bye"), "{t}");
        assert!(t.contains("click"));
        assert!(!t.contains("hidden") && !t.contains("no") && !t.contains("p{}"));
        assert_eq!(r.uris, vec![b"http://x.example/a?b=1&c=2".to_vec()]);
    }

    #[test]
    fn unterminated_input_is_fine() {
        for s in [
            &b"<a href='x"[..],
            b"<!-- x",
            b"<script>x",
            b"&#99999999999;",
            b"<",
        ] {
            let _ = render(s);
        }
        assert_eq!(decode_entities(b"&#x41;&#66;&lt"), b"AB<");
    }
}
