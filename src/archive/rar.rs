//! RAR (1.5-4.x and 5.0): the block headers are read here for every member's name, size,
//! method and encryption; members stored without compression are extracted. RAR's
//! compression itself is not decoded: the only complete decoder is unRAR's, whose licence
//! forbids using it to re-create the compressor and which Debian ships in non-free.
//!
//! What that still gives:
//! - every member's name reaches the banned rules (an `invoice.pdf.exe` inside a `.rar` is
//!   banned, where before only the `.rar` was seen);
//! - stored members (`rar a -m0`) are scanned like any file;
//! - encrypted members, and archives whose headers are encrypted (`rar a -hp`), are
//!   UNCHECKED `encrypted`, as in zip and 7z: a password-protected archive with the password
//!   in the mail body is a classic of malware campaigns;
//! - compressed members are emitted empty (so their names count) and, with the policy's
//!   `unsupported_formats_unchecked`, make the message UNCHECKED `unsupported_format`.
//!
//! Multi-volume parts (data continued from or into another volume) are UNCHECKED
//! `undecodable`. Header CRCs are not checked (bsdtar and unar list damaged archives too).

use super::{ReadOutcome, Unpack, Unpacker};
use crate::object::Object;
use crate::report::UncheckedReason;

/// The RAR unpacker.
pub struct RarUnpacker;

const RAR4: &[u8] = b"Rar!\x1a\x07\x00";
const RAR5: &[u8] = b"Rar!\x1a\x07\x01\x00";

/// One member as its header describes it.
#[derive(Debug, PartialEq)]
struct Member {
    name: String,
    /// Byte range of the member's data in the archive.
    data: (usize, usize),
    unpacked: u64,
    stored: bool,
    encrypted: bool,
    /// Continued from or into another volume.
    split: bool,
    directory: bool,
}

/// What the headers say: the members, and why the walk stopped early if it did.
#[derive(Debug, Default, PartialEq)]
struct Listing {
    members: Vec<Member>,
    /// The headers are encrypted (nothing can be listed).
    headers_encrypted: bool,
    broken: Option<&'static str>,
}

/// A little-endian reader with RAR 5's variable-length integers.
struct Bytes<'a> {
    d: &'a [u8],
    at: usize,
}

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.d.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        let b = self.take(4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// RAR 5 vint: 7 bits a byte, low bits first, the high bit set on all but the last.
    fn vint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f).checked_shl(7 * i)?;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
}

/// An offset plus a size from the archive, as a `usize`, if it does not overflow.
fn add(at: usize, n: u64) -> Option<usize> {
    at.checked_add(usize::try_from(n).ok()?)
}

/// Where the block after the one at `at` starts: after its header (ending at `body`) and its
/// `data_size` bytes of data. A file block cut short is reported through its member; any
/// other block past the end means the archive is cut.
fn next_block(
    len: usize,
    at: usize,
    body: usize,
    data_size: u64,
    is_file: bool,
) -> Result<usize, &'static str> {
    match add(body, data_size) {
        Some(next) if next > len && !is_file => Err("block runs past the end"),
        Some(next) if next > at => Ok(next),
        _ => Err("block size overflows"),
    }
}

/// The RAR 1.5-4.x block walk, from just after the signature.
fn list_rar4(d: &[u8], start: usize) -> Listing {
    let mut l = Listing::default();
    let mut at = start;
    while at < d.len() {
        let mut r = Bytes { d, at };
        let header = (|| {
            r.u16()?; // CRC
            let kind = r.u8()?;
            let flags = r.u16()?;
            let size = r.u16()? as usize;
            Some((kind, flags, size))
        })();
        let Some((kind, flags, size)) = header else {
            l.broken = Some("truncated block header");
            break;
        };
        if size < 7 {
            l.broken = Some("block header too short");
            break;
        }
        let body = at + size;
        // Blocks with the LONG_BLOCK flag, and every file header, have data after them.
        let mut data_size = 0u64;
        if flags & 0x8000 != 0 || kind == 0x74 || kind == 0x7a {
            match r.u32() {
                Some(n) => data_size = u64::from(n),
                None => {
                    l.broken = Some("truncated block header");
                    break;
                }
            }
        }
        match kind {
            0x73 if flags & 0x0080 != 0 => {
                l.headers_encrypted = true;
                return l;
            }
            0x74 => {
                let Some(m) = rar4_file(d, &mut r, flags, data_size, body) else {
                    l.broken = Some("corrupt file header");
                    break;
                };
                data_size = (m.data.1 - m.data.0) as u64;
                l.members.push(m);
            }
            0x7b => break, // end of archive
            _ => {}
        }
        match next_block(d.len(), at, body, data_size, kind == 0x74) {
            Ok(next) => at = next,
            Err(why) => {
                l.broken = Some(why);
                break;
            }
        }
    }
    l
}

/// The rest of a RAR 4 file header (`r` is after PACK_SIZE); `body` is where its data starts.
fn rar4_file(d: &[u8], r: &mut Bytes<'_>, flags: u16, packed: u64, body: usize) -> Option<Member> {
    let unpacked = r.u32()?;
    r.u8()?; // host OS
    r.u32()?; // CRC
    r.u32()?; // time
    r.u8()?; // version
    let method = r.u8()?;
    let name_len = r.u16()? as usize;
    r.u32()?; // attributes
    let (mut packed, mut unpacked) = (packed, u64::from(unpacked));
    if flags & 0x0100 != 0 {
        packed |= u64::from(r.u32()?) << 32;
        unpacked |= u64::from(r.u32()?) << 32;
    }
    let raw = r.take(name_len)?;
    // With the Unicode flag the name is an OEM form, a NUL and an encoded Unicode form; the
    // OEM form keeps the extension. Without the NUL it is UTF-8.
    let name = if flags & 0x0200 != 0 {
        match raw.iter().position(|&b| b == 0) {
            Some(n) => raw[..n].iter().map(|&b| char::from(b)).collect(),
            None => String::from_utf8_lossy(raw).into_owned(),
        }
    } else {
        raw.iter().map(|&b| char::from(b)).collect()
    };
    let end = add(body, packed)?;
    Some(Member {
        name: name.replace('\\', "/"),
        data: (body.min(d.len()), end.min(d.len())),
        unpacked,
        stored: method == 0x30,
        encrypted: flags & 0x0004 != 0,
        split: flags & 0x0003 != 0,
        directory: flags & 0x00e0 == 0x00e0,
    })
}

/// The RAR 5 block walk, from just after the signature.
fn list_rar5(d: &[u8], start: usize) -> Listing {
    let mut l = Listing::default();
    let mut at = start;
    while at < d.len() {
        let mut r = Bytes { d, at };
        let header = (|| {
            r.u32()?; // CRC
            let size = r.vint()?;
            let body = add(r.at, size)?;
            let kind = r.vint()?;
            let flags = r.vint()?;
            let extra = if flags & 1 != 0 { r.vint()? } else { 0 };
            let data = if flags & 2 != 0 { r.vint()? } else { 0 };
            Some((body, kind, flags, extra, data))
        })();
        let Some((body, kind, flags, extra, data_size)) = header else {
            l.broken = Some("truncated block header");
            break;
        };
        if body > d.len() {
            l.broken = Some("block header runs past the end");
            break;
        }
        match kind {
            4 => {
                l.headers_encrypted = true;
                return l;
            }
            2 => {
                let extra_at = usize::try_from(extra)
                    .ok()
                    .and_then(|e| body.checked_sub(e))
                    .filter(|&e| e >= r.at);
                let m = extra_at.and_then(|e| rar5_file(d, &mut r, e, flags, body, data_size));
                let Some(m) = m else {
                    l.broken = Some("corrupt file header");
                    break;
                };
                l.members.push(m);
            }
            5 => break, // end of archive
            _ => {}
        }
        match next_block(d.len(), at, body, data_size, kind == 2) {
            Ok(next) => at = next,
            Err(why) => {
                l.broken = Some(why);
                break;
            }
        }
    }
    l
}

/// The fields of a RAR 5 file header after its common ones; its extra area runs from
/// `extra_at` to `body`, where its data starts.
fn rar5_file(
    d: &[u8],
    r: &mut Bytes<'_>,
    extra_at: usize,
    header_flags: u64,
    body: usize,
    data_size: u64,
) -> Option<Member> {
    let file_flags = r.vint()?;
    let unpacked = r.vint()?;
    r.vint()?; // attributes
    if file_flags & 2 != 0 {
        r.u32()?; // time
    }
    if file_flags & 4 != 0 {
        r.u32()?; // CRC
    }
    let compression = r.vint()?;
    r.vint()?; // host OS
    let name_len = usize::try_from(r.vint()?).ok()?;
    let name = String::from_utf8_lossy(r.take(name_len)?).into_owned();
    if r.at > extra_at {
        return None;
    }
    // Extra records: size (from the type on), type, data. Type 1 is encryption.
    let mut encrypted = false;
    let mut e = Bytes { d, at: extra_at };
    while e.at < body {
        let Some(size) = e.vint() else { break };
        let record_end = add(e.at, size).filter(|&x| x <= body)?;
        if e.vint()? == 1 {
            encrypted = true;
        }
        e.at = record_end;
    }
    let end = add(body, data_size)?;
    Some(Member {
        name: name.replace('\\', "/"),
        data: (body.min(d.len()), end.min(d.len())),
        unpacked,
        stored: (compression >> 7) & 7 == 0,
        encrypted,
        split: header_flags & 0x18 != 0,
        directory: file_flags & 1 != 0,
    })
}

/// Lists `d`: RAR 5 or 4 by signature (after an optional self-extractor stub).
fn list(d: &[u8]) -> Option<Listing> {
    let find = |sig: &[u8]| memchr::memmem::find(&d[..d.len().min(1 << 20)], sig);
    match (find(RAR5), find(RAR4)) {
        (Some(a), b) if b.is_none_or(|b| a <= b) => Some(list_rar5(d, a + RAR5.len())),
        (_, Some(b)) => Some(list_rar4(d, b + RAR4.len())),
        _ => None,
    }
}

impl Unpacker for RarUnpacker {
    fn name(&self) -> &'static str {
        "rar"
    }

    fn unpack(&self, object: &Object<'_>, out: &mut Unpack<'_>) {
        let d: &[u8] = &object.data;
        let container = object.member_path("");
        let container = container.trim_end_matches('/');
        let Some(listing) = list(d) else {
            out.budget
                .note(UncheckedReason::Undecodable, container, "no RAR signature");
            return;
        };
        if listing.headers_encrypted {
            out.budget.note(
                UncheckedReason::Encrypted,
                container,
                "RAR archive with encrypted headers",
            );
            return;
        }
        for m in &listing.members {
            if m.directory {
                continue;
            }
            if out.budget.is_exhausted() {
                return;
            }
            let path = object.member_path(&m.name);
            let mut data = Vec::new();
            if m.encrypted {
                out.budget
                    .note(UncheckedReason::Encrypted, &path, "encrypted RAR member");
            } else if m.split {
                out.budget.note(
                    UncheckedReason::Undecodable,
                    &path,
                    "RAR member continued in another volume",
                );
            } else if m.stored {
                let (a, b) = m.data;
                let (bytes, outcome) = out.budget.read_to_end(&d[a..b], (b - a) as u64, &path);
                if outcome == ReadOutcome::Complete && (bytes.len() as u64) < m.unpacked {
                    out.budget
                        .note(UncheckedReason::Undecodable, &path, "truncated RAR member");
                }
                data = bytes;
            } else if m.unpacked > 0 && out.unsupported_unchecked {
                out.budget.note(
                    UncheckedReason::UnsupportedFormat,
                    &path,
                    "compressed RAR members are not unpacked",
                );
            }
            if !out.emit(object, &m.name, data) {
                return;
            }
        }
        if let Some(why) = listing.broken {
            out.budget.note(
                UncheckedReason::Undecodable,
                container,
                format!("RAR: {why}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vints() {
        let v = |b: &[u8]| Bytes { d: b, at: 0 }.vint();
        assert_eq!(v(&[0x05]), Some(5));
        assert_eq!(v(&[0x80 | 0x05, 0x01]), Some(5 + 128));
        assert_eq!(v(&[0xff; 3]), None); // runs out
        assert_eq!(v(&[0xff; 11]), None); // longer than 64 bits
    }

    #[test]
    fn hostile_sizes_end_the_walk() {
        // RAR 5: a header size of 2^63.
        let mut d = RAR5.to_vec();
        d.extend_from_slice(&[0, 0, 0, 0]);
        d.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
        d.extend_from_slice(&[1, 0]);
        let l = list(&d).unwrap();
        assert!(l.members.is_empty() && l.broken.is_some());
        // RAR 4: a file header declaring 4 GB of data, then the end.
        let mut d = RAR4.to_vec();
        d.extend_from_slice(&[0, 0, 0x74, 0x00, 0x80, 33, 0]);
        d.extend_from_slice(&u32::MAX.to_le_bytes());
        d.extend_from_slice(&[0; 21]);
        d[7 + 7 + 4 + 4 + 1 + 4 + 4 + 1 + 1..][..2].copy_from_slice(&1u16.to_le_bytes());
        d.push(b'a');
        let l = list(&d).unwrap();
        assert_eq!(l.members.len(), 1);
        assert_eq!(l.members[0].data.1, d.len());
        assert!(list(b"PK\x03\x04").is_none());
    }
}
