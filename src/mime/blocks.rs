//! Encoded blocks inside text: uuencode, yEnc, BinHex 4.0, and `data:` URIs in HTML.
//!
//! Worms travelled as uuencoded blocks in plain-text bodies, which filters that only looked at
//! MIME attachments never decoded; ClamAV decodes `data:` URIs in HTML. Each block found becomes
//! its own object.

use super::decode::{self, trim_line_end};
use crate::object::Origin;

/// The kind of an encoded block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// `begin 644 name` ... `end`.
    Uuencode,
    /// `=ybegin` ... `=yend`.
    Yenc,
    /// `(This file must be converted with BinHex 4.0)`.
    BinHex,
    /// `data:[type][;base64],...`.
    DataUri,
}

impl BlockKind {
    /// Short name.
    pub fn name(self) -> &'static str {
        match self {
            BlockKind::Uuencode => "uuencode",
            BlockKind::Yenc => "yenc",
            BlockKind::BinHex => "binhex",
            BlockKind::DataUri => "data-uri",
        }
    }

    /// The object origin for this kind.
    pub fn origin(self) -> Origin {
        match self {
            BlockKind::Uuencode => Origin::Uuencode,
            BlockKind::Yenc => Origin::Yenc,
            BlockKind::BinHex => Origin::BinHex,
            BlockKind::DataUri => Origin::DataUri,
        }
    }
}

/// One decoded block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// What kind.
    pub kind: BlockKind,
    /// Declared file name.
    pub name: Option<String>,
    /// Declared media type (`data:` URIs).
    pub media_type: Option<String>,
    /// Decoded bytes.
    pub data: Vec<u8>,
}

/// At most this many blocks are taken from one text (each also counts against `max_files`).
const MAX_BLOCKS: usize = 256;

/// Finds every block in `text`; `html` also looks for `data:` URIs.
pub fn find_all(text: &[u8], html: bool) -> Vec<Block> {
    let mut out = Vec::new();
    if memchr::memmem::find(text, b"begin").is_some() {
        out.extend(uuencoded(text));
    }
    if memchr::memmem::find(text, b"=ybegin").is_some() {
        out.extend(yenc(text));
    }
    if memchr::memmem::find(text, b"BinHex").is_some() {
        out.extend(binhex(text));
    }
    if html {
        out.extend(data_uris(text));
    }
    out.truncate(MAX_BLOCKS);
    out
}

fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split_inclusive(|&c| c == b'\n')
}

/// Uuencoded blocks: a `begin MODE NAME` line, encoded lines, `end`; or, as `uuencode -m`
/// writes them and uudecode reads them, `begin-base64 MODE NAME`, base64 lines, `====`.
pub fn uuencoded(text: &[u8]) -> Vec<Block> {
    let mut out = Vec::new();
    let mut it = lines(text);
    while let Some(line) = it.next() {
        let line = trim_line_end(line);
        let (rest, base64) = match (
            line.strip_prefix(b"begin "),
            line.strip_prefix(b"begin-base64 "),
        ) {
            (Some(rest), _) => (rest, false),
            (_, Some(rest)) => (rest, true),
            _ => continue,
        };
        let mut words = rest.splitn(2, |&c| c == b' ');
        let mode = words.next().unwrap_or_default();
        if !(3..=4).contains(&mode.len()) || !mode.iter().all(|c| (b'0'..=b'7').contains(c)) {
            continue;
        }
        let name = words
            .next()
            .map(|n| String::from_utf8_lossy(n).trim().to_string())
            .filter(|n| !n.is_empty());
        let last = if base64 { &b"===="[..] } else { &b"end"[..] };
        let body: Vec<&[u8]> = it
            .by_ref()
            .take_while(|l| trim_line_end(l).trim_ascii() != last)
            .collect();
        let data = if base64 {
            decode::base64(&body.concat()).0
        } else {
            decode::uudecode_lines(body.into_iter())
        };
        out.push(Block {
            kind: BlockKind::Uuencode,
            name,
            media_type: None,
            data,
        });
        if out.len() >= MAX_BLOCKS {
            break;
        }
    }
    out
}

fn yenc_param(line: &[u8], key: &str) -> Option<String> {
    let s = String::from_utf8_lossy(line);
    let at = s.find(&format!(" {key}="))?;
    let rest = &s[at + key.len() + 2..];
    if key == "name" {
        Some(rest.trim().to_string())
    } else {
        rest.split_whitespace().next().map(str::to_string)
    }
}

/// yEnc blocks: `=ybegin ... name=NAME`, optional `=ypart`, data lines, `=yend`.
pub fn yenc(text: &[u8]) -> Vec<Block> {
    let mut out = Vec::new();
    let mut it = lines(text);
    while let Some(line) = it.next() {
        let line = trim_line_end(line);
        if !line.starts_with(b"=ybegin ") {
            continue;
        }
        let name = yenc_param(line, "name").filter(|n| !n.is_empty());
        let mut data = Vec::new();
        for l in it.by_ref() {
            let l = trim_line_end(l);
            if l.starts_with(b"=yend") {
                break;
            }
            if l.starts_with(b"=ypart ") {
                continue;
            }
            let mut escape = false;
            for &c in l {
                if escape {
                    data.push(c.wrapping_sub(64).wrapping_sub(42));
                    escape = false;
                } else if c == b'=' {
                    escape = true;
                } else {
                    data.push(c.wrapping_sub(42));
                }
            }
        }
        out.push(Block {
            kind: BlockKind::Yenc,
            name,
            media_type: None,
            data,
        });
        if out.len() >= MAX_BLOCKS {
            break;
        }
    }
    out
}

const BINHEX_ALPHABET: &[u8; 64] =
    b"!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr";

/// BinHex 4.0: the marker line, then `:` 6-bit data with run-length encoding `:`. The data
/// fork (and a non-empty resource fork) become blocks named after the file.
pub fn binhex(text: &[u8]) -> Vec<Block> {
    let marker = b"(This file must be converted with BinHex";
    let Some(at) = memchr::memmem::find(text, marker) else {
        return Vec::new();
    };
    let rest = &text[at..];
    let Some(start) = memchr::memchr(b':', rest) else {
        return Vec::new();
    };
    let mut table = [0xffu8; 256];
    for (i, &c) in BINHEX_ALPHABET.iter().enumerate() {
        table[c as usize] = i as u8;
    }
    // 6-bit decode until the closing ':'.
    let mut raw = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in &rest[start + 1..] {
        if c == b':' {
            break;
        }
        let v = table[c as usize];
        if v == 0xff {
            continue;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            raw.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Run-length decoding: 0x90 n repeats the previous byte n-1 more times; 0x90 0 is 0x90.
    let mut data = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if c == 0x90 && i + 1 < raw.len() {
            let n = raw[i + 1];
            if n == 0 {
                data.push(0x90);
            } else if let Some(&prev) = data.last() {
                let extra = usize::from(n).saturating_sub(1);
                data.extend(std::iter::repeat_n(prev, extra));
            }
            i += 2;
        } else {
            data.push(c);
            i += 1;
        }
    }
    // Header: len, name, 0, type(4), creator(4), flags(2), data len(4), rsrc len(4), crc(2).
    let Some(&name_len) = data.first() else {
        return Vec::new();
    };
    let name_len = usize::from(name_len);
    let hdr_end = 1 + name_len + 1 + 4 + 4 + 2 + 4 + 4 + 2;
    if data.len() < hdr_end {
        return Vec::new();
    }
    let name = String::from_utf8_lossy(&data[1..1 + name_len]).into_owned();
    let be32 =
        |o: usize| u32::from_be_bytes([data[o], data[o + 1], data[o + 2], data[o + 3]]) as usize;
    let data_len = be32(1 + name_len + 1 + 10);
    let rsrc_len = be32(1 + name_len + 1 + 14);
    let data_start = hdr_end;
    let data_end = data_start.saturating_add(data_len).min(data.len());
    let mut out = vec![Block {
        kind: BlockKind::BinHex,
        name: Some(name.clone()),
        media_type: None,
        data: data[data_start..data_end].to_vec(),
    }];
    let rsrc_start = (data_end + 2).min(data.len());
    let rsrc_end = rsrc_start.saturating_add(rsrc_len).min(data.len());
    if rsrc_end > rsrc_start {
        out.push(Block {
            kind: BlockKind::BinHex,
            name: Some(format!("{name}.rsrc")),
            media_type: None,
            data: data[rsrc_start..rsrc_end].to_vec(),
        });
    }
    out
}

fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            let h = s.get(i + 1).and_then(|&c| (c as char).to_digit(16));
            let l = s.get(i + 2).and_then(|&c| (c as char).to_digit(16));
            if let (Some(h), Some(l)) = (h, l) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// `data:` URIs (RFC 2397) in HTML, decoded.
pub fn data_uris(html: &[u8]) -> Vec<Block> {
    let mut out = Vec::new();
    let finder = memchr::memmem::Finder::new(b"data:");
    for at in finder.find_iter(html) {
        // Case-sensitive "data:" is the common form; attribute values are what matter.
        let rest = &html[at + 5..];
        let Some(comma) = memchr::memchr(b',', &rest[..rest.len().min(256)]) else {
            continue;
        };
        let meta = &rest[..comma];
        if meta
            .iter()
            .any(|c| c.is_ascii_whitespace() || matches!(c, b'"' | b'\'' | b'<' | b'>'))
        {
            continue;
        }
        let payload_end = rest[comma + 1..]
            .iter()
            .position(|c| matches!(c, b'"' | b'\'' | b')' | b'>' | b'<' | b' ' | b'\t'))
            .map_or(rest.len(), |p| comma + 1 + p);
        let payload = &rest[comma + 1..payload_end];
        let meta_s = String::from_utf8_lossy(meta).to_ascii_lowercase();
        let is_b64 = meta_s.ends_with(";base64");
        let media = meta_s.split(';').next().unwrap_or("").to_string();
        let data = if is_b64 {
            decode::base64(&percent_decode(payload)).0
        } else {
            percent_decode(payload)
        };
        if data.is_empty() {
            continue;
        }
        out.push(Block {
            kind: BlockKind::DataUri,
            name: None,
            media_type: if media.is_empty() { None } else { Some(media) },
            data,
        });
        if out.len() >= MAX_BLOCKS {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuencode_block() {
        let t = b"hello\nbegin 644 cat.txt\n#0V%T\n`\nend\nbye\n";
        let b = uuencoded(t);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].name.as_deref(), Some("cat.txt"));
        assert_eq!(b[0].data, b"Cat");
    }

    #[test]
    fn uuencode_base64_block() {
        // `uuencode -m`: base64 lines, ended by `====`.
        let t = b"hello\r\nbegin-base64 644 cat.txt\r\nQ2F0\r\n====\r\nbye\r\n";
        let b = uuencoded(t);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].name.as_deref(), Some("cat.txt"));
        assert_eq!(b[0].data, b"Cat");
        assert_eq!(find_all(t, false).len(), 1);
    }

    #[test]
    fn yenc_block() {
        let enc: Vec<u8> = b"Hi".iter().map(|c| c.wrapping_add(42)).collect();
        let mut t = b"=ybegin line=128 size=2 name=hi.txt\n".to_vec();
        t.extend_from_slice(&enc);
        t.extend_from_slice(b"\n=yend size=2\n");
        let b = yenc(&t);
        assert_eq!(b[0].name.as_deref(), Some("hi.txt"));
        assert_eq!(b[0].data, b"Hi");
    }

    #[test]
    fn data_uri() {
        let b = data_uris(b"<img src=\"data:text/plain;base64,aGVsbG8=\">");
        assert_eq!(b[0].data, b"hello");
        assert_eq!(b[0].media_type.as_deref(), Some("text/plain"));
        let p = data_uris(b"<a href='data:,a%20b'>");
        assert_eq!(p[0].data, b"a b");
    }
}
