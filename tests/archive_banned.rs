//! Banned content end to end: the default rules over MIME parts and archive members, and a
//! `[banned]` section in the TOML configuration.

mod support;
use mailwarden::report::{Category, Finding};
use support::*;

fn pe() -> Vec<u8> {
    let mut d = vec![0u8; 0x100];
    d[..2].copy_from_slice(b"MZ");
    d[0x3c] = 0x80;
    d[0x80..0x84].copy_from_slice(b"PE\0\0");
    d
}

fn banned(r: &mailwarden::Report) -> Vec<(String, String)> {
    r.findings
        .iter()
        .filter_map(|f| match f {
            Finding::Banned { rule, path, .. } => Some((rule.clone(), path.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn double_extension_attachment_is_banned() {
    let r = scan(&mail_with(
        "invoice.pdf.exe",
        "application/pdf",
        b"not really",
    ));
    assert_eq!(r.category, Category::Banned, "{:#?}", r.findings);
    assert_eq!(banned(&r), [("double-extension".into(), "2".into())]);
}

#[test]
fn executable_inside_zip_under_a_harmless_name_is_banned_by_type() {
    let z = zip(&[ZipEntry::deflated("docs/readme.txt", &pe())], false);
    let r = scan(&mail_with("docs.zip", "application/zip", &z));
    assert_eq!(r.category, Category::Banned, "{:#?}", r.findings);
    assert_eq!(
        banned(&r),
        [("executable".into(), "2 docs.zip/docs/readme.txt".into())]
    );
}

#[test]
fn config_allow_rule_and_defaults_off() {
    let config: mailwarden::Config = toml::from_str(
        "[banned]\n[[banned.rules]]\nname = \"it-installers\"\naction = \"allow\"\n\
         names = [\"setup.exe\"]\nwithin = [\"*.zip\"]\n",
    )
    .unwrap();
    let engine = mailwarden::EngineBuilder::from_config(config)
        .build()
        .unwrap();
    let z = zip(&[ZipEntry::deflated("setup.exe", &pe())], false);
    let r = engine.scan(
        &mail_with("it.zip", "application/zip", &z),
        &mailwarden::Envelope::default(),
    );
    assert!(banned(&r).is_empty(), "{:#?}", r.findings);
    // The same file outside a zip is still banned.
    let r = engine.scan(
        &mail_with("setup.exe", "application/octet-stream", &pe()),
        &mailwarden::Envelope::default(),
    );
    assert_eq!(r.category, Category::Banned);

    let off: mailwarden::Config = toml::from_str("[banned]\ndefaults = false\n").unwrap();
    let engine = mailwarden::EngineBuilder::from_config(off).build().unwrap();
    let r = engine.scan(
        &mail_with("setup.exe", "application/octet-stream", &pe()),
        &mailwarden::Envelope::default(),
    );
    assert!(banned(&r).is_empty());
    assert!(toml::from_str::<mailwarden::Config>("[banned]\nbogus = 1\n").is_err());
}

/// A part whose Content-Disposition is `disposition`, with an extra Content-Type parameter.
fn part_named(ct_params: &str, disposition: &str) -> Vec<u8> {
    format!(
        "From: a@example.org\r\nTo: b@example.org\r\nSubject: test\r\nMIME-Version: 1.0\r\n\
         Date: Sun, 22 Nov 2026 08:00:00 +0000\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n\
         Content-Type: text/plain\r\n\r\nsee attachment\r\n--b1\r\n\
         Content-Type: application/octet-stream{ct_params}\r\n\
         Content-Disposition: {disposition}\r\n\
         Content-Transfer-Encoding: base64\r\n\r\nbm90IHJlYWxseQ==\r\n--b1--\r\n"
    )
    .into_bytes()
}

#[test]
fn every_name_a_reader_may_show_is_checked() {
    // Readers differ on which name they show: Content-Disposition's or Content-Type's, the
    // first or the last of a repeated parameter, the name up to a NUL (C strings), the name
    // without the blank a fold left.
    for (ct_params, disposition) in [
        ("; name=\"a.exe\"", "attachment; filename=\"b.txt\""),
        ("", "attachment; filename=\"b.txt\"; filename=\"a.exe\""),
        ("", "attachment; filename=\"a.exe\0.txt\""),
        ("", "attachment; filename=\"a.\r\n exe\""),
    ] {
        let r = scan(&part_named(ct_params, disposition));
        assert_eq!(
            r.category,
            Category::Banned,
            "{disposition:?}: {:#?}",
            r.findings
        );
        assert_eq!(
            banned(&r).len(),
            1,
            "{disposition:?}: one finding per object"
        );
    }
    // Two harmless names stay harmless.
    let r = scan(&part_named(
        "; name=\"b.txt\"",
        "attachment; filename=\"notes.txt\"",
    ));
    assert!(banned(&r).is_empty(), "{:#?}", r.findings);
}

#[test]
fn a_zip_member_is_checked_under_every_name_an_unzip_gives_it() {
    // The header says `notes.txt`; the Info-ZIP Unicode Path extra field (0x7075), which
    // 7-Zip and unzip extract under, says `notes.exe`.
    let unicode = b"notes.exe";
    let mut extra = 0x7075u16.to_le_bytes().to_vec();
    extra.extend_from_slice(&(5 + unicode.len() as u16).to_le_bytes());
    extra.push(1);
    extra.extend_from_slice(&crc32(b"notes.txt").to_le_bytes());
    extra.extend_from_slice(unicode);
    let mut entry = ZipEntry::deflated("notes.txt", b"just text\n");
    entry.extra = extra;
    let z = zip(&[entry], false);
    let r = scan(&mail_with("notes.zip", "application/zip", &z));
    assert_eq!(r.category, Category::Banned, "{:#?}", r.findings);
    assert_eq!(banned(&r).len(), 1, "{:#?}", r.findings);
    // A NUL in the name: a C string ends there (`notes.exe`).
    let z = zip(
        &[ZipEntry::deflated("notes.exe\0.txt", b"just text\n")],
        false,
    );
    let r = scan(&mail_with("notes.zip", "application/zip", &z));
    assert_eq!(r.category, Category::Banned, "{:#?}", r.findings);
}

#[test]
fn a_gzip_member_is_checked_under_the_name_gunzip_gives_it_too() {
    // The header says `notes.txt`; gunzip (without -N) names the file after the container:
    // `notes.exe`.
    let gz = gzip(Some("notes.txt"), b"just text\n");
    let r = scan(&mail_with("notes.exe.gz", "application/gzip", &gz));
    assert_eq!(r.category, Category::Banned, "{:#?}", r.findings);
    assert_eq!(
        banned(&r),
        [(
            "windows-executable-extension".into(),
            "2 notes.exe.gz/notes.txt".into()
        )]
    );
    // The other way round too: the header's name is the one 7-Zip extracts under.
    let gz = gzip(Some("notes.exe"), b"just text\n");
    let r = scan(&mail_with("notes.txt.gz", "application/gzip", &gz));
    assert_eq!(r.category, Category::Banned, "{:#?}", r.findings);
}

#[test]
fn a_zip_member_is_checked_under_its_local_header_name_too() {
    // The central directory says `notes.txt`, the local header (which streaming readers
    // use) `notes.exe`: the entry is unchecked (the two disagree) and banned by the local
    // name.
    let z = zip(&[ZipEntry::deflated("notes.txt", b"just text\n")], false);
    let at = z
        .windows(9)
        .position(|w| w == b"notes.txt")
        .expect("local name");
    let mut z = z;
    z[at..at + 9].copy_from_slice(b"notes.exe");
    let r = scan(&mail_with("notes.zip", "application/zip", &z));
    assert_eq!(r.category, Category::Banned, "{:#?}", r.findings);
    assert_eq!(
        banned(&r),
        [(
            "windows-executable-extension".into(),
            "2 notes.zip/notes.txt".into()
        )]
    );
    assert!(reasons(&r).contains(&"undecodable"), "{:#?}", r.findings);
}

#[test]
fn an_ntfs_stream_suffix_does_not_hide_an_extension() {
    // Windows writes `a.exe::$DATA` (the default stream) and `a.exe:zone` to `a.exe`.
    for name in ["invoice.exe::$DATA", "invoice.exe:zone"] {
        let r = scan(&mail_with(name, "application/octet-stream", b"not really"));
        assert_eq!(r.category, Category::Banned, "{name}: {:#?}", r.findings);
    }
    // A drive prefix is no stream.
    let r = scan(&mail_with("C:notes.txt", "text/plain", b"just text"));
    assert_eq!(r.category, Category::Clean, "{:#?}", r.findings);
}

#[test]
fn a_tnef_attachment_is_checked_under_its_long_file_name() {
    // Outlook saves under PR_ATTACH_LONG_FILENAME (Convert::TNEF's longname, which
    // amavisd-new checks); the title is often an 8.3 name and may say anything.
    let w = tnef(&[(
        "REPORT~1.TXT",
        b"just text\n",
        Some(tnef_mapi_long_name("report.exe")),
    )]);
    let r = scan(&mail_with("winmail.dat", "application/ms-tnef", &w));
    assert_eq!(r.category, Category::Banned, "{:#?}", r.findings);
    assert_eq!(
        banned(&r),
        [(
            "windows-executable-extension".into(),
            "2 winmail.dat/report.exe".into()
        )]
    );
    // The other way round: the title is checked too.
    let w = tnef(&[(
        "report.exe",
        b"just text\n",
        Some(tnef_mapi_long_name("report.txt")),
    )]);
    let r = scan(&mail_with("winmail.dat", "application/ms-tnef", &w));
    assert_eq!(r.category, Category::Banned, "{:#?}", r.findings);
}
