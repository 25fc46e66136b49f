//! The structural walk of one message under one [`Reading`].

use super::decode::{self, TransferEncoding};
use super::header::{self, HeaderBlock, HeaderField};
use crate::archive::Budget;
use crate::filetype::{self, FileType};
use crate::object::{Object, Origin};
use crate::report::{AnomalyKind, Finding, UncheckedReason};
use memchr::memmem;
use std::borrow::Cow;

/// The choices a reader makes where a message is ambiguous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Reading {
    /// A bare CR ends a line (Outlook) instead of being a character in it.
    pub bare_cr_newline: bool,
    /// The last of several Content-Type fields counts, not the first.
    pub last_content_type: bool,
    /// The last of several Content-Transfer-Encoding fields counts, not the first.
    pub last_encoding: bool,
    /// The last of several `boundary=` parameters counts, not the first.
    pub last_boundary: bool,
    /// A line that starts with the delimiter is a boundary whatever follows it (lenient
    /// readers), instead of only when nothing but whitespace or `--` follows.
    pub prefix_boundary: bool,
    /// Only a blank line ends a message's header ([`header::HeaderEnd::BlankLine`]), instead
    /// of SpamAssassin's reading, where a delimiter or a fourth stray line ends it too.
    pub blank_line_header_end: bool,
    /// Values read as the most lenient readers read them: every byte of an encoding name
    /// that is no letter or digit ignored (`"base64"`, `base-64`), control characters in a
    /// Content-Type dropped, and a bare `multipart` with a boundary read as
    /// multipart/mixed.
    pub lenient_values: bool,
    /// A closing delimiter ends the multipart only when no delimiter line follows it: the
    /// parts after an early close are read too, instead of as the epilogue.
    pub past_close: bool,
    /// A multipart whose body carries a Content-Transfer-Encoding (base64 or
    /// quoted-printable, which RFC 2045 forbids there) is decoded before it is split,
    /// instead of split as it stands.
    pub decoded_multipart: bool,
}

/// Which choices of a [`Reading`] made a difference while walking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ambiguities {
    /// Bare CRs were seen in a header block.
    pub bare_cr: bool,
    /// Duplicate Content-Type fields with different values.
    pub content_type: bool,
    /// Duplicate Content-Transfer-Encoding fields with different values.
    pub encoding: bool,
    /// Different `boundary=` parameters.
    pub boundary: bool,
    /// Lines that are boundaries only to a lenient reader.
    pub prefix: bool,
    /// A message header ended without its blank line.
    pub header_end: bool,
    /// A value a lenient reader reads differently ([`Reading::lenient_values`]).
    pub lenient: bool,
    /// Delimiter lines after a closing delimiter.
    pub after_close: bool,
    /// A multipart with a base64 or quoted-printable Content-Transfer-Encoding.
    pub encoded_multipart: bool,
}

impl Ambiguities {
    /// The alternative readings worth walking: each choice flipped alone, and all together.
    pub fn alternatives(&self) -> Vec<Reading> {
        /// Whether a choice made a difference, and how to flip it.
        type Flip = (bool, fn(&mut Reading));
        let flips: [Flip; 9] = [
            (self.bare_cr, |r| r.bare_cr_newline = true),
            (self.content_type, |r| r.last_content_type = true),
            (self.encoding, |r| r.last_encoding = true),
            (self.boundary, |r| r.last_boundary = true),
            (self.prefix, |r| r.prefix_boundary = true),
            (self.header_end, |r| r.blank_line_header_end = true),
            (self.lenient, |r| r.lenient_values = true),
            (self.after_close, |r| r.past_close = true),
            (self.encoded_multipart, |r| r.decoded_multipart = true),
        ];
        let mut out = Vec::new();
        let mut all = Reading::default();
        for (seen, flip) in flips {
            if seen {
                let mut one = Reading::default();
                flip(&mut one);
                out.push(one);
                flip(&mut all);
            }
        }
        if out.len() > 1 {
            out.push(all);
        }
        out
    }
}

/// The result of walking one message.
#[derive(Debug, Default)]
pub struct Walked<'d> {
    /// Objects found below the root, in document order. `parent` is `None` for MIME parts (their
    /// parent is the root) and the local index of the text part for encoded blocks.
    pub objects: Vec<Object<'d>>,
    /// Anomaly findings.
    pub findings: Vec<Finding>,
    /// The root's own header block.
    pub header: HeaderBlock,
    /// Choices that made a difference.
    pub ambiguities: Ambiguities,
}

struct Frame<'d> {
    data: &'d [u8],
    path: String,
    depth: u32,
    /// Whether this frame starts with a header block (always, except a multipart's default).
    digest: bool,
    boundaries: Vec<Vec<u8>>,
}

/// A parsed Content-Type (or Content-Disposition: `mime` is then the disposition).
struct ContentType {
    mime: String,
    params: Vec<(String, String)>,
    /// The value was read leniently: parameters without their `;`.
    loose: bool,
}

fn parse_content_type(raw: &[u8]) -> ContentType {
    let merged = super::header::merge_long_continuations(raw);
    let raw = merged.as_deref().unwrap_or(raw);
    let mut buf = Vec::with_capacity(raw.len() + 20);
    buf.extend_from_slice(b"Content-Type:");
    buf.extend_from_slice(raw);
    buf.extend_from_slice(b"\r\n\r\n");
    let parsed = super::field_parser()
        .parse_headers(&buf)
        .and_then(|m| m.parts.into_iter().next())
        .and_then(|p| p.headers.into_iter().next())
        .and_then(|h| match h.value {
            mail_parser::HeaderValue::ContentType(ct) => Some(ct),
            _ => None,
        });
    let mut ct = match parsed {
        Some(ct) => ContentType {
            mime: match &ct.c_subtype {
                Some(sub) => format!("{}/{}", ct.c_type, sub).to_ascii_lowercase(),
                None => ct.c_type.to_ascii_lowercase(),
            },
            params: ct
                .attributes
                .unwrap_or_default()
                .into_iter()
                .map(|a| (a.name.to_ascii_lowercase(), a.value.into_owned()))
                .collect(),
            loose: false,
        },
        None => ContentType {
            mime: String::new(),
            params: Vec::new(),
            loose: false,
        },
    };
    // `text/html charset=x`, `multipart/mixed boundary=b`, `attachment filename=a.exe`: the
    // strict parse makes the rest part of the type. SpamAssassin's `parse_content_type` and
    // mail clients take the type up to the first blank and find the parameters anyway.
    if let Some(cut) = ct.mime.find(|c: char| c.is_ascii_whitespace() || c == '"') {
        ct.mime.truncate(cut);
        ct.loose = true;
        for key in ["boundary", "charset", "name", "filename"] {
            if param(&ct, key).is_none()
                && let Some(v) = loose_param(raw, key.as_bytes())
            {
                ct.params.push((key.to_string(), v));
            }
        }
    }
    ct
}

/// The value of parameter `key` wherever it is in `raw` (`key`, blanks, `=`, blanks, then a
/// quoted string or the text up to a blank or `;`), the key not preceded by a letter or
/// digit (so `name` is not found in `filename`).
fn loose_param(raw: &[u8], key: &[u8]) -> Option<String> {
    let lower = raw.to_ascii_lowercase();
    let mut from = 0;
    while let Some(p) = memchr::memmem::find(&lower[from..], key).map(|p| p + from) {
        from = p + key.len();
        if p > 0 && raw[p - 1].is_ascii_alphanumeric() {
            continue;
        }
        let rest = raw[from..].trim_ascii_start();
        let Some(rest) = rest.strip_prefix(b"=") else {
            continue;
        };
        let rest = rest.trim_ascii_start();
        let value = match rest.strip_prefix(b"\"") {
            Some(q) => &q[..memchr::memchr(b'"', q).unwrap_or(q.len())],
            None => {
                let end = rest
                    .iter()
                    .position(|&b| b.is_ascii_whitespace() || b == b';')
                    .unwrap_or(rest.len());
                &rest[..end]
            }
        };
        if !value.is_empty() {
            return Some(String::from_utf8_lossy(value).into_owned());
        }
    }
    None
}

/// Every file name a part declares that is not `name`, each once: readers differ on which
/// they show (Content-Disposition `filename` or Content-Type `name`, the first or the last of
/// a repeated parameter, the name up to a NUL, the name without the blanks a fold left).
fn other_names(
    name: Option<&str>,
    disposition: Option<&ContentType>,
    ct: &ContentType,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let declared = disposition
        .into_iter()
        .flat_map(|d| d.params.iter().filter(|(n, _)| n == "filename"))
        .chain(ct.params.iter().filter(|(n, _)| n == "name"))
        .map(|(_, v)| v.trim());
    for v in declared.chain(name) {
        let cut = v.split('\0').next().unwrap_or(v).trim_end();
        let unblanked: String = if v.contains(char::is_whitespace) {
            v.chars().filter(|c| !c.is_whitespace()).collect()
        } else {
            String::new()
        };
        for candidate in [v, cut, unblanked.as_str()] {
            if !candidate.is_empty()
                && Some(candidate) != name
                && !out.iter().any(|o| o == candidate)
            {
                out.push(candidate.to_string());
            }
        }
    }
    out
}

fn param<'p>(ct: &'p ContentType, name: &str) -> Option<&'p str> {
    ct.params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Picks the first or last of several fields, noting when they disagree.
fn pick<'h>(fields: &[&'h HeaderField], last: bool, differ: &mut bool) -> Option<&'h HeaderField> {
    if fields.len() > 1 {
        let first = fields[0].unfolded();
        if fields
            .iter()
            .any(|f| f.unfolded().trim_ascii() != first.trim_ascii())
        {
            *differ = true;
        }
    }
    if last {
        fields.last().copied()
    } else {
        fields.first().copied()
    }
}

struct Delimiter {
    /// Where the content before the delimiter line ends (its line end belongs to the delimiter).
    content_end: usize,
    /// Where the line after the delimiter starts.
    next: usize,
    close: bool,
}

/// Finds the delimiter lines of `boundary` in `body`, up to `max_parts` parts.
fn delimiters(
    body: &[u8],
    boundary: &[u8],
    reading: &Reading,
    max_parts: usize,
    lenient_only: &mut bool,
) -> Vec<Delimiter> {
    let mut dash = Vec::with_capacity(boundary.len() + 2);
    dash.extend_from_slice(b"--");
    dash.extend_from_slice(boundary);
    let mut out = Vec::new();
    for pos in memmem::find_iter(body, &dash) {
        let at_line_start = pos == 0
            || body[pos - 1] == b'\n'
            || (reading.bare_cr_newline && body[pos - 1] == b'\r');
        if !at_line_start {
            continue;
        }
        let after = pos + dash.len();
        let (line_end, next) = header::line_at(body, pos, reading.bare_cr_newline);
        let close = body[after..line_end].starts_with(b"--");
        let rest = &body[after + if close { 2 } else { 0 }..line_end];
        if !rest
            .iter()
            .all(|c| *c == b' ' || *c == b'\t' || *c == b'\r')
        {
            *lenient_only = true;
            if !reading.prefix_boundary {
                continue;
            }
        }
        let mut content_end = pos;
        if content_end > 0 && body[content_end - 1] == b'\n' {
            content_end -= 1;
            if content_end > 0 && body[content_end - 1] == b'\r' {
                content_end -= 1;
            }
        } else if content_end > 0 && body[content_end - 1] == b'\r' {
            content_end -= 1;
        }
        out.push(Delimiter {
            content_end,
            next,
            close,
        });
        if (close && !reading.past_close) || out.len() > max_parts {
            break;
        }
    }
    out
}

fn anomaly(findings: &mut Vec<Finding>, kind: AnomalyKind, path: &str, detail: impl Into<String>) {
    findings.push(Finding::Anomaly {
        kind,
        path: path.to_string(),
        detail: detail.into(),
    });
}

fn child_path(path: &str, n: usize) -> String {
    if path.is_empty() {
        n.to_string()
    } else {
        format!("{path}/{n}")
    }
}

fn named_path(path: &str, what: &str) -> String {
    if path.is_empty() {
        what.to_string()
    } else {
        format!("{path}/{what}")
    }
}

/// Walks the message in `data` (the root object at `root_path`, `root_depth`) under `reading`.
///
/// Every part found is charged to `budget` (objects and decoded bytes) and checked against
/// `max_levels`; the walk is an explicit stack, so hostile nesting cannot overflow it.
/// Embedded messages (message/rfc822 parts) are emitted as objects of origin
/// [`Origin::EmbeddedMessage`] and not descended into: the engine walks them in turn.
pub fn walk<'d>(
    data: &'d [u8],
    root_path: &str,
    root_depth: u32,
    reading: &Reading,
    budget: &mut Budget,
) -> Walked<'d> {
    let max_headers = budget.limits().max_headers;
    let mut out = Walked::default();
    let mut stack = vec![Frame {
        data,
        path: root_path.to_string(),
        depth: root_depth,
        digest: false,
        boundaries: Vec::new(),
    }];
    let mut is_root = true;
    while let Some(frame) = stack.pop() {
        if budget.is_exhausted() {
            break;
        }
        let end = if reading.blank_line_header_end {
            header::HeaderEnd::BlankLine
        } else {
            header::HeaderEnd::Strikes
        };
        let head = header::parse(
            frame.data,
            max_headers,
            reading.bare_cr_newline,
            is_root,
            end,
        );
        out.ambiguities.header_end |= head.ended_early;
        if head.bare_cr {
            out.ambiguities.bare_cr = true;
            anomaly(
                &mut out.findings,
                AnomalyKind::BareCr,
                &frame.path,
                "bare CR in header block (Outlook ends lines there)",
            );
        }
        if head.truncated {
            budget.note(
                UncheckedReason::MaxHeaders,
                &frame.path,
                format!("More than {max_headers} header fields"),
            );
        }
        let body = &frame.data[head.body_offset.min(frame.data.len())..];
        let cts: Vec<&HeaderField> = head.get("Content-Type").collect();
        let ctes: Vec<&HeaderField> = head.get("Content-Transfer-Encoding").collect();
        let mut ct_differ = false;
        let ct_field = pick(&cts, reading.last_content_type, &mut ct_differ);
        if cts.len() > 1 {
            anomaly(
                &mut out.findings,
                AnomalyKind::DuplicateContentType,
                &frame.path,
                format!("{} Content-Type fields", cts.len()),
            );
            out.ambiguities.content_type |= ct_differ;
        }
        let mut cte_differ = false;
        let cte_field = pick(&ctes, reading.last_encoding, &mut cte_differ);
        if ctes.len() > 1 {
            anomaly(
                &mut out.findings,
                AnomalyKind::DuplicateEncoding,
                &frame.path,
                format!("{} Content-Transfer-Encoding fields", ctes.len()),
            );
            out.ambiguities.encoding |= cte_differ;
        }
        let ct = match ct_field {
            Some(f) => {
                let value = f.unfolded();
                let has_controls = value.iter().any(|&b| b < 0x20 && b != b'\t');
                if has_controls {
                    out.ambiguities.lenient = true;
                }
                if reading.lenient_values && has_controls {
                    let kept: Vec<u8> = value
                        .iter()
                        .copied()
                        .filter(|&b| b >= 0x20 || b == b'\t')
                        .collect();
                    parse_content_type(&kept)
                } else {
                    parse_content_type(&value)
                }
            }
            None => ContentType {
                mime: if frame.digest {
                    "message/rfc822".into()
                } else {
                    "text/plain".into()
                },
                params: Vec::new(),
                loose: false,
            },
        };
        if ct.loose {
            anomaly(
                &mut out.findings,
                AnomalyKind::LooseParameters,
                &frame.path,
                format!("Content-Type {:?} has parameters without ';'", ct.mime),
            );
        }
        let bare_multipart = ct.mime == "multipart" && param(&ct, "boundary").is_some();
        if bare_multipart {
            out.ambiguities.lenient = true;
            anomaly(
                &mut out.findings,
                AnomalyKind::BareMultipart,
                &frame.path,
                "Content-Type multipart without a subtype",
            );
        }
        let ct_mime = if ct.mime.contains('/') {
            ct.mime.clone()
        } else if bare_multipart && reading.lenient_values {
            "multipart/mixed".to_string()
        } else {
            // RFC 2045: an unparseable Content-Type reads as text/plain.
            "text/plain".to_string()
        };
        if is_root {
            out.header = head.clone();
            is_root = false;
        }
        if ct_mime.starts_with("multipart/") {
            let boundaries: Vec<&str> = ct
                .params
                .iter()
                .filter(|(n, _)| n == "boundary")
                .map(|(_, v)| v.as_str())
                .collect();
            if boundaries.len() > 1 {
                if boundaries.iter().any(|b| *b != boundaries[0]) {
                    out.ambiguities.boundary = true;
                    anomaly(
                        &mut out.findings,
                        AnomalyKind::ConflictingBoundary,
                        &frame.path,
                        format!("boundary parameters {boundaries:?}"),
                    );
                } else {
                    anomaly(
                        &mut out.findings,
                        AnomalyKind::DuplicateBoundary,
                        &frame.path,
                        format!("{} boundary parameters", boundaries.len()),
                    );
                }
            }
            let boundary = if reading.last_boundary {
                boundaries.last()
            } else {
                boundaries.first()
            };
            let child_depth = frame.depth + 1;
            match boundary {
                Some(b) if !b.is_empty() => {
                    if !budget.enter_level(child_depth, &frame.path) {
                        // Too deep: keep the undecoded rest as one object so it is still scanned.
                        emit_leaf(
                            &mut out,
                            budget,
                            LeafSpec {
                                path: named_path(&frame.path, "unparsed"),
                                depth: frame.depth,
                                origin: Origin::MimePart,
                                name: None,
                                other_names: Vec::new(),
                                declared_type: Some(ct_mime.clone()),
                                charset: None,
                                encoded: None,
                            },
                            Cow::Borrowed(body),
                        );
                        continue;
                    }
                    if let Some(encoding) = multipart_encoding(cte_field) {
                        out.ambiguities.encoded_multipart = true;
                        anomaly(
                            &mut out.findings,
                            AnomalyKind::EncodedMultipart,
                            &frame.path,
                            format!("{ct_mime} with Content-Transfer-Encoding {encoding:?}"),
                        );
                        if reading.decoded_multipart {
                            emit_decoded_multipart(
                                &mut out, budget, &frame, ct_field, encoding, body,
                            );
                            continue;
                        }
                    }
                    let bb = b.as_bytes();
                    for outer in &frame.boundaries {
                        if outer.as_slice() == bb && *reading == Reading::default() {
                            // One reader ends the outer multipart at the inner one's closing
                            // line, another (recursive descent) parses on: the parts after it
                            // are an epilogue to one and attachments to the other. Fuzzing
                            // found EICAR hidden that way, so the message is unchecked.
                            budget.note(
                                UncheckedReason::AmbiguousMime,
                                &frame.path,
                                "Ambiguous MIME: a nested multipart reuses an enclosing boundary",
                            );
                        }
                        if outer.starts_with(bb) || bb.starts_with(outer) {
                            out.ambiguities.prefix = true;
                            anomaly(
                                &mut out.findings,
                                AnomalyKind::PrefixBoundary,
                                &frame.path,
                                format!(
                                    "boundary {b:?} and enclosing {:?} are prefixes",
                                    String::from_utf8_lossy(outer)
                                ),
                            );
                        }
                    }
                    let max_parts = budget.limits().max_files as usize;
                    let mut lenient_only = false;
                    let delims = delimiters(body, bb, reading, max_parts, &mut lenient_only);
                    if lenient_only {
                        out.ambiguities.prefix = true;
                    }
                    if delims.is_empty() {
                        anomaly(
                            &mut out.findings,
                            AnomalyKind::MissingBoundary,
                            &frame.path,
                            format!("no line with boundary {b:?}"),
                        );
                        emit_text_fallback(&mut out, budget, &frame, body);
                        continue;
                    }
                    let preamble = &body[..delims[0].content_end];
                    if !preamble.trim_ascii().is_empty() {
                        anomaly(
                            &mut out.findings,
                            AnomalyKind::Preamble,
                            &frame.path,
                            format!("{} bytes before the first boundary", preamble.len()),
                        );
                        emit_leaf(
                            &mut out,
                            budget,
                            LeafSpec {
                                path: named_path(&frame.path, "preamble"),
                                depth: child_depth,
                                origin: Origin::Preamble,
                                name: None,
                                other_names: Vec::new(),
                                declared_type: Some("text/plain".into()),
                                charset: None,
                                encoded: None,
                            },
                            Cow::Borrowed(preamble),
                        );
                    }
                    let last = delims.last().expect("not empty");
                    if last.close {
                        let epilogue = &body[last.next.min(body.len())..];
                        let mut lenient = false;
                        if !delimiters(epilogue, bb, reading, 0, &mut lenient).is_empty() {
                            // Readers that take every delimiter line as a part boundary read
                            // parts here; the others an epilogue.
                            out.ambiguities.after_close = true;
                            anomaly(
                                &mut out.findings,
                                AnomalyKind::PartsAfterClose,
                                &frame.path,
                                format!("delimiter lines after the closing boundary {b:?}"),
                            );
                        }
                        if !epilogue.trim_ascii().is_empty() {
                            anomaly(
                                &mut out.findings,
                                AnomalyKind::Epilogue,
                                &frame.path,
                                format!("{} bytes after the closing boundary", epilogue.len()),
                            );
                            emit_leaf(
                                &mut out,
                                budget,
                                LeafSpec {
                                    path: named_path(&frame.path, "epilogue"),
                                    depth: child_depth,
                                    origin: Origin::Epilogue,
                                    name: None,
                                    other_names: Vec::new(),
                                    declared_type: Some("text/plain".into()),
                                    charset: None,
                                    encoded: None,
                                },
                                Cow::Borrowed(epilogue),
                            );
                        }
                    } else {
                        anomaly(
                            &mut out.findings,
                            AnomalyKind::UnclosedBoundary,
                            &frame.path,
                            format!("boundary {b:?} is never closed"),
                        );
                    }
                    let mut parts = Vec::new();
                    for (i, d) in delims.iter().enumerate() {
                        if d.close && (i + 1 == delims.len() || !reading.past_close) {
                            break;
                        }
                        let end = delims.get(i + 1).map_or(body.len(), |n| n.content_end);
                        let start = d.next.min(end);
                        if d.close && body[start..end].trim_ascii().is_empty() {
                            // Only blank lines between a close and the next delimiter.
                            continue;
                        }
                        parts.push(&body[start..end]);
                    }
                    if parts.is_empty() {
                        anomaly(
                            &mut out.findings,
                            AnomalyKind::EmptyMultipart,
                            &frame.path,
                            "multipart without body parts",
                        );
                    }
                    let mut enclosing = frame.boundaries.clone();
                    enclosing.push(bb.to_vec());
                    let digest = ct_mime == "multipart/digest";
                    for (i, part) in parts.iter().enumerate().rev() {
                        stack.push(Frame {
                            data: part,
                            path: child_path(&frame.path, i + 1),
                            depth: child_depth,
                            digest,
                            boundaries: enclosing.clone(),
                        });
                    }
                }
                _ => {
                    anomaly(
                        &mut out.findings,
                        AnomalyKind::MissingBoundary,
                        &frame.path,
                        "multipart without a boundary parameter",
                    );
                    emit_text_fallback(&mut out, budget, &frame, body);
                }
            }
            continue;
        }

        // A leaf: decode it.
        let (mut encoding, clean) = cte_field.map_or((TransferEncoding::Identity, true), |f| {
            decode::parse_encoding(&f.unfolded())
        });
        // An encoding name the strict parse does not know (`"base64"`, `base-64`).
        if !clean
            && encoding == TransferEncoding::Identity
            && let Some(f) = cte_field
        {
            let lenient = decode::parse_encoding_leniently(&f.unfolded());
            if lenient != encoding {
                out.ambiguities.lenient = true;
                if reading.lenient_values {
                    encoding = lenient;
                }
            }
        }
        if !clean {
            anomaly(
                &mut out.findings,
                AnomalyKind::BadEncoding,
                &frame.path,
                format!(
                    "Content-Transfer-Encoding {:?}",
                    String::from_utf8_lossy(&cte_field.map(|f| f.unfolded()).unwrap_or_default())
                        .trim()
                ),
            );
        }
        let decoded: Cow<'d, [u8]> = match encoding {
            TransferEncoding::Identity => Cow::Borrowed(body),
            TransferEncoding::Base64 => {
                let (d, garbage) = decode::base64(body);
                if garbage {
                    anomaly(
                        &mut out.findings,
                        AnomalyKind::BadEncodedData,
                        &frame.path,
                        "invalid characters in base64",
                    );
                }
                Cow::Owned(d)
            }
            TransferEncoding::QuotedPrintable => {
                let (d, bad) = decode::quoted_printable(body);
                if bad {
                    anomaly(
                        &mut out.findings,
                        AnomalyKind::BadEncodedData,
                        &frame.path,
                        "malformed quoted-printable escape",
                    );
                }
                Cow::Owned(d)
            }
            TransferEncoding::Uuencode => match super::blocks::uuencoded(body).into_iter().next() {
                Some(block) => Cow::Owned(block.data),
                None => Cow::Borrowed(body),
            },
        };
        let dispositions: Vec<&HeaderField> = head.get("Content-Disposition").collect();
        let disposition = dispositions
            .first()
            .map(|f| parse_content_type(&f.unfolded()));
        if disposition.as_ref().is_some_and(|d| d.loose) {
            anomaly(
                &mut out.findings,
                AnomalyKind::LooseParameters,
                &frame.path,
                "Content-Disposition has parameters without ';'",
            );
        }
        let name = disposition
            .as_ref()
            .and_then(|d| param(d, "filename"))
            .or_else(|| param(&ct, "name"))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let other_names = other_names(name.as_deref(), disposition.as_ref(), &ct);
        let charset = param(&ct, "charset").map(|c| c.trim().to_ascii_lowercase());
        let is_message = matches!(
            ct_mime.as_str(),
            "message/rfc822" | "message/global" | "message/news"
        );
        let path = if frame.path.is_empty() {
            // A single-part message: its body is part 1.
            "1".to_string()
        } else {
            frame.path.clone()
        };
        let spec = LeafSpec {
            path,
            depth: frame.depth + u32::from(frame.path.is_empty()),
            origin: if is_message {
                Origin::EmbeddedMessage
            } else {
                Origin::MimePart
            },
            name,
            other_names,
            declared_type: Some(ct_mime.clone()),
            charset,
            encoded: matches!(
                encoding,
                TransferEncoding::Base64 | TransferEncoding::QuotedPrintable
            )
            .then_some(crate::object::Encoded { encoding, body }),
        };
        if let Some(id) = emit_leaf(&mut out, budget, spec, decoded) {
            if ct_mime.starts_with("text/") {
                check_text(
                    &mut out.findings,
                    &out.objects[id].path,
                    &out.objects[id].data,
                );
            }
            if ct_mime.starts_with("text/") || ct_mime == "application/mac-binhex40" {
                emit_blocks(&mut out, budget, id);
            }
        }
    }
    out
}

/// Text-body anomalies: NUL bytes, lines over RFC 5322's 998 characters.
fn check_text(findings: &mut Vec<Finding>, path: &str, data: &[u8]) {
    if memchr::memchr(0, data).is_some() {
        anomaly(
            findings,
            AnomalyKind::NulInBody,
            path,
            "NUL byte in a text part",
        );
    }
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', data).chain(std::iter::once(data.len())) {
        let line = &data[start..end];
        let len = line.strip_suffix(b"\r").map_or(line.len(), <[u8]>::len);
        if len > 998 {
            anomaly(
                findings,
                AnomalyKind::LongBodyLine,
                path,
                format!("a {len}-character line in a text part"),
            );
            break;
        }
        start = end + 1;
    }
}

struct LeafSpec<'d> {
    path: String,
    depth: u32,
    origin: Origin,
    name: Option<String>,
    other_names: Vec<String>,
    declared_type: Option<String>,
    charset: Option<String>,
    encoded: Option<crate::object::Encoded<'d>>,
}

/// The transfer encoding of a multipart's body when it has one that changes the bytes
/// (base64, quoted-printable: RFC 2045 allows neither on a multipart), read leniently.
fn multipart_encoding(cte_field: Option<&HeaderField>) -> Option<TransferEncoding> {
    let value = cte_field?.unfolded();
    let (strict, _) = decode::parse_encoding(&value);
    let encoding = if strict == TransferEncoding::Identity {
        decode::parse_encoding_leniently(&value)
    } else {
        strict
    };
    matches!(
        encoding,
        TransferEncoding::Base64 | TransferEncoding::QuotedPrintable
    )
    .then_some(encoding)
}

/// A multipart whose body is base64 or quoted-printable, as the readers that decode it read
/// it: its decoded body under its own Content-Type, emitted as an embedded message (the
/// engine walks it in turn).
fn emit_decoded_multipart<'d>(
    out: &mut Walked<'d>,
    budget: &mut Budget,
    frame: &Frame<'d>,
    ct_field: Option<&HeaderField>,
    encoding: TransferEncoding,
    body: &'d [u8],
) {
    let decoded = if encoding == TransferEncoding::Base64 {
        decode::base64(body).0
    } else {
        decode::quoted_printable(body).0
    };
    let mut message = b"Content-Type: ".to_vec();
    if let Some(f) = ct_field {
        message.extend_from_slice(&f.unfolded());
    }
    message.extend_from_slice(b"\n\n");
    message.extend_from_slice(&decoded);
    emit_leaf(
        out,
        budget,
        LeafSpec {
            path: named_path(&frame.path, "decoded"),
            depth: frame.depth + 1,
            origin: Origin::EmbeddedMessage,
            name: None,
            other_names: Vec::new(),
            declared_type: Some("message/rfc822".into()),
            charset: None,
            encoded: None,
        },
        Cow::Owned(message),
    );
}

/// A multipart that cannot be split is read as one text part, so its content is still scanned.
fn emit_text_fallback<'d>(
    out: &mut Walked<'d>,
    budget: &mut Budget,
    frame: &Frame<'d>,
    body: &'d [u8],
) {
    // At the deepest level the text stays at the multipart's own level, as an unparsed
    // multipart's body does (fuzzing found it one level past max_levels).
    let depth = if budget.enter_level(frame.depth + 1, &frame.path) {
        frame.depth + 1
    } else {
        frame.depth
    };
    let spec = LeafSpec {
        path: child_path(&frame.path, 1),
        depth,
        origin: Origin::MimePart,
        name: None,
        other_names: Vec::new(),
        declared_type: Some("text/plain".into()),
        charset: None,
        encoded: None,
    };
    if let Some(id) = emit_leaf(out, budget, spec, Cow::Borrowed(body)) {
        emit_blocks(out, budget, id);
    }
}

fn emit_leaf<'d>(
    out: &mut Walked<'d>,
    budget: &mut Budget,
    spec: LeafSpec<'d>,
    data: Cow<'d, [u8]>,
) -> Option<usize> {
    if !budget.add_object(&spec.path) {
        return None;
    }
    // A decoded part over max_object_size keeps its first max_object_size bytes (they are still
    // scanned) and is reported unchecked, as an archive member is. Fuzzing found parts of any
    // size passing a small max_object_size untouched.
    let cap = budget.limits().max_object_size;
    let data = if data.len() as u64 > cap {
        budget.note(
            UncheckedReason::MaxObjectSize,
            &spec.path,
            format!("Object larger than max_object_size ({cap} bytes)"),
        );
        let keep = usize::try_from(cap).unwrap_or(usize::MAX);
        match data {
            Cow::Borrowed(d) => Cow::Borrowed(&d[..keep]),
            Cow::Owned(mut v) => {
                v.truncate(keep);
                Cow::Owned(v)
            }
        }
    } else {
        data
    };
    if !budget.charge(data.len() as u64, &spec.path) {
        return None;
    }
    let detected = if spec.origin == Origin::EmbeddedMessage {
        FileType::Mail
    } else {
        filetype::detect(&data)
    };
    out.objects.push(Object {
        path: spec.path,
        parent: None,
        depth: spec.depth,
        origin: spec.origin,
        name: spec.name,
        other_names: spec.other_names,
        declared_type: spec.declared_type,
        charset: spec.charset,
        detected,
        data,
        encoded: spec.encoded,
    });
    Some(out.objects.len() - 1)
}

/// Emits the encoded blocks (uuencode, yEnc, BinHex, `data:` URIs) inside text object `id`.
fn emit_blocks(out: &mut Walked<'_>, budget: &mut Budget, id: usize) {
    let text = &out.objects[id];
    let mut found = super::blocks::find_all(&text.data, text.is_html());
    if found.is_empty() {
        return;
    }
    let (parent_path, parent_depth) = (text.path.clone(), text.depth);
    // A block is one more decoding level (fuzzing found blocks one level past max_levels in a
    // text part at the deepest level).
    if !budget.enter_level(parent_depth + 1, &parent_path) {
        return;
    }
    // The encoding is the container: `1 uuencode/eicar.com`, `1 data-uri/2`.
    let sep = if parent_path.contains(' ') { '/' } else { ' ' };
    for (n, block) in found.drain(..).enumerate() {
        let member = block.name.clone().unwrap_or_else(|| (n + 1).to_string());
        let path = format!("{parent_path}{sep}{}/{member}", block.kind.name());
        let spec = LeafSpec {
            path,
            depth: parent_depth + 1,
            origin: block.kind.origin(),
            name: block.name,
            other_names: Vec::new(),
            declared_type: block.media_type,
            charset: None,
            encoded: None,
        };
        match emit_leaf(out, budget, spec, Cow::Owned(block.data)) {
            // Block children point at their text part by local index; the engine remaps it.
            Some(child) => out.objects[child].parent = Some(id),
            None => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{param, parse_content_type};

    #[test]
    fn parameters_without_semicolons_are_found() {
        let ct = parse_content_type(b" text/html charset=\"iso-8859-1\"");
        assert_eq!(ct.mime, "text/html");
        assert!(ct.loose);
        assert_eq!(param(&ct, "charset"), Some("iso-8859-1"));
        let ct = parse_content_type(b" multipart/mixed  boundary = b1;");
        assert_eq!(ct.mime, "multipart/mixed");
        assert_eq!(param(&ct, "boundary"), Some("b1"));
        // `name` is not read out of `filename`.
        let d = parse_content_type(b" attachment filename=a.exe");
        assert_eq!(d.mime, "attachment");
        assert_eq!(param(&d, "filename"), Some("a.exe"));
        assert_eq!(param(&d, "name"), None);
        // Well-formed values are left as they are.
        let ct = parse_content_type(b" text/plain; charset=utf-8");
        assert!(!ct.loose);
        assert_eq!(ct.mime, "text/plain");
        assert_eq!(ct.params.len(), 1);
    }
}
