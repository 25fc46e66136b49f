//! Builders for the archive tests: hand-written zip/gzip writers (so every header field can be
//! made to lie), cheap generators for huge compressed streams, and MIME wrapping.
#![allow(dead_code)]

use std::io::Write;

/// The EICAR test file.
pub const EICAR: &[u8] = mailwarden::signatures::EICAR;

/// The EICAR string behind a compressible prefix, so that once compressed it no longer
/// appears in the container's own bytes: a hit proves the container was opened.
pub fn payload() -> Vec<u8> {
    let mut p = b"#".repeat(300);
    p.extend_from_slice(b"\n");
    p.extend_from_slice(EICAR);
    p
}

/// Whether `data` contains the EICAR string (to assert a container hides it).
pub fn has_eicar(data: &[u8]) -> bool {
    data.windows(EICAR.len()).any(|w| w == EICAR)
}

/// Scans `message` with the default engine.
pub fn scan(message: &[u8]) -> mailwarden::Report {
    mailwarden::Engine::with_defaults().scan(message, &mailwarden::Envelope::default())
}

/// The unchecked reasons a report carries, by name.
pub fn reasons(report: &mailwarden::Report) -> Vec<&'static str> {
    report.unchecked().map(|(r, _, _)| r.name()).collect()
}

/// The paths of the objects a report finds a virus in.
pub fn viruses(report: &mailwarden::Report) -> Vec<String> {
    report
        .findings
        .iter()
        .filter_map(|f| match f {
            mailwarden::Finding::Virus { path, .. } => Some(path.clone()),
            _ => None,
        })
        .collect()
}

/// The paths of the objects a report bans.
pub fn banned(report: &mailwarden::Report) -> Vec<String> {
    report
        .findings
        .iter()
        .filter_map(|f| match f {
            mailwarden::Finding::Banned { path, .. } => Some(path.clone()),
            _ => None,
        })
        .collect()
}

/// Base64 with 76-column lines.
pub fn base64(data: &[u8]) -> Vec<u8> {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(data.len() * 4 / 3 + data.len() / 38 + 8);
    for (i, c) in data.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            out.extend_from_slice(b"\r\n");
        }
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63]);
        out.push(T[(n >> 12) as usize & 63]);
        out.push(if c.len() > 1 {
            T[(n >> 6) as usize & 63]
        } else {
            b'='
        });
        out.push(if c.len() > 2 {
            T[n as usize & 63]
        } else {
            b'='
        });
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// A message with one attachment, base64-encoded.
pub fn mail_with(name: &str, content_type: &str, data: &[u8]) -> Vec<u8> {
    let mut m = format!(
        "From: a@example.org\r\nTo: b@example.org\r\nSubject: test\r\nMIME-Version: 1.0\r\n\
         Date: Sun, 22 Nov 2026 08:00:00 +0000\r\nMessage-ID: <t@example.org>\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n\
         Content-Type: text/plain\r\n\r\nsee attachment\r\n--b1\r\n\
         Content-Type: {content_type}; name=\"{name}\"\r\n\
         Content-Disposition: attachment; filename=\"{name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n"
    )
    .into_bytes();
    m.extend(base64(data));
    m.extend_from_slice(b"--b1--\r\n");
    m
}

/// CRC-32 of `data`.
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(data);
    c.sum()
}

/// Raw deflate of `data`.
pub fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A raw deflate stream of `mib` MiB of zeros, built from one compressed MiB repeated: each
/// copy is compressed from an empty window and ends on a full flush (byte aligned), so copies
/// concatenate; an empty final block ends the stream. Costs one MiB of compression.
pub fn deflate_zeros(mib: usize) -> Vec<u8> {
    let mut c = flate2::Compress::new(flate2::Compression::best(), false);
    let zeros = vec![0u8; 1 << 20];
    let mut block = Vec::with_capacity(8192);
    c.compress_vec(&zeros, &mut block, flate2::FlushCompress::Full)
        .unwrap();
    assert_eq!(c.total_in(), 1 << 20, "one MiB fits in one call");
    let mut end = Vec::with_capacity(64);
    flate2::Compress::new(flate2::Compression::best(), false)
        .compress_vec(&[], &mut end, flate2::FlushCompress::Finish)
        .unwrap();
    let mut out = Vec::with_capacity(block.len() * mib + end.len());
    for _ in 0..mib {
        out.extend_from_slice(&block);
    }
    out.extend_from_slice(&end);
    out
}

/// A gzip stream of `mib` MiB of zeros (CRC left 0: a bomb is stopped before it matters).
pub fn gzip_zeros(mib: usize) -> Vec<u8> {
    let mut g = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    g.extend(deflate_zeros(mib));
    g.extend_from_slice(&0u32.to_le_bytes());
    g.extend_from_slice(&((mib as u64) << 20).to_le_bytes()[..4]);
    g
}

/// A gzip stream of `data` with an original name in the header.
pub fn gzip(name: Option<&str>, data: &[u8]) -> Vec<u8> {
    let mut b = flate2::GzBuilder::new();
    if let Some(n) = name {
        b = b.filename(n);
    }
    let mut e = b.write(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// bzip2 of `data`.
pub fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A tar with the given members.
pub fn tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// One zip entry as the writer lays it out; every field can lie.
#[derive(Clone, Debug)]
pub struct ZipEntry {
    pub name: String,
    pub method: u16,
    pub flags: u16,
    pub crc: u32,
    pub size: u64,
    /// Compressed bytes as stored.
    pub raw: Vec<u8>,
    /// Extra field (both headers).
    pub extra: Vec<u8>,
}

impl ZipEntry {
    /// A stored entry.
    pub fn stored(name: &str, data: &[u8]) -> Self {
        ZipEntry {
            name: name.into(),
            method: 0,
            flags: 0,
            crc: crc32(data),
            size: data.len() as u64,
            raw: data.to_vec(),
            extra: Vec::new(),
        }
    }

    /// A deflated entry.
    pub fn deflated(name: &str, data: &[u8]) -> Self {
        ZipEntry {
            method: 8,
            raw: deflate(data),
            ..ZipEntry::stored(name, data)
        }
    }
}

fn local(e: &ZipEntry, csize: u32, size: u32) -> Vec<u8> {
    let mut h = b"PK\x03\x04".to_vec();
    h.extend_from_slice(&20u16.to_le_bytes());
    h.extend_from_slice(&e.flags.to_le_bytes());
    h.extend_from_slice(&e.method.to_le_bytes());
    h.extend_from_slice(&[0, 0, 0x21, 0]);
    h.extend_from_slice(&e.crc.to_le_bytes());
    h.extend_from_slice(&csize.to_le_bytes());
    h.extend_from_slice(&size.to_le_bytes());
    h.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
    h.extend_from_slice(&(e.extra.len() as u16).to_le_bytes());
    h.extend_from_slice(e.name.as_bytes());
    h.extend_from_slice(&e.extra);
    h
}

fn central(e: &ZipEntry, offset: u64, zip64: bool) -> Vec<u8> {
    let mut extra = e.extra.clone();
    let (csize, size, off) = if zip64 {
        extra.extend_from_slice(&1u16.to_le_bytes());
        extra.extend_from_slice(&24u16.to_le_bytes());
        extra.extend_from_slice(&e.size.to_le_bytes());
        extra.extend_from_slice(&(e.raw.len() as u64).to_le_bytes());
        extra.extend_from_slice(&offset.to_le_bytes());
        (u32::MAX, u32::MAX, u32::MAX)
    } else {
        (e.raw.len() as u32, e.size as u32, offset as u32)
    };
    let mut h = b"PK\x01\x02".to_vec();
    h.extend_from_slice(&[20, 3, 20, 0]);
    h.extend_from_slice(&e.flags.to_le_bytes());
    h.extend_from_slice(&e.method.to_le_bytes());
    h.extend_from_slice(&[0, 0, 0x21, 0]);
    h.extend_from_slice(&e.crc.to_le_bytes());
    h.extend_from_slice(&csize.to_le_bytes());
    h.extend_from_slice(&size.to_le_bytes());
    h.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
    h.extend_from_slice(&(extra.len() as u16).to_le_bytes());
    h.extend_from_slice(&[0; 6]);
    h.extend_from_slice(&0o100644u32.wrapping_shl(16).to_le_bytes());
    h.extend_from_slice(&off.to_le_bytes());
    h.extend_from_slice(e.name.as_bytes());
    h.extend_from_slice(&extra);
    h
}

/// Lays out `entries` as a zip; `zip64` writes zip64 extra fields and end records.
pub fn zip(entries: &[ZipEntry], zip64: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut offsets = Vec::new();
    for e in entries {
        offsets.push(out.len() as u64);
        let (c, s) = if zip64 {
            (u32::MAX, u32::MAX)
        } else {
            (e.raw.len() as u32, e.size as u32)
        };
        out.extend(local(e, c, s));
        out.extend_from_slice(&e.raw);
    }
    let cd: Vec<u8> = entries
        .iter()
        .zip(&offsets)
        .flat_map(|(e, &o)| central(e, o, zip64))
        .collect();
    finish(out, &cd, entries.len() as u64, zip64)
}

/// Appends a central directory and the end records.
pub fn finish(mut out: Vec<u8>, cd: &[u8], count: u64, zip64: bool) -> Vec<u8> {
    let cd_offset = out.len() as u64;
    out.extend_from_slice(cd);
    if zip64 {
        let z = out.len() as u64;
        out.extend_from_slice(b"PK\x06\x06");
        out.extend_from_slice(&44u64.to_le_bytes());
        out.extend_from_slice(&[45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&(cd.len() as u64).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(b"PK\x06\x07\0\0\0\0");
        out.extend_from_slice(&z.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
    }
    let c16 = if zip64 {
        0xffff
    } else {
        count.min(0xffff) as u16
    };
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    out.extend_from_slice(&c16.to_le_bytes());
    out.extend_from_slice(&c16.to_le_bytes());
    out.extend_from_slice(&(if zip64 { u32::MAX } else { cd.len() as u32 }).to_le_bytes());
    out.extend_from_slice(&(if zip64 { u32::MAX } else { cd_offset as u32 }).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// A zip whose central directory has `copies` entries all pointing at one local header with
/// `mib` MiB of deflated zeros: the shared-data form of the overlapping-entry bomb.
pub fn shared_entry_bomb(copies: usize, mib: usize) -> Vec<u8> {
    let raw = deflate_zeros(mib);
    let e = ZipEntry {
        name: "0".into(),
        method: 8,
        flags: 0,
        crc: 0,
        size: (mib as u64) << 20,
        raw,
        extra: Vec::new(),
    };
    let mut out = local(&e, e.raw.len() as u32, e.size as u32);
    out.extend_from_slice(&e.raw);
    let mut cd = Vec::new();
    for i in 0..copies {
        let mut c = e.clone();
        c.name = i.to_string();
        cd.extend(central(&c, 0, false));
    }
    finish(out, &cd, copies as u64, false)
}

/// Fifield's layout: entry k's stored data contains every later local header and its data, so
/// the extents overlap without any two entries sharing a start.
pub fn overlapping_bomb(n: usize) -> Vec<u8> {
    // Build from the innermost (last) entry outwards.
    let mut tail: Vec<u8> = b"innermost".to_vec();
    let mut entries_rev = Vec::new();
    for k in (0..n).rev() {
        let e = ZipEntry::stored(&format!("f{k}"), &tail);
        let mut with_header = local(&e, e.raw.len() as u32, e.size as u32);
        with_header.extend_from_slice(&e.raw);
        entries_rev.push(e);
        tail = with_header;
    }
    // `tail` is now the whole local section; offsets follow from header sizes.
    let mut cd = Vec::new();
    let mut offset = 0u64;
    for e in entries_rev.iter().rev() {
        cd.extend(central(e, offset, false));
        offset += 30 + e.name.len() as u64;
    }
    finish(tail, &cd, n as u64, false)
}

/// A tar of `n` empty regular files, headers written directly (fast even unoptimised).
pub fn tar_many(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity((n + 2) * 512);
    for i in 0..n {
        let mut h = [0u8; 512];
        let name = format!("f{i}");
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..108].copy_from_slice(b"0000644\0");
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        h[124..136].copy_from_slice(b"00000000000\0");
        h[136..148].copy_from_slice(b"00000000000\0");
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&h);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

/// A zip holding a zip holding ... `depth` levels, the payload innermost.
pub fn nested_zip(depth: usize) -> Vec<u8> {
    let mut data = payload();
    let mut name = "eicar.com".to_string();
    for level in 0..depth {
        data = zip(&[ZipEntry::deflated(&name, &data)], false);
        name = format!("level{level}.zip");
    }
    data
}

/// A message whose MIME structure nests `depth` multiparts.
pub fn nested_mime(depth: usize) -> Vec<u8> {
    let mut m =
        b"From: a@example.org\r\nTo: b@example.org\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
            .to_vec();
    for i in 0..depth {
        m.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n")
                .as_bytes(),
        );
    }
    m.extend_from_slice(b"Content-Type: text/plain\r\n\r\ninnermost\r\n");
    for i in (0..depth).rev() {
        m.extend_from_slice(format!("--b{i}--\r\n").as_bytes());
    }
    m
}

/// One TNEF attribute: level, id (attribute and type), data, checksum.
fn tnef_attr(level: u8, id: u32, data: &[u8]) -> Vec<u8> {
    let mut v = vec![level];
    v.extend_from_slice(&id.to_le_bytes());
    v.extend_from_slice(&(data.len() as u32).to_le_bytes());
    v.extend_from_slice(data);
    let sum = data.iter().map(|&b| u32::from(b)).sum::<u32>() as u16;
    v.extend_from_slice(&sum.to_le_bytes());
    v
}

/// A MAPI property block holding a named property (ignored by readers of names), a long,
/// and `PR_ATTACH_LONG_FILENAME` (0x3707) as a Unicode string.
pub fn tnef_mapi_long_name(long_name: &str) -> Vec<u8> {
    let mut m = 3u32.to_le_bytes().to_vec();
    // Named property 0x8001 of type PT_LONG: GUID, kind 1 (a name), the name, the value.
    m.extend_from_slice(&0x8001_0003u32.to_le_bytes());
    m.extend_from_slice(&[7; 16]);
    m.extend_from_slice(&1u32.to_le_bytes());
    let name: Vec<u8> = "x-name\0"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    m.extend_from_slice(&(name.len() as u32).to_le_bytes());
    m.extend_from_slice(&name);
    m.resize(m.len().next_multiple_of(4), 0);
    m.extend_from_slice(&42u32.to_le_bytes());
    // PR_ATTACH_METHOD (0x3705, PT_LONG).
    m.extend_from_slice(&0x3705_0003u32.to_le_bytes());
    m.extend_from_slice(&1u32.to_le_bytes());
    // PR_ATTACH_LONG_FILENAME (0x3707, PT_UNICODE): one value.
    m.extend_from_slice(&0x3707_001fu32.to_le_bytes());
    m.extend_from_slice(&1u32.to_le_bytes());
    let long: Vec<u8> = format!("{long_name}\0")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    m.extend_from_slice(&(long.len() as u32).to_le_bytes());
    m.extend_from_slice(&long);
    m.resize(m.len().next_multiple_of(4), 0);
    m
}

/// One TNEF attachment: its title, its data, and its MAPI property block if any.
pub type TnefAttachment<'a> = (&'a str, &'a [u8], Option<Vec<u8>>);

/// A `winmail.dat` with one attachment per (title, data, MAPI property block).
pub fn tnef(attachments: &[TnefAttachment<'_>]) -> Vec<u8> {
    let mut d = 0x223e_9f78u32.to_le_bytes().to_vec();
    d.extend_from_slice(&[1, 0]);
    d.extend(tnef_attr(1, 0x0001_8004, b"subject\0"));
    for (title, data, mapi) in attachments {
        d.extend(tnef_attr(2, 0x0006_9002, &[0; 14]));
        d.extend(tnef_attr(2, 0x0001_8010, format!("{title}\0").as_bytes()));
        d.extend(tnef_attr(2, 0x0006_800f, data));
        if let Some(m) = mapi {
            d.extend(tnef_attr(2, 0x0006_9005, m));
        }
    }
    d
}

/// One folder of a hand-written cabinet ([`cab`]): its compression type word (0 stored,
/// 1 MSZIP, 2 Quantum, `3 | bits << 8` LZX) and its data blocks (the bytes as stored, and
/// the uncompressed size the block header declares).
pub struct CabFolder {
    pub method: u16,
    pub blocks: Vec<(Vec<u8>, u16)>,
}

/// One file of a hand-written cabinet: its name, folder index, offset in the folder's
/// uncompressed stream and size, as the file table states them (free to lie).
pub struct CabFile<'a> {
    pub name: &'a str,
    pub folder: u16,
    pub offset: u32,
    pub size: u32,
}

/// A cabinet (MS-CAB) of `folders` and `files`, every field as given: the header, the
/// folder table, the file table, then each folder's data blocks (checksum 0: none).
pub fn cab(folders: &[CabFolder], files: &[CabFile<'_>]) -> Vec<u8> {
    let files_at = 36 + 8 * folders.len();
    let mut table = Vec::new();
    for f in files {
        table.extend_from_slice(&f.size.to_le_bytes());
        table.extend_from_slice(&f.offset.to_le_bytes());
        table.extend_from_slice(&f.folder.to_le_bytes());
        table.extend_from_slice(&[0x21, 0x59, 0, 0, 0x20, 0]); // date, time, attributes
        table.extend_from_slice(f.name.as_bytes());
        table.push(0);
    }
    let mut data_at = files_at + table.len();
    let mut folder_table = Vec::new();
    let mut data = Vec::new();
    for folder in folders {
        folder_table.extend_from_slice(&(data_at as u32).to_le_bytes());
        folder_table.extend_from_slice(&(folder.blocks.len() as u16).to_le_bytes());
        folder_table.extend_from_slice(&folder.method.to_le_bytes());
        for (bytes, size) in &folder.blocks {
            data.extend_from_slice(&0u32.to_le_bytes());
            data.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
            data.extend_from_slice(&size.to_le_bytes());
            data.extend_from_slice(bytes);
            data_at += 8 + bytes.len();
        }
    }
    let total = files_at + table.len() + data.len();
    let mut out = b"MSCF".to_vec();
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(files_at as u32).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&[3, 1]); // version 1.3
    out.extend_from_slice(&(folders.len() as u16).to_le_bytes());
    out.extend_from_slice(&(files.len() as u16).to_le_bytes());
    out.extend_from_slice(&[0, 0, 0x34, 0x12, 0, 0]); // flags, set id, index
    out.extend_from_slice(&folder_table);
    out.extend_from_slice(&table);
    out.extend_from_slice(&data);
    out
}

/// `mib` MiB of zeros as the one file of a cabinet: one MSZIP block of 32 KiB of zeros
/// repeated (about 1.3 MB a GiB).
pub fn cab_zeros(mib: u32) -> Vec<u8> {
    let block = cab_mszip_blocks(&[0u8; 0x8000]).remove(0);
    cab(
        &[CabFolder {
            method: 1,
            blocks: vec![block; mib as usize * 32],
        }],
        &[CabFile {
            name: "zeros.bin",
            folder: 0,
            offset: 0,
            size: mib << 20,
        }],
    )
}

/// `n` files of a cabinet that all name the same MiB of its one folder.
pub fn cab_overlapping(n: usize) -> Vec<u8> {
    let names: Vec<String> = (0..n).map(|i| format!("copy{i}.bin")).collect();
    let files: Vec<CabFile<'_>> = names
        .iter()
        .map(|name| CabFile {
            name,
            folder: 0,
            offset: 0,
            size: 1 << 20,
        })
        .collect();
    let data: Vec<u8> = (0..1u32 << 20).map(|i| (i % 251) as u8).collect();
    cab(
        &[CabFolder {
            method: 1,
            blocks: cab_mszip_blocks(&data),
        }],
        &files,
    )
}

/// `data` as stored cabinet blocks of 32 KiB.
pub fn cab_stored_blocks(data: &[u8]) -> Vec<(Vec<u8>, u16)> {
    data.chunks(0x8000)
        .map(|c| (c.to_vec(), c.len() as u16))
        .collect()
}

/// `data` as MSZIP blocks of 32 KiB: `CK` and a complete deflate stream each, compressed
/// independently (valid MSZIP: a block need not refer back to the one before).
pub fn cab_mszip_blocks(data: &[u8]) -> Vec<(Vec<u8>, u16)> {
    data.chunks(0x8000)
        .map(|c| {
            let mut b = b"CK".to_vec();
            b.extend_from_slice(&deflate(c));
            (b, c.len() as u16)
        })
        .collect()
}

/// `data` as LZX frames of 32 KiB holding one uncompressed LZX block (MS-PATCH LZXD 2.3.2:
/// no E8 translation, block type 3, a 24-bit size, padding to 16 bits, R0-R2, the bytes).
/// The block runs on through the frames that follow the first. `data` must be of even
/// length and at most 16 MiB.
pub fn cab_lzx_blocks(data: &[u8]) -> Vec<(Vec<u8>, u16)> {
    assert!(data.len().is_multiple_of(2) && data.len() < 1 << 24);
    let n = data.len() as u32;
    let w0 = (0b011u16 << 12) | ((n >> 12) & 0xfff) as u16;
    let w1 = ((n & 0xfff) << 4) as u16;
    let mut stream = Vec::new();
    stream.extend_from_slice(&w0.to_le_bytes());
    stream.extend_from_slice(&w1.to_le_bytes());
    for _ in 0..3 {
        stream.extend_from_slice(&1u32.to_le_bytes());
    }
    let header = stream.len();
    stream.extend_from_slice(data);
    let mut blocks = Vec::new();
    let mut at = 0;
    for (i, chunk) in data.chunks(0x8000).enumerate() {
        let take = if i == 0 {
            header + chunk.len()
        } else {
            chunk.len()
        };
        blocks.push((stream[at..at + take].to_vec(), chunk.len() as u16));
        at += take;
    }
    blocks
}

/// One directory record of an ISO 9660 image ([`iso`]).
fn iso_record(name: &[u8], sector: u32, size: u32, flags: u8) -> Vec<u8> {
    let mut r = vec![0u8; 33];
    r[2..6].copy_from_slice(&sector.to_le_bytes());
    r[6..10].copy_from_slice(&sector.to_be_bytes());
    r[10..14].copy_from_slice(&size.to_le_bytes());
    r[14..18].copy_from_slice(&size.to_be_bytes());
    r[18..25].copy_from_slice(&[124, 1, 1, 0, 0, 0, 0]);
    r[25] = flags;
    r[28] = 1;
    r[31] = 1;
    r[32] = name.len() as u8;
    r.extend_from_slice(name);
    if !r.len().is_multiple_of(2) {
        r.push(0);
    }
    r[0] = r.len() as u8;
    r
}

/// An ISO 9660 image, every field as given: sectors 0-15 empty, a primary volume
/// descriptor at 16 whose root is the directory at `primary_root` (sector), a Joliet
/// supplementary descriptor at 17 when `joliet_root` is given, a terminator, then `sectors`
/// (index = sector number; directories are [`iso_dir_sector`]s, files their bytes).
pub fn iso(primary_root: u32, joliet_root: Option<u32>, sectors: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let last = sectors
        .iter()
        .map(|(s, b)| *s as usize + b.len().div_ceil(2048).max(1))
        .max()
        .unwrap_or(20)
        .max(20);
    let mut img = vec![0u8; last * 2048];
    let descriptor = |img: &mut Vec<u8>, at: usize, kind: u8, root: u32| {
        let s = &mut img[at * 2048..(at + 1) * 2048];
        s[0] = kind;
        s[1..6].copy_from_slice(b"CD001");
        s[6] = 1;
        if kind == 2 {
            s[88..91].copy_from_slice(b"%/E");
        }
        let r = iso_record(&[0], root, 2048, 2);
        s[156..156 + r.len()].copy_from_slice(&r);
    };
    descriptor(&mut img, 16, 1, primary_root);
    let mut next = 17;
    if let Some(j) = joliet_root {
        descriptor(&mut img, 17, 2, j);
        next = 18;
    }
    img[next * 2048] = 255;
    img[next * 2048 + 1..next * 2048 + 6].copy_from_slice(b"CD001");
    for (sector, bytes) in sectors {
        let at = *sector as usize * 2048;
        img[at..at + bytes.len()].copy_from_slice(bytes);
    }
    img
}

/// The sector of a directory at `sector` whose parent is at `parent`: `.`, `..`, then the
/// entries (name as stored, sector, size, flags: 2 for a directory).
pub fn iso_dir_sector(sector: u32, parent: u32, entries: &[(&[u8], u32, u32, u8)]) -> Vec<u8> {
    let mut s = iso_record(&[0], sector, 2048, 2);
    s.extend(iso_record(&[1], parent, 2048, 2));
    for (name, at, size, flags) in entries {
        s.extend(iso_record(name, *at, *size, *flags));
    }
    assert!(s.len() <= 2048, "one sector per directory");
    s
}

/// A Joliet name: UCS-2 big endian.
pub fn joliet(name: &str) -> Vec<u8> {
    name.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

/// RAR 5's variable-length integer.
fn rar_vint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

/// One RAR 5 block: CRC32 of the header (from its size field on), the header size, type,
/// flags (extra area and data area bits added as needed), `fields`, `extra`, then `data`.
pub fn rar5_block(kind: u64, mut flags: u64, fields: &[u8], extra: &[u8], data: &[u8]) -> Vec<u8> {
    if !extra.is_empty() {
        flags |= 1;
    }
    if !data.is_empty() {
        flags |= 2;
    }
    let mut h = rar_vint(kind);
    h.extend(rar_vint(flags));
    if !extra.is_empty() {
        h.extend(rar_vint(extra.len() as u64));
    }
    if !data.is_empty() {
        h.extend(rar_vint(data.len() as u64));
    }
    h.extend_from_slice(fields);
    h.extend_from_slice(extra);
    let mut block = rar_vint(h.len() as u64);
    block.extend(h);
    let mut out = crc32(&block).to_le_bytes().to_vec();
    out.extend(block);
    out.extend_from_slice(data);
    out
}

/// A member of a hand-written RAR archive.
pub struct RarMember<'a> {
    pub name: &'a str,
    /// The bytes as stored in the archive.
    pub data: &'a [u8],
    /// The size it unpacks to.
    pub unpacked: u64,
    /// 0 stored, 1-5 compressed (the data is then not real RAR compression).
    pub method: u8,
    pub encrypted: bool,
}

impl<'a> RarMember<'a> {
    /// A stored member.
    pub fn stored(name: &'a str, data: &'a [u8]) -> Self {
        RarMember {
            name,
            data,
            unpacked: data.len() as u64,
            method: 0,
            encrypted: false,
        }
    }
}

/// A RAR 5 archive of `members` (RAR 5.0 technote: main header, file headers, end).
pub fn rar5(members: &[RarMember<'_>]) -> Vec<u8> {
    let mut out = b"Rar!\x1a\x07\x01\x00".to_vec();
    out.extend(rar5_block(1, 0, &rar_vint(0), &[], &[]));
    for m in members {
        let mut f = rar_vint(0x4); // file flags: CRC present
        f.extend(rar_vint(m.unpacked));
        f.extend(rar_vint(0x20)); // attributes
        f.extend_from_slice(&crc32(m.data).to_le_bytes());
        f.extend(rar_vint(u64::from(m.method) << 7)); // version 0, method
        f.extend(rar_vint(0)); // Windows
        f.extend(rar_vint(m.name.len() as u64));
        f.extend_from_slice(m.name.as_bytes());
        let mut extra = Vec::new();
        if m.encrypted {
            // File encryption record: version 0, flags 0, KDF count, salt, IV.
            let mut rec = rar_vint(1);
            rec.extend(rar_vint(0));
            rec.extend(rar_vint(0));
            rec.push(15);
            rec.extend_from_slice(&[0x11; 32]);
            extra = rar_vint(rec.len() as u64);
            extra.extend(rec);
        }
        out.extend(rar5_block(2, 0, &f, &extra, m.data));
    }
    out.extend(rar5_block(5, 0, &rar_vint(0), &[], &[]));
    out
}

/// A RAR 1.5-4.x archive of `members`: marker, archive header (headers encrypted when
/// `encrypt_headers`), file headers, end of archive.
pub fn rar4(members: &[RarMember<'_>], encrypt_headers: bool) -> Vec<u8> {
    let block = |kind: u8, flags: u16, fields: &[u8]| {
        let mut h = vec![kind];
        h.extend_from_slice(&flags.to_le_bytes());
        h.extend_from_slice(&((7 + fields.len()) as u16).to_le_bytes());
        h.extend_from_slice(fields);
        let mut out = ((crc32(&h) & 0xffff) as u16).to_le_bytes().to_vec();
        out.extend(h);
        out
    };
    let mut out = b"Rar!\x1a\x07\x00".to_vec();
    out.extend(block(0x73, if encrypt_headers { 0x80 } else { 0 }, &[0; 6]));
    for m in members {
        let mut f = (m.data.len() as u32).to_le_bytes().to_vec();
        f.extend_from_slice(&(m.unpacked as u32).to_le_bytes());
        f.push(2); // Win32
        f.extend_from_slice(&crc32(m.data).to_le_bytes());
        f.extend_from_slice(&0x5921_0000u32.to_le_bytes()); // DOS time
        f.push(29);
        f.push(0x30 + m.method);
        f.extend_from_slice(&(m.name.len() as u16).to_le_bytes());
        f.extend_from_slice(&0x20u32.to_le_bytes());
        f.extend_from_slice(m.name.as_bytes());
        let flags = 0x8000 | if m.encrypted { 0x04 } else { 0 };
        out.extend(block(0x74, flags, &f));
        out.extend_from_slice(m.data);
    }
    out.extend(block(0x7b, 0x4000, &[]));
    out
}
