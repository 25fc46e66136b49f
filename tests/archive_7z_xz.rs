//! 7z and xz: the payload is found inside, encrypted 7z is UNCHECKED `encrypted`, bombs and
//! hostile headers are stopped by the limits. The archives are written here with the same
//! libraries' encoders, so none is checked in.

mod support;
use mailwarden::report::{Category, Finding};
use sevenz_rust2::encoder_options::{AesEncoderOptions, Lzma2Options};
use sevenz_rust2::{ArchiveEntry, ArchiveWriter, EncoderMethod, Password, SourceReader};
use std::io::{Cursor, Write};
use support::*;

/// A 7z of `files` (name, data), solid (one LZMA2 block) or one block per file, encrypted
/// with `password` when given (`encrypt_header` hides the file list too).
fn sevenz(
    files: &[(&str, &[u8])],
    solid: bool,
    password: Option<&str>,
    encrypt_header: bool,
) -> Vec<u8> {
    let mut w = ArchiveWriter::new(Cursor::new(Vec::new())).unwrap();
    let mut methods = Vec::new();
    if let Some(p) = password {
        methods.push(AesEncoderOptions::new(Password::new(p)).into());
    }
    methods.push(Lzma2Options::from_level(1).into());
    w.set_content_methods(methods);
    w.set_encrypt_header(encrypt_header);
    if solid {
        let entries = files
            .iter()
            .map(|(n, _)| ArchiveEntry::new_file(n))
            .collect();
        let readers = files.iter().map(|(_, d)| SourceReader::new(*d)).collect();
        w.push_archive_entries(entries, readers).unwrap();
    } else {
        for (n, d) in files {
            w.push_archive_entry(ArchiveEntry::new_file(n), Some(*d))
                .unwrap();
        }
    }
    w.finish().unwrap().into_inner()
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut w =
        lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(1)).unwrap();
    w.write_all(data).unwrap();
    w.finish().unwrap()
}

#[test]
fn eicar_in_7z_solid_and_not() {
    let files: [(&str, &[u8]); 3] = [
        ("readme.txt", b"hello\n"),
        ("dir/eicar.com", &payload()),
        ("notes.txt", b"more\n"),
    ];
    for solid in [true, false] {
        let a = sevenz(&files, solid, None, false);
        assert!(!has_eicar(&a));
        let r = scan(&mail_with("a.7z", "application/x-7z-compressed", &a));
        assert_eq!(
            r.category,
            Category::Virus,
            "solid {solid}: {:#?}",
            r.findings
        );
        assert_eq!(viruses(&r), ["2 a.7z/dir/eicar.com"]);
    }
}

#[test]
fn a_7z_member_name_goes_to_the_banned_rules() {
    // The empty file sits between two with data: it is emitted (and banned) once.
    let a = sevenz(
        &[
            ("setup.exe", b"not really"),
            ("empty.scr", b""),
            ("notes.txt", b"text"),
        ],
        true,
        None,
        false,
    );
    let r = scan(&mail_with("a.7z", "application/x-7z-compressed", &a));
    assert_eq!(r.category, Category::Banned, "{:#?}", r.findings);
    let banned: Vec<&str> = r
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::Banned { path, .. } => Some(path.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(banned, ["2 a.7z/setup.exe", "2 a.7z/empty.scr"]);
}

#[test]
fn encrypted_7z_is_unchecked_encrypted() {
    for encrypt_header in [false, true] {
        let a = sevenz(
            &[("eicar.com", &payload())],
            true,
            Some("secret"),
            encrypt_header,
        );
        let r = scan(&mail_with("a.7z", "application/x-7z-compressed", &a));
        assert_eq!(r.category, Category::Unchecked, "{:#?}", r.findings);
        assert_eq!(reasons(&r), ["encrypted"], "header {encrypt_header}");
    }
    // The method id the unpacker looks for is the library's.
    assert_eq!(EncoderMethod::ID_AES256_SHA256, [0x06, 0xF1, 0x07, 0x01]);
}

#[test]
fn a_7z_bomb_is_stopped_by_the_limits() {
    // 64 MiB of zeros compress to a few KB: over max_ratio long before the end.
    let zeros = vec![0u8; 64 << 20];
    let a = sevenz(
        &[("zeros.bin", &zeros), ("eicar.com", &payload())],
        true,
        None,
        false,
    );
    assert!(a.len() < 100_000, "{}", a.len());
    let r = scan(&mail_with("a.7z", "application/x-7z-compressed", &a));
    assert_eq!(r.category, Category::Unchecked, "{:#?}", r.findings);
    assert!(reasons(&r).contains(&"max_ratio"), "{:#?}", r.findings);
}

#[test]
fn corrupt_7z_is_undecodable_and_never_clean() {
    // A harmless name: a banned name would outrank the unchecked verdict.
    let mut a = sevenz(&[("payload.txt", &payload())], true, None, false);
    let n = a.len();
    for b in &mut a[40..n / 2] {
        *b ^= 0x5a;
    }
    let r = scan(&mail_with("a.7z", "application/x-7z-compressed", &a));
    assert_eq!(r.category, Category::Unchecked, "{:#?}", r.findings);
    assert!(reasons(&r).contains(&"undecodable"), "{:#?}", r.findings);
    // Cut short.
    let a = sevenz(&[("payload.txt", &payload())], true, None, false);
    let r = scan(&mail_with(
        "a.7z",
        "application/x-7z-compressed",
        &a[..a.len() - 20],
    ));
    assert_ne!(r.category, Category::Clean, "{:#?}", r.findings);
}

#[test]
fn eicar_in_xz_and_txz() {
    let a = xz(&payload());
    assert!(!has_eicar(&a));
    let r = scan(&mail_with("eicar.com.xz", "application/x-xz", &a));
    assert_eq!(
        viruses(&r),
        ["2 eicar.com.xz/eicar.com"],
        "{:#?}",
        r.findings
    );
    let a = xz(&tar(&[("dir/eicar.com", &payload())]));
    let r = scan(&mail_with("a.txz", "application/x-xz", &a));
    // The tar holds the payload as it is, so the tar matches too.
    assert!(
        viruses(&r).contains(&"2 a.txz/a.tar/dir/eicar.com".to_string()),
        "{:#?}",
        r.findings
    );
}

#[test]
fn an_xz_dictionary_over_the_memory_limit_is_refused() {
    // The block header's LZMA2 property byte 40 declares a 4 GiB dictionary; its CRC is
    // recomputed so only the size is wrong.
    let mut a = xz(&payload());
    let header = 12;
    let size = (a[header] as usize + 1) * 4;
    let props = header + 2 + 2; // size byte, flags, filter id 0x21, property size 1
    assert_eq!(&a[header + 2..props], [0x21, 1]);
    a[props] = 40;
    let crc = crc32(&a[header..header + size - 4]);
    a[header + size - 4..header + size].copy_from_slice(&crc.to_le_bytes());
    let r = scan(&mail_with("a.xz", "application/x-xz", &a));
    assert_eq!(r.category, Category::Unchecked, "{:#?}", r.findings);
    assert!(reasons(&r).contains(&"undecodable"), "{:#?}", r.findings);
}
