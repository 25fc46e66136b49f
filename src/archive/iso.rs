//! Disk images (`.iso`, `.img`): ISO 9660 with its Joliet tree, read here (no crate reads
//! ISO 9660 without also pulling in a FUSE layer). Malware campaigns mailed images so that
//! the files inside reached Windows, which mounts them with a double click, without the mark
//! of the web; a filter that does not open them sees only the image's name.
//!
//! - The volume descriptors from sector 16 give the primary tree and, when a supplementary
//!   descriptor carries a Joliet escape sequence, the Joliet tree (UCS-2 names: what Windows
//!   shows). Both trees are walked: a file both reach (the same extents) is emitted once,
//!   under its Joliet name with the primary name as another name; a file only one tree
//!   reaches is emitted too, so two trees cannot show a scanner and a user different files.
//! - Version suffixes (`;1`) and the trailing dot of a name without extension are dropped,
//!   as Windows shows them. Multi-extent files are joined.
//! - Directories are walked breadth first, each extent once (a directory that points back
//!   at its parent is not a loop), at most 64 deep.
//! - File data is copied through the budget. Names for the same extents are one file;
//!   files laid over part of another's data (only a hostile image does that: a thousand
//!   files one sector apart over one large extent would copy it a thousand times) are
//!   UNCHECKED `undecodable` and emitted empty, their names still checked.
//! - An image with only a UDF file system (no ISO 9660 descriptor) is recognised but not
//!   read: UNCHECKED `unsupported_format` when the policy's `unsupported_formats_unchecked`
//!   is set, as rar. The UDF tree of a UDF bridge image is not read either; its ISO 9660
//!   and Joliet trees are.

use super::{ReadOutcome, Unpack, Unpacker};
use crate::object::Object;
use crate::report::UncheckedReason;
use std::collections::{HashMap, HashSet, VecDeque};

/// The ISO image unpacker.
pub struct IsoUnpacker;

const SECTOR: usize = 2048;
/// Volume descriptors are read from sector 16 on, at most this many.
const MAX_DESCRIPTORS: usize = 64;
/// Deepest directory walked (ISO 9660 allows 8 levels; Joliet and Rock Ridge more).
const MAX_DEPTH: usize = 64;
/// Longest path kept (Windows' own limit is 260 without long-path support); entries under a
/// longer one are skipped as a problem. Paths repeat their directory's, so without a cap a
/// deep tree of long names costs far more memory than the image.
const MAX_PATH: usize = 1024;
/// Most directories walked per tree.
const MAX_DIRS: usize = 4096;
/// Most problems reported per tree (one record after another can each be wrong).
const MAX_PROBLEMS: usize = 16;
const FLAG_DIRECTORY: u8 = 0x02;
const FLAG_MULTI_EXTENT: u8 = 0x80;

/// What the volume descriptors say.
#[derive(Debug, Default)]
struct Volume {
    /// The root directory records (extent, size) of the primary and Joliet trees.
    primary: Option<(u64, u64)>,
    joliet: Option<(u64, u64)>,
    /// A UDF volume recognition sequence was seen.
    udf: bool,
}

/// Reads the volume descriptors.
fn volume(d: &[u8]) -> Volume {
    let mut v = Volume::default();
    for i in 0..MAX_DESCRIPTORS {
        let at = (16 + i) * SECTOR;
        let Some(s) = d.get(at..at + SECTOR) else {
            break;
        };
        match &s[1..6] {
            b"CD001" => {
                let root = record_extent(&s[156..190]);
                match s[0] {
                    1 if v.primary.is_none() => v.primary = root,
                    2 if matches!(&s[88..91], b"%/@" | b"%/C" | b"%/E") && v.joliet.is_none() => {
                        v.joliet = root;
                    }
                    255 => break,
                    _ => {}
                }
            }
            b"BEA01" | b"NSR02" | b"NSR03" | b"TEA01" | b"BOOT2" | b"CDW02" => v.udf = true,
            _ => break,
        }
    }
    v
}

/// The (extent byte offset, size) of a directory record (its little-endian halves).
fn record_extent(r: &[u8]) -> Option<(u64, u64)> {
    if r.len() < 18 {
        return None;
    }
    let lba = u32::from_le_bytes([r[2], r[3], r[4], r[5]]);
    let size = u32::from_le_bytes([r[10], r[11], r[12], r[13]]);
    Some((u64::from(lba) * SECTOR as u64, u64::from(size)))
}

/// A file as one tree shows it: its path and the extents holding its data.
#[derive(Debug)]
struct TreeFile {
    path: String,
    extents: Vec<(u64, u64)>,
}

/// A name as the tree stores it: UCS-2 big endian in Joliet, else bytes (Latin-1); without
/// its `;1` version and the trailing dot of a name with no extension.
fn record_name(raw: &[u8], joliet: bool) -> String {
    let name: String = if joliet {
        let units = raw
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]));
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    } else {
        raw.iter().map(|&b| char::from(b)).collect()
    };
    let name = match name.rfind(';') {
        Some(i) if name[i + 1..].bytes().all(|b| b.is_ascii_digit()) => &name[..i],
        _ => &name[..],
    };
    name.strip_suffix('.').unwrap_or(name).to_string()
}

/// Walks one tree from its root: its files (at most `max_files` + 1: more are not emitted
/// anyway), and the problems met (path, what).
fn walk(
    d: &[u8],
    root: (u64, u64),
    joliet: bool,
    max_files: usize,
) -> (Vec<TreeFile>, Vec<(String, String)>) {
    let mut files = Vec::new();
    let mut problems = Problems(Vec::new());
    let mut dirs = 1usize;
    let mut seen = HashSet::new();
    // Directories of a sound image do not overlap, so their records add up to less than
    // the image: more means directories laid over each other, which would otherwise make
    // the walk quadratic.
    let mut budget = d.len();
    let mut queue = VecDeque::from([(String::new(), root, 0usize)]);
    while let Some((dir, (start, size), depth)) = queue.pop_front() {
        if files.len() > max_files {
            break;
        }
        if !seen.insert(start) {
            continue;
        }
        let begin = usize::try_from(start).unwrap_or(usize::MAX).min(d.len());
        let end = usize::try_from(start.saturating_add(size))
            .unwrap_or(usize::MAX)
            .min(d.len());
        if end - begin > budget {
            problems.push((dir, "directories overlap: walk stopped".into()));
            break;
        }
        budget -= end - begin;
        if end - begin < size as usize {
            problems.push((
                dir.clone(),
                "directory runs past the end of the image".into(),
            ));
        }
        let mut pos = begin;
        // A file split over several records (multi-extent): its name and extents so far.
        let mut pending: Option<TreeFile> = None;
        while pos < end {
            let len = d[pos] as usize;
            if len == 0 {
                // Records do not cross sectors: the rest of this one is padding.
                pos = (pos - begin) / SECTOR * SECTOR + SECTOR + begin;
                continue;
            }
            let Some(r) = d
                .get(pos..pos + len)
                .filter(|_| len >= 34 && pos + len <= end)
            else {
                problems.push((dir.clone(), "corrupt directory record".into()));
                break;
            };
            pos += len;
            let name_len = r[32] as usize;
            let Some(raw) = r.get(33..33 + name_len) else {
                problems.push((dir.clone(), "directory record name too long".into()));
                break;
            };
            if raw == [0] || raw == [1] {
                continue; // `.` and `..`
            }
            let flags = r[25];
            let extent = record_extent(r).unwrap_or_default();
            let name = record_name(raw, joliet);
            if dir.len() + name.len() >= MAX_PATH {
                problems.push((dir.clone(), format!("path longer than {MAX_PATH} bytes")));
                continue;
            }
            let path = if dir.is_empty() {
                name
            } else {
                format!("{dir}/{name}")
            };
            if flags & FLAG_DIRECTORY != 0 {
                if depth + 1 >= MAX_DEPTH {
                    problems.push((path, format!("directory deeper than {MAX_DEPTH} levels")));
                } else if dirs >= MAX_DIRS {
                    problems.push((path, format!("more than {MAX_DIRS} directories")));
                } else {
                    dirs += 1;
                    queue.push_back((path, extent, depth + 1));
                }
                continue;
            }
            let file = match pending.take() {
                Some(mut p) if p.path == path => {
                    p.extents.push(extent);
                    p
                }
                other => {
                    if let Some(p) = other {
                        files.push(p); // a multi-extent file whose last record is missing
                    }
                    TreeFile {
                        path,
                        extents: vec![extent],
                    }
                }
            };
            if flags & FLAG_MULTI_EXTENT != 0 {
                pending = Some(file);
            } else {
                files.push(file);
            }
        }
        files.extend(pending);
    }
    (files, problems.0)
}

/// Problems met in a walk, at most [`MAX_PROBLEMS`].
struct Problems(Vec<(String, String)>);

impl Problems {
    fn push(&mut self, p: (String, String)) {
        if self.0.len() < MAX_PROBLEMS {
            self.0.push(p);
        }
    }
}

/// The members whose data overlaps another member's or their own (identical extent lists are
/// one member already; empty extents overlap nothing).
fn overlapping(members: &[Member]) -> HashSet<usize> {
    let mut spans: Vec<(u64, u64, usize)> = members
        .iter()
        .enumerate()
        .flat_map(|(i, m)| {
            m.extents
                .iter()
                .filter(|(_, size)| *size > 0)
                .map(move |&(start, size)| (start, start.saturating_add(size), i))
        })
        .collect();
    spans.sort_unstable();
    let mut hit = HashSet::new();
    // The span reaching furthest so far, and whose it is.
    let mut reach: Option<(u64, usize)> = None;
    for (start, end, i) in spans {
        // A file's extents laid over each other count too: one extent listed a thousand
        // times is the same copy bomb.
        if let Some((far, j)) = reach
            && start < far
        {
            hit.insert(i);
            hit.insert(j);
        }
        if reach.is_none_or(|(far, _)| end > far) {
            reach = Some((end, i));
        }
    }
    hit
}

/// A file to emit: its name (Joliet's when that tree has it), the names the other tree
/// gives the same data, and its extents.
struct Member {
    name: String,
    others: Vec<String>,
    extents: Vec<(u64, u64)>,
}

impl Unpacker for IsoUnpacker {
    fn name(&self) -> &'static str {
        "iso"
    }

    fn unpack(&self, object: &Object<'_>, out: &mut Unpack<'_>) {
        let d: &[u8] = &object.data;
        let container = object.member_path("");
        let container = container.trim_end_matches('/');
        let v = volume(d);
        if v.primary.is_none() && v.joliet.is_none() {
            if v.udf {
                if out.unsupported_unchecked {
                    out.budget.note(
                        UncheckedReason::UnsupportedFormat,
                        container,
                        "UDF disk images are not unpacked",
                    );
                }
            } else {
                out.budget.note(
                    UncheckedReason::Undecodable,
                    container,
                    "disk image without a readable volume descriptor",
                );
            }
            return;
        }
        // Joliet first: its names are the ones Windows shows.
        let mut order: Vec<Member> = Vec::new();
        let mut by_extents: HashMap<Vec<(u64, u64)>, usize> = HashMap::new();
        for (root, joliet) in [(v.joliet, true), (v.primary, false)] {
            let Some(root) = root else { continue };
            let max_files = out.budget.limits().max_files as usize;
            let (files, problems) = walk(d, root, joliet, max_files);
            for (path, what) in problems {
                let at = object.member_path(&path);
                out.budget
                    .note(UncheckedReason::Undecodable, at.trim_end_matches('/'), what);
            }
            for f in files {
                match by_extents.get(&f.extents) {
                    Some(&i) => {
                        let m = &mut order[i];
                        if m.name != f.path && !m.others.contains(&f.path) {
                            m.others.push(f.path);
                        }
                    }
                    None => {
                        by_extents.insert(f.extents.clone(), order.len());
                        order.push(Member {
                            name: f.path,
                            others: Vec::new(),
                            extents: f.extents,
                        });
                    }
                }
            }
        }
        let overlapping = overlapping(&order);
        for (
            i,
            Member {
                name,
                others,
                extents,
            },
        ) in order.into_iter().enumerate()
        {
            if out.budget.is_exhausted() {
                return;
            }
            let path = object.member_path(&name);
            if overlapping.contains(&i) {
                // Only a hostile image lays files over each other (one sector apart, they
                // would copy the same bytes again and again): the name still counts.
                out.budget.note(
                    UncheckedReason::Undecodable,
                    &path,
                    "file overlaps another file of the image",
                );
                if !out.emit_named(object, &name, others, Vec::new()) {
                    return;
                }
                continue;
            }
            let mut data = Vec::new();
            let (mut short, mut limited) = (false, false);
            for (start, size) in extents {
                let begin = usize::try_from(start).unwrap_or(usize::MAX).min(d.len());
                let end = usize::try_from(start.saturating_add(size))
                    .unwrap_or(usize::MAX)
                    .min(d.len());
                short |= (end - begin) as u64 != size;
                // The object size counts the whole file, not each extent on its own.
                let max = out.budget.limits().max_object_size;
                if (data.len() + (end - begin)) as u64 > max {
                    let detail = format!("Object larger than max_object_size ({max} bytes)");
                    out.budget
                        .note(UncheckedReason::MaxObjectSize, &path, detail);
                    limited = true;
                    break;
                }
                // Stored as it is: the ratio is 1, the quota and the object size apply.
                let (piece, outcome) =
                    out.budget
                        .read_to_end(&d[begin..end], (end - begin) as u64, &path);
                data.extend_from_slice(&piece);
                if outcome != ReadOutcome::Complete {
                    limited = true;
                    break;
                }
            }
            if short && !limited {
                out.budget.note(
                    UncheckedReason::Undecodable,
                    &path,
                    "file runs past the end of the image",
                );
            }
            if !out.emit_named(object, &name, others, data) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_windows_shows_them() {
        assert_eq!(record_name(b"README.TXT;1", false), "README.TXT");
        assert_eq!(record_name(b"NOEXT.;1", false), "NOEXT");
        assert_eq!(record_name(b"A;B.TXT", false), "A;B.TXT");
        assert_eq!(record_name(b"caf\xe9", false), "caf\u{e9}");
        let j: Vec<u8> = "Invoice 2024.pdf.exe;1"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(record_name(&j, true), "Invoice 2024.pdf.exe");
        // An odd byte and an unpaired surrogate do not stop the name.
        assert_eq!(record_name(b"\x00a\xd8\x00\x00b\x01", true), "a\u{fffd}b");
    }

    #[test]
    fn descriptors_and_records() {
        let mut d = vec![0u8; 20 * SECTOR];
        assert!(volume(&d).primary.is_none());
        d[16 * SECTOR] = 1;
        d[16 * SECTOR + 1..16 * SECTOR + 6].copy_from_slice(b"CD001");
        d[16 * SECTOR + 156 + 2] = 19; // root at sector 19
        d[16 * SECTOR + 156 + 10..16 * SECTOR + 156 + 14].copy_from_slice(&2048u32.to_le_bytes());
        d[17 * SECTOR + 1..17 * SECTOR + 6].copy_from_slice(b"NSR02");
        let v = volume(&d);
        assert_eq!(v.primary, Some((19 * SECTOR as u64, 2048)));
        assert!(v.udf && v.joliet.is_none());
        // The root directory is empty (all zero): no files, no problems.
        let (files, problems) = walk(&d, v.primary.unwrap(), false, 10);
        assert!(files.is_empty() && problems.is_empty());
        // Truncated images: no descriptor past the end is read.
        assert!(volume(&d[..16 * SECTOR + 100]).primary.is_none());
        assert_eq!(record_extent(&[0; 10]), None);
    }
}
