//! ZIP (and the zip-based OOXML and ODF): parsed from the central directory with a parser of
//! our own, so every hostile trick is visible rather than hidden inside a library.
//!
//! - Methods: stored, deflate, deflate64, bzip2. Any other method is UNCHECKED `undecodable`.
//! - zip64: sizes and offsets from the zip64 extra field, the zip64 end record via its locator.
//! - Encrypted entries (flag bit 0, ZipCrypto; method 99 or the 0x9901 extra, WinZip AES;
//!   flag bit 6, PKWARE strong encryption) are UNCHECKED `encrypted` (ClamAV's
//!   `Heuristics.Encrypted.Zip`), and the other entries are still unpacked.
//! - Overlapping or shared entry data (David Fifield's non-recursive zip bomb: many central
//!   directory entries whose data ranges overlap) is UNCHECKED `undecodable`; only the first
//!   entry of each overlapping group is unpacked, so the bomb costs one entry's expansion.
//! - A central directory that disagrees with the local header (method, name, sizes, CRC), a
//!   declared uncompressed size or CRC that the data does not match, or data past the end of the
//!   archive: UNCHECKED `undecodable`, because another unzip may read different content than
//!   mailwarden did. What could be read is still emitted and scanned.
//! - A local header naming the entry otherwise than the central directory: UNCHECKED as
//!   above, and the local name is one of the member's other names, which the banned-name
//!   rules test (a streaming reader extracts it under that name).
//! - Data before the archive (self-extractors, a zip appended to an image) shifts every
//!   offset; such files are unpacked whatever their detected type
//!   ([`super::unpacker_for_object`]).
//! - Without an end-of-central-directory record (a truncated archive) the local headers are
//!   walked from the start instead.
//! - The Info-ZIP Unicode Path extra field (0x7075) names an entry for 7-Zip and unzip, and
//!   a name with a NUL reads, as a C string, only up to it: such names are the member's
//!   other names, which the banned-name rules test too.

use super::{ReadOutcome, Unpack, Unpacker};
use crate::object::Object;
use crate::report::UncheckedReason;

/// The zip unpacker.
pub struct ZipUnpacker;

/// One entry as the central directory (or, without one, the local header) describes it.
#[derive(Debug, Clone)]
struct Entry {
    name: String,
    flags: u16,
    method: u16,
    crc: u32,
    compressed: u64,
    size: u64,
    header: u64,
    aes: bool,
    /// Other names readers extract the entry under: the Info-ZIP Unicode Path extra
    /// field's (0x7075, 7-Zip and Info-ZIP's unzip), the raw name up to a NUL (C strings).
    other_names: Vec<String>,
}

fn u16_at(d: &[u8], off: usize) -> Option<u16> {
    let b = d.get(off..off.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(d: &[u8], off: usize) -> Option<u32> {
    let b = d.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u64_at(d: &[u8], off: usize) -> Option<u64> {
    let b = d.get(off..off.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Some(u64::from_le_bytes(a))
}

const METHOD_STORED: u16 = 0;
const METHOD_DEFLATE: u16 = 8;
const METHOD_DEFLATE64: u16 = 9;
const METHOD_BZIP2: u16 = 12;
const METHOD_AES: u16 = 99;
const FLAG_ENCRYPTED: u16 = 1;
const FLAG_DESCRIPTOR: u16 = 1 << 3;
const FLAG_STRONG: u16 = 1 << 6;

/// Entry name: UTF-8 when flagged, otherwise read lossily (CP437 names are nearly always
/// ASCII in practice). NULs are dropped so a name cannot hide a suffix behind one.
fn entry_name(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).replace('\0', "")
}

/// A raw name holding a NUL as a C string reads it: up to the NUL (`a.exe\0.txt` is
/// `a.exe` there, `a.exe.txt` in [`entry_name`]).
fn c_string_name(raw: &[u8]) -> Option<String> {
    let nul = memchr::memchr(0, raw)?;
    (nul > 0).then(|| String::from_utf8_lossy(&raw[..nul]).into_owned())
}

/// The position of the end-of-central-directory record, searched backwards over the largest
/// possible comment.
fn find_eocd(d: &[u8]) -> Option<usize> {
    if d.len() < 22 {
        return None;
    }
    let lowest = d.len().saturating_sub(22 + 0xffff);
    // The record's signature starts at most 22 bytes before the end.
    memchr::memmem::rfind(&d[lowest..d.len() - 18], b"PK\x05\x06").map(|i| lowest + i)
}

/// Whether `d`, which does not start as a zip, ends with one: an end record whose central
/// directory is where the record says, or where it would be if data were prepended
/// (self-extracting archives, a zip appended to an image or a document). unzip and ClamAV
/// open such files as zips, so mailwarden unpacks them too.
pub(crate) fn ends_with_zip(d: &[u8]) -> bool {
    let Some(eocd) = find_eocd(d) else {
        return false;
    };
    let (Some(count), Some(cd_size), Some(cd_offset)) = (
        u16_at(d, eocd + 10),
        u32_at(d, eocd + 12),
        u32_at(d, eocd + 16),
    ) else {
        return false;
    };
    if count == 0 {
        return false;
    }
    let central = |o: usize| d.get(o..o.saturating_add(4)) == Some(b"PK\x01\x02");
    let zip64 = eocd >= 20 && d[eocd - 20..eocd - 16] == *b"PK\x06\x07";
    zip64 || central(cd_offset as usize) || eocd.checked_sub(cd_size as usize).is_some_and(central)
}

/// The body of an Info-ZIP Unicode Path extra field (version 1, the CRC-32 of the header's
/// name, the UTF-8 name), when it names the entry otherwise than `name`. Taken whatever the
/// CRC says: readers differ on checking it.
fn unicode_path(body: &[u8], name: &str) -> Option<String> {
    if body.len() <= 5 || body[0] != 1 {
        return None;
    }
    let unicode = entry_name(&body[5..]);
    (!unicode.is_empty() && unicode != name).then_some(unicode)
}

/// The Unicode Path name in an extra-field block, if any.
fn unicode_path_in(extra: &[u8], name: &str) -> Option<String> {
    let mut pos = 0;
    while let (Some(tag), Some(len)) = (u16_at(extra, pos), u16_at(extra, pos + 2)) {
        let end = pos + 4 + len as usize;
        let body = extra.get(pos + 4..end)?;
        if tag == 0x7075 {
            return unicode_path(body, name);
        }
        pos = end;
    }
    None
}

/// Walks an extra-field block for the zip64 sizes/offset (tag 1), the AES marker (0x9901)
/// and the Unicode Path name (0x7075).
fn read_extra(extra: &[u8], e: &mut Entry, cd_size: u32, cd_compressed: u32, cd_offset: u32) {
    let mut pos = 0;
    while let (Some(tag), Some(len)) = (u16_at(extra, pos), u16_at(extra, pos + 2)) {
        let body = pos + 4;
        let end = body + len as usize;
        if end > extra.len() {
            break;
        }
        match tag {
            0x0001 => {
                let mut p = body;
                if cd_size == u32::MAX
                    && let Some(v) = u64_at(extra, p).filter(|_| p + 8 <= end)
                {
                    e.size = v;
                    p += 8;
                }
                if cd_compressed == u32::MAX
                    && let Some(v) = u64_at(extra, p).filter(|_| p + 8 <= end)
                {
                    e.compressed = v;
                    p += 8;
                }
                if cd_offset == u32::MAX
                    && let Some(v) = u64_at(extra, p).filter(|_| p + 8 <= end)
                {
                    e.header = v;
                }
            }
            0x7075 => e
                .other_names
                .extend(unicode_path(&extra[body..end], &e.name)),
            0x9901 => {
                e.aes = true;
                if let Some(m) = u16_at(extra, body + 5).filter(|_| len >= 7) {
                    e.method = m;
                }
            }
            _ => {}
        }
        pos = end;
    }
}

/// Reads the central directory. Returns None when there is no usable end record.
fn central_directory(d: &[u8], out: &mut Unpack<'_>, path: &str) -> Option<Vec<Entry>> {
    let eocd = find_eocd(d)?;
    let mut count = u64::from(u16_at(d, eocd + 10)?);
    let mut cd_size = u64::from(u32_at(d, eocd + 12)?);
    let mut cd_offset = u64::from(u32_at(d, eocd + 16)?);
    if (count == 0xffff || cd_size == 0xffff_ffff || cd_offset == 0xffff_ffff)
        && eocd >= 20
        && d[eocd - 20..eocd - 16] == *b"PK\x06\x07"
        && let Some(z) = u64_at(d, eocd - 12).and_then(|o| usize::try_from(o).ok())
        && d.get(z..z + 4) == Some(b"PK\x06\x06")
    {
        count = u64_at(d, z + 32)?;
        cd_size = u64_at(d, z + 40)?;
        cd_offset = u64_at(d, z + 48)?;
    }
    // Data prepended to the archive (self-extractors) shifts every offset.
    let mut shift = 0u64;
    let at = |o: u64| usize::try_from(o).ok().and_then(|o| d.get(o..o + 4));
    if at(cd_offset) != Some(b"PK\x01\x02") && count > 0 {
        let expected = (eocd as u64).checked_sub(cd_size)?;
        if at(expected) == Some(b"PK\x01\x02") {
            shift = expected.checked_sub(cd_offset)?;
        } else {
            out.budget.note(
                UncheckedReason::Undecodable,
                path,
                "zip central directory not found where the end record says",
            );
            return None;
        }
    }
    let mut entries = Vec::new();
    let mut pos = usize::try_from(cd_offset + shift).ok()?;
    // Each record is at least 46 bytes, so the data length bounds the loop as well as `count`.
    for _ in 0..count.min(d.len() as u64 / 46 + 1) {
        if d.get(pos..pos + 4) != Some(b"PK\x01\x02") {
            out.budget.note(
                UncheckedReason::Undecodable,
                path,
                format!(
                    "zip central directory ends after {} of {count} entries",
                    entries.len()
                ),
            );
            break;
        }
        let flags = u16_at(d, pos + 8)?;
        let method = u16_at(d, pos + 10)?;
        let crc = u32_at(d, pos + 16)?;
        let csize = u32_at(d, pos + 20)?;
        let usize_ = u32_at(d, pos + 24)?;
        let nlen = u16_at(d, pos + 28)? as usize;
        let xlen = u16_at(d, pos + 30)? as usize;
        let clen = u16_at(d, pos + 32)? as usize;
        let offset = u32_at(d, pos + 42)?;
        let name_start = pos + 46;
        let Some(raw_name) = d.get(name_start..name_start + nlen) else {
            break;
        };
        let mut e = Entry {
            name: entry_name(raw_name),
            flags,
            method,
            crc,
            compressed: u64::from(csize),
            size: u64::from(usize_),
            header: u64::from(offset),
            aes: false,
            other_names: c_string_name(raw_name).into_iter().collect(),
        };
        let extra = d
            .get(name_start + nlen..name_start + nlen + xlen)
            .unwrap_or(&[]);
        read_extra(extra, &mut e, usize_, csize, offset);
        e.header = e.header.saturating_add(shift);
        entries.push(e);
        pos = name_start + nlen + xlen + clen;
    }
    Some(entries)
}

/// The local header at `off`: (flags, method, crc, compressed, size, name, data start).
struct Local<'d> {
    flags: u16,
    method: u16,
    crc: u32,
    compressed: u32,
    size: u32,
    name: String,
    raw_name: &'d [u8],
    data: usize,
    extra: &'d [u8],
}

fn local_header(d: &[u8], off: usize) -> Option<Local<'_>> {
    if d.get(off..off + 4)? != b"PK\x03\x04" {
        return None;
    }
    let nlen = u16_at(d, off + 26)? as usize;
    let xlen = u16_at(d, off + 28)? as usize;
    Some(Local {
        flags: u16_at(d, off + 6)?,
        method: u16_at(d, off + 8)?,
        crc: u32_at(d, off + 14)?,
        compressed: u32_at(d, off + 18)?,
        size: u32_at(d, off + 22)?,
        name: entry_name(d.get(off + 30..off + 30 + nlen)?),
        raw_name: d.get(off + 30..off + 30 + nlen)?,
        data: off + 30 + nlen + xlen,
        extra: d
            .get(off + 30 + nlen..off + 30 + nlen + xlen)
            .unwrap_or(&[]),
    })
}

/// Without a central directory: the entries the local headers describe, in order, as far as
/// their sizes are known.
fn local_entries(d: &[u8]) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut off = 0usize;
    while let Some(l) = local_header(d, off) {
        let mut other_names: Vec<String> = c_string_name(l.raw_name).into_iter().collect();
        other_names.extend(unicode_path_in(l.extra, &l.name));
        let e = Entry {
            name: l.name,
            flags: l.flags,
            method: l.method,
            crc: l.crc,
            compressed: u64::from(l.compressed),
            size: u64::from(l.size),
            header: off as u64,
            aes: l.method == METHOD_AES,
            other_names,
        };
        if e.flags & FLAG_DESCRIPTOR != 0 && e.compressed == 0 {
            // Sizes follow the data: cannot be walked without the directory.
            entries.push(e);
            break;
        }
        let next = l.data.saturating_add(l.compressed as usize);
        entries.push(e);
        if next <= off || next > d.len() {
            break;
        }
        off = next;
    }
    entries
}

impl Unpacker for ZipUnpacker {
    fn name(&self) -> &'static str {
        "zip"
    }

    fn unpack(&self, object: &Object<'_>, out: &mut Unpack<'_>) {
        let d: &[u8] = &object.data;
        let container = object.member_path("");
        let container = container.trim_end_matches('/');
        let entries = match central_directory(d, out, container) {
            Some(e) => e,
            None => {
                let e = local_entries(d);
                if !e.is_empty() {
                    out.budget.note(
                        UncheckedReason::Undecodable,
                        container,
                        "zip without a central directory: read from local headers",
                    );
                }
                e
            }
        };

        // Overlap: sort the entries' extents [local header, end of data) and flag every entry
        // that starts before an earlier one ended.
        let mut extents: Vec<(u64, u64, usize)> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                (
                    e.header,
                    e.header.saturating_add(30).saturating_add(e.compressed),
                    i,
                )
            })
            .collect();
        extents.sort_unstable();
        let mut overlapping = vec![false; entries.len()];
        let mut reach = 0u64;
        let mut overlaps = 0usize;
        for (k, &(start, end, i)) in extents.iter().enumerate() {
            if k > 0 && start < reach {
                overlapping[i] = true;
                overlaps += 1;
            }
            reach = reach.max(end);
        }
        if overlaps > 0 {
            out.budget.note(
                UncheckedReason::Undecodable,
                container,
                format!(
                    "{overlaps} zip entries overlap or share data (overlapping-entry zip bomb)"
                ),
            );
        }

        for (i, e) in entries.iter().enumerate() {
            let path = object.member_path(&e.name);
            if overlapping[i] || !out.budget.check_time(&path) {
                if out.budget.is_exhausted() {
                    return;
                }
                continue;
            }
            if e.name.ends_with('/') && e.size == 0 {
                continue;
            }
            if e.flags & (FLAG_ENCRYPTED | FLAG_STRONG) != 0 || e.aes || e.method == METHOD_AES {
                let kind = if e.aes || e.method == METHOD_AES {
                    "WinZip AES"
                } else if e.flags & FLAG_STRONG != 0 {
                    "PKWARE strong encryption"
                } else {
                    "ZipCrypto"
                };
                out.budget.note(
                    UncheckedReason::Encrypted,
                    &path,
                    format!("encrypted zip entry ({kind})"),
                );
                continue;
            }
            let Some(local) = usize::try_from(e.header)
                .ok()
                .and_then(|h| local_header(d, h))
            else {
                out.budget.note(
                    UncheckedReason::Undecodable,
                    &path,
                    "zip local header missing where the central directory points",
                );
                continue;
            };
            let mut disagree = Vec::new();
            if local.method != e.method {
                disagree.push("method");
            }
            let mut other_names = e.other_names.clone();
            if local.name != e.name {
                disagree.push("name");
                // Streaming readers (`unzip -` style, many scanners) take the local name.
                if !other_names.contains(&local.name) {
                    other_names.push(local.name.clone());
                }
            }
            if local.flags & FLAG_DESCRIPTOR == 0 {
                if local.compressed != u32::MAX && u64::from(local.compressed) != e.compressed {
                    disagree.push("compressed size");
                }
                if local.size != u32::MAX && u64::from(local.size) != e.size {
                    disagree.push("size");
                }
                if local.crc != e.crc {
                    disagree.push("crc");
                }
            }
            if !disagree.is_empty() {
                out.budget.note(
                    UncheckedReason::Undecodable,
                    &path,
                    format!(
                        "zip central directory and local header disagree: {}",
                        disagree.join(", ")
                    ),
                );
            }
            let start = local.data.min(d.len());
            let end = usize::try_from(e.compressed)
                .ok()
                .and_then(|c| start.checked_add(c))
                .unwrap_or(usize::MAX);
            if end > d.len() {
                out.budget.note(
                    UncheckedReason::Undecodable,
                    &path,
                    "zip entry data runs past the end of the archive",
                );
            }
            let raw = &d[start..end.min(d.len())];
            let input = super::CountingReader::new(raw);
            let consumed = input.counter();
            let (data, outcome) = match e.method {
                METHOD_STORED => out.budget.read_to_end(raw, 0, &path),
                METHOD_DEFLATE => out.budget.read_to_end_with(
                    flate2::bufread::DeflateDecoder::new(input),
                    consumed,
                    &path,
                ),
                METHOD_DEFLATE64 => out.budget.read_to_end_with(
                    deflate64::Deflate64Decoder::new(input),
                    consumed,
                    &path,
                ),
                METHOD_BZIP2 => {
                    out.budget
                        .read_to_end_with(bzip2::read::BzDecoder::new(input), consumed, &path)
                }
                m => {
                    out.budget.note(
                        UncheckedReason::Undecodable,
                        &path,
                        format!("unsupported zip compression method {m}"),
                    );
                    continue;
                }
            };
            match outcome {
                ReadOutcome::Complete => {
                    if data.len() as u64 != e.size {
                        out.budget.note(
                            UncheckedReason::Undecodable,
                            &path,
                            format!(
                                "zip entry declares {} bytes but holds {}",
                                e.size,
                                data.len()
                            ),
                        );
                    } else if crc32(&data) != e.crc {
                        out.budget.note(
                            UncheckedReason::Undecodable,
                            &path,
                            "zip entry CRC mismatch",
                        );
                    }
                }
                ReadOutcome::Corrupt => out.budget.note(
                    UncheckedReason::Undecodable,
                    &path,
                    "corrupt compressed data in zip entry",
                ),
                ReadOutcome::Limited(_) => {}
            }
            if !out.emit_named(object, &e.name, other_names, data) || out.budget.is_exhausted() {
                return;
            }
        }
    }
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(data);
    crc.sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eocd_search_handles_short_and_garbage_input() {
        assert_eq!(find_eocd(b""), None);
        assert_eq!(find_eocd(&[0u8; 100]), None);
        let mut d = vec![0u8; 10];
        d.extend_from_slice(b"PK\x05\x06");
        d.extend_from_slice(&[0u8; 18]);
        assert_eq!(find_eocd(&d), Some(10));
    }

    #[test]
    fn local_walk_stops_on_bad_sizes() {
        let mut d = b"PK\x03\x04".to_vec();
        d.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        d.extend_from_slice(&u32::MAX.to_le_bytes());
        d.extend_from_slice(&u32::MAX.to_le_bytes());
        d.extend_from_slice(&[1, 0, 0, 0, b'a']);
        let e = local_entries(&d);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].name, "a");
    }
}
