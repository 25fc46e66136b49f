//! The EICAR payload is found wherever an attacker can hide it in a container mailwarden opens.

mod support;
use mailwarden::report::{Category, Finding};
use support::*;

fn assert_virus(message: &[u8], path_part: &str) {
    assert!(
        !has_eicar(message),
        "the payload must be hidden by the container"
    );
    let r = scan(message);
    let hits: Vec<&str> = r
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::Virus { name, path } if name == "Eicar-Test-Signature" => Some(path.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(r.category, Category::Virus, "findings: {:#?}", r.findings);
    assert!(
        hits.iter().any(|p| p.contains(path_part)),
        "no hit under {path_part}: {hits:?}"
    );
}

#[test]
fn eicar_in_zip() {
    let z = zip(&[ZipEntry::deflated("eicar.com", &payload())], false);
    assert_virus(
        &mail_with("a.zip", "application/zip", &z),
        "a.zip/eicar.com",
    );
}

#[test]
fn eicar_in_stored_zip64() {
    let z = zip(
        &[
            ZipEntry::stored("readme.txt", b"hello"),
            ZipEntry::stored("eicar.com", &payload()),
        ],
        true,
    );
    let r = scan(&mail_with("a.zip", "application/zip", &z));
    assert_eq!(r.category, Category::Virus, "{:#?}", r.findings);
    assert!(reasons(&r).is_empty(), "{:#?}", r.findings);
    assert!(
        r.objects.iter().any(|o| o.path == "2 a.zip/eicar.com"),
        "{:#?}",
        r.objects
    );
}

#[test]
fn eicar_in_zip_in_zip_in_zip() {
    let inner = zip(&[ZipEntry::deflated("eicar.com", &payload())], false);
    let middle = zip(&[ZipEntry::deflated("inner.zip", &inner)], false);
    let outer = zip(&[ZipEntry::stored("middle.zip", &middle)], false);
    assert_virus(
        &mail_with("outer.zip", "application/zip", &outer),
        "outer.zip/middle.zip/inner.zip/eicar.com",
    );
}

#[test]
fn eicar_in_gzip_named_from_header() {
    let g = gzip(Some("payload.com"), &payload());
    assert_virus(&mail_with("x.gz", "application/gzip", &g), "payload.com");
}

#[test]
fn eicar_in_multi_member_gzip() {
    let mut g = gzip(None, b"first member, harmless\n");
    g.extend(gzip(None, &payload()));
    assert_virus(&mail_with("x.gz", "application/gzip", &g), "x.gz/x");
}

#[test]
fn eicar_in_bzip2() {
    let b = bzip2(&payload());
    assert_virus(
        &mail_with("e.com.bz2", "application/x-bzip2", &b),
        "e.com.bz2/e.com",
    );
}

#[test]
fn eicar_in_tar_and_tar_gz() {
    let t = tar(&[
        ("docs/readme.txt", b"hello"),
        ("docs/eicar.com", &payload()),
    ]);
    assert_virus(
        &mail_with("a.tar", "application/x-tar", &t),
        "docs/eicar.com",
    );
    let tgz = gzip(None, &t);
    assert_virus(
        &mail_with("a.tgz", "application/gzip", &tgz),
        "a.tgz/a.tar/docs/eicar.com",
    );
}

#[test]
fn eicar_in_zip_inside_rfc822_inside_multipart() {
    let z = zip(&[ZipEntry::deflated("eicar.com", &payload())], false);
    let inner = mail_with("inner.zip", "application/zip", &z);
    let mut m = b"From: x@example.org\r\nTo: y@example.org\r\nSubject: fwd\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n--outer\r\nContent-Type: text/plain\r\n\r\n\
forwarded\r\n--outer\r\nContent-Type: message/rfc822\r\n\r\n"
        .to_vec();
    m.extend(inner);
    m.extend_from_slice(b"\r\n--outer--\r\n");
    assert_virus(&m, "inner.zip/eicar.com");
}

#[test]
fn eicar_in_eml_inside_zip_is_walked_as_mail() {
    let inner = mail_with(
        "e.zip",
        "application/zip",
        &zip(&[ZipEntry::stored("e.com", &payload())], false),
    );
    let z = zip(&[ZipEntry::deflated("forwarded.eml", &inner)], false);
    assert_virus(&mail_with("mails.zip", "application/zip", &z), "e.com");
}

#[test]
fn eicar_behind_misleading_name_and_type() {
    // Declared as a picture, named as one, really a zip holding the payload under a text name.
    let z = zip(&[ZipEntry::deflated("holiday.txt", &payload())], false);
    assert_virus(&mail_with("photo.jpg", "image/jpeg", &z), "holiday.txt");
}

#[test]
fn eicar_in_ooxml_document() {
    let z = zip(
        &[
            ZipEntry::deflated("[Content_Types].xml", b"<Types/>"),
            ZipEntry::deflated("word/document.xml", b"<w:document/>"),
            ZipEntry::deflated("word/embeddings/oleObject1.bin", &payload()),
        ],
        false,
    );
    assert_eq!(
        mailwarden::filetype::detect(&z),
        mailwarden::FileType::Ooxml
    );
    assert_virus(
        &mail_with("report.docx", "application/octet-stream", &z),
        "oleObject1.bin",
    );
}

#[test]
fn clean_zip_is_clean() {
    let z = zip(
        &[ZipEntry::deflated("notes.txt", b"nothing to see here\n")],
        false,
    );
    let r = scan(&mail_with("n.zip", "application/zip", &z));
    assert_eq!(r.category, Category::Clean, "{:#?}", r.findings);
    assert!(
        r.objects
            .iter()
            .any(|o| o.path.ends_with("n.zip/notes.txt"))
    );
}

#[test]
fn eicar_in_zip_appended_to_other_data() {
    // A self-extractor, or a zip appended to an image: the zip does not start the file, its
    // offsets count from the zip's own start, and unzip and ClamAV still open it.
    let z = zip(&[ZipEntry::deflated("eicar.com", &payload())], false);
    for prefix in [
        &b"GIF89a\x01\x00\x01\x00"[..],
        &[0x4d, 0x5a, 0x90, 0x00],
        &[b'x'; 4000],
    ] {
        let mut data = prefix.to_vec();
        data.extend_from_slice(&z);
        assert_virus(
            &mail_with("picture.gif", "image/gif", &data),
            "picture.gif/eicar.com",
        );
    }
}

#[test]
fn eicar_in_zip_appended_to_another_archive() {
    // The archive's own members are unpacked, and the zip after them too.
    let z = zip(&[ZipEntry::deflated("eicar.com", &payload())], false);
    for (name, mut data) in [
        ("a.tar", tar(&[("notes.txt", b"hello\n")])),
        ("a.gz", gzip(Some("notes.txt"), b"hello\n")),
        ("a.rar", rar5(&[RarMember::stored("notes.txt", b"hello\n")])),
    ] {
        data.extend_from_slice(&z);
        let r = scan(&mail_with(name, "application/octet-stream", &data));
        let paths: Vec<&str> = r.objects.iter().map(|o| o.path.as_str()).collect();
        assert!(
            paths.iter().any(|p| p.ends_with("/notes.txt")),
            "{name}: {paths:?}"
        );
        assert_virus(
            &mail_with(name, "application/octet-stream", &data),
            &format!("{name}/eicar.com"),
        );
    }
}

#[test]
fn eicar_in_tnef() {
    let w = tnef(&[
        ("notes.txt", b"hello\n", None),
        (
            "EICAR~1.TXT",
            &payload(),
            Some(tnef_mapi_long_name("eicar.txt")),
        ),
    ]);
    assert_virus(
        &mail_with("winmail.dat", "application/ms-tnef", &w),
        "winmail.dat/eicar.txt",
    );
}
