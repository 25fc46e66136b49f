//! MIME evals (`check_for_mime`, `check_for_mime_html`, `check_mime_multipart_ratio`,
//! `check_for_ascii_text_illegal`, `check_msg_parse_flags`, `check_base64_length`,
//! `check_for_uppercase`, `check_body_length`): one walk over the raw message's MIME tree,
//! line by line as SpamAssassin's parser walks it, collecting per-part counts (encodings,
//! types, QP line lengths, 8-bit bytes in US-ASCII text) and the parser's flags
//! (`mime_epilogue_exists`, `missing_mime_headers`, ...).

use std::collections::HashMap;

use super::parser::EvalCall;
use super::texts::Texts;
use crate::mime::header::HeaderField;

/// Nesting bound for multiparts and attached messages.
const MAX_DEPTH: usize = 20;
/// Parts of one multipart that Message.pm reads (`$partcnt`).
const MAX_PARTS: usize = 1000;
/// SpamAssassin caps a header field value at this many bytes (and flags it).
const MAX_HEADER_VALUE: usize = 8 * 1024;

/// What the MIME walk found.
#[derive(Debug, Clone, Default)]
pub struct MimeStats {
    /// Named results, as SpamAssassin keeps them (`mime_base64_count`, `mime_qp_ratio`, ...).
    values: HashMap<&'static str, f64>,
    /// Parser flags set.
    flags: Vec<&'static str>,
    /// Longest line of a base64 part (calendar parts aside).
    pub base64_length: usize,
    /// Bytes after the top-level header.
    pub body_length: usize,
    /// Where the body starts in the message as received: after the blank line, or at the
    /// line that ended a header without one (Message.pm's reading).
    pub body_offset: usize,
    /// Charsets declared by parts.
    pub(crate) charsets: Vec<String>,
    /// The header fields of every node of the part tree, in `find_parts` order (the
    /// message first), for `mimeheader` rules.
    pub(crate) part_headers: Vec<Vec<HeaderField>>,
    /// The multipart/alternative difference without and with an image in the HTML.
    madiff: [Madiff; 2],
    /// The base64 images.
    pub images: ImageInfo,
}

impl MimeStats {
    fn add(&mut self, k: &'static str, v: f64) {
        *self.values.entry(k).or_insert(0.0) += v;
    }
    fn set(&mut self, k: &'static str, v: f64) {
        self.values.insert(k, v);
    }
    fn flag(&mut self, f: &'static str) {
        if !self.flags.contains(&f) {
            self.flags.push(f);
        }
    }
    /// A result by name (`None` when never set).
    pub fn value(&self, k: &str) -> Option<f64> {
        self.values.get(k).copied()
    }
    /// Whether the parser set flag `f`.
    pub fn has_flag(&self, f: &str) -> bool {
        self.flags.contains(&f)
    }
    /// SpamAssassin's `madiff` (MIMEEval's `_multipart_alternative_difference`);
    /// `html_img`: the message's HTML has an `<img>`, which makes an HTML alternative
    /// without words count one.
    pub fn madiff(&self, html_img: bool) -> Madiff {
        self.madiff[usize::from(html_img)]
    }
}

/// Whether Message.pm reads `raw` as a CRLF message, squashing CRLF to LF (bug 4363): when
/// its first line (after an mbox separator) or its last line holds a CRLF. Mail with both
/// line ends is read by that rule: CRs of the other lines stay in the text.
pub(crate) fn crlf_message(raw: &[u8]) -> bool {
    let mut lines = raw.split_inclusive(|b| *b == b'\n');
    let first = match lines.next() {
        Some(l) if mbox_separator(l) => lines.next(),
        l => l,
    };
    let last = raw.split_inclusive(|b| *b == b'\n').next_back();
    [first, last]
        .into_iter()
        .flatten()
        .any(|l| memchr::memmem::find(l, b"\r\n").is_some())
}

/// An mbox separator line as Message.pm recognizes it: `From`, blanks, and no colon right
/// after them (`/^From\s+(?!:)/`, which backtracks: `From  :x` still is one).
pub(crate) fn mbox_separator(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"From") else {
        return false;
    };
    let ws = rest
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
        .count();
    // With n >= 2 blanks, `\s+` may stop one short, where the next byte is a blank.
    ws >= 2 || (ws == 1 && rest.get(1) != Some(&b':'))
}

pub(crate) fn header_like(line: &[u8]) -> bool {
    // ^[\041-\071\073-\176]+[ \t]*:  (printable, no colon, then a colon)
    let name = line
        .iter()
        .take_while(|b| (0x21..=0x7e).contains(*b) && **b != b':')
        .count();
    if name == 0 {
        return false;
    }
    let rest = &line[name..];
    let ws = rest
        .iter()
        .take_while(|b| **b == b' ' || **b == b'\t')
        .count();
    rest.get(ws) == Some(&b':')
}

/// Header fields of a block: (lowercased name, unfolded value).
type Fields = Vec<(String, Vec<u8>)>;

/// Which header block [`read_header`] reads.
#[derive(Clone, Copy, PartialEq)]
enum Block {
    /// The message's own header: Message.pm's loop, whose anomalies are the message's
    /// parse flags.
    Top,
    /// An attached `message/rfc822` message: SpamAssassin parses it with a new
    /// `Mail::SpamAssassin::Message`, the same loop (an mbox `From ` line dropped, three
    /// invalid lines tolerated, a `--` line ending the header), but its flags are that
    /// object's, not the message's.
    Embedded,
    /// A multipart's part header: `_parse_multipart` ends it at the first line that is
    /// not a field.
    Part,
}

/// What [`read_header`] read: the fields as written (name as SpamAssassin keys it, value
/// after the colon with its folding, line ends LF) and as the walk looks them up.
struct HeaderRead {
    raw: Vec<HeaderField>,
    fields: Fields,
    /// The first body line.
    body: usize,
    /// Whether a blank separator line ended the header.
    separated: bool,
}

/// Reads a header block from `lines`.
fn read_header(lines: &[&[u8]], stats: &mut MimeStats, block: Block) -> HeaderRead {
    let top = block == Block::Top;
    let whole = block != Block::Part;
    let mut raw: Vec<HeaderField> = Vec::new();
    let mut fields: Fields = Vec::new();
    let mut i = 0;
    // Message.pm drops an mbox separator first (`/^From\s+(?!:)/`).
    if whole && lines.first().is_some_and(|l| mbox_separator(l)) {
        i = 1;
    }
    let mut errors = 0;
    // Where the body starts, and whether the header ended in a blank line; every other end
    // of a message's header (a `--` line, a fourth stray line, no more lines) is a
    // missing separator to Message.pm.
    let (body, separated) = loop {
        let Some(&l) = lines.get(i) else {
            break (lines.len(), false);
        };
        let trimmed = l.strip_suffix(b"\n").unwrap_or(l);
        let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
        if trimmed.is_empty() {
            break (i + 1, true);
        }
        if (l[0] == b' ' || l[0] == b'\t') && !fields.is_empty() {
            if let Some(last) = fields.last_mut() {
                last.1.push(b' ');
                last.1.extend_from_slice(trimmed.trim_ascii());
            }
            if let Some(last) = raw.last_mut() {
                last.raw_value.push(b'\n');
                last.raw_value.extend_from_slice(trimmed);
            }
            i += 1;
            continue;
        }
        if whole && trimmed.starts_with(b"--") {
            break (i, false);
        }
        if !header_like(trimmed) {
            errors += 1;
            if !whole || errors > 3 {
                break (i, false);
            }
            i += 1;
            continue;
        }
        let colon = memchr::memchr(b':', trimmed).unwrap_or(trimmed.len());
        // Message.pm strips blanks before the colon of a message's field; a part's field
        // keeps them in its name (`split(/:\s*/)`), so `Content-Type :` is no Content-Type.
        let name = String::from_utf8_lossy(&trimmed[..colon]);
        let name = if whole { name.trim_end() } else { &name[..] };
        raw.push(HeaderField {
            name: name.to_string(),
            raw_value: trimmed.get(colon + 1..).unwrap_or(&[]).to_vec(),
        });
        let name = name.to_ascii_lowercase();
        let value = trimmed
            .get(colon + 1..)
            .unwrap_or(&[])
            .trim_ascii()
            .to_vec();
        if top && value.len() > MAX_HEADER_VALUE {
            stats.flag("truncated_header");
        }
        fields.push((name, value));
        i += 1;
    };
    if top && !separated {
        stats.flag("missing_head_body_separator");
    }
    HeaderRead {
        raw,
        fields,
        body,
        separated,
    }
}

/// The field `name` as Message.pm and MIMEEval read it (`header()` in scalar context): the
/// last of several.
fn field<'a>(fields: &'a Fields, name: &str) -> Option<&'a [u8]> {
    fields
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_slice())
}

/// SpamAssassin's `parse_content_type`: (type, boundary, charset).
pub(crate) fn content_type(ct: Option<&[u8]>) -> (String, Option<Vec<u8>>, Option<String>) {
    let ct = match ct {
        Some(c) if !c.trim_ascii().is_empty() => String::from_utf8_lossy(c).into_owned(),
        _ => "text/plain; charset=us-ascii".to_string(),
    };
    let lower = ct.to_ascii_lowercase();
    let param = |key: &str| -> Option<String> {
        let mut from = 0;
        while let Some(p) = lower[from..].find(key).map(|p| p + from) {
            let before_ok = p == 0 || !lower.as_bytes()[p - 1].is_ascii_alphanumeric();
            let rest = lower[p + key.len()..].trim_start();
            if before_ok && let Some(v) = rest.strip_prefix('=') {
                let start = ct.len() - v.len();
                let v = ct[start..].trim_start();
                let v = v.trim_start_matches(['"', '\'']);
                let end = v.find(';').unwrap_or(v.len());
                return Some(v[..end].trim_end_matches(['"', '\'']).trim().to_string());
            }
            from = p + key.len();
        }
        None
    };
    let boundary = lower.find("boundary").and_then(|p| {
        let rest = ct[p + 8..].trim_start().strip_prefix('=')?.trim_start();
        let b = match rest.strip_prefix('"') {
            Some(q) => &q[..q.find('"').unwrap_or(q.len())],
            None => {
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == ';' || c == '"')
                    .unwrap_or(rest.len());
                &rest[..end]
            }
        };
        (!b.is_empty()).then(|| b.as_bytes().to_vec())
    });
    let charset = param("charset");
    let mut t = lower.trim_start().to_string();
    if let Some(p) = t.find(';') {
        t.truncate(p);
    }
    // something/something only
    let t = match t.split_once('/') {
        Some((a, b)) => {
            let b: String = b
                .chars()
                .take_while(|c| *c != '/' && !c.is_whitespace())
                .collect();
            format!("{a}/{b}")
        }
        None => t.split_whitespace().next().unwrap_or("").to_string(),
    };
    let mut t = t.trim().to_string();
    if t.is_empty()
        || (t.starts_with("text")
            && t[4..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric() && c != '_')
            && !matches!(t.as_str(), "text/x-vcard" | "text/calendar" | "text/html"))
    {
        t = "text/plain".into();
    }
    let t: String = t
        .chars()
        .filter(|c| {
            let b = *c as u32;
            !(b <= 0x20 || b >= 0x7f || "\"(),:;<=>?@[\\]".contains(*c))
        })
        .collect();
    (t, boundary, charset)
}

/// One node of SpamAssassin's part tree, as the walk found it.
struct Node {
    /// Its header fields as written: the message's own, a part's, an attached message's.
    headers: Vec<HeaderField>,
    /// Its type, as `parse_content_type` reads it.
    ctype: String,
    /// Its children, in order.
    children: Vec<usize>,
    /// A text leaf's distinct words with their counts, and whether it is HTML (rendered
    /// first); found only for the leaves under a multipart/alternative.
    words: Option<(bool, HashMap<String, usize>)>,
}

struct Walk {
    stats: MimeStats,
    /// The part tree, in SpamAssassin's `find_parts` order (depth first, a node before its
    /// children).
    nodes: Vec<Node>,
    /// Per leaf: (type, bytes counted for the alternative ratio).
    leaves: Vec<(String, Option<usize>)>,
    alternative: bool,
    qp_bytes: usize,
    qp_count: f64,
    normal_chars: usize,
    unicode_chars: usize,
    boundary_state: HashMap<Vec<u8>, i64>,
}

fn qp_excess(line: &[u8]) -> f64 {
    // =(?:09|3[0-9ABCEF]|[2456][0-9A-F]|7[0-9A-E])
    let mut n = 0.0;
    let mut i = 0;
    while i + 2 < line.len() {
        if line[i] == b'=' {
            let (a, b) = (line[i + 1], line[i + 2]);
            let upper_hex = |c: u8| c.is_ascii_digit() || (b'A'..=b'F').contains(&c);
            let hit = match a {
                b'0' => b == b'9',
                b'3' => b.is_ascii_digit() || matches!(b, b'A' | b'B' | b'C' | b'E' | b'F'),
                b'2' | b'4' | b'5' | b'6' => upper_hex(b),
                b'7' => b.is_ascii_digit() || (b'A'..=b'E').contains(&b),
                _ => false,
            };
            if hit {
                n += 1.0;
                i += 3;
                continue;
            }
        }
        i += 1;
    }
    if n > 0.0 {
        // Encoded tabs and spaces at the end of a line are fine.
        let t = line.trim_ascii_end();
        let mut k = t.len();
        let mut trailing = 0;
        while k >= 3 && (&t[k - 3..k] == b"=09" || &t[k - 3..k] == b"=20") {
            trailing += 1;
            k -= 3;
        }
        n -= f64::from(trailing);
    }
    n
}

impl Walk {
    /// Walks one node (`head` is its header) and returns its index in [`Walk::nodes`].
    /// `message`: the node is a message's root (the message, or an attached one);
    /// `alternative`: it is inside a multipart/alternative of the same message.
    fn part(
        &mut self,
        head: HeaderRead,
        body: &[&[u8]],
        depth: usize,
        message: bool,
        alternative: bool,
    ) -> usize {
        let fields = &head.fields;
        let (ctype, boundary, charset) = content_type(field(fields, "content-type"));
        let charset = charset.map(|c| c.to_ascii_lowercase()).unwrap_or_default();
        if ctype == "multipart/alternative" {
            self.alternative = true;
        }
        let cte = field(fields, "content-transfer-encoding")
            .map(|v| String::from_utf8_lossy(v).to_ascii_lowercase())
            .unwrap_or_default();
        let cd = field(fields, "content-disposition")
            .map(|v| String::from_utf8_lossy(v).to_ascii_lowercase())
            .unwrap_or_default();
        self.mime_header(&ctype, &cte, &cd, &charset);
        let id = self.nodes.len();
        self.nodes.push(Node {
            headers: head.raw,
            ctype: ctype.clone(),
            children: Vec::new(),
            words: None,
        });
        if depth < MAX_DEPTH
            && ctype.starts_with("multipart/")
            && let Some(b) = boundary
        {
            // Message.pm's bug 6845: a message body that opens with neither a blank
            // line nor the delimiter gets a blank line put first, so no part header
            // is looked for there.
            let blank_first = message
                && body.len() > 1
                && body[0].iter().any(|b| !b.is_ascii_whitespace())
                && !body[0].starts_with(&[&b"--"[..], &b].concat());
            let alternative = alternative || ctype == "multipart/alternative";
            self.multipart(id, &b, body, depth, blank_first, alternative);
            return id;
        }
        if depth < MAX_DEPTH && matches!(ctype.as_str(), "message/rfc822" | "message/global") {
            // Message.pm decodes the part, then parses it as a message of its own.
            let decoded;
            let decoded_lines: Vec<&[u8]>;
            let lines = if matches!(cte.as_str(), "base64" | "quoted-printable") {
                decoded = leaf_bytes(&cte, body);
                decoded_lines = decoded.split_inclusive(|b| *b == b'\n').collect();
                &decoded_lines[..]
            } else {
                body
            };
            if !lines.is_empty() {
                let inner = read_header(lines, &mut self.stats, Block::Embedded);
                let start = inner.body.min(lines.len());
                let child = self.part(inner, &lines[start..], depth + 1, true, false);
                self.nodes[id].children.push(child);
                return id;
            }
        }
        self.leaf(&ctype, &cte, &cd, &charset, body);
        if alternative && ctype.starts_with("text/") {
            let bytes = leaf_bytes(&cte, body);
            let charset = (!charset.is_empty()).then_some(charset.as_str());
            let text = crate::mime::charset::to_utf8(&bytes, charset);
            self.nodes[id].words = Some(if ctype == "text/html" {
                let rendered = crate::mime::html::render(text.as_bytes()).text;
                (true, words(&String::from_utf8_lossy(&rendered)))
            } else {
                (false, words(&text))
            });
        }
        if cte == "base64" {
            self.image(&ctype, body);
        }
        id
    }

    /// ImageInfo's `_get_images`: a base64 leaf of type image/gif, image/png or
    /// image/jpeg (or jpg) counted, and its pixels when its size can be read.
    fn image(&mut self, ctype: &str, body: &[&[u8]]) {
        let i = match ctype {
            "image/gif" => 0,
            "image/png" => 1,
            "image/jpeg" | "image/jpg" => 2,
            _ => return,
        };
        let info = &mut self.stats.images;
        info.counts[i] += 1;
        let data = leaf_bytes("base64", body);
        let size = match i {
            0 => gif_size(&data),
            1 => png_size(&data),
            _ => jpeg_size(&data),
        };
        if let Some((w, h)) = size
            && w > 0
            && h > 0
        {
            info.pixels[i] += u64::from(w) * u64::from(h);
        }
    }

    fn mime_header(&mut self, ctype: &str, cte: &str, cd: &str, charset: &str) {
        let s = &mut self.stats;
        if ctype == "text/html" {
            s.add("mime_body_html_count", 1.0);
        } else if ctype.starts_with("text") {
            s.add("mime_body_text_count", 1.0);
        }
        if cte.contains("base64") {
            s.add("mime_base64_count", 1.0);
        } else if cte.contains("quoted-printable") {
            s.add("mime_qp_count", 1.0);
        }
        if cd.contains("attachment") {
            s.add("mime_attachment", 1.0);
        }
        let ascii = [
            "us-ascii",
            "ansi_x3.4-1968",
            "iso-ir-6",
            "ansi_x3.4-1986",
            "iso_646.irv:1991",
            "ascii",
            "iso646-us",
            "us",
            "ibm367",
            "cp367",
            "csascii",
        ];
        if ctype.starts_with("text")
            && cte.contains("base64")
            && (charset.is_empty() || ascii.iter().any(|a| charset.contains(a)))
            && !(cd.starts_with("attachment") || cd.starts_with("inline"))
        {
            s.set("mime_base64_encoded_text", 1.0);
        }
        if let Some(p) = charset.find("iso-") {
            let rest = &charset[p + 4..];
            let parts: Vec<&str> = rest.splitn(2, '-').collect();
            let good = rest.starts_with("8859-")
                && rest[5..].bytes().take_while(u8::is_ascii_digit).count() >= 1
                || rest.starts_with("2022-jp")
                || rest.starts_with("2022-kr");
            if parts.len() == 2 && !parts[0].is_empty() && !parts[1].is_empty() && !good {
                s.set("mime_bad_iso_charset", 1.0);
            }
        }
        if charset.bytes().any(|b| b.is_ascii_alphabetic()) {
            s.charsets.push(charset.to_string());
        }
    }

    fn leaf(&mut self, ctype: &str, cte: &str, cd: &str, charset: &str, body: &[&[u8]]) {
        let counted = !cd.contains("attachment");
        let mut bytes = counted.then_some(0usize);
        let base64 = cte.contains("base64");
        let plain_ascii = ctype == "text/plain" && (charset.is_empty() || charset == "us-ascii");
        let plain_7bit = ctype == "text/plain" && matches!(cte, "" | "7bit" | "8bit");
        for &line in body {
            if self.alternative
                && counted
                && (ctype == "text/plain" || ctype == "text/html")
                && let Some(b) = bytes.as_mut()
            {
                *b += line.len();
            }
            if cte == "quoted-printable" && !line.starts_with(b"SPAM: ") {
                if line.len() > 79 {
                    self.stats.set("mime_qp_long_line", 1.0);
                }
                self.qp_bytes += line.len();
                if memchr::memchr(b'=', line).is_some() {
                    self.qp_count += qp_excess(line);
                }
            }
            if plain_ascii && line.iter().any(|b| *b == 0 || *b == b'\r' || *b >= 0x80) {
                self.stats.add("mime_ascii_text_illegal", 1.0);
            }
            if plain_7bit {
                let subs = count_unicode_escapes(line);
                self.normal_chars += line.len() - subs * 8;
                self.unicode_chars += subs;
            }
            if base64 && ctype != "application/ics" {
                self.stats.base64_length = self.stats.base64_length.max(line.len());
            }
        }
        self.leaves.push((ctype.to_string(), bytes));
    }

    fn multipart(
        &mut self,
        parent: usize,
        boundary: &[u8],
        body: &[&[u8]],
        depth: usize,
        blank_first: bool,
        alternative: bool,
    ) {
        let is_boundary = |l: &[u8]| -> Option<bool> {
            let rest = l.strip_prefix(b"--")?.strip_prefix(boundary)?;
            if rest.trim_ascii().is_empty() {
                Some(false)
            } else if let Some(r) = rest.strip_prefix(b"--") {
                Some(r.trim_ascii().is_empty()).filter(|x| *x).map(|_| true)
            } else {
                None
            }
        };
        // Without an opening boundary, Message.pm keeps the preamble: the whole body is
        // read as parts (a header first), as far as a delimiter ends one.
        let opening = body.iter().position(|l| is_boundary(l) == Some(false));
        let mut start = match opening {
            Some(open) => {
                self.boundary_state.insert(boundary.to_vec(), 1);
                if body.get(open + 1).is_some_and(|l| !header_like(l)) {
                    self.stats.flag("missing_mime_headers");
                }
                open + 1
            }
            None => 0,
        };
        let mut i = start;
        let mut parts = 0;
        loop {
            let end = body[i..]
                .iter()
                .position(|l| is_boundary(l).is_some())
                .map(|p| p + i);
            let stop = end.unwrap_or(body.len());
            let chunk = &body[start..stop];
            let head = if opening.is_none() && start == 0 && blank_first {
                HeaderRead {
                    raw: Vec::new(),
                    fields: Vec::new(),
                    body: 0,
                    separated: true,
                }
            } else if end.is_none() && !chunk.is_empty() {
                // The body's last line closes the part before Message.pm's loop looks at
                // it: it is body, whatever it holds.
                read_header(&chunk[..chunk.len() - 1], &mut self.stats, Block::Part)
            } else {
                read_header(chunk, &mut self.stats, Block::Part)
            };
            // The first line that is neither a field nor blank starts the body early (also
            // when the part has no field at all).
            let looked_at = chunk.len() - usize::from(end.is_none() && !chunk.is_empty());
            if !head.separated && head.body < looked_at {
                self.stats.flag("missing_mime_head_body_separator");
            }
            let first = head.body.min(chunk.len());
            let child = self.part(head, &chunk[first..], depth + 1, false, alternative);
            self.nodes[parent].children.push(child);
            match end {
                None => break,
                Some(e) if is_boundary(body[e]) == Some(true) => {
                    *self.boundary_state.entry(boundary.to_vec()).or_insert(0) -= 1;
                    if body[e + 1..]
                        .iter()
                        .any(|l| l.iter().any(|b| !b.is_ascii_whitespace() && *b != b'.'))
                    {
                        self.stats.flag("mime_epilogue_exists");
                    }
                    break;
                }
                Some(e) => {
                    if body.get(e + 1).is_some_and(|l| !header_like(l)) {
                        self.stats.flag("missing_mime_headers");
                    }
                    // Message.pm reads at most 1,000 parts of a multipart and drops the
                    // rest (its closing delimiter unseen, so the boundary counts as
                    // missing).
                    parts += 1;
                    if parts == MAX_PARTS {
                        return;
                    }
                    start = e + 1;
                    i = start;
                }
            }
        }
    }
}

fn count_unicode_escapes(line: &[u8]) -> usize {
    // &#x[0-9A-F]{4};
    line.windows(8)
        .filter(|w| {
            w.starts_with(b"&#x")
                && w[3..7]
                    .iter()
                    .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b))
                && w[7] == b';'
        })
        .count()
}

/// Walks the MIME tree of a raw message.
pub fn analyze(raw: &[u8]) -> MimeStats {
    let crlf = crlf_message(raw);
    let pristine = raw;
    let owned;
    let raw = if crlf {
        owned = raw
            .split_inclusive(|b| *b == b'\n')
            .flat_map(|l| match l.strip_suffix(b"\r\n") {
                Some(s) => [s, b"\n"].concat(),
                None => l.to_vec(),
            })
            .collect::<Vec<u8>>();
        &owned[..]
    } else {
        raw
    };
    let lines: Vec<&[u8]> = raw.split_inclusive(|b| *b == b'\n').collect();
    let mut w = Walk {
        stats: MimeStats::default(),
        nodes: Vec::new(),
        leaves: Vec::new(),
        alternative: false,
        qp_bytes: 0,
        qp_count: 0.0,
        normal_chars: 0,
        unicode_chars: 0,
        boundary_state: HashMap::new(),
    };
    for k in [
        "mime_base64_count",
        "mime_base64_encoded_text",
        "mime_body_html_count",
        "mime_body_text_count",
        "mime_faraway_charset",
        "mime_missing_boundary",
        "mime_multipart_alternative",
        "mime_qp_count",
        "mime_qp_long_line",
        "mime_qp_ratio",
        "mime_ascii_text_illegal",
        "mime_text_unicode_ratio",
    ] {
        w.stats.set(k, 0.0);
    }
    w.stats.set("mime_multipart_ratio", 1.0);
    let head = read_header(&lines, &mut w.stats, Block::Top);
    let start = head.body;
    let body = &lines[start.min(lines.len())..];
    // `pristine_body_length`: the body's bytes as received, CRs included (the lines
    // correspond one to one: only line ends were squashed).
    w.stats.body_length = pristine
        .split_inclusive(|b| *b == b'\n')
        .skip(start)
        .map(<[u8]>::len)
        .sum();
    w.stats.body_offset = pristine.len() - w.stats.body_length;
    w.part(head, body, 0, true, false);
    if w.qp_bytes > 0 {
        w.stats.set("mime_qp_ratio", w.qp_count / w.qp_bytes as f64);
        w.stats.set("mime_qp_count", w.qp_count);
    }
    if w.normal_chars > 0 {
        w.stats.set(
            "mime_text_unicode_ratio",
            w.unicode_chars as f64 / w.normal_chars as f64,
        );
    }
    if w.alternative {
        w.stats.set("mime_multipart_alternative", 1.0);
        let (mut text, mut html) = (None, None);
        for (t, b) in w.leaves.iter().rev() {
            let Some(b) = b else { continue };
            if html.is_none() && t == "text/html" {
                html = Some(*b);
            } else if text.is_none() && t == "text/plain" {
                text = Some(*b);
            }
            if text.is_some() && html.is_some() {
                break;
            }
        }
        if let (Some(t), Some(h)) = (text, html)
            && h > 0
        {
            w.stats.set("mime_multipart_ratio", t as f64 / h as f64);
        }
    }
    if w.boundary_state.values().any(|v| *v != 0) {
        w.stats.set("mime_missing_boundary", 1.0);
    }
    w.stats.madiff = alternative_difference(&w.nodes);
    w.stats.part_headers = w.nodes.into_iter().map(|n| n.headers).collect();
    w.stats
}

/// A leaf's body with its transfer encoding undone.
fn leaf_bytes(cte: &str, body: &[&[u8]]) -> Vec<u8> {
    let joined = body.concat();
    match cte {
        "base64" => crate::mime::decode::base64(&joined).0,
        "quoted-printable" => crate::mime::decode::quoted_printable(&joined).0,
        _ => joined,
    }
}

/// Perl's `/\S\s+\S/`: white space between two other bytes.
fn has_inner_space(line: &[u8]) -> bool {
    let Some(first) = line.iter().position(|b| !b.is_ascii_whitespace()) else {
        return false;
    };
    let rest = &line[first..];
    rest.iter()
        .position(|b| b.is_ascii_whitespace())
        .is_some_and(|sp| rest[sp..].iter().any(|b| !b.is_ascii_whitespace()))
}

/// Whether `line` starts with two base64-looking words of 60 to 76 characters, each
/// followed by a space (Perl: `/^(?:[A-Za-z0-9+\/=]{60,76} ){2}/`): base64 left in the
/// text, which the upper-case test skips.
fn base64_lead(line: &[u8]) -> bool {
    let mut at = 0;
    for _ in 0..2 {
        let run = line[at..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
            .count();
        if !(60..=76).contains(&run) || line.get(at + run) != Some(&b' ') {
            return false;
        }
        at += run + 1;
    }
    true
}

/// `line` without its ISO-2022-JP double-byte run (Perl: `s/\x1b\$B.*\x1b\(B//gs`, greedy:
/// from the first `ESC $ B` to the last `ESC ( B` after it).
fn without_jis_runs(line: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let Some(start) = memchr::memmem::find(line, b"\x1b$B") else {
        return std::borrow::Cow::Borrowed(line);
    };
    match memchr::memmem::rfind(&line[start + 3..], b"\x1b(B") {
        Some(end) => {
            let mut out = line[..start].to_vec();
            out.extend_from_slice(&line[start + 3 + end + 3..]);
            std::borrow::Cow::Owned(out)
        }
        None => std::borrow::Cow::Borrowed(line),
    }
}

/// Charsets on which the upper-case test misfires (CJK, Cyrillic, Thai ...).
fn charset_fps_as_caps(c: &str) -> bool {
    let c = c.to_ascii_lowercase();
    c.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && [
            "koi",
            "jp",
            "jis",
            "euc",
            "gb",
            "big5",
            "isoir",
            "cp1251",
            "windows-1251",
            "georgianps",
            "pt154",
            "tis",
        ]
        .iter()
        .any(|k| c.contains(k))
}

/// Percentage of upper-case letters in body lines with inner white space, as SpamAssassin
/// computes it (0 below 200 bytes or for charsets where it misfires).
fn uppercase(texts: &Texts<'_>) -> f64 {
    let mut charsets: Vec<String> = texts.mime.charsets.clone();
    if let Some(ct) = texts.header("Content-Type", &[]) {
        let ct = String::from_utf8_lossy(&ct.concat()).into_owned();
        let lower = ct.to_ascii_lowercase();
        if let Some(p) = lower.find("charset=") {
            let v = ct[p + 8..].trim_start_matches(['"', '\'']);
            let end = v
                .find(|c: char| c == '"' || c == '\'' || c.is_whitespace())
                .unwrap_or(v.len());
            charsets.push(v[..end].to_string());
        }
    }
    if charsets.iter().any(|c| charset_fps_as_caps(c)) {
        return 0.0;
    }
    let (mut len, mut lower, mut upper) = (0usize, 0usize, 0usize);
    for line in &texts.body {
        // Lines with an inner space, not lingering base64, without ISO-2022-JP runs.
        if !has_inner_space(line) || base64_lead(line) {
            continue;
        }
        let line = without_jis_runs(line);
        len += line.len();
        lower += line
            .iter()
            .filter(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            .count();
        upper += line.iter().filter(|b| b.is_ascii_uppercase()).count();
    }
    if len < 200 || upper + lower == 0 {
        return 0.0;
    }
    upper as f64 / (upper + lower) as f64 * 100.0
}

/// SpamAssassin's `madiff` (MIMEEval's `_multipart_alternative_difference`): for each
/// multipart/alternative part, the share (percent) of the distinct words of its HTML
/// text parts (rendered) that its other text parts do not have as often; the largest
/// share in the message. Words are runs between whitespace that hold a word character;
/// an HTML part without words counts one pseudo-word when the message's HTML has an
/// image. An Exchange meeting request (alternative of HTML and text/calendar only) is
/// skipped, as SpamAssassin skips it.
fn alternative_difference(nodes: &[Node]) -> [Madiff; 2] {
    let summary: Vec<&str> = nodes.iter().map(|n| n.ctype.as_str()).collect();
    if summary == ["multipart/alternative", "text/html", "text/calendar"] {
        return Default::default();
    }
    let add = |from: &HashMap<String, usize>, into: &mut HashMap<String, usize>| {
        for (w, n) in from {
            *into.entry(w.clone()).or_default() += n;
        }
    };
    // Nested alternatives share leaves, and the whole comparison has a work budget (parts
    // visited plus words merged): a hostile message nests 100,000 alternatives, and walking
    // every one's subtree is quadratic. Past the budget the largest share found so far
    // stands.
    let mut budget: usize = 2_000_000;
    let mut madiff = [Madiff::default(); 2];
    for (i, t) in summary.iter().enumerate() {
        if *t != "multipart/alternative" {
            continue;
        }
        let (mut html, mut text) = (HashMap::new(), HashMap::new());
        // Whether the first HTML leaf had no words: with an image in the message's HTML,
        // it then counts one pseudo-word (a newline, which no text part has).
        let mut first_html_empty = None;
        // The leaves under this part, depth first.
        let mut stack = vec![i];
        while let Some(j) = stack.pop() {
            budget = budget.saturating_sub(1);
            if budget == 0 {
                return madiff;
            }
            let Some(node) = nodes.get(j) else {
                continue;
            };
            if node.ctype.starts_with("multipart/") && !node.children.is_empty() {
                stack.extend(node.children.iter().rev());
                continue;
            }
            let Some((is_html, words)) = &node.words else {
                continue;
            };
            budget = budget.saturating_sub(words.len());
            if budget == 0 {
                return madiff;
            }
            if *is_html {
                add(words, &mut html);
                first_html_empty.get_or_insert(words.is_empty());
            } else {
                add(words, &mut text);
            }
        }
        for (img, m) in madiff.iter_mut().enumerate() {
            let pseudo = img == 1 && first_html_empty == Some(true);
            let orig = html.len() + usize::from(pseudo);
            if orig == 0 {
                continue;
            }
            // The word counts of the last alternative with HTML words, as BodyEval keeps
            // them.
            m.html_words = orig;
            m.text_words = text.len();
            let missing = html
                .iter()
                .filter(|(w, n)| text.get(*w).is_none_or(|t| **n as i64 - *t as i64 >= 1))
                .count()
                + usize::from(pseudo);
            m.percent = m.percent.max(missing as f64 / orig as f64 * 100.0);
        }
    }
    madiff
}

/// Distinct words of one text, with their counts: runs between ASCII whitespace that hold
/// a word character (Perl's `\w` on character strings: letters and digits of any script).
fn words(text: &str) -> HashMap<String, usize> {
    let mut into: HashMap<String, usize> = HashMap::new();
    for w in text.split(|c: char| c.is_ascii_whitespace()) {
        if w.chars().any(|c| c.is_alphanumeric() || c == '_') {
            *into.entry(w.to_string()).or_default() += 1;
        }
    }
    into
}

/// BodyEval's multipart/alternative comparison.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Madiff {
    /// `madiff`: the largest share (percent) of an HTML alternative's words missing from
    /// its text alternative.
    pub percent: f64,
    /// `madiff_html`: distinct words of the last HTML alternative with any.
    pub html_words: usize,
    /// `madiff_text`: distinct words of its text alternative.
    pub text_words: usize,
}

/// ImageInfo's view of a message's images: base64 leaf parts of type image/gif, image/png
/// and image/jpeg (jpg), counted and measured, each as [gif, png, jpeg].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImageInfo {
    /// Parts by type.
    pub counts: [usize; 3],
    /// Pixels (width times height) by type, summed over the parts whose size was read.
    pub pixels: [u64; 3],
}

/// GIF87a/89a: width and height, little-endian, after the signature.
fn gif_size(d: &[u8]) -> Option<(u32, u32)> {
    if d.len() < 10 || !(d.starts_with(b"GIF87a") || d.starts_with(b"GIF89a")) {
        return None;
    }
    let w = u16::from_le_bytes([d[6], d[7]]);
    let h = u16::from_le_bytes([d[8], d[9]]);
    Some((u32::from(w), u32::from(h)))
}

/// PNG: the IHDR chunk's width and height. ImageInfo steps 8 bytes at a time through the
/// chunk headers until IHDR (or IEND), as here.
fn png_size(d: &[u8]) -> Option<(u32, u32)> {
    if !d.starts_with(b"\x89PNG\r\n\x1a\n") {
        return None;
    }
    let mut pos = 8;
    while pos + 8 <= d.len() {
        let len = u32::from_be_bytes(d[pos..pos + 4].try_into().ok()?);
        let kind = &d[pos + 4..pos + 8];
        pos += 8;
        if kind == b"IEND" {
            break;
        }
        if kind == b"IHDR" && len == 13 {
            let b = d.get(pos..pos + 8)?;
            let w = u32::from_be_bytes(b[0..4].try_into().ok()?);
            let h = u32::from_be_bytes(b[4..8].try_into().ok()?);
            return Some((w, h));
        }
    }
    None
}

/// JPEG: the first start-of-frame marker's height and width, walking the marker segments
/// from the start of the image until the scan.
fn jpeg_size(d: &[u8]) -> Option<(u32, u32)> {
    if !d.starts_with(b"\xff\xd8") {
        return None;
    }
    let mut pos = 2;
    loop {
        let seg = d.get(pos..pos + 4)?;
        let (ff, mark) = (seg[0], seg[1]);
        let len = usize::from(u16::from_be_bytes([seg[2], seg[3]]));
        if ff != 0xff || mark == 0xda || mark == 0xd9 || len < 2 {
            return None;
        }
        pos += 4;
        let block = &d[pos.min(d.len())..(pos + len - 2).min(d.len())];
        if matches!(mark, 0xc0..=0xc3 | 0xc5..=0xc7 | 0xc9..=0xcb | 0xcd..=0xcf) {
            let b = block.get(0..5)?;
            let h = u16::from_be_bytes([b[1], b[2]]);
            let w = u16::from_be_bytes([b[3], b[4]]);
            return Some((u32::from(w), u32::from(h)));
        }
        pos += block.len();
    }
}

/// An ImageInfo per-type value for a type argument (`all` sums them).
fn by_type(values: &[u64; 3], kind: &str) -> u64 {
    match kind.trim() {
        "gif" => values[0],
        "png" => values[1],
        "jpeg" | "jpg" => values[2],
        _ => values.iter().sum(),
    }
}

/// ImageInfo's `image_to_text_ratio(type, min, max)`: the length of the rule's text
/// (`texts`: the body or rawbody lines) per image pixel, within [min, max) (min <= ratio
/// < max, the maximum excluded).
pub fn image_to_text_ratio(call: &EvalCall, texts: &Texts<'_>, lines: &[Vec<u8>]) -> bool {
    let num = |i: usize| call.args.get(i).and_then(|a| a.trim().parse::<f64>().ok());
    let (Some(min), Some(max)) = (num(1), num(2)) else {
        return false;
    };
    let pixels = by_type(&texts.images.pixels, &call.args[0]);
    let text_len: usize = lines.iter().map(Vec::len).sum();
    if text_len == 0 || pixels == 0 {
        return false;
    }
    let ratio = text_len as f64 / pixels as f64;
    ratio >= min && ratio <= max && ratio != max
}

/// Whether `call` is one of the MIME evals with arguments understood here.
pub fn supported(call: &EvalCall) -> bool {
    let n = call.args.len();
    match call.function.as_str() {
        "check_for_mime" | "check_msg_parse_flags" | "check_body_length" => n == 1,
        "check_for_mime_html" | "check_for_ascii_text_illegal" => n == 0,
        "check_mime_multipart_ratio" | "check_for_uppercase" => n == 2,
        "check_base64_length" => n == 1 || n == 2,
        "multipart_alternative_difference" => n == 2,
        "check_abundant_unicode_ratio" => n == 1,
        "image_count" | "pixel_coverage" => {
            (n == 2 || n == 3)
                && matches!(call.args[0].trim(), "all" | "gif" | "png" | "jpeg" | "jpg")
        }
        "image_to_text_ratio" => {
            n == 3 && matches!(call.args[0].trim(), "all" | "gif" | "png" | "jpeg" | "jpg")
        }
        "multipart_alternative_difference_count" => n == 2,
        _ => false,
    }
}

/// Runs a MIME eval; `None` when `call` is not one.
pub fn run(call: &EvalCall, texts: &Texts<'_>) -> Option<bool> {
    let m = &texts.mime;
    let a = |i: usize| call.args.get(i).map(String::as_str).unwrap_or("");
    let num = |i: usize| a(i).trim().parse::<f64>().ok();
    Some(match call.function.as_str() {
        "check_for_mime" => m.value(a(0)).is_some_and(|v| v != 0.0),
        "check_for_mime_html" => {
            texts.header("Content-Type", &[]).is_some_and(|v| {
                v.first()
                    .is_some_and(|c| c.len() >= 9 && c[..9].eq_ignore_ascii_case(b"text/html"))
            }) || m.value("mime_body_html_count").is_some_and(|v| v > 0.0)
        }
        "check_for_ascii_text_illegal" => {
            m.value("mime_ascii_text_illegal").is_some_and(|v| v > 0.0)
        }
        "check_mime_multipart_ratio" => {
            let r = m.value("mime_multipart_ratio").unwrap_or(1.0);
            r >= num(0).unwrap_or(0.0) && r < num(1).unwrap_or(0.0)
        }
        "check_msg_parse_flags" => m.has_flag(a(0)),
        "check_body_length" => num(0).is_some_and(|min| m.body_length as f64 <= min),
        "check_base64_length" => {
            let len = m.base64_length as f64;
            num(1).is_none_or(|max| len <= max) && num(0).is_some_and(|min| len >= min)
        }
        "image_count" => {
            let count = by_type(&texts.images.counts.map(|c| c as u64), a(0)) as f64;
            num(1).is_some_and(|min| count >= min) && num(2).is_none_or(|max| count <= max)
        }
        "pixel_coverage" => {
            let pixels = by_type(&texts.images.pixels, a(0)) as f64;
            num(1).is_some_and(|min| pixels >= min) && num(2).is_none_or(|max| pixels <= max)
        }
        "multipart_alternative_difference_count" => {
            let m = texts.madiff;
            let (ratio, min_html) = (num(0).unwrap_or(0.0), num(1).unwrap_or(0.0));
            m.html_words as f64 > min_html && m.text_words as f64 / m.html_words as f64 > ratio
        }
        "check_abundant_unicode_ratio" => {
            // MIMEEval accepts only ratios written `\d{0,3}\.\d{1,3}`.
            let arg = a(0).trim();
            let well_formed = arg.split_once('.').is_some_and(|(i, f)| {
                i.len() <= 3
                    && (1..=3).contains(&f.len())
                    && i.bytes().chain(f.bytes()).all(|b| b.is_ascii_digit())
            });
            well_formed
                && m.value("mime_text_unicode_ratio")
                    .is_some_and(|r| num(0).is_some_and(|min| r >= min))
        }
        "multipart_alternative_difference" => {
            let (min, d) = (num(0).unwrap_or(0.0), texts.madiff.percent);
            (min == 0.0 || d > min)
                && (a(1).trim() == "undef" || num(1).is_some_and(|max| d <= max))
        }
        "check_for_uppercase" => {
            let u = *texts.uppercase.get_or_init(|| uppercase(texts));
            u > num(0).unwrap_or(0.0) && u <= num(1).unwrap_or(0.0)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uppercase_skips_base64_and_iso_2022_jp_runs() {
        let b64 = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx";
        assert_eq!(b64.len(), 72);
        assert!(base64_lead(format!("{b64} {b64} {b64}").as_bytes()));
        assert!(!base64_lead(format!("{b64} short {b64}").as_bytes()));
        assert!(!base64_lead(format!("{b64}{b64} {b64} ").as_bytes()));
        assert_eq!(
            &*without_jis_runs(b"ab \x1b$BXY\x1b(B cd \x1b$BZZ\x1b(B ef"),
            b"ab  ef"
        );
        assert_eq!(&*without_jis_runs(b"ab \x1b$BXY cd"), b"ab \x1b$BXY cd");
    }

    #[test]
    fn alternative_difference_counts_html_words_missing_from_text() {
        let msg = |text: &str, html: &str| {
            format!(
                "Content-Type: multipart/alternative; boundary=\"b\"\n\n--b\n\
                 Content-Type: text/plain\n\n{text}\n--b\nContent-Type: text/html\n\n\
                 <html><body>{html}</body></html>\n--b--\n"
            )
        };
        let diff = |raw: String| analyze(raw.as_bytes()).madiff(false).percent;
        assert_eq!(diff(msg("hello big world", "hello <b>big</b> world")), 0.0);
        assert_eq!(diff(msg("hello", "hello buy pills now")), 75.0);
        // A word the HTML repeats more often than the text still counts as missing.
        assert_eq!(diff(msg("hi", "hi hi")), 100.0);
        assert_eq!(diff(msg("nothing alike", "totally different words")), 100.0);
        // Punctuation-only tokens are not words; words of any script are.
        assert_eq!(diff(msg("same", "same --- **")), 0.0);
        assert_eq!(
            diff(msg("hello", "\u{4f60}\u{597d} \u{4e16}\u{754c}")),
            100.0
        );
        // A first alternative with no header block (a blank line right after the
        // boundary) and no closing boundary: still an HTML part against a text part.
        let odd = "Content-Type: multipart/alternative; boundary=\"b\"\n\n--b\n\n\ne\n\
                   Content-type: text/plain\n\n--b\nContent-Type: text/html\n\n\
                   <body>all different words</body>\n";
        assert_eq!(diff(odd.to_string()), 100.0);
        // An HTML part without words counts one word when the message's HTML has an image.
        let raw = msg("hello", "<img src=x.gif>");
        assert_eq!(analyze(raw.as_bytes()).madiff(false).percent, 0.0);
        assert_eq!(analyze(raw.as_bytes()).madiff(true).percent, 100.0);
        assert_eq!(analyze(raw.as_bytes()).madiff(true).html_words, 1);
        // Encoded alternatives are compared decoded.
        let raw = "Content-Type: multipart/alternative; boundary=\"b\"\n\n--b\n\
                   Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n\
                   aGVsbG8gd29ybGQ=\n--b\nContent-Type: text/html; charset=iso-8859-1\n\
                   Content-Transfer-Encoding: quoted-printable\n\nhello <b>w=6Frld</b>\n--b--\n";
        assert_eq!(analyze(raw.as_bytes()).madiff(false).percent, 0.0);
    }

    #[test]
    fn part_headers_follow_spamassassins_part_tree() {
        let raw = b"Subject: top\nContent-Type: multipart/mixed; boundary=\"w\"\n\n--w\n\
            Content-Type: text/plain\n\tcharset=us-ascii\n\nhi\n--w   junk\n\
            Content-Type: text/html\n\n<b>not a part: the boundary has junk</b>\n\
            --w\nContent-Type : image/gif\n\nx\n--w\nContent-Type: message/rfc822\n\n\
            From a@b.example  Sat Sep  7 15:00:46 2002\nSubject: inner\n\nbody\n--w--\n";
        let s = analyze(raw);
        let names: Vec<Vec<&str>> = s
            .part_headers
            .iter()
            .map(|h| h.iter().map(|f| f.name.as_str()).collect())
            .collect();
        assert_eq!(
            names,
            [
                vec!["Subject", "Content-Type"],
                vec!["Content-Type"],
                // A part's field keeps the blank before its colon in its name.
                vec!["Content-Type "],
                vec!["Content-Type"],
                vec!["Subject"],
            ]
        );
        assert_eq!(
            s.part_headers[1][0].raw_value,
            b" text/plain\n\tcharset=us-ascii"
        );
        assert_eq!(s.value("mime_body_html_count"), Some(0.0));
    }

    #[test]
    fn epilogue_and_counts() {
        let msg = b"Content-Type: multipart/alternative; boundary=\"b\"\n\npre\n--b\nContent-Type: text/plain\n\nhello \xe9\n--b\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\naGVsbG8=\n--b--\ntrailing words\n";
        let s = analyze(msg);
        assert!(s.has_flag("mime_epilogue_exists"));
        assert_eq!(s.value("mime_body_html_count"), Some(1.0));
        assert_eq!(s.value("mime_base64_count"), Some(1.0));
        assert_eq!(s.value("mime_ascii_text_illegal"), Some(1.0));
        assert_eq!(s.value("mime_missing_boundary"), Some(0.0));
        assert_eq!(s.base64_length, 9);
        let s = analyze(b"Subject: x\nno separator line\n");
        assert!(s.has_flag("missing_head_body_separator") || s.body_length == 0);
    }

    #[test]
    fn attached_messages_are_read_as_spamassassin_reads_a_message() {
        // A forwarded message that keeps its mbox separator and has a stray line in its
        // header: Message.pm drops the separator and tolerates the line, so the HTML part
        // below is seen (a part header would end at either line).
        let msg = b"Content-Type: multipart/mixed; boundary=\"w\"\n\n--w\n\
            Content-Type: text/plain\n\nsee attached\n--w\nContent-Type: message/rfc822\n\n\
            From someone@example.com  Thu Aug 22 13:17:22 2002\nSubject: inner\n\
            not a field\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\n\
            PGI+aGk8L2I+\n--w--\n";
        let s = analyze(msg);
        assert_eq!(s.value("mime_body_html_count"), Some(1.0));
        assert_eq!(s.value("mime_base64_count"), Some(1.0));
        // The attached message's anomalies are not the message's.
        assert!(!s.has_flag("missing_head_body_separator"));
        let s = analyze(b"From x@y  Thu Aug 22 2002\nSubject: a\nContent-Type: text/html\n\nhi\n");
        assert_eq!(s.value("mime_body_html_count"), Some(1.0));
        for (line, sep) in [
            (&b"From x@y date\n"[..], true),
            (b"From  :x\n", true),
            (b"From :x\n", false),
            (b"From: x\n", false),
            (b"Fromx y\n", false),
        ] {
            assert_eq!(
                mbox_separator(line),
                sep,
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn a_multipart_holds_at_most_1000_parts() {
        // Checked with Message.pm: 1,000 parts give 1,001 nodes and a closed boundary;
        // 1,001 parts give 1,001 nodes, the last X-N 999, and the boundary left open.
        let msg = |n: usize| {
            let mut m = String::from("Subject: x\nContent-Type: multipart/mixed; boundary=b\n\n");
            for i in 0..n {
                m += &format!("--b\nContent-Type: text/plain\nX-N: {i}\n\npart {i}\n");
            }
            m + "--b--\n"
        };
        for (n, missing) in [(1000, 0.0), (1001, 1.0), (1500, 1.0)] {
            let s = analyze(msg(n).as_bytes());
            assert_eq!(s.part_headers.len(), 1001, "{n}");
            let last = &s.part_headers[1000];
            assert_eq!(last[1].raw_value, b" 999", "{n}");
            assert_eq!(s.value("mime_missing_boundary"), Some(missing), "{n}");
        }
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type(None).0, "text/plain");
        assert_eq!(content_type(None).2.as_deref(), Some("us-ascii"));
        let (t, b, c) = content_type(Some(b"Multipart/Mixed; boundary=\"ab c\"; charset=UTF-8"));
        assert_eq!(
            (t.as_str(), b, c.as_deref()),
            ("multipart/mixed", Some(b"ab c".to_vec()), Some("UTF-8"))
        );
        assert_eq!(content_type(Some(b"text/enriched")).0, "text/plain");
    }

    #[test]
    fn qp() {
        assert_eq!(qp_excess(b"=41=42 ok=20=20\n"), 2.0);
    }
}
