//! A small grammar of MIME trees with archives nested in them, for the structured target.
//!
//! `arbitrary` builds a [`Mail`] from the fuzzer's bytes; [`Mail::render`] prints it as a
//! message. Every leaf can carry the EICAR test file; [`Mail::render`] also says whether that
//! file sits on a well-formed path (every encoding and container intact), in which case the
//! scan must not come back clean.

use arbitrary::Arbitrary;
use mailwarden::Category;
use std::io::Write;

// The tests' hand-written cab, ISO and RAR writers.
#[path = "../../tests/support/mod.rs"]
mod support;

/// Deeper trees are cut here (rendered as a plain text part) so rendering stays cheap.
const MAX_DEPTH: u32 = 12;

/// The EICAR test file, built at run time so no live test virus is committed.
fn eicar() -> Vec<u8> {
    let mut v = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$".to_vec();
    v.extend_from_slice(b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");
    v
}

/// A whole message.
#[derive(Debug, Arbitrary)]
pub struct Mail {
    /// Bare LF line ends instead of CRLF.
    pub lf: bool,
    /// Extra header fields (name index, value).
    pub headers: Vec<(u8, String)>,
    /// The body.
    pub body: Node,
}

/// A MIME entity.
#[derive(Debug, Arbitrary)]
pub enum Node {
    /// A text leaf.
    Text {
        /// `text/html` instead of `text/plain`.
        html: bool,
        /// Transfer encoding.
        encoding: Encoding,
        /// Content.
        body: String,
    },
    /// A multipart with its children.
    Multipart {
        /// mixed, alternative, related, digest, or an unknown subtype.
        subtype: u8,
        /// Boundary string (a bad one makes the message ambiguous, on purpose).
        boundary: Boundary,
        /// Text before the first boundary.
        preamble: Option<String>,
        /// Children.
        parts: Vec<Node>,
        /// Whether the closing boundary is written.
        closed: bool,
    },
    /// `message/rfc822`.
    Message(Box<Mail>),
    /// An attachment.
    Attachment {
        /// File name.
        name: Name,
        /// Transfer encoding.
        encoding: Encoding,
        /// Content.
        payload: Payload,
    },
}

/// Boundary choices.
#[derive(Debug, Arbitrary)]
pub enum Boundary {
    /// A normal unique boundary.
    Unique,
    /// The same boundary as the parent multipart (ambiguous).
    Reused,
    /// A boundary that is a prefix of the parent's.
    Prefix,
    /// Any string.
    Raw(String),
}

/// Attachment names.
#[derive(Debug, Arbitrary)]
pub enum Name {
    /// No name.
    None,
    /// A plain name with an extension from a short list.
    Plain(u8),
    /// An RFC 2231 encoded name.
    Rfc2231(String),
    /// An RFC 2047 encoded word as the name.
    Rfc2047(String),
}

/// Transfer encodings.
#[derive(Debug, Arbitrary, Clone, Copy)]
pub enum Encoding {
    /// None (7bit/8bit/binary).
    Identity,
    /// base64.
    Base64,
    /// quoted-printable.
    QuotedPrintable,
    /// An uuencode block in a text/plain part.
    Uuencode,
    /// base64 cut short and sprinkled with junk (not well formed).
    BrokenBase64,
}

/// What an attachment holds.
#[derive(Debug, Arbitrary)]
pub enum Payload {
    /// Arbitrary bytes.
    Bytes(Vec<u8>),
    /// The EICAR test file.
    Eicar,
    /// A zip of members.
    Zip(Vec<(String, Payload)>),
    /// A tar of members.
    Tar(Vec<(String, Payload)>),
    /// A gzip stream.
    Gzip(Box<Payload>),
    /// A bzip2 stream.
    Bzip2(Box<Payload>),
    /// A cabinet of members (one MSZIP folder).
    Cab(Vec<(String, Payload)>),
    /// An ISO 9660 image of members (primary tree, one directory).
    Iso(Vec<(String, Payload)>),
    /// A RAR archive of stored members (RAR 5 or 4).
    Rar(bool, Vec<(String, Payload)>),
    /// An embedded message as a file.
    Eml(Box<Mail>),
    /// A real container with its last bytes cut off (not well formed).
    Truncated(Box<Payload>, u16),
}

const HEADER_NAMES: &[&str] = &[
    "Subject",
    "X-Mailer",
    "Received",
    "Reply-To",
    "Content-Type",
    "Content-Transfer-Encoding",
    "MIME-Version",
    "Date",
];
const EXTENSIONS: &[&str] = &["zip", "exe", "pdf", "txt", "tar.gz", "docx", "eml", "scr"];

/// Renders messages, counting boundaries so that `Unique` ones are unique.
struct Out {
    nl: &'static str,
    boundaries: u32,
    /// Whether EICAR was placed on a path where every layer is well formed.
    eicar_reachable: bool,
}

impl Mail {
    /// The message bytes, and whether EICAR sits on a well-formed path in it.
    pub fn render(&self) -> (Vec<u8>, bool) {
        let mut out = Out {
            nl: if self.lf { "\n" } else { "\r\n" },
            boundaries: 0,
            eicar_reachable: false,
        };
        let bytes = out.mail(self, 0, "", true);
        (bytes, out.eicar_reachable)
    }
}

fn b64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for (i, c) in data.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            s.push_str("\r\n");
        }
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        s.push(A[(n >> 18) as usize & 63] as char);
        s.push(A[(n >> 12) as usize & 63] as char);
        s.push(if c.len() > 1 {
            A[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        s.push(if c.len() > 2 {
            A[n as usize & 63] as char
        } else {
            '='
        });
    }
    s
}

fn qp(data: &[u8]) -> String {
    let mut s = String::new();
    let mut col = 0;
    for &b in data {
        if col > 70 {
            s.push_str("=\r\n");
            col = 0;
        }
        if (33..=126).contains(&b) && b != b'=' {
            s.push(b as char);
            col += 1;
        } else {
            s.push_str(&format!("={b:02X}"));
            col += 3;
        }
    }
    s
}

fn uuencode(name: &str, data: &[u8]) -> String {
    let enc = |v: u8| if v == 0 { '`' } else { (v + 32) as char };
    let mut s = format!("begin 644 {name}\n");
    for line in data.chunks(45) {
        s.push(enc(line.len() as u8));
        for c in line.chunks(3) {
            let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
            s.push(enc(b[0] >> 2));
            s.push(enc(((b[0] << 4) | (b[1] >> 4)) & 63));
            s.push(enc(((b[1] << 2) | (b[2] >> 6)) & 63));
            s.push(enc(b[2] & 63));
        }
        s.push('\n');
    }
    s.push_str("`\nend\n");
    s
}

fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\t')
        .take(200)
        .collect()
}

impl Out {
    fn mail(&mut self, m: &Mail, depth: u32, parent: &str, ok: bool) -> Vec<u8> {
        let nl = self.nl;
        let mut s = format!(
            "From: a@example.org{nl}To: b@example.net{nl}Date: Mon, 1 Jan 2024 00:00:00 +0000{nl}"
        );
        let mut ok = ok;
        for (i, v) in m.headers.iter().take(16) {
            let name = HEADER_NAMES[usize::from(*i) % HEADER_NAMES.len()];
            // a second Content-Type or MIME-Version changes how the body reads
            ok &= !(name.starts_with("Content-") || name == "MIME-Version");
            s.push_str(&format!("{name}: {}{nl}", clean(v)));
        }
        s.push_str(&format!("MIME-Version: 1.0{nl}"));
        let mut bytes = s.into_bytes();
        bytes.extend(self.entity(&m.body, depth, parent, ok));
        bytes
    }

    /// Content headers, blank line, body of one entity.
    fn entity(&mut self, node: &Node, depth: u32, parent: &str, ok: bool) -> Vec<u8> {
        let nl = self.nl;
        if depth >= MAX_DEPTH {
            return format!("Content-Type: text/plain{nl}{nl}(cut){nl}").into_bytes();
        }
        match node {
            Node::Text {
                html,
                encoding,
                body,
            } => {
                let ct = if *html { "text/html" } else { "text/plain" };
                // a text line that is a boundary would end the parent early
                let body = body.replace("--", "- -");
                let (cte, text) = self.encode(*encoding, body.as_bytes(), "t.txt");
                format!("Content-Type: {ct}; charset=utf-8{nl}{cte}{nl}{text}{nl}").into_bytes()
            }
            Node::Multipart {
                subtype,
                boundary,
                preamble,
                parts,
                closed,
            } => {
                self.boundaries += 1;
                let b = match boundary {
                    Boundary::Unique => format!("=_b{}_{}", depth, self.boundaries),
                    Boundary::Reused if !parent.is_empty() => parent.to_string(),
                    Boundary::Prefix if parent.chars().count() > 1 => {
                        let mut p = parent.to_string();
                        p.pop();
                        p
                    }
                    Boundary::Raw(r) => clean(r).replace('"', ""),
                    _ => format!("=_b{}_{}", depth, self.boundaries),
                };
                let well_formed = matches!(boundary, Boundary::Unique) && *closed;
                let sub = ["mixed", "alternative", "related", "digest", "x-unknown"]
                    [usize::from(*subtype) % 5];
                let mut v = format!(
                    "Content-Type: multipart/{sub}; boundary=\"{b}\"{nl}{nl}{}",
                    preamble
                        .as_deref()
                        .map(|p| clean(p).replace("--", "- -"))
                        .unwrap_or_default()
                )
                .into_bytes();
                for p in parts.iter().take(24) {
                    v.extend(format!("{nl}--{b}{nl}").into_bytes());
                    v.extend(self.entity(p, depth + 1, &b, ok && well_formed));
                }
                if *closed {
                    v.extend(format!("{nl}--{b}--{nl}").into_bytes());
                }
                v
            }
            Node::Message(m) => {
                let mut v = format!("Content-Type: message/rfc822{nl}{nl}").into_bytes();
                v.extend(self.mail(m, depth + 1, "", ok));
                v
            }
            Node::Attachment {
                name,
                encoding,
                payload,
            } => {
                // Identity transfer encoding of binary bytes is not well formed (line ends
                // and non-UTF-8 bytes change on the way), so only a bare EICAR stays reachable.
                let enc_ok = match encoding {
                    Encoding::Base64 | Encoding::QuotedPrintable | Encoding::Uuencode => true,
                    Encoding::Identity => matches!(payload, Payload::Eicar),
                    Encoding::BrokenBase64 => false,
                };
                let (data, _) = self.payload(payload, depth + 1, ok && enc_ok);
                let file = match name {
                    Name::None => String::new(),
                    Name::Plain(i) => {
                        format!("f{i}.{}", EXTENSIONS[usize::from(*i) % EXTENSIONS.len()])
                    }
                    Name::Rfc2231(n) | Name::Rfc2047(n) => clean(n),
                };
                let disposition = match name {
                    Name::None => "attachment".to_string(),
                    Name::Plain(_) => format!("attachment; filename=\"{file}\""),
                    Name::Rfc2231(_) => {
                        let enc: String = file.bytes().map(|b| format!("%{b:02X}")).collect();
                        format!("attachment; filename*=utf-8''{enc}")
                    }
                    Name::Rfc2047(_) => format!(
                        "attachment; filename=\"=?utf-8?B?{}?=\"",
                        b64(file.as_bytes()).replace("\r\n", "")
                    ),
                };
                let (cte, text) = self.encode(*encoding, &data, "a.bin");
                let ct = if matches!(encoding, Encoding::Uuencode) {
                    "text/plain"
                } else {
                    "application/octet-stream"
                };
                format!("Content-Type: {ct}{nl}Content-Disposition: {disposition}{nl}{cte}{nl}{text}{nl}")
                    .into_bytes()
            }
        }
    }

    fn encode(&self, e: Encoding, data: &[u8], name: &str) -> (String, String) {
        let nl = self.nl;
        match e {
            Encoding::Identity => (String::new(), String::from_utf8_lossy(data).into_owned()),
            Encoding::Base64 => (
                format!("Content-Transfer-Encoding: base64{nl}"),
                b64(data).replace("\r\n", nl),
            ),
            Encoding::QuotedPrintable => (
                format!("Content-Transfer-Encoding: quoted-printable{nl}"),
                qp(data).replace("\r\n", nl),
            ),
            Encoding::Uuencode => (String::new(), uuencode(name, data).replace('\n', nl)),
            Encoding::BrokenBase64 => {
                let mut s = b64(data);
                s.truncate(s.len() * 2 / 3);
                s.insert_str(s.len() / 2, "!!**");
                (format!("Content-Transfer-Encoding: base64{nl}"), s)
            }
        }
    }

    /// The members of a container (at most 16, with harmless unique names) rendered, and
    /// whether all are well formed.
    fn members(
        &mut self,
        members: &[(String, Payload)],
        depth: u32,
        ok: bool,
    ) -> (Vec<(String, Vec<u8>)>, bool) {
        let mut all_ok = true;
        let mut out = Vec::new();
        for (i, (name, m)) in members.iter().take(16).enumerate() {
            let (data, mok) = self.payload(m, depth + 1, ok);
            all_ok &= mok;
            let name: String = clean(name)
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(20)
                .collect();
            out.push((format!("{i}-{name}"), data));
        }
        (out, all_ok)
    }

    /// The payload bytes and whether they are well formed all the way down. Sets
    /// `eicar_reachable` when an EICAR leaf is reached with every layer above it intact.
    fn payload(&mut self, p: &Payload, depth: u32, ok: bool) -> (Vec<u8>, bool) {
        if depth >= MAX_DEPTH {
            return (b"cut".to_vec(), true);
        }
        match p {
            Payload::Bytes(b) => (b.iter().take(4096).copied().collect(), true),
            Payload::Eicar => {
                if ok {
                    self.eicar_reachable = true;
                }
                (eicar(), true)
            }
            Payload::Zip(members) => {
                let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
                let opts = zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Deflated);
                let mut all_ok = true;
                for (i, (name, m)) in members.iter().take(16).enumerate() {
                    let (data, mok) = self.payload(m, depth + 1, ok);
                    all_ok &= mok;
                    let name = format!("{i}-{}", clean(name).replace(['/', '\\'], "_"));
                    if w.start_file(name, opts).is_err() || w.write_all(&data).is_err() {
                        return (Vec::new(), false);
                    }
                }
                match w.finish() {
                    Ok(c) => (c.into_inner(), all_ok),
                    Err(_) => (Vec::new(), false),
                }
            }
            Payload::Tar(members) => {
                let mut b = tar::Builder::new(Vec::new());
                let mut all_ok = true;
                for (i, (name, m)) in members.iter().take(16).enumerate() {
                    let (data, mok) = self.payload(m, depth + 1, ok);
                    all_ok &= mok;
                    let mut h = tar::Header::new_gnu();
                    h.set_size(data.len() as u64);
                    h.set_mode(0o644);
                    let name = format!("{i}-{}", clean(name).replace(['/', '\\', '.'], "_"));
                    let name: String = name.chars().filter(char::is_ascii).take(90).collect();
                    if h.set_path(&name).is_err() {
                        return (Vec::new(), false);
                    }
                    h.set_cksum();
                    if b.append(&h, &data[..]).is_err() {
                        return (Vec::new(), false);
                    }
                }
                match b.into_inner() {
                    Ok(v) => (v, all_ok),
                    Err(_) => (Vec::new(), false),
                }
            }
            Payload::Gzip(inner) => {
                let (data, iok) = self.payload(inner, depth + 1, ok);
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                let _ = e.write_all(&data);
                (e.finish().unwrap_or_default(), iok)
            }
            Payload::Bzip2(inner) => {
                let (data, iok) = self.payload(inner, depth + 1, ok);
                let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
                let _ = e.write_all(&data);
                (e.finish().unwrap_or_default(), iok)
            }
            Payload::Cab(members) => {
                let (files, all_ok) = self.members(members, depth, ok);
                let stream: Vec<u8> = files.iter().flat_map(|(_, d)| d.clone()).collect();
                let mut offset = 0u32;
                let entries: Vec<support::CabFile<'_>> = files
                    .iter()
                    .map(|(name, d)| {
                        let f = support::CabFile {
                            name,
                            folder: 0,
                            offset,
                            size: d.len() as u32,
                        };
                        offset += d.len() as u32;
                        f
                    })
                    .collect();
                let folder = support::CabFolder {
                    method: 1,
                    blocks: support::cab_mszip_blocks(&stream),
                };
                (support::cab(&[folder], &entries), all_ok)
            }
            Payload::Iso(members) => {
                let (files, all_ok) = self.members(members, depth, ok);
                let names: Vec<Vec<u8>> = (0..files.len())
                    .map(|i| format!("F{i}.BIN;1").into_bytes())
                    .collect();
                let mut sector = 30u32;
                let mut sectors = Vec::new();
                let mut entries = Vec::new();
                for ((_, d), name) in files.iter().zip(&names) {
                    entries.push((&name[..], sector, d.len() as u32, 0u8));
                    sectors.push((sector, d.clone()));
                    sector += d.len().div_ceil(2048).max(1) as u32;
                }
                sectors.push((20, support::iso_dir_sector(20, 20, &entries)));
                (support::iso(20, None, &sectors), all_ok)
            }
            Payload::Rar(five, members) => {
                let (files, all_ok) = self.members(members, depth, ok);
                let stored: Vec<support::RarMember<'_>> = files
                    .iter()
                    .map(|(name, d)| support::RarMember::stored(name, d))
                    .collect();
                let bytes = if *five {
                    support::rar5(&stored)
                } else {
                    support::rar4(&stored, false)
                };
                (bytes, all_ok)
            }
            Payload::Eml(m) => {
                let nl = self.nl;
                let mut v = self.mail(m, depth + 1, "", ok);
                v.extend_from_slice(nl.as_bytes());
                (v, true)
            }
            Payload::Truncated(inner, cut) => {
                // EICAR inside may still be found; it is not *required* to be.
                let saved = self.eicar_reachable;
                let (mut data, _) = self.payload(inner, depth + 1, false);
                self.eicar_reachable = saved;
                let keep = data.len().saturating_sub(usize::from(*cut) % 64 + 1);
                data.truncate(keep);
                (data, false)
            }
        }
    }
}

/// The structured target: render, scan with every oracle, and check that a reachable EICAR is
/// never reported clean.
pub fn run(mail: &Mail) {
    let (bytes, eicar_reachable) = mail.render();
    if let Some(path) = std::env::var_os("MAILWARDEN_FUZZ_DUMP") {
        // for triage: `MAILWARDEN_FUZZ_DUMP=x.eml cargo fuzz run structured CRASH`
        std::fs::write(path, &bytes).expect("write the rendered message");
    }
    let report = crate::scan_oracles(crate::engine(), &bytes);
    if eicar_reachable {
        assert!(
            matches!(report.category, Category::Virus | Category::Unchecked)
                || report.findings.iter().any(|f| matches!(
                    f,
                    mailwarden::Finding::Virus { .. } | mailwarden::Finding::Unchecked { .. }
                )),
            "EICAR on a well-formed path was not found: {:?}",
            report.category
        );
    }
}
