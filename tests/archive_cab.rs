//! Cabinets: the payload is found in stored, MSZIP and LZX folders (MSZIP written by the
//! `cab` crate, with back-references across blocks; the rest by the hand-written writer in
//! tests/support, which lets every field lie), and hostile cabinets end UNCHECKED, never
//! clean. Debian's clamav-testfiles `clam.cab` is checked in tests/archive_clamav_testfiles.rs.

mod support;
use mailwarden::archive::{Budget, Limits, Unpack, unpacker_for};
use mailwarden::report::{Category, Finding};
use mailwarden::{FileType, Object, Origin};
use std::io::{Cursor, Write};
use support::*;

const CAB: &str = "application/vnd.ms-cab-compressed";

/// A cabinet written by the `cab` crate: one MSZIP folder holding `files` in order.
fn cab_crate_mszip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = cab::CabinetBuilder::new();
    let folder = builder.add_folder(cab::CompressionType::MsZip);
    for (name, _) in files {
        folder.add_file(*name);
    }
    let mut w = builder.build(Cursor::new(Vec::new())).unwrap();
    let mut i = 0;
    while let Some(mut f) = w.next_file().unwrap() {
        f.write_all(files[i].1).unwrap();
        i += 1;
    }
    w.finish().unwrap().into_inner()
}

/// Text that compresses well and repeats across 32 KiB blocks, so MSZIP blocks refer back
/// into the block before them.
fn text(len: usize) -> Vec<u8> {
    let mut t = Vec::with_capacity(len);
    let mut i = 0u32;
    while t.len() < len {
        t.extend_from_slice(format!("line {} of the readme, word {}\n", i % 97, i % 13).as_bytes());
        i += 1;
    }
    t.truncate(len);
    t
}

/// What [`unpack`] found.
struct Unpacked {
    /// (name, data) of each member, in the order emitted.
    members: Vec<(String, Vec<u8>)>,
    /// The unchecked reasons recorded.
    unchecked: Vec<&'static str>,
    /// Bytes charged to the budget.
    used: u64,
}

/// Unpacks `cab` with the archive API and `limits`.
fn unpack(cab: &[u8], limits: &Limits) -> Unpacked {
    let mut budget = Budget::new(limits, cab.len() as u64);
    let object = Object {
        depth: 1,
        name: Some("a.cab".into()),
        ..Object::new("1", Origin::MimePart, cab.to_vec())
    };
    assert_eq!(object.detected, FileType::Cab);
    let mut out = Unpack {
        budget: &mut budget,
        children: Vec::new(),
        findings: Vec::new(),
        unsupported_unchecked: false,
    };
    unpacker_for(FileType::Cab)
        .unwrap()
        .unpack(&object, &mut out);
    let members = std::mem::take(&mut out.children)
        .into_iter()
        .map(|c| (c.name.unwrap(), c.data.into_owned()))
        .collect();
    let used = budget.used();
    let unchecked = budget
        .take_findings()
        .iter()
        .filter_map(|f| match f {
            Finding::Unchecked { reason, .. } => Some(reason.name()),
            _ => None,
        })
        .collect();
    Unpacked {
        members,
        unchecked,
        used,
    }
}

#[test]
fn eicar_in_an_mszip_cab_written_by_the_cab_crate() {
    let readme = text(100_000);
    let files: [(&str, &[u8]); 3] = [
        ("readme.txt", &readme),
        ("dir\\eicar.com", &payload()),
        ("notes.txt", b"more\n"),
    ];
    let c = cab_crate_mszip(&files);
    assert!(!has_eicar(&c) && c.len() < 20_000, "{}", c.len());
    let Unpacked {
        members, unchecked, ..
    } = unpack(&c, &Limits::default());
    assert!(unchecked.is_empty(), "{unchecked:?}");
    let expected: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(n, d)| (n.replace('\\', "/"), d.to_vec()))
        .collect();
    assert!(members == expected, "members differ");
    let r = scan(&mail_with("a.cab", CAB, &c));
    assert_eq!(r.category, Category::Virus, "{:#?}", r.findings);
    assert_eq!(viruses(&r), ["2 a.cab/dir/eicar.com"]);
}

#[test]
fn eicar_across_lzx_frames_and_in_a_stored_folder() {
    // The payload straddles the first 32 KiB frame boundary.
    let mut stream = text(0x8000 - 100);
    let at = stream.len();
    stream.extend_from_slice(&payload());
    stream.extend_from_slice(&text(40_000));
    if !stream.len().is_multiple_of(2) {
        stream.push(b'\n');
    }
    let c = cab(
        &[
            CabFolder {
                method: 3 | (16 << 8),
                blocks: cab_lzx_blocks(&stream),
            },
            CabFolder {
                method: 0,
                blocks: cab_stored_blocks(b"plain text\n"),
            },
        ],
        &[
            CabFile {
                name: "head.txt",
                folder: 0,
                offset: 0,
                size: at as u32,
            },
            CabFile {
                name: "eicar.com",
                folder: 0,
                offset: at as u32,
                size: payload().len() as u32,
            },
            CabFile {
                name: "tail.txt",
                folder: 0,
                offset: (at + payload().len()) as u32,
                size: (stream.len() - at - payload().len()) as u32,
            },
            CabFile {
                name: "plain.txt",
                folder: 1,
                offset: 0,
                size: 11,
            },
        ],
    );
    let Unpacked {
        members, unchecked, ..
    } = unpack(&c, &Limits::default());
    assert!(unchecked.is_empty(), "{unchecked:?}");
    let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["head.txt", "eicar.com", "tail.txt", "plain.txt"]);
    let joined: Vec<u8> = members[..3].iter().flat_map(|(_, d)| d.clone()).collect();
    assert!(joined == stream, "the LZX folder decodes to its stream");
    assert_eq!(members[3].1, b"plain text\n");
    // In the cabinet the payload is stored as it is (an uncompressed LZX block): the scan
    // must still name the member.
    let r = scan(&mail_with("a.cab", CAB, &c));
    assert!(
        viruses(&r).contains(&"2 a.cab/eicar.com".to_string()),
        "{:#?}",
        r.findings
    );
}

#[test]
fn files_of_one_folder_are_cut_from_one_pass() {
    // 3,000 files of 100 bytes in one MSZIP folder: every file is right, and the budget
    // was charged their bytes once (a reader seeking per file decodes the folder again for
    // each).
    let n = 3000usize;
    let stream: Vec<u8> = (0..n)
        .flat_map(|i| format!("{i:>99}\n").into_bytes())
        .collect();
    let names: Vec<String> = (0..n).map(|i| format!("f{i}.txt")).collect();
    let files: Vec<CabFile<'_>> = names
        .iter()
        .enumerate()
        .map(|(i, name)| CabFile {
            name,
            folder: 0,
            offset: (i * 100) as u32,
            size: 100,
        })
        .collect();
    let c = cab(
        &[CabFolder {
            method: 1,
            blocks: cab_mszip_blocks(&stream),
        }],
        &files,
    );
    let limits = Limits {
        max_files: 10_000,
        ..Limits::default()
    };
    let Unpacked {
        members,
        unchecked,
        used,
    } = unpack(&c, &limits);
    assert!(unchecked.is_empty(), "{unchecked:?}");
    assert_eq!(members.len(), n);
    for (i, (name, data)) in members.iter().enumerate() {
        assert_eq!(name, &names[i]);
        assert_eq!(data, &stream[i * 100..(i + 1) * 100]);
    }
    assert_eq!(used, stream.len() as u64);
    // With amavisd-new's MAXFILES (1,500) the scan stops there: UNCHECKED.
    let r = scan(&mail_with("a.cab", CAB, &c));
    assert_eq!(r.category, Category::Unchecked, "{:#?}", r.findings);
    assert_eq!(reasons(&r), ["max_files"]);
}

#[test]
fn two_files_of_the_same_name_are_both_unpacked() {
    let mut stream = b"harmless\n".to_vec();
    stream.extend_from_slice(&payload());
    let c = cab(
        &[CabFolder {
            method: 1,
            blocks: cab_mszip_blocks(&stream),
        }],
        &[
            CabFile {
                name: "a.txt",
                folder: 0,
                offset: 0,
                size: 9,
            },
            CabFile {
                name: "a.txt",
                folder: 0,
                offset: 9,
                size: payload().len() as u32,
            },
        ],
    );
    let r = scan(&mail_with("a.cab", CAB, &c));
    assert_eq!(viruses(&r), ["2 a.cab/a.txt"], "{:#?}", r.findings);
}

#[test]
fn overlapping_files_are_charged_for_each_copy() {
    // 400 files all pointing at the same MiB: 400 MiB out of a few KB.
    let c = cab_overlapping(400);
    let Unpacked {
        members,
        unchecked,
        used,
    } = unpack(&c, &Limits::default());
    assert!(unchecked.contains(&"max_quota"), "{unchecked:?}");
    assert!(members.len() < 400);
    assert!(used <= Limits::default().quota(c.len() as u64));
    let r = scan(&mail_with("a.cab", CAB, &c));
    assert_eq!(r.category, Category::Unchecked, "{:#?}", r.findings);
}

#[test]
fn a_file_behind_a_gigabyte_of_zeros_is_unchecked() {
    // One MSZIP block of 32 KiB of zeros, repeated 32,768 times (1 GiB), then the payload:
    // reaching it means decoding the gigabyte, which max_ratio stops after its first MiB
    // (the quota would only stop it at 300 MiB).
    let zeros = cab_mszip_blocks(&[0u8; 0x8000]).remove(0);
    let mut blocks = vec![zeros; 32_768];
    blocks.extend(cab_mszip_blocks(&payload()));
    let c = cab(
        &[CabFolder { method: 1, blocks }],
        &[CabFile {
            name: "payload.txt",
            folder: 0,
            offset: 1 << 30,
            size: payload().len() as u32,
        }],
    );
    assert!(c.len() < 2 << 20, "{}", c.len());
    let r = scan(&mail_with("a.cab", CAB, &c));
    assert_eq!(r.category, Category::Unchecked, "{:#?}", r.findings);
    assert_eq!(reasons(&r), ["max_ratio"]);
    let Unpacked {
        members,
        unchecked,
        used,
    } = unpack(&c, &Limits::default());
    assert_eq!(unchecked, ["max_ratio"]);
    assert!(used < 4 << 20, "{used}");
    // The name still reaches the banned rules.
    assert_eq!(members.len(), 1);
    // And a gigabyte file of zeros: over max_ratio once it has produced its first MiB.
    let c = cab_zeros(1024);
    let Unpacked {
        unchecked, used, ..
    } = unpack(&c, &Limits::default());
    assert_eq!(unchecked, ["max_ratio"]);
    assert!(used < 4 << 20, "{used}");
}

#[test]
fn quantum_and_spanning_files_are_undecodable_but_their_names_count() {
    let quantum = |name: &str| {
        cab(
            &[CabFolder {
                method: 2 | (4 << 4) | (20 << 8),
                blocks: vec![(b"\x01\x02\x03".to_vec(), 100)],
            }],
            &[CabFile {
                name,
                folder: 0,
                offset: 0,
                size: 100,
            }],
        )
    };
    let r = scan(&mail_with("a.cab", CAB, &quantum("data.bin")));
    assert_eq!(r.category, Category::Unchecked, "{:#?}", r.findings);
    assert_eq!(reasons(&r), ["undecodable"]);
    let r = scan(&mail_with("a.cab", CAB, &quantum("setup.exe")));
    assert_eq!(r.category, Category::Banned, "{:#?}", r.findings);
    // A file continued from the previous cabinet of a set (folder index 0xFFFD).
    let c = cab(
        &[],
        &[CabFile {
            name: "part2.bin",
            folder: 0xfffd,
            offset: 0,
            size: 100,
        }],
    );
    let Unpacked {
        members, unchecked, ..
    } = unpack(&c, &Limits::default());
    assert_eq!(unchecked, ["undecodable"]);
    assert_eq!(members.len(), 1);
}

#[test]
fn corrupt_or_truncated_cabs_are_never_clean() {
    // The first file fills the first block exactly; the payload is the second block.
    let mut stream = text(0x8000);
    let first = stream.len();
    stream.extend_from_slice(&payload());
    let files = [
        CabFile {
            name: "readme.txt",
            folder: 0,
            offset: 0,
            size: first as u32,
        },
        CabFile {
            name: "payload.txt",
            folder: 0,
            offset: first as u32,
            size: payload().len() as u32,
        },
    ];
    let c = cab(
        &[CabFolder {
            method: 1,
            blocks: cab_mszip_blocks(&stream),
        }],
        &files,
    );
    // Cut in the second block (the payload compresses to under 100 bytes): the first
    // file is whole, the second is lost.
    let Unpacked {
        members, unchecked, ..
    } = unpack(&c[..c.len() - 20], &Limits::default());
    assert_eq!(unchecked, ["undecodable"]);
    assert!(members[0].1 == stream[..first], "the first file is whole");
    assert!(members[1].1.is_empty());
    let r = scan(&mail_with("a.cab", CAB, &c[..c.len() - 20]));
    assert_eq!(r.category, Category::Unchecked, "{:#?}", r.findings);
    // Garbage in the deflate data.
    let mut bad = c.clone();
    let n = bad.len();
    for b in &mut bad[n - 60..n - 30] {
        *b ^= 0x5a;
    }
    let r = scan(&mail_with("a.cab", CAB, &bad));
    assert_ne!(r.category, Category::Clean, "{:#?}", r.findings);
    // A header that lies about where the file table is.
    let mut bad = c.clone();
    bad[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
    let r = scan(&mail_with("a.cab", CAB, &bad));
    assert_eq!(r.category, Category::Unchecked, "{:#?}", r.findings);
    assert_eq!(reasons(&r), ["undecodable"]);
}
