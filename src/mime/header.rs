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
        decode_value(out)
    }
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

/// Parses the header block at the start of `data`.
///
/// `top_level` adds the checks that apply only to a message's own header (missing Date/From,
/// duplicate singletons) and allows an mbox `From ` line first.
pub fn parse(data: &[u8], max_headers: u32, cr_is_newline: bool, top_level: bool) -> HeaderBlock {
    let mut block = HeaderBlock::default();
    let mut pos = 0;
    let mut line_no = 0usize;
    let mut current: Option<HeaderField> = None;
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
                None => issue(
                    &mut block,
                    BadHeaderKind::Syntax,
                    format!("continuation line {line_no} without a field"),
                ),
            }
            pos = next;
            continue;
        }
        let colon = memchr::memchr(b':', line);
        let name = colon.map(|c| line[..c].trim_ascii_end());
        match name {
            Some(name) if is_field_name(name) => {
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
    fn fields_and_folding() {
        let data = b"From: a@b\r\nSubject: one\r\n two\r\nDate: x\r\n\r\nbody";
        let b = parse(data, 100, false, true);
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
        let strict = parse(data, 100, false, false);
        assert!(strict.bare_cr);
        assert_eq!(strict.fields.len(), 1);
        let outlook = parse(data, 100, true, false);
        assert_eq!(outlook.fields.len(), 2);
        assert_eq!(&data[outlook.body_offset..], b"X\n\nbody");
    }

    #[test]
    fn header_limit() {
        let mut m = Vec::new();
        for i in 0..50 {
            m.extend_from_slice(format!("X-{i}: v\n").as_bytes());
        }
        m.extend_from_slice(b"\nbody");
        let b = parse(&m, 10, false, false);
        assert!(b.truncated);
        assert_eq!(b.fields.len(), 10);
        assert_eq!(&m[b.body_offset..], b"body");
    }
}
