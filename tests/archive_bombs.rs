//! Hostile archives, generated here: each one ends UNCHECKED with the right reason, quickly and
//! without holding the expansion in memory.

mod support;
use mailwarden::report::{Category, Finding, UncheckedReason};
use support::*;

fn assert_unchecked(r: &mailwarden::Report, reason: &str) {
    assert_eq!(r.category, Category::Unchecked, "{:#?}", r.findings);
    assert!(
        reasons(r).contains(&reason),
        "expected {reason}, got {:#?}",
        r.findings
    );
}

fn details(r: &mailwarden::Report) -> Vec<String> {
    r.unchecked()
        .map(|(reason, path, detail)| format!("{reason} {path}: {detail}"))
        .collect()
}

#[test]
fn zip_nested_20_deep_hits_max_levels() {
    let z = nested_zip(20);
    let r = scan(&mail_with("deep.zip", "application/zip", &z));
    assert_unchecked(&r, "max_levels");
    assert!(
        details(&r)
            .iter()
            .any(|d| d.contains("Maximum decoding depth (14) exceeded"))
    );
}

#[test]
fn zip_with_20000_entries_hits_max_files() {
    let entries: Vec<ZipEntry> = (0..20_000)
        .map(|i| ZipEntry::stored(&format!("f{i}.txt"), b"x"))
        .collect();
    let r = scan(&mail_with(
        "many.zip",
        "application/zip",
        &zip(&entries, false),
    ));
    assert_unchecked(&r, "max_files");
    assert!(r.objects.len() <= 1_500 + 4, "{} objects", r.objects.len());
}

#[test]
fn deflate_entry_of_2gb_zeros_hits_max_ratio() {
    let raw = deflate_zeros(2048);
    assert!(raw.len() < 4 << 20, "{} bytes", raw.len());
    let e = ZipEntry {
        name: "zeros.bin".into(),
        method: 8,
        flags: 0,
        crc: 0,
        size: 2048 << 20,
        raw,
        extra: Vec::new(),
    };
    let r = scan(&mail_with("z.zip", "application/zip", &zip(&[e], false)));
    assert_unchecked(&r, "max_ratio");
}

#[test]
fn gzip_of_4gb_zeros_hits_max_ratio() {
    let g = gzip_zeros(4096);
    assert!(g.len() < 8 << 20, "{} bytes", g.len());
    let r = scan(&mail_with("zeros.gz", "application/gzip", &g));
    assert_unchecked(&r, "max_ratio");
}

#[test]
fn shared_entry_zip_bomb_is_undecodable_not_expanded() {
    let z = shared_entry_bomb(1000, 1);
    let r = scan(&mail_with("bomb.zip", "application/zip", &z));
    assert_unchecked(&r, "undecodable");
    assert!(
        details(&r)
            .iter()
            .any(|d| d.contains("999 zip entries overlap"))
    );
    // One entry expanded, not a thousand: the quota was never reached.
    assert!(!reasons(&r).contains(&"max_quota"), "{:#?}", r.findings);
}

#[test]
fn overlapping_entry_zip_bomb_is_undecodable() {
    let z = overlapping_bomb(200);
    let r = scan(&mail_with("fifield.zip", "application/zip", &z));
    assert_unchecked(&r, "undecodable");
    assert!(
        details(&r)
            .iter()
            .any(|d| d.contains("199 zip entries overlap"))
    );
}

#[test]
fn encrypted_zip_entries_are_unchecked_encrypted() {
    let mut zipcrypto = ZipEntry::stored("secret.doc", b"ciphertext bytes");
    zipcrypto.flags |= 1;
    // WinZip AES: method 99 and the 0x9901 extra naming the real method (deflate).
    let mut aes = ZipEntry::stored("secret2.doc", b"ciphertext bytes");
    aes.method = 99;
    aes.flags |= 1;
    aes.extra = vec![0x01, 0x99, 7, 0, 2, 0, b'A', b'E', 3, 8, 0];
    let plain = ZipEntry::deflated("clean.txt", b"hello");
    let r = scan(&mail_with(
        "enc.zip",
        "application/zip",
        &zip(&[zipcrypto, aes, plain], false),
    ));
    assert_unchecked(&r, "encrypted");
    let d = details(&r);
    assert!(
        d.iter()
            .any(|d| d.contains("secret.doc") && d.contains("ZipCrypto")),
        "{d:?}"
    );
    assert!(
        d.iter()
            .any(|d| d.contains("secret2.doc") && d.contains("AES")),
        "{d:?}"
    );
    assert!(
        r.objects
            .iter()
            .any(|o| o.path.ends_with("enc.zip/clean.txt"))
    );
}

#[test]
fn tar_with_50000_members_hits_max_files() {
    let r = scan(&mail_with(
        "many.tar",
        "application/x-tar",
        &tar_many(50_000),
    ));
    assert_unchecked(&r, "max_files");
}

#[test]
fn mime_nested_5000_deep_hits_max_levels() {
    let r = scan(&nested_mime(5_000));
    assert_unchecked(&r, "max_levels");
}

#[test]
fn unsupported_method_is_undecodable() {
    let mut e = ZipEntry::stored("x.bin", b"data");
    e.method = 14; // LZMA
    let r = scan(&mail_with("m.zip", "application/zip", &zip(&[e], false)));
    assert_unchecked(&r, "undecodable");
    assert!(details(&r).iter().any(|d| d.contains("method 14")));
}

#[test]
fn central_directory_disagreeing_with_local_header_is_undecodable() {
    // Build with one name, then rewrite the name in the local header only (to a harmless
    // one: a banned local name bans the member, `tests/archive_banned.rs`).
    let mut z = zip(&[ZipEntry::stored("aaaa.txt", b"hello")], false);
    z[30..38].copy_from_slice(b"bbbb.dat");
    let r = scan(&mail_with("d.zip", "application/zip", &z));
    assert_unchecked(&r, "undecodable");
    assert!(
        details(&r).iter().any(|d| d.contains("disagree: name")),
        "{:?}",
        details(&r)
    );
}

#[test]
fn declared_size_that_lies_is_undecodable_and_content_still_scanned() {
    let mut e = ZipEntry::deflated("eicar.com", &payload());
    e.size = 10;
    let r = scan(&mail_with("l.zip", "application/zip", &zip(&[e], false)));
    assert_eq!(r.category, Category::Virus, "{:#?}", r.findings);
    assert!(
        details(&r).iter().any(|d| d.contains("declares 10 bytes")),
        "{:?}",
        details(&r)
    );
}

#[test]
fn payload_before_a_limit_is_still_found() {
    let mut entries = vec![ZipEntry::deflated("eicar.com", &payload())];
    entries.extend((0..2_000).map(|i| ZipEntry::stored(&format!("f{i}"), b"x")));
    let r = scan(&mail_with(
        "p.zip",
        "application/zip",
        &zip(&entries, false),
    ));
    assert_eq!(r.category, Category::Virus);
    assert!(r.findings.iter().any(|f| matches!(
        f,
        Finding::Unchecked {
            reason: UncheckedReason::MaxFiles,
            ..
        }
    )));
}

#[test]
fn truncated_and_garbage_containers_never_panic() {
    let z = zip(&[ZipEntry::deflated("a.txt", &payload())], false);
    let g = gzip(Some("a"), &payload());
    let b = bzip2(&payload());
    let t = tar(&[("a", &payload())]);
    for data in [&z, &g, &b, &t] {
        for cut in [1, 5, 10, 31, 60, data.len() / 2, data.len() - 1] {
            let r = scan(&mail_with(
                "x.bin",
                "application/octet-stream",
                &data[..cut],
            ));
            // A container cut in half is never silently clean: either what was read still
            // shows the payload, or the report says the container could not be read.
            if cut >= data.len() / 2 {
                assert!(
                    matches!(r.category, Category::Virus | Category::Unchecked),
                    "cut at {cut} of {}: {:#?}",
                    data.len(),
                    r.findings
                );
            }
        }
        // Flip bytes across the container.
        for i in (0..data.len()).step_by(7) {
            let mut d = data.clone();
            d[i] ^= 0xa5;
            let _ = scan(&mail_with("x.bin", "application/octet-stream", &d));
        }
    }
}

#[test]
fn unsupported_formats_follow_the_policy() {
    // A member compressed with RAR's own method, which is listed but not decoded.
    let rar = rar5(&[RarMember {
        name: "data.bin",
        data: &[0x5a; 40],
        unpacked: 4096,
        method: 3,
        encrypted: false,
    }]);
    let r = scan(&mail_with("a.rar", "application/vnd.rar", &rar));
    assert!(!reasons(&r).contains(&"unsupported_format"));
    assert!(
        r.objects
            .iter()
            .any(|o| o.detected == mailwarden::FileType::Rar)
    );

    let policy = mailwarden::Policy {
        unsupported_formats_unchecked: true,
        ..Default::default()
    };
    let engine = mailwarden::Engine::builder()
        .policy(policy)
        .build()
        .unwrap();
    let r = engine.scan(
        &mail_with("a.rar", "application/vnd.rar", &rar),
        &mailwarden::Envelope::default(),
    );
    assert_unchecked(&r, "unsupported_format");
}
