//! Every database format and syntax element, written by the test, each with a matching and a
//! non-matching object.

use mailwarden::config::SignatureConfig;
use mailwarden::filetype::{self, FileType};
use mailwarden::object::{Object, Origin};
use mailwarden::signatures::{EICAR_NAME, SignatureSet};
use std::path::Path;

fn object(data: &[u8]) -> Object<'_> {
    object_as(data, Origin::MimePart, None)
}

fn object_as<'a>(data: &'a [u8], origin: Origin, declared: Option<&str>) -> Object<'a> {
    Object {
        depth: 1,
        declared_type: declared.map(str::to_string),
        ..Object::new("1", origin, data)
    }
}

fn load(files: &[(&str, &str)]) -> (tempfile::TempDir, SignatureSet) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let set = load_dir(dir.path(), false);
    (dir, set)
}

fn load_dir(path: &Path, builtin: bool) -> SignatureSet {
    SignatureSet::load(&SignatureConfig {
        builtin,
        databases: vec![path.to_path_buf()],
        stop_on_first: false,
    })
    .unwrap()
}

fn names(set: &SignatureSet, o: &Object<'_>) -> Vec<String> {
    let mut out = Vec::new();
    set.scan(o, &mut out);
    let mut v: Vec<String> = out.into_iter().map(|m| m.name).collect();
    v.sort();
    v
}

fn hits(set: &SignatureSet, data: &[u8], name: &str) -> bool {
    names(set, &object(data)).iter().any(|n| n == name)
}

fn hex(s: &[u8]) -> String {
    s.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn hdb_md5_sha1_sha256_and_any_size() {
    use md5::Digest;
    let data = b"some attachment bytes";
    let md5 = hex(&md5::Md5::digest(data));
    let sha1 = hex(&sha1::Sha1::digest(data));
    let sha256 = hex(&sha2::Sha256::digest(data));
    let (_d, set) = load(&[
        ("a.hdb", &format!("{md5}:{}:T.Md5\n", data.len())),
        (
            "b.hsb",
            &format!("{sha1}:*:T.Sha1:73\n{sha256}:{}:T.Sha256\n", data.len()),
        ),
    ]);
    assert_eq!(names(&set, &object(data)), ["T.Md5", "T.Sha1", "T.Sha256"]);
    assert!(names(&set, &object(b"some attachment byteS")).is_empty());
    // right hash, wrong size: the size is part of the key
    let (_d, set) = load(&[("a.hdb", &format!("{md5}:{}:T.Md5\n", data.len() + 1))]);
    assert!(names(&set, &object(data)).is_empty());
}

#[test]
fn ndb_every_hex_element() {
    let cases: &[(&str, &[u8], &[u8])] = &[
        ("0:*:6d616c77617265", b"xx malware xx", b"xx malwar xx"),
        ("0:*:6d61??77617265", b"maXware", b"mare"),
        ("0:*:6d616c776172?5", b"malwarE", b"malwarf"),
        ("0:*:6d616c7761726?", b"malwarf", b"malwar\x7f"),
        ("0:*:6d616c*65766964", b"mal .... evid", b"evid mal"),
        ("0:*:6d616c{3}65766964", b"mal...evid", b"mal....evid"),
        // clamscan 1.4 reads {0} as unbounded
        ("0:*:6d616c{0}65766964", b"mal....evid", b"evid mal"),
        ("0:*:6d616c{-3}65766964", b"mal.evid", b"mal....evid"),
        ("0:*:6d616c{3-}65766964", b"mal.....evid", b"mal..evid"),
        ("0:*:6d616c{1-2}65766964", b"mal..evid", b"mal...evid"),
        ("0:*:6d616c(41|4242)65766964", b"malBBevid", b"malBevid"),
        ("0:*:6d616c!(41|42)65766964", b"malCevid", b"malAevid"),
        ("0:*:78[1-3]6d616c77", b"x..malw", b"x....malw"),
        ("0:*:6d616c77[2-4]79", b"malw...y", b"malw.y"),
        ("0:5:6d616c77", b"12345malw", b"1234malw"),
        ("0:5,2:6d616c77", b"1234567malw", b"12345678malw"),
        ("0:EOF-6:6d616c77", b"....malw..", b"...malw..."),
        ("0:EOF-6,1:6d616c77", b"....malw.", b"....malw..."),
    ];
    for (i, (sig, yes, no)) in cases.iter().enumerate() {
        let (_d, set) = load(&[("t.ndb", &format!("Sig{i}:{sig}\n"))]);
        let name = format!("Sig{i}");
        assert!(hits(&set, yes, &name), "{sig} should match {yes:?}");
        assert!(!hits(&set, no, &name), "{sig} should not match {no:?}");
    }
}

#[test]
fn ndb_targets_follow_the_object() {
    let (_d, set) = load(&[(
        "t.ndb",
        "Any:0:*:6d61726b6572\nPdf:10:*:6d61726b6572\nElf:6:*:6d61726b6572\nMail:4:*:6d61726b6572\nPe:1:*:6d61726b6572\n",
    )]);
    assert_eq!(names(&set, &object(b"plain marker")), ["Any"]);
    assert_eq!(names(&set, &object(b"%PDF-1.4 marker")), ["Any", "Pdf"]);
    assert_eq!(names(&set, &object(b"\x7fELF marker")), ["Any", "Elf"]);
    let msg = object_as(b"Subject: x\r\n\r\nmarker", Origin::Message, None);
    assert_eq!(names(&set, &msg), ["Any", "Mail"]);
    let mut pe = vec![0u8; 0x80];
    pe[..2].copy_from_slice(b"MZ");
    pe[0x3c] = 0x40;
    pe[0x40..0x44].copy_from_slice(b"PE\0\0");
    pe.extend_from_slice(b"marker");
    assert_eq!(names(&set, &object(&pe)), ["Any", "Pe"]);
    let mut mz = pe.clone();
    mz[0x40] = b'X';
    assert_eq!(filetype::detect(&mz), FileType::DosExe);
    assert_eq!(names(&set, &object(&mz)), ["Any"]);
}

#[test]
fn bad_lines_are_skipped_and_reported_with_file_and_line() {
    let (d, set) = load(&[(
        "t.ndb",
        "# comment\nGood:0:*:676f6f64\nBad1:0:*:6g6f6f64\nBad2:0:*\nBad3:0:*:61??62\nGood2:0:*:626164\nPeOnly:1:EP+0:626164\n",
    )]);
    assert!(hits(&set, b"good", "Good"));
    assert!(hits(&set, b"bad", "Good2"));
    let desc = set.describe().join("\n");
    let file = d.path().join("t.ndb").display().to_string();
    for line in [3, 4, 5] {
        assert!(desc.contains(&format!("{file}:{line}: ")), "{desc}");
    }
    assert!(desc.contains(&format!("{file}:7: unsupported")), "{desc}");
    assert!(
        desc.contains(".ndb: 2 loaded, 3 malformed, 1 unsupported"),
        "{desc}"
    );
}

#[test]
fn unsupported_formats_are_counted() {
    let (_d, set) = load(&[
        ("a.ndb", "A:0:*:616263\n"),
        ("x.cbc", "bytecode line 1\nline 2\n"),
        ("y.pdb", "H:example.com\n"),
        ("notes.txt", "ignored, not a database\n"),
    ]);
    let desc = set.describe().join("\n");
    assert!(
        desc.contains(".cbc: 0 loaded, 0 malformed, 2 unsupported (.cbc: bytecode, not supported)"),
        "{desc}"
    );
    assert!(
        desc.contains(".pdb: 0 loaded, 0 malformed, 1 unsupported"),
        "{desc}"
    );
    assert!(!desc.contains("txt"), "{desc}");
}

#[test]
fn fp_allows_and_ign2_ignores() {
    use md5::Digest;
    let data = b"a file that is known clean but matches abc";
    let md5 = hex(&md5::Md5::digest(data));
    let (_d, set) = load(&[
        ("a.ndb", "Abc:0:*:616263\nIgnored:0:*:636c65616e\n"),
        ("a.fp", &format!("{md5}:{}:Known.Clean\n", data.len())),
        ("a.ign2", "Ignored\n"),
    ]);
    assert!(names(&set, &object(data)).is_empty());
    assert_eq!(names(&set, &object(b"abc clean")), ["Abc"]);
    assert!(set.describe().join("\n").contains("1 ignored by .ign2"));
}

#[test]
fn eicar_builtin_with_and_without_databases() {
    let eicar = mailwarden::signatures::EICAR;
    let mut padded = b"\nleading newline ".to_vec();
    padded.extend_from_slice(eicar);
    padded.extend_from_slice(b" trailing");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.ndb"), "A:0:*:616263\n").unwrap();
    let set = load_dir(dir.path(), true);
    assert_eq!(names(&set, &object(&padded)), [EICAR_NAME]);
    assert_eq!(
        names(&SignatureSet::builtin(), &object(&padded)),
        [EICAR_NAME]
    );
    assert!(names(&load_dir(dir.path(), false), &object(&padded)).is_empty());
}

#[test]
fn missing_paths_and_empty_directories_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = |p: &Path| SignatureConfig {
        builtin: true,
        databases: vec![p.to_path_buf()],
        stop_on_first: false,
    };
    assert!(SignatureSet::load(&cfg(dir.path())).is_err());
    assert!(SignatureSet::load(&cfg(&dir.path().join("nope.ndb"))).is_err());
}

#[test]
fn hostile_objects_never_panic() {
    let (_d, set) = load(&[(
        "t.ndb",
        "A:0:*:616263*7a7a{2-5}(01|0203)\nB:0:EOF-1000:616263\nC:0:99999:616263??\nD:0:*:??616263!(00|01)\n",
    )]);
    for data in [
        &b""[..],
        b"abc",
        b"ab",
        b"abc\x00",
        b"\x00\x01abcabcabc",
        &[0xffu8; 3],
    ] {
        let _ = names(&set, &object(data));
    }
}

#[test]
fn ldb_expressions_counts_and_modifiers() {
    let cases: &[(&str, &[u8], &[u8])] = &[
        ("Target:0;0&1;616263;646566", b"abc..def", b"abc..deX"),
        ("Target:0;0|1;616263;646566", b"..def", b"..de"),
        ("Target:0;(0&1)|2;616263;646566;676869", b"ghi", b"abc"),
        ("Target:0;0=2;616263", b"abc abc", b"abc abc abc"),
        ("Target:0;0>1;616263", b"abc abc", b"abc"),
        ("Target:0;0<2&1;616263;646566", b"abc def", b"abc abc def"),
        ("Target:0;0&1=0;616263;646566", b"abc", b"abc def"),
        ("Target:0;(0|1)>1,2;616263;646566", b"abc def", b"abc abc"),
        ("Target:0,FileSize:5-10;0;616263", b"..abc", b"abc"),
        ("Engine:51-255,Target:0;0;616263", b"abc", b"ab"),
        ("Target:0;0;5:616263", b".....abc", b"....abc"),
        ("Target:0;0;EOF-3:616263", b"...abc", b"..abc."),
        ("Target:0;0;6d616c77617265::i", b"MalWare", b"malwar"),
        (
            "Target:0;0;6d616c77617265::w",
            b"m\0a\0l\0w\0a\0r\0e\0",
            b"malware",
        ),
        (
            "Target:0;0;6d616c77617265::wa",
            b"malware",
            b"m\0a\0l\0w\0a\0r\0",
        ),
        ("Target:0;0;6d616c77617265::f", b"a malware.", b"amalware"),
        ("Target:0;0;6d616c77617265::fi", b"(MALWARE)", b"MALWARES"),
        ("Target:0;0&1;616263;0/x[0-9]+y/", b"abc x12y", b"x12y"),
        ("Target:0;0&1;616263;0/X[0-9]+Y/i", b"abc x12y", b"abc xy"),
        ("Target:0;0&1;616263;0:0/abc/", b"abc", b".abc"),
    ];
    for (i, (rest, yes, no)) in cases.iter().enumerate() {
        let (_d, set) = load(&[("t.ldb", &format!("L{i};{rest}\n"))]);
        let name = format!("L{i}");
        let desc = set.describe().join("\n");
        assert!(desc.contains(".ldb: 1 loaded"), "{rest}: {desc}");
        assert!(hits(&set, yes, &name), "{rest} should match {yes:?}");
        assert!(!hits(&set, no, &name), "{rest} should not match {no:?}");
    }
}

#[test]
fn ldb_unsupported_and_malformed_are_counted() {
    let (d, set) = load(&[(
        "t.ldb",
        "Ok;Target:0;0;616263\nU1;Target:1,EntryPoint:0-10;0;616263\nU2;Target:0;0&1;616263;0/(?<=a)b/\nB1;Target:0;0&2;616263;646566\nB2;Target:0;0&1;616263\nB3;Foo:1;0;616263\nB4;Target:0;0;6162\n",
    )]);
    let desc = set.describe().join("\n");
    assert!(
        desc.contains(".ldb: 1 loaded, 4 malformed, 2 unsupported"),
        "{desc}"
    );
    let file = d.path().join("t.ldb").display().to_string();
    assert!(desc.contains(&format!("{file}:4: ")), "{desc}");
    assert!(hits(&set, b"abc", "Ok"));
}

#[test]
fn targets_3_and_7_match_normalized_text() {
    let (_d, set) = load(&[(
        "t.ndb",
        // "evil script" / "<b>bad" / "bad thing" / "bad&evil"
        "Txt:7:*:6576696c20736372697074\nHtmlTag:3:*:3c623e626164\nHtmlText:3:*:626164207468696e67\nEnt:3:*:62616426657669\n",
    )]);
    let text = object_as(
        b"Some  EVIL\r\n\tScript here",
        Origin::MimePart,
        Some("text/plain"),
    );
    assert_eq!(names(&set, &text), ["Txt"]);
    let plain = object_as(b"Some EVIL_Script", Origin::MimePart, Some("text/plain"));
    assert!(names(&set, &plain).is_empty());
    let html = object_as(
        b"<html><!-- x --><B>Bad</b>\n <i>THING</i> bad&amp;evil</html>",
        Origin::MimePart,
        Some("text/html"),
    );
    assert_eq!(names(&set, &html), ["Ent", "HtmlTag", "HtmlText"]);
    // binary objects are not normalized
    let bin = object_as(
        b"\x7fELF evil script",
        Origin::MimePart,
        Some("application/octet-stream"),
    );
    assert!(names(&set, &bin).is_empty());
}

fn cvd(files: &[(&str, &str)], gzip: bool) -> Vec<u8> {
    let mut tarball = tar::Builder::new(Vec::new());
    for (name, text) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(text.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tarball.append_data(&mut h, name, text.as_bytes()).unwrap();
    }
    let tarball = tarball.into_inner().unwrap();
    let mut out = b"ClamAV-VDB:22 Nov 2026 07-00 +0000:3:2:90:x:y:test:0".to_vec();
    out.resize(512, b' ');
    if gzip {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
        gz.write_all(&tarball).unwrap();
        gz.finish().unwrap()
    } else {
        out.extend_from_slice(&tarball);
        out
    }
}

#[test]
fn cvd_and_cld_containers() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("test.ndb", "InCvd:0:*:696e637664\n"),
        ("test.ldb", "InCvdL;Target:0;0&1;616263;646566\n"),
        ("test.info", "ignored index\n"),
    ];
    std::fs::write(dir.path().join("test.cvd"), cvd(&files, true)).unwrap();
    let set = load_dir(dir.path(), false);
    assert_eq!(names(&set, &object(b"incvd abc def")), ["InCvd", "InCvdL"]);
    assert!(names(&set, &object(b"inxvd abc")).is_empty());
    assert!(set.describe().join("\n").contains("version 3"));
    let dir2 = tempfile::tempdir().unwrap();
    std::fs::write(dir2.path().join("x.cld"), cvd(&files, false)).unwrap();
    let set = load_dir(&dir2.path().join("x.cld"), false);
    assert_eq!(names(&set, &object(b"incvd")), ["InCvd"]);
    // a damaged container is reported, not fatal
    let mut bad = cvd(&files, true);
    bad.truncate(520);
    std::fs::write(dir2.path().join("x.cld"), bad).unwrap();
    let set = load_dir(&dir2.path().join("x.cld"), false);
    assert!(set.describe().join("\n").contains("x.cld: "));
}
