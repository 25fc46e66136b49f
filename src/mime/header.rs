//! Header blocks: split from the body, parsed into fields, checked for anomalies.
//!
//! Parsing never fails. A line that is neither a field nor a continuation is reported and
//! skipped; a block with more fields than the limit is cut and reported.

use crate::report::BadHeaderKind;

/// One header field as it stands in the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderField {
    /// The field name as written (without surrounding whitespace).
    pub name: String,
    /// The raw value after the colon, folding kept, without the final line end.
    pub raw_value: Vec<u8>,
}

impl HeaderField {
    /// The value with folding removed (line ends before whitespace dropped).
    pub fn unfolded(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.raw_value.len());
        let v = &self.raw_value;
        let mut i = 0;
        while i < v.len() {
            match v[i] {
                b'\r' if v.get(i + 1) == Some(&b'\n') => i += 2,
                b'\r' | b'\n' => i += 1,
                c => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        out
    }

    /// The value unfolded, trimmed and decoded from RFC 2047 encoded words (by mail-parser).
    pub fn decoded(&self) -> String {
        decode_value(self.unfolded())
    }

    /// The value as SpamAssassin's header rules see it: each fold and the blanks after it
    /// become one space (`s/\n[ \t]+/ /g`), then decoded as [`HeaderField::decoded`].
    pub fn decoded_collapsed(&self) -> String {
        decode_value(self.collapsed())
    }

    /// [`HeaderField::decoded`] with SpamAssassin's decoding ([`spamassassin_decode`]), for
    /// the rule texts.
    pub fn spamassassin_decoded(&self) -> String {
        spamassassin_decode(&self.name, &self.unfolded())
    }

    /// [`HeaderField::decoded_collapsed`] with SpamAssassin's decoding
    /// ([`spamassassin_decode`]), for the rule texts.
    pub fn spamassassin_decoded_collapsed(&self) -> String {
        spamassassin_decode(&self.name, &self.collapsed())
    }

    /// The value as SpamAssassin's `Message::Node::header` stores it for the rule texts:
    /// folds collapsed, the white space around the value trimmed, *then* decoded, so a
    /// space an encoded word starts or ends with (`=?gb2312?q?_=B4=F2?=`) stays.
    pub fn spamassassin_value(&self) -> String {
        spamassassin_decode(&self.name, self.collapsed().trim_ascii())
    }

    /// The value with each fold and the blanks after it made one space.
    fn collapsed(&self) -> Vec<u8> {
        let v = &self.raw_value;
        let mut out = Vec::with_capacity(v.len());
        let mut i = 0;
        while i < v.len() {
            let eol = match v[i] {
                b'\r' if v.get(i + 1) == Some(&b'\n') => 2,
                b'\r' | b'\n' => 1,
                _ => 0,
            };
            if eol == 0 {
                out.push(v[i]);
                i += 1;
                continue;
            }
            i += eol;
            let blanks = v[i..]
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count();
            if blanks > 0 {
                out.push(b' ');
                i += blanks;
            }
        }
        out
    }
}

/// Decodes a header value as SpamAssassin's `Message::Node::_decode_header` does, for the
/// rule texts: non-UTF-8 8-bit text normalized first; then, except in the fields it never
/// decodes (Received, Message-ID, Date and their Resent- forms, MIME-Version, References,
/// In-Reply-To, List-*), every RFC 2047 encoded word decoded *in place*, glued to its
/// neighbours or not (`=?iso-2022-jp?B?MTIx?=@FreeBSD.ORG` is `121@FreeBSD.ORG`), the
/// blanks between two encoded words dropped, adjacent words of one charset joined before
/// transcoding (a character split across two words survives).
pub fn spamassassin_decode(name: &str, value: &[u8]) -> String {
    let value: std::borrow::Cow<'_, [u8]> =
        if !value.is_ascii() && std::str::from_utf8(value).is_err() {
            crate::mime::charset::spamassassin_normalize(value, Some("utf-8"))
        } else {
            std::borrow::Cow::Borrowed(value)
        };
    let lower = name.to_ascii_lowercase();
    let exempt = matches!(
        lower.as_str(),
        "received"
            | "message-id"
            | "resent-message-id"
            | "date"
            | "resent-date"
            | "mime-version"
            | "references"
            | "in-reply-to"
    ) || lower.starts_with("list-");
    if exempt || memchr::memmem::find(&value, b"=?").is_none() {
        return String::from_utf8_lossy(&value).into_owned();
    }
    static WORD: std::sync::LazyLock<regex::bytes::Regex> = std::sync::LazyLock::new(|| {
        regex::bytes::Regex::new(r"=\?([A-Za-z0-9*_-]+)\?([bqBQ])\?([^?]*)\?=")
            .expect("static regex")
    });
    // Sections of (bytes, lowercased charset; empty for plain text), adjacent encoded words
    // of one charset merged.
    let mut sections: Vec<(Vec<u8>, String)> = Vec::new();
    let push = |bytes: &[u8], charset: String, sections: &mut Vec<(Vec<u8>, String)>| match sections
        .last_mut()
    {
        Some(last) if last.1 == charset => last.0.extend_from_slice(bytes),
        _ => sections.push((bytes.to_vec(), charset)),
    };
    let mut at = 0;
    let mut prev_word_end: Option<usize> = None;
    for c in WORD.captures_iter(&value) {
        let m = c.get(0).expect("whole match");
        let between = &value[at..m.start()];
        // Blanks between two encoded words are dropped (`\s+` in Perl: space, tab, CR,
        // LF, VT, FF).
        let blanks_only = prev_word_end == Some(at)
            && !between.is_empty()
            && between
                .iter()
                .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c));
        if !between.is_empty() && !blanks_only {
            push(between, String::new(), &mut sections);
        }
        let text = &c[3];
        let bytes = if c[2].eq_ignore_ascii_case(b"B") {
            super::decode::base64(text).0
        } else {
            q_decode(text)
        };
        push(
            &bytes,
            String::from_utf8_lossy(&c[1]).to_ascii_lowercase(),
            &mut sections,
        );
        at = m.end();
        prev_word_end = Some(at);
    }
    if at < value.len() {
        push(&value[at..], String::new(), &mut sections);
    }
    let mut out = String::with_capacity(value.len());
    for (bytes, charset) in &sections {
        if charset.is_empty() {
            out.push_str(&String::from_utf8_lossy(bytes));
        } else {
            // RFC 2231 language suffix: `US-ASCII*EN`.
            let charset = charset.split('*').next().unwrap_or_default();
            out.push_str(&crate::mime::charset::to_utf8(bytes, Some(charset)));
        }
    }
    out
}

/// The `Q` encoding of an encoded word: `_` is a space, `=XX` a byte, anything else itself
/// (SpamAssassin's `qp_decode` after `s/_/=20/g`).
fn q_decode(text: &[u8]) -> Vec<u8> {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'_' => out.push(b' '),
            b'=' => {
                if let (Some(h), Some(l)) = (
                    text.get(i + 1).copied().and_then(hex),
                    text.get(i + 2).copied().and_then(hex),
                ) {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                out.push(b'=');
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// Decodes RFC 2047 encoded words in an unfolded value (by mail-parser), or converts it from
/// its bytes when mail-parser cannot.
fn decode_value(unfolded: Vec<u8>) -> String {
    // Raw 8-bit text that is not UTF-8 is read as Windows-1252, as SpamAssassin 4 reads it
    // (`_normalize($value, 'UTF-8')`) and as mail clients do: `Subject: M-#80m` (a bare
    // 0xA3) is `£80m`, not a replacement character.
    let unfolded = if !unfolded.is_ascii() && std::str::from_utf8(&unfolded).is_err() {
        crate::mime::charset::spamassassin_normalize(&unfolded, Some("utf-8")).into_owned()
    } else {
        unfolded
    };
    let mut raw = Vec::with_capacity(unfolded.len() + 12);
    raw.extend_from_slice(b"Subject:");
    raw.extend_from_slice(&unfolded);
    raw.extend_from_slice(b"\r\n\r\n");
    let parsed = super::field_parser().parse_headers(&raw).and_then(|m| {
        m.parts.first().and_then(|p| {
            p.headers
                .first()
                .and_then(|h| h.value.as_text().map(str::to_string))
        })
    });
    parsed.unwrap_or_else(|| crate::mime::charset::to_utf8(unfolded.trim_ascii(), None))
}

/// Sections of one RFC 2231 parameter above which [`merge_long_continuations`] joins them.
pub(crate) const RFC2231_SECTIONS: usize = 32;

/// A Content-Type or Content-Disposition value in which every parameter split into more
/// than [`RFC2231_SECTIONS`] RFC 2231 sections (`name*0=...; name*1=...`) is joined into
/// one, in linear time; `None` when no parameter has that many sections (the usual case:
/// the value goes to mail-parser unchanged). mail-parser joins sections by copying the value
/// built so far for each one, so 200,000 one-byte sections of a 10 MB header cost half a
/// minute; the joined parameter holds the same text, so a file name hidden in the last
/// section is still seen. Extended sections (`name*1*=`) keep their charset and percent
/// escapes; plain ones are escaped into them.
pub(crate) fn merge_long_continuations(value: &[u8]) -> Option<Vec<u8>> {
    /// One section: its number, whether it is extended (`name*N*=`), its value as written.
    type Section = (u64, bool, Vec<u8>);
    // Split at `;` outside double quotes.
    let mut segments: Vec<&[u8]> = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, &b) in value.iter().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b';' if !quoted => {
                segments.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    segments.push(&value[start..]);
    // (base name lowercased, section number, extended, value) of each section parameter.
    let section = |seg: &[u8]| -> Option<(Vec<u8>, u64, bool, Vec<u8>)> {
        let eq = memchr::memchr(b'=', seg)?;
        let name = seg[..eq].trim_ascii();
        let (name, extended) = match name.strip_suffix(b"*") {
            Some(n) => (n, true),
            None => (name, false),
        };
        let star = memchr::memrchr(b'*', name)?;
        let digits = &name[star + 1..];
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) || digits.len() > 9 {
            return None;
        }
        let number = std::str::from_utf8(digits).ok()?.parse().ok()?;
        Some((
            name[..star].to_ascii_lowercase(),
            number,
            extended,
            seg[eq + 1..].trim_ascii().to_vec(),
        ))
    };
    let mut counts: std::collections::HashMap<Vec<u8>, usize> = std::collections::HashMap::new();
    for seg in &segments[1..] {
        if let Some((base, ..)) = section(seg) {
            *counts.entry(base).or_default() += 1;
        }
    }
    if counts.values().all(|&n| n <= RFC2231_SECTIONS) {
        return None;
    }
    let unquote = |v: &[u8]| -> Vec<u8> {
        let Some(inner) = v
            .strip_prefix(b"\"")
            .map(|v| v.strip_suffix(b"\"").unwrap_or(v))
        else {
            return v.to_vec();
        };
        let mut out = Vec::with_capacity(inner.len());
        let mut it = inner.iter();
        while let Some(&b) = it.next() {
            out.push(if b == b'\\' {
                it.next().copied().unwrap_or(b)
            } else {
                b
            });
        }
        out
    };
    // The long parameters' sections, by base name, in message order.
    let mut long: Vec<(Vec<u8>, Vec<Section>)> = Vec::new();
    let mut index: std::collections::HashMap<Vec<u8>, usize> = std::collections::HashMap::new();
    let mut kept: Vec<Option<&[u8]>> = Vec::new();
    for seg in &segments[1..] {
        match section(seg) {
            Some((base, n, extended, v))
                if counts.get(&base).is_some_and(|&c| c > RFC2231_SECTIONS) =>
            {
                match index.get(&base) {
                    Some(&at) => long[at].1.push((n, extended, v)),
                    None => {
                        // The joined parameter takes the place of its first section.
                        kept.push(None);
                        index.insert(base.clone(), long.len());
                        long.push((base, vec![(n, extended, v)]));
                    }
                }
            }
            _ => kept.push(Some(seg)),
        }
    }
    let mut joined = long.into_iter().map(|(base, mut sections)| {
        // By section number; a repeated number keeps its first value.
        sections.sort_by_key(|s| s.0);
        sections.dedup_by_key(|s| s.0);
        let mut out = base;
        if sections.iter().any(|s| s.1) {
            out.extend_from_slice(b"*=");
            for (i, (_, extended, v)) in sections.iter().enumerate() {
                if *extended {
                    // The first extended section carries `charset'language'`.
                    out.extend_from_slice(v);
                } else {
                    if i == 0 {
                        out.extend_from_slice(b"''");
                    }
                    for &b in &unquote(v) {
                        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                            out.push(b);
                        } else {
                            out.extend_from_slice(format!("%{b:02X}").as_bytes());
                        }
                    }
                }
            }
        } else {
            out.extend_from_slice(b"=\"");
            for (_, _, v) in &sections {
                for b in unquote(v) {
                    if b == b'"' || b == b'\\' {
                        out.push(b'\\');
                    }
                    out.push(b);
                }
            }
            out.push(b'"');
        }
        out
    });
    let mut out = segments[0].to_vec();
    for seg in kept {
        out.extend_from_slice(b"; ");
        match seg {
            Some(seg) => out.extend_from_slice(seg.trim_ascii()),
            None => out.extend(joined.next().unwrap_or_default()),
        }
    }
    Some(out)
}

/// A problem found in a header block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderIssue {
    /// amavisd-new's kind.
    pub kind: BadHeaderKind,
    /// What and where (field name, line number).
    pub detail: String,
}

/// A parsed header block.
#[derive(Debug, Clone, Default)]
pub struct HeaderBlock {
    /// Fields in order.
    pub fields: Vec<HeaderField>,
    /// Offset of the body in the parsed data.
    pub body_offset: usize,
    /// Problems found, in order.
    pub issues: Vec<HeaderIssue>,
    /// Bare CRs (a CR not followed by LF) were seen in the block.
    pub bare_cr: bool,
    /// The block had more fields than the limit; the rest were not parsed.
    pub truncated: bool,
    /// The header ended without a blank line, at a delimiter or a run of stray lines
    /// ([`HeaderEnd::Strikes`]): reading on to a blank line would end it elsewhere.
    pub ended_early: bool,
}

impl HeaderBlock {
    /// Fields named `name`, case-insensitively.
    pub fn get<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s HeaderField> + 's {
        self.fields
            .iter()
            .filter(move |f| f.name.eq_ignore_ascii_case(name))
    }
}

/// Finds the end of the line starting at `pos`: returns (end of content, start of next line).
/// LF and CRLF end lines; a bare CR ends one too when `cr_is_newline` (Outlook's reading).
pub fn line_at(data: &[u8], pos: usize, cr_is_newline: bool) -> (usize, usize) {
    let rest = &data[pos..];
    let found = if cr_is_newline {
        memchr::memchr2(b'\n', b'\r', rest)
    } else {
        memchr::memchr(b'\n', rest)
    };
    match found {
        None => (data.len(), data.len()),
        Some(i) => {
            let at = pos + i;
            if data[at] == b'\r' {
                if data.get(at + 1) == Some(&b'\n') {
                    (at, at + 2)
                } else {
                    (at, at + 1)
                }
            } else if at > pos && data[at - 1] == b'\r' {
                (at - 1, at + 1)
            } else {
                (at, at + 1)
            }
        }
    }
}

fn is_field_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&c| (33..=126).contains(&c) && c != b':')
}

/// Fields that may appear at most once (RFC 5322 section 3.6).
pub const SINGLETONS: &[&str] = &[
    "Date",
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Bcc",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Subject",
];

/// Lines that are neither fields nor continuations a message header may hold before the
/// next one ends it (SpamAssassin's Message.pm: "3 strikes").
const MAX_STRAY_LINES: u32 = 3;

/// Where a message header without its blank separator line ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeaderEnd {
    /// As SpamAssassin's Message.pm reads a message: a blank line, a line starting with `--`
    /// (a MIME delimiter), or the fourth line that is not a field ends the header; that line
    /// starts the body. Stray lines before it are skipped, with their continuations.
    #[default]
    Strikes,
    /// Only a blank line ends the header; stray lines are skipped wherever they are (the
    /// alternative reading of a message whose header ended early).
    BlankLine,
}

/// Parses the header block at the start of `data`.
///
/// `top_level` adds the checks that apply only to a message's own header (missing Date/From,
/// duplicate singletons), allows an mbox `From ` line first, and ends the header as `end`
/// says (a part's header ends at a blank line).
pub fn parse(
    data: &[u8],
    max_headers: u32,
    cr_is_newline: bool,
    top_level: bool,
    end: HeaderEnd,
) -> HeaderBlock {
    let mut block = HeaderBlock::default();
    let mut pos = 0;
    let mut line_no = 0usize;
    let mut current: Option<HeaderField> = None;
    let strikes = top_level && end == HeaderEnd::Strikes;
    let mut strays = 0u32;
    // After a stray line, its continuation lines belong to it and are skipped too.
    let mut in_stray = false;
    if top_level && data.starts_with(b"From ") {
        pos = line_at(data, 0, cr_is_newline).1;
    }
    let issue = |block: &mut HeaderBlock, kind, detail: String| {
        if block.issues.len() < 64 {
            block.issues.push(HeaderIssue { kind, detail });
        }
    };
    loop {
        if pos >= data.len() {
            block.body_offset = data.len();
            break;
        }
        let (end, next) = line_at(data, pos, cr_is_newline);
        let line = &data[pos..end];
        line_no += 1;
        if line.is_empty() {
            block.body_offset = next;
            break;
        }
        if !cr_is_newline && memchr::memchr(b'\r', line).is_some() {
            block.bare_cr = true;
        }
        if line.len() > 998 {
            issue(
                &mut block,
                BadHeaderKind::LongLine,
                format!("line {line_no} is {} characters long", line.len()),
            );
        }
        if line.iter().any(|&c| c >= 0x80) {
            issue(
                &mut block,
                BadHeaderKind::EightBit,
                format!("non-encoded 8-bit data on line {line_no}"),
            );
        }
        if line
            .iter()
            .any(|&c| (c < 0x20 && c != b'\t' && c != b'\r') || c == 0x7f)
        {
            issue(
                &mut block,
                BadHeaderKind::Control,
                format!("control character on line {line_no}"),
            );
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if line.iter().all(|c| c.is_ascii_whitespace()) {
                issue(
                    &mut block,
                    BadHeaderKind::WhitespaceLine,
                    format!("whitespace-only continuation line {line_no}"),
                );
            }
            match current.as_mut() {
                Some(field) => {
                    field.raw_value.extend_from_slice(b"\r\n");
                    field.raw_value.extend_from_slice(line);
                }
                None if in_stray => {}
                None => issue(
                    &mut block,
                    BadHeaderKind::Syntax,
                    format!("continuation line {line_no} without a field"),
                ),
            }
            pos = next;
            continue;
        }
        if strikes && line.starts_with(b"--") {
            // A MIME delimiter: the body started without a blank line.
            block.ended_early = true;
            issue(
                &mut block,
                BadHeaderKind::Syntax,
                format!("no blank line after the header: a delimiter on line {line_no}"),
            );
            block.body_offset = pos;
            break;
        }
        let colon = memchr::memchr(b':', line);
        let name = colon.map(|c| line[..c].trim_ascii_end());
        match name {
            Some(name) if is_field_name(name) => {
                in_stray = false;
                if let Some(done) = current.take() {
                    block.fields.push(done);
                }
                if block.fields.len() >= max_headers as usize {
                    block.truncated = true;
                    // Skip the rest of the block without keeping it.
                    block.body_offset = find_blank_line(data, next, cr_is_newline);
                    return finish(block, top_level);
                }
                current = Some(HeaderField {
                    name: String::from_utf8_lossy(name).into_owned(),
                    raw_value: line[colon.unwrap_or(0) + 1..].to_vec(),
                });
            }
            _ if strikes => {
                strays += 1;
                if strays > MAX_STRAY_LINES {
                    block.ended_early = true;
                    issue(
                        &mut block,
                        BadHeaderKind::Syntax,
                        format!(
                            "no blank line after the header: line {line_no} is the body \
                             (more than {MAX_STRAY_LINES} lines are not header fields)"
                        ),
                    );
                    block.body_offset = pos;
                    break;
                }
                if let Some(done) = current.take() {
                    block.fields.push(done);
                }
                // Message.pm keeps a stray line that holds a colon as a field named by
                // what precedes it (`the from: address ...`): header rules read it.
                match colon {
                    Some(c) if c > 0 => {
                        current = Some(HeaderField {
                            name: String::from_utf8_lossy(line[..c].trim_ascii_end()).into_owned(),
                            raw_value: line[c + 1..].to_vec(),
                        });
                    }
                    _ => in_stray = true,
                }
                let shown = String::from_utf8_lossy(&line[..line.len().min(40)]).into_owned();
                issue(
                    &mut block,
                    BadHeaderKind::Syntax,
                    format!("line {line_no} is not a header field: {shown:?}"),
                );
            }
            _ => {
                if block.fields.is_empty() && current.is_none() {
                    // No header at all: the data starts with its body.
                    issue(
                        &mut block,
                        BadHeaderKind::Syntax,
                        "no header fields before the body".to_string(),
                    );
                    block.body_offset = 0;
                    return finish(block, top_level);
                }
                let shown = String::from_utf8_lossy(&line[..line.len().min(40)]).into_owned();
                issue(
                    &mut block,
                    BadHeaderKind::Syntax,
                    format!("line {line_no} is not a header field: {shown:?}"),
                );
            }
        }
        pos = next;
    }
    if let Some(done) = current.take() {
        block.fields.push(done);
    }
    finish(block, top_level)
}

fn find_blank_line(data: &[u8], mut pos: usize, cr_is_newline: bool) -> usize {
    while pos < data.len() {
        let (end, next) = line_at(data, pos, cr_is_newline);
        if end == pos {
            return next;
        }
        pos = next;
    }
    data.len()
}

fn finish(mut block: HeaderBlock, top_level: bool) -> HeaderBlock {
    if top_level {
        for name in SINGLETONS {
            let n = block.get(name).count();
            if n > 1 {
                block.issues.push(HeaderIssue {
                    kind: BadHeaderKind::Duplicate,
                    detail: format!("duplicate header field: {name:?} ({n} times)"),
                });
            }
        }
        if block.get("Date").next().is_none() {
            block.issues.push(HeaderIssue {
                kind: BadHeaderKind::MissingDate,
                detail: "missing required header field: \"Date\"".to_string(),
            });
        }
        if block.get("From").next().is_none() {
            block.issues.push(HeaderIssue {
                kind: BadHeaderKind::MissingFrom,
                detail: "missing required header field: \"From\"".to_string(),
            });
        }
    }
    block
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_rfc2231_parameters_are_joined_in_order() {
        // A few sections: left to mail-parser.
        assert_eq!(
            merge_long_continuations(b"text/plain; name*0=a; name*1=b"),
            None
        );
        // Many plain sections, out of order, one quoted, one repeated: joined into one
        // quoted parameter in place of the first section, other parameters kept.
        let mut v = b"application/octet-stream; charset=us-ascii".to_vec();
        for n in (0..40).rev() {
            v.extend_from_slice(format!("; name*{n}=s{n}").as_bytes());
        }
        v.extend_from_slice(b"; name*40=\"q\\\"t\"; name*3=dup; other=x");
        let merged = String::from_utf8(merge_long_continuations(&v).expect("merged")).unwrap();
        let text: String = (0..40).map(|n| format!("s{n}")).collect();
        assert_eq!(
            merged,
            format!("application/octet-stream; charset=us-ascii; name=\"{text}q\\\"t\"; other=x")
        );
        // Extended sections keep their charset and escapes; plain ones are escaped.
        let mut v = b"attachment; filename*0*=utf-8''%C3%A9".to_vec();
        for n in 1..40 {
            v.extend_from_slice(format!("; filename*{n}*=a%41").as_bytes());
        }
        v.extend_from_slice(b"; filename*40=\"b c.exe\"");
        let merged = String::from_utf8(merge_long_continuations(&v).expect("merged")).unwrap();
        assert_eq!(
            merged,
            format!(
                "attachment; filename*=utf-8''%C3%A9{}b%20c.exe",
                "a%41".repeat(39)
            )
        );
    }

    #[test]
    fn spamassassin_decodes_encoded_words_in_place() {
        // Each expectation is Message::Node::_decode_header's output (SpamAssassin 4.0.1).
        for (value, expected) in [
            ("=?iso-2022-jp?B?MTIx?=@FreeBSD.ORG", "121@FreeBSD.ORG"),
            ("=?utf-8?Q?a?= =?utf-8?Q?b?=", "ab"),
            ("=?utf-8?Q?a?= x =?utf-8?Q?b?=", "a x b"),
            // One character split across two words of one charset.
            ("=?utf-8?B?ww==?= =?utf-8?B?qQ==?=", "\u{e9}"),
            ("=?iso-8859-1?Q?caf=E9_au_lait?=", "caf\u{e9} au lait"),
            ("=?US-ASCII*EN?Q?Keith_Moore?=", "Keith Moore"),
            ("x=?utf-8?Q?=41=?=y", "xA=y"),
            ("=?utf-8?Q?a?=\t=?iso-8859-1?Q?b?=", "ab"),
        ] {
            assert_eq!(
                spamassassin_decode("Subject", value.as_bytes()),
                expected,
                "{value}"
            );
        }
        // Fields SpamAssassin never decodes.
        assert_eq!(
            spamassassin_decode("Message-ID", b"<=?utf-8?Q?a?=>"),
            "<=?utf-8?Q?a?=>"
        );
        assert_eq!(
            spamassassin_decode("List-Id", b"=?utf-8?Q?a?="),
            "=?utf-8?Q?a?="
        );
    }

    #[test]
    fn fields_and_folding() {
        let data = b"From: a@b\r\nSubject: one\r\n two\r\nDate: x\r\n\r\nbody";
        let b = parse(data, 100, false, true, HeaderEnd::Strikes);
        assert_eq!(b.fields.len(), 3);
        assert_eq!(b.fields[1].unfolded(), b" one two");
        assert_eq!(&data[b.body_offset..], b"body");
        assert!(b.issues.is_empty(), "{:?}", b.issues);
    }

    #[test]
    fn anomalies() {
        let b = parse(
            b"Subject: caf\xe9\nSubject: again\nX: \x01\n \t\njunk line\n\nbody",
            100,
            false,
            true,
            HeaderEnd::Strikes,
        );
        let kinds: Vec<_> = b.issues.iter().map(|i| i.kind).collect();
        for k in [
            BadHeaderKind::EightBit,
            BadHeaderKind::Control,
            BadHeaderKind::WhitespaceLine,
            BadHeaderKind::Syntax,
            BadHeaderKind::Duplicate,
            BadHeaderKind::MissingDate,
            BadHeaderKind::MissingFrom,
        ] {
            assert!(kinds.contains(&k), "{k:?} missing from {kinds:?}");
        }
    }

    #[test]
    fn bare_cr_readings() {
        let data = b"Subject: a\rContent-Type: text/html\r\rX\n\nbody";
        let strict = parse(data, 100, false, false, HeaderEnd::Strikes);
        assert!(strict.bare_cr);
        assert_eq!(strict.fields.len(), 1);
        let outlook = parse(data, 100, true, false, HeaderEnd::Strikes);
        assert_eq!(outlook.fields.len(), 2);
        assert_eq!(&data[outlook.body_offset..], b"X\n\nbody");
    }

    #[test]
    fn header_without_blank_line_ends_as_spamassassin_reads_it() {
        // Three stray lines are skipped (one with a colon is kept as a field, as
        // Message.pm keeps it); the fourth starts the body.
        let data = b"From: a@b\nSubject: s\nHello there\n folded stray\nsee the from: field\n\
                     third stray\nfourth stray\nX-Late: v\n\nrest";
        let b = parse(data, 100, false, true, HeaderEnd::Strikes);
        assert!(b.ended_early);
        let names: Vec<&str> = b.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["From", "Subject", "see the from"]);
        assert_eq!(b.fields[1].raw_value, b" s");
        assert!(data[b.body_offset..].starts_with(b"fourth stray\n"));
        assert!(b.issues.iter().any(|i| i.detail.contains("no blank line")));
        // The other reading reads on to the blank line, skipping every stray line.
        let b = parse(data, 100, false, true, HeaderEnd::BlankLine);
        assert!(!b.ended_early);
        let names: Vec<&str> = b.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["From", "Subject", "X-Late"]);
        assert_eq!(&data[b.body_offset..], b"rest");
        // A part's header ends only at a blank line.
        let b = parse(data, 100, false, false, HeaderEnd::Strikes);
        assert_eq!(&data[b.body_offset..], b"rest");
    }

    #[test]
    fn delimiter_ends_a_message_header() {
        let data = b"Content-Type: multipart/mixed; boundary=b\n--b\n\nx\n--b--\n";
        let b = parse(data, 100, false, true, HeaderEnd::Strikes);
        assert!(b.ended_early);
        assert_eq!(b.fields.len(), 1);
        assert!(data[b.body_offset..].starts_with(b"--b\n"));
        let b = parse(data, 100, false, true, HeaderEnd::BlankLine);
        assert!(!b.ended_early);
        assert_eq!(&data[b.body_offset..], b"x\n--b--\n");
    }

    #[test]
    fn header_limit() {
        let mut m = Vec::new();
        for i in 0..50 {
            m.extend_from_slice(format!("X-{i}: v\n").as_bytes());
        }
        m.extend_from_slice(b"\nbody");
        let b = parse(&m, 10, false, false, HeaderEnd::Strikes);
        assert!(b.truncated);
        assert_eq!(b.fields.len(), 10);
        assert_eq!(&m[b.body_offset..], b"body");
    }
}
