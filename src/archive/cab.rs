//! Microsoft cabinet files (`.cab`, `MSCF`): read here, the way cabextract and ClamAV read
//! them (MS-CAB), with the LZX decoder of the `lzxd` crate and MSZIP through flate2.
//!
//! A cabinet holds folders (compressed streams of 32 KiB blocks, each stored, MSZIP or LZX
//! as a whole) and files (a name, a folder, an offset and a size in the folder's
//! uncompressed stream).
//!
//! - Each folder is decoded once, front to back, and its files are cut from the stream in
//!   offset order: a folder of thousands of small files costs one pass, not one per file
//!   (a reader that seeks per file, as the `cab` crate does, decodes the folder again for
//!   each one).
//! - Every decoded byte goes through the budget, the bytes between files included (charged
//!   and held to `max_ratio` like a file's own), so a folder that decodes a gigabyte of
//!   zeros ahead of one small file is stopped after its first MiB.
//! - Files that overlap (a hostile cabinet points many files at the same data, as
//!   overlapping zip entries do) restart the folder and are charged again for it.
//! - Two files of the same name are both unpacked (a reader that looks files up by name
//!   sees only the first).
//! - Quantum folders, files continued from or into another cabinet of a set, and corrupt
//!   data are UNCHECKED `undecodable`, each naming the file (a corrupt folder: the first file
//!   it loses, and how many). What was decoded before is still emitted, and every file that
//!   could not be is emitted empty, so its name still reaches the banned rules.
//! - Checksums are not verified (cabextract warns and extracts, ClamAV ignores them).

use super::{ReadOutcome, Unpack, Unpacker};
use crate::object::Object;
use crate::report::UncheckedReason;
use std::cell::Cell;
use std::io::Read;
use std::rc::Rc;

/// The cabinet unpacker.
pub struct CabUnpacker;

/// Largest uncompressed size of one MSZIP or LZX block (MS-CAB: 32 KiB).
const MAX_BLOCK: usize = 32 * 1024;
/// Header flags.
const PREV_CABINET: u16 = 0x0001;
const NEXT_CABINET: u16 = 0x0002;
const RESERVE_PRESENT: u16 = 0x0004;
/// File attribute: the name is UTF-8 (else the cabinet's code page; read as Latin-1).
const NAME_IS_UTF: u16 = 0x0080;
/// Folder indices of files continued across cabinets of a set.
const CONTINUED_FROM_PREV: u16 = 0xfffd;

/// A parse error: what is wrong with the cabinet's structure.
type Malformed = &'static str;

/// A little-endian reader over the cabinet's bytes.
struct Bytes<'a> {
    d: &'a [u8],
    at: usize,
}

impl<'a> Bytes<'a> {
    fn new(d: &'a [u8], at: usize) -> Self {
        Bytes { d, at }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        let end = self.at.checked_add(n).ok_or("offset overflows")?;
        let s = self.d.get(self.at..end).ok_or("truncated cabinet")?;
        self.at = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, Malformed> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, Malformed> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, Malformed> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A NUL-terminated string of at most 256 bytes (MS-CAB's limit for names).
    fn cstr(&mut self) -> Result<&'a [u8], Malformed> {
        let rest = self.d.get(self.at..).ok_or("truncated cabinet")?;
        let window = &rest[..rest.len().min(257)];
        let n = memchr::memchr(0, window).ok_or("unterminated name")?;
        self.at += n + 1;
        Ok(&rest[..n])
    }
}

/// How a folder's blocks are compressed.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Method {
    Stored,
    MsZip,
    Quantum,
    /// LZX with a window of 2^bits bytes (15 to 21).
    Lzx(u8),
    Unknown(u16),
}

impl Method {
    fn from_type(t: u16) -> Method {
        match t & 0x000f {
            0 => Method::Stored,
            1 => Method::MsZip,
            2 => Method::Quantum,
            3 => Method::Lzx(((t >> 8) & 0x1f) as u8),
            _ => Method::Unknown(t),
        }
    }
}

#[derive(Debug)]
struct Folder {
    /// Offset of the first data block in the cabinet.
    data: u32,
    blocks: u16,
    method: Method,
}

#[derive(Debug)]
struct File {
    name: String,
    folder: u16,
    offset: u32,
    size: u32,
}

#[derive(Debug)]
struct Cabinet {
    folders: Vec<Folder>,
    files: Vec<File>,
    /// Reserved bytes in each data block's header.
    data_reserve: usize,
}

/// A file name: UTF-8 when the attribute says so (lossily), else Latin-1; the cabinet's
/// path separator `\` becomes `/`, as cabextract writes it.
fn file_name(raw: &[u8], attributes: u16) -> String {
    let name: String = if attributes & NAME_IS_UTF != 0 {
        String::from_utf8_lossy(raw).into_owned()
    } else {
        raw.iter().map(|&b| char::from(b)).collect()
    };
    name.replace('\\', "/")
}

/// Reads the header, the folder table and the file table.
fn parse(d: &[u8]) -> Result<Cabinet, Malformed> {
    let mut r = Bytes::new(d, 0);
    if r.take(4)? != b"MSCF" {
        return Err("not a cabinet");
    }
    r.take(12)?; // reserved, cbCabinet, reserved
    let files_at = r.u32()? as usize;
    r.take(6)?; // reserved, version
    let n_folders = r.u16()?;
    let n_files = r.u16()?;
    let flags = r.u16()?;
    r.take(4)?; // set id, index in the set
    let (mut folder_reserve, mut data_reserve) = (0, 0);
    if flags & RESERVE_PRESENT != 0 {
        let header_reserve = r.u16()? as usize;
        folder_reserve = r.u8()? as usize;
        data_reserve = r.u8()? as usize;
        r.take(header_reserve)?;
    }
    if flags & PREV_CABINET != 0 {
        r.cstr()?;
        r.cstr()?;
    }
    if flags & NEXT_CABINET != 0 {
        r.cstr()?;
        r.cstr()?;
    }
    // Every entry takes at least 8 bytes (folders) or 17 (files): the counts cannot ask for
    // more entries than the cabinet has room for.
    let mut folders = Vec::with_capacity(usize::from(n_folders).min(d.len() / 8));
    for _ in 0..n_folders {
        let data = r.u32()?;
        let blocks = r.u16()?;
        let method = Method::from_type(r.u16()?);
        r.take(folder_reserve)?;
        folders.push(Folder {
            data,
            blocks,
            method,
        });
    }
    let mut r = Bytes::new(d, files_at);
    let mut files = Vec::with_capacity(usize::from(n_files).min(d.len() / 17));
    for _ in 0..n_files {
        let size = r.u32()?;
        let offset = r.u32()?;
        let folder = r.u16()?;
        r.take(4)?; // date, time
        let attributes = r.u16()?;
        let name = file_name(r.cstr()?, attributes);
        files.push(File {
            name,
            folder,
            offset,
            size,
        });
    }
    Ok(Cabinet {
        folders,
        files,
        data_reserve,
    })
}

/// The decoder state of one folder's method.
enum Decoder {
    Stored,
    MsZip {
        inflate: flate2::Decompress,
        /// The last 32 KiB of output: MSZIP blocks refer back into the blocks before them.
        history: Vec<u8>,
    },
    Lzx(Box<lzxd::Lzxd>),
}

impl Decoder {
    fn new(method: Method) -> Result<Decoder, String> {
        Ok(match method {
            Method::Stored => Decoder::Stored,
            Method::MsZip => Decoder::MsZip {
                inflate: flate2::Decompress::new(false),
                history: Vec::new(),
            },
            Method::Lzx(bits) => {
                use lzxd::WindowSize as W;
                let window = match bits {
                    15 => W::KB32,
                    16 => W::KB64,
                    17 => W::KB128,
                    18 => W::KB256,
                    19 => W::KB512,
                    20 => W::MB1,
                    21 => W::MB2,
                    _ => return Err(format!("LZX window of 2^{bits} bytes is not valid")),
                };
                Decoder::Lzx(Box::new(lzxd::Lzxd::new(window)))
            }
            Method::Quantum => return Err("Quantum compression is not supported".into()),
            Method::Unknown(t) => return Err(format!("unknown compression type {t:#06x}")),
        })
    }

    /// Decodes one block of `data` into `out` (cleared first), expecting `size` bytes.
    fn block(&mut self, data: &[u8], size: usize, out: &mut Vec<u8>) -> Result<(), String> {
        out.clear();
        match self {
            Decoder::Stored => {
                if data.len() != size {
                    return Err("stored block sizes differ".into());
                }
                out.extend_from_slice(data);
            }
            Decoder::MsZip { inflate, history } => {
                let body = data
                    .strip_prefix(b"CK")
                    .ok_or("MSZIP block without its CK signature")?;
                if size > MAX_BLOCK {
                    return Err("MSZIP block larger than 32 KiB".into());
                }
                // The previous output goes in first as a stored deflate block (BFINAL 0,
                // BTYPE 00, then LEN and its complement), so the block's back-references
                // reach it; then the block itself, which ends the stream.
                inflate.reset(false);
                let len = history.len() as u16;
                let mut input = Vec::with_capacity(5 + history.len() + body.len());
                input.push(0);
                input.extend_from_slice(&len.to_le_bytes());
                input.extend_from_slice(&(!len).to_le_bytes());
                input.extend_from_slice(history);
                input.extend_from_slice(body);
                let mut buf = Vec::with_capacity(history.len() + size);
                let status = inflate
                    .decompress_vec(&input, &mut buf, flate2::FlushDecompress::Finish)
                    .map_err(|e| format!("MSZIP: {e}"))?;
                let produced = buf.len() - history.len();
                if status != flate2::Status::StreamEnd || produced != size {
                    return Err("MSZIP block does not decode to its size".into());
                }
                out.extend_from_slice(&buf[history.len()..]);
                let keep = buf.len().saturating_sub(MAX_BLOCK);
                buf.drain(..keep);
                *history = buf;
            }
            Decoder::Lzx(lzx) => {
                if size > MAX_BLOCK {
                    return Err("LZX frame larger than 32 KiB".into());
                }
                // The decoder is a third-party one that has not seen a fuzzer here: a panic
                // in it is a corrupt block, not the end of the scan.
                let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    lzx.decompress_next(data, size).map(<[u8]>::to_vec)
                }));
                match decoded {
                    Ok(Ok(bytes)) => out.extend_from_slice(&bytes),
                    Ok(Err(e)) => return Err(format!("LZX: {e}")),
                    Err(_) => return Err("LZX decoder failed".into()),
                }
            }
        }
        Ok(())
    }
}

/// A folder's uncompressed stream, decoded block by block as it is read.
struct FolderStream<'a> {
    d: &'a [u8],
    folder: &'a Folder,
    data_reserve: usize,
    decoder: Decoder,
    /// Offset of the next block's header.
    next: usize,
    blocks_read: u16,
    block: Vec<u8>,
    /// Read position in `block`.
    at: usize,
    /// Compressed bytes taken so far (block headers included).
    consumed: Rc<Cell<u64>>,
    /// Why decoding stopped early, if it did.
    error: Option<String>,
}

impl<'a> FolderStream<'a> {
    fn new(d: &'a [u8], folder: &'a Folder, data_reserve: usize) -> Result<Self, String> {
        Ok(FolderStream {
            d,
            folder,
            data_reserve,
            decoder: Decoder::new(folder.method)?,
            next: folder.data as usize,
            blocks_read: 0,
            block: Vec::with_capacity(MAX_BLOCK),
            at: 0,
            consumed: Rc::default(),
            error: None,
        })
    }

    /// Loads the next block; false at the end of the folder or on an error (kept in `error`).
    fn load(&mut self) -> bool {
        if self.error.is_some() || self.blocks_read >= self.folder.blocks {
            return false;
        }
        let mut r = Bytes::new(self.d, self.next);
        let header = (|| -> Result<(&[u8], usize), Malformed> {
            r.u32()?; // checksum
            let packed = r.u16()? as usize;
            let size = r.u16()? as usize;
            r.take(self.data_reserve)?;
            Ok((r.take(packed)?, size))
        })();
        let (data, size) = match header {
            Ok(h) => h,
            Err(e) => {
                self.error = Some(e.to_string());
                return false;
            }
        };
        if size == 0 {
            self.error = Some("block continued in the next cabinet of the set".into());
            return false;
        }
        self.consumed
            .set(self.consumed.get() + (r.at - self.next) as u64);
        self.next = r.at;
        self.blocks_read += 1;
        self.at = 0;
        if let Err(e) = self.decoder.block(data, size, &mut self.block) {
            self.error = Some(e);
            return false;
        }
        true
    }
}

impl Read for FolderStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.block.len() {
            if !self.load() {
                return match &self.error {
                    Some(e) => Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        e.clone(),
                    )),
                    None => Ok(0),
                };
            }
        }
        let n = buf.len().min(self.block.len() - self.at);
        buf[..n].copy_from_slice(&self.block[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// How a skip to a file's offset ended.
#[derive(Debug, PartialEq)]
enum Skipped {
    /// At the offset.
    Reached,
    /// The folder ended or broke before it.
    Short,
    /// A limit stopped it (the budget has the finding).
    Limited,
}

/// Reads and drops `n` bytes of `stream`, charging them to the budget and holding them to
/// `max_ratio` against the compressed bytes read for them, as a file's own bytes are: a
/// cabinet only skips when it is hostile (files out of order, or data no file names).
fn skip(stream: &mut FolderStream<'_>, n: u64, out: &mut Unpack<'_>, path: &str) -> Skipped {
    let start = stream.consumed.get();
    let max_ratio = out.budget.limits().max_ratio;
    let mut left = n;
    let mut buf = [0u8; 8192];
    while left > 0 {
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let got = match stream.read(&mut buf[..want]) {
            Ok(0) | Err(_) => return Skipped::Short,
            Ok(k) => k,
        };
        if !out.budget.charge(got as u64, path) {
            return Skipped::Limited;
        }
        left -= got as u64;
        let skipped = n - left;
        let consumed = stream.consumed.get() - start;
        if skipped > 1 << 20 && consumed > 0 && skipped / consumed > max_ratio {
            let detail =
                format!("cab: data before the file compressed above max_ratio ({max_ratio}:1)");
            out.budget.note(UncheckedReason::MaxRatio, path, detail);
            return Skipped::Limited;
        }
    }
    Skipped::Reached
}

impl Unpacker for CabUnpacker {
    fn name(&self) -> &'static str {
        "cab"
    }

    fn unpack(&self, object: &Object<'_>, out: &mut Unpack<'_>) {
        let d: &[u8] = &object.data;
        let container = object.member_path("");
        let container = container.trim_end_matches('/');
        let cab = match parse(d) {
            Ok(c) => c,
            Err(e) => {
                out.budget
                    .note(UncheckedReason::Undecodable, container, format!("cab: {e}"));
                return;
            }
        };
        // Files by folder, in stream order; the index keeps files of equal offset in
        // table order.
        let mut order: Vec<usize> = (0..cab.files.len()).collect();
        order.sort_by_key(|&i| (cab.files[i].folder, cab.files[i].offset, i));
        let mut i = 0;
        while i < order.len() {
            if out.budget.is_exhausted() {
                return;
            }
            let folder_index = cab.files[order[i]].folder;
            let end = order[i..]
                .iter()
                .position(|&k| cab.files[k].folder != folder_index)
                .map_or(order.len(), |p| i + p);
            let files: Vec<&File> = order[i..end].iter().map(|&k| &cab.files[k]).collect();
            i = end;
            match cab.folders.get(usize::from(folder_index)) {
                Some(folder) => unpack_folder(object, d, folder, cab.data_reserve, &files, out),
                None => {
                    let why = if folder_index >= CONTINUED_FROM_PREV {
                        "file continued from or into another cabinet of the set"
                    } else {
                        "file in a folder the cabinet does not have"
                    };
                    for f in files {
                        if !out.emit(object, &f.name, Vec::new()) {
                            return;
                        }
                        let path = object.member_path(&f.name);
                        out.budget.note(UncheckedReason::Undecodable, &path, why);
                    }
                }
            }
        }
    }
}

/// Decodes one folder and emits its `files` (sorted by offset).
fn unpack_folder(
    object: &Object<'_>,
    d: &[u8],
    folder: &Folder,
    data_reserve: usize,
    files: &[&File],
    out: &mut Unpack<'_>,
) {
    let new_stream = || FolderStream::new(d, folder, data_reserve);
    let mut stream = match new_stream() {
        Ok(s) => s,
        Err(e) => {
            // Names still reach the banned rules; the contents are unchecked.
            for f in files {
                if !out.emit(object, &f.name, Vec::new()) {
                    return;
                }
                let path = object.member_path(&f.name);
                out.budget
                    .note(UncheckedReason::Undecodable, &path, format!("cab: {e}"));
            }
            return;
        }
    };
    // The files from `from` on are not unpacked: their names still go to the banned rules,
    // and one finding says how many were lost (when `why` is given: a limit has its own).
    let abandon = |from: usize, why: Option<String>, out: &mut Unpack<'_>| {
        if let (Some(why), Some(first)) = (why, files.get(from)) {
            let lost = files.len() - from;
            let path = object.member_path(&first.name);
            let detail = format!("cab: {why} ({lost} files of the folder not unpacked)");
            out.budget.note(UncheckedReason::Undecodable, &path, detail);
        }
        for f in &files[from.min(files.len())..] {
            if !out.emit(object, &f.name, Vec::new()) {
                return;
            }
        }
    };
    let mut pos: u64 = 0;
    for (n, f) in files.iter().enumerate() {
        if out.budget.is_exhausted() {
            return;
        }
        let path = object.member_path(&f.name);
        let offset = u64::from(f.offset);
        if offset < pos {
            // Overlapping files: start the folder again.
            stream = match new_stream() {
                Ok(s) => s,
                Err(_) => return,
            };
            pos = 0;
        }
        match skip(&mut stream, offset - pos, out, &path) {
            Skipped::Reached => pos = offset,
            Skipped::Limited => return abandon(n, None, out),
            Skipped::Short => {
                let why = stream.error.clone();
                return abandon(
                    n,
                    Some(why.unwrap_or_else(|| "the folder ends before them".into())),
                    out,
                );
            }
        }
        // The ratio is taken against the compressed bytes this file makes the folder read.
        let counter = stream.consumed.clone();
        let start = counter.get();
        let reader = (&mut stream).take(u64::from(f.size));
        let (data, outcome) =
            out.budget
                .read_to_end_with(reader, move || counter.get() - start, &path);
        pos += data.len() as u64;
        let whole = data.len() as u64 == u64::from(f.size);
        if !out.emit(object, &f.name, data) {
            return;
        }
        match outcome {
            ReadOutcome::Limited(_) => return abandon(n + 1, None, out),
            ReadOutcome::Complete if whole => {}
            _ => {
                let why = stream.error.clone();
                out.budget.note(
                    UncheckedReason::Undecodable,
                    &path,
                    format!(
                        "cab: {}",
                        why.as_deref().unwrap_or("folder ends inside the file")
                    ),
                );
                return abandon(
                    n + 1,
                    why.or_else(|| Some("the folder ends before them".into())),
                    out,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored cabinet with every optional header field: reserved areas in the header,
    /// each folder entry and each data block, and the names of the previous and next
    /// cabinets of a set.
    fn with_reserves(name: &[u8], attributes: u16, data: &[u8]) -> Vec<u8> {
        let (header_reserve, folder_reserve, data_reserve) = (6usize, 3usize, 5usize);
        let mut head = b"MSCF".to_vec();
        head.extend_from_slice(&[0; 12]);
        let files_at_field = head.len();
        head.extend_from_slice(&[0; 4]);
        head.extend_from_slice(&[0, 0, 0, 0, 3, 1]);
        head.extend_from_slice(&1u16.to_le_bytes()); // folders
        head.extend_from_slice(&1u16.to_le_bytes()); // files
        let flags = PREV_CABINET | NEXT_CABINET | RESERVE_PRESENT;
        head.extend_from_slice(&flags.to_le_bytes());
        head.extend_from_slice(&[0x34, 0x12, 1, 0]);
        head.extend_from_slice(&(header_reserve as u16).to_le_bytes());
        head.extend_from_slice(&[folder_reserve as u8, data_reserve as u8]);
        head.extend_from_slice(&vec![0xee; header_reserve]);
        head.extend_from_slice(b"prev.cab\0disk 1\0next.cab\0disk 3\0");
        let folder_at = head.len();
        let files_at = folder_at + 8 + folder_reserve;
        let data_at = files_at + 16 + name.len() + 1;
        head.extend_from_slice(&(data_at as u32).to_le_bytes());
        head.extend_from_slice(&1u16.to_le_bytes());
        head.extend_from_slice(&0u16.to_le_bytes()); // stored
        head.extend_from_slice(&vec![0xdd; folder_reserve]);
        head.extend_from_slice(&(data.len() as u32).to_le_bytes());
        head.extend_from_slice(&0u32.to_le_bytes());
        head.extend_from_slice(&0u16.to_le_bytes());
        head.extend_from_slice(&[0, 0, 0, 0]);
        head.extend_from_slice(&attributes.to_le_bytes());
        head.extend_from_slice(name);
        head.push(0);
        assert_eq!(head.len(), data_at);
        head.extend_from_slice(&0u32.to_le_bytes());
        head.extend_from_slice(&(data.len() as u16).to_le_bytes());
        head.extend_from_slice(&(data.len() as u16).to_le_bytes());
        head.extend_from_slice(&vec![0xcc; data_reserve]);
        head.extend_from_slice(data);
        head[files_at_field..files_at_field + 4].copy_from_slice(&(files_at as u32).to_le_bytes());
        head
    }

    fn read_all(d: &[u8]) -> Vec<(String, Vec<u8>)> {
        let cab = parse(d).unwrap();
        cab.files
            .iter()
            .map(|f| {
                let folder = &cab.folders[usize::from(f.folder)];
                let mut s = FolderStream::new(d, folder, cab.data_reserve).unwrap();
                let mut out = Vec::new();
                s.read_to_end(&mut out).unwrap();
                let range = f.offset as usize..(f.offset + f.size) as usize;
                (f.name.clone(), out[range].to_vec())
            })
            .collect()
    }

    #[test]
    fn reserved_areas_and_set_names_are_skipped() {
        let d = with_reserves(b"dir\\file.txt", 0, b"hello cab");
        assert_eq!(
            read_all(&d),
            [("dir/file.txt".to_string(), b"hello cab".to_vec())]
        );
    }

    #[test]
    fn names_are_latin1_unless_marked_utf8() {
        let d = with_reserves(b"caf\xe9.exe", 0, b"x");
        assert_eq!(read_all(&d)[0].0, "caf\u{e9}.exe");
        let d = with_reserves("café.exe".as_bytes(), NAME_IS_UTF, b"x");
        assert_eq!(read_all(&d)[0].0, "café.exe");
    }

    #[test]
    fn broken_headers_are_errors() {
        let d = with_reserves(b"a.txt", 0, b"x");
        for cut in [3, 20, 40, 60, d.len() - 20] {
            assert!(parse(&d[..cut]).is_err(), "cut at {cut}");
        }
        // A name without its terminator inside 256 bytes.
        let long = vec![b'a'; 300];
        assert!(parse(&with_reserves(&long, 0, b"x")).is_err());
        assert!(parse(b"PK\x03\x04 not a cabinet at all......").is_err());
        // Counts larger than the data are refused, not allocated.
        let mut d = with_reserves(b"a.txt", 0, b"x");
        d[26..28].copy_from_slice(&u16::MAX.to_le_bytes());
        d[28..30].copy_from_slice(&u16::MAX.to_le_bytes());
        assert!(parse(&d).is_err());
    }

    #[test]
    fn methods() {
        assert_eq!(Method::from_type(0), Method::Stored);
        assert_eq!(Method::from_type(1), Method::MsZip);
        assert_eq!(Method::from_type(0x1503), Method::Lzx(21));
        assert_eq!(Method::from_type(0x1242), Method::Quantum);
        assert!(Decoder::new(Method::Lzx(22)).is_err());
        assert!(Decoder::new(Method::Lzx(14)).is_err());
        assert!(Decoder::new(Method::Unknown(7)).is_err());
    }
}
