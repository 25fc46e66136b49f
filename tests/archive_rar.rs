//! RAR 4 and 5: members listed (names to the banned rules), stored members scanned,
//! encryption UNCHECKED. The archives are written by tests/support's writers (no free tool
//! writes RAR); bsdtar (libarchive, installed by scripts/setup.sh) reads the same archives,
//! so the writers are checked against an independent reader.

mod support;
use mailwarden::report::Category;
use std::process::Command;
use support::*;

const RAR: &str = "application/vnd.rar";

/// What bsdtar lists in `archive`, or `None` when it is not installed (outside CI).
fn bsdtar_list(archive: &[u8]) -> Option<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.rar");
    std::fs::write(&path, archive).unwrap();
    match Command::new("bsdtar").arg("-tf").arg(&path).output() {
        Ok(out) => {
            assert!(
                out.status.success(),
                "bsdtar: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .map(str::to_string)
                    .collect(),
            )
        }
        Err(_) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "bsdtar missing: run scripts/setup.sh"
            );
            None
        }
    }
}

/// bsdtar's extraction of member `name`.
fn bsdtar_extract(archive: &[u8], name: &str) -> Option<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.rar");
    std::fs::write(&path, archive).unwrap();
    let out = Command::new("bsdtar")
        .arg("-xOf")
        .arg(&path)
        .arg(name)
        .output()
        .ok()?;
    assert!(out.status.success(), "bsdtar -x {name}");
    Some(out.stdout)
}

#[test]
fn stored_members_of_rar4_and_rar5_are_scanned() {
    let members = [
        RarMember::stored("readme.txt", b"hello\n"),
        RarMember::stored("dir\\eicar.com", support::EICAR),
    ];
    for (version, a) in [("rar4", rar4(&members, false)), ("rar5", rar5(&members))] {
        let r = scan(&mail_with("a.rar", RAR, &a));
        assert_eq!(r.category, Category::Virus, "{version}: {:#?}", r.findings);
        assert!(
            viruses(&r).contains(&"2 a.rar/dir/eicar.com".to_string()),
            "{version}: {:#?}",
            r.findings
        );
        assert!(
            r.objects
                .iter()
                .any(|o| o.path == "2 a.rar/readme.txt" && o.size == 6)
        );
        // An independent reader sees the same archive.
        if let Some(list) = bsdtar_list(&a) {
            assert_eq!(list.len(), 2, "{version}: {list:?}");
            assert!(list[0] == "readme.txt", "{version}: {list:?}");
            assert_eq!(
                bsdtar_extract(&a, "readme.txt").as_deref(),
                Some(&b"hello\n"[..])
            );
        }
    }
}

#[test]
fn compressed_member_names_reach_the_banned_rules() {
    let members = [
        RarMember::stored("notes.txt", b"see the invoice"),
        RarMember {
            name: "Invoice 2024.pdf.exe",
            data: &[0x5a; 40],
            unpacked: 4096,
            method: 3,
            encrypted: false,
        },
    ];
    for (version, a) in [("rar4", rar4(&members, false)), ("rar5", rar5(&members))] {
        let r = scan(&mail_with("docs.rar", RAR, &a));
        assert_eq!(r.category, Category::Banned, "{version}: {:#?}", r.findings);
        assert!(
            banned(&r).contains(&"2 docs.rar/Invoice 2024.pdf.exe".to_string()),
            "{version}: {:#?}",
            r.findings
        );
        if let Some(list) = bsdtar_list(&a) {
            assert_eq!(list, ["notes.txt", "Invoice 2024.pdf.exe"], "{version}");
        }
    }
}

#[test]
fn compressed_members_follow_the_unsupported_policy() {
    let a = rar5(&[RarMember {
        name: "data.bin",
        data: &[0x5a; 40],
        unpacked: 4096,
        method: 3,
        encrypted: false,
    }]);
    let r = scan(&mail_with("a.rar", RAR, &a));
    assert_eq!(r.category, Category::Clean, "{:#?}", r.findings);
    let engine = mailwarden::Engine::builder()
        .policy(mailwarden::Policy {
            unsupported_formats_unchecked: true,
            ..Default::default()
        })
        .build()
        .unwrap();
    let r = engine.scan(
        &mail_with("a.rar", RAR, &a),
        &mailwarden::Envelope::default(),
    );
    assert_eq!(r.category, Category::Unchecked, "{:#?}", r.findings);
    assert_eq!(reasons(&r), ["unsupported_format"]);
}

#[test]
fn encrypted_members_and_headers_are_unchecked_encrypted() {
    let secret = RarMember {
        name: "invoice.doc",
        data: &[0x33; 64],
        unpacked: 60,
        method: 3,
        encrypted: true,
    };
    for (version, a) in [
        ("rar4", rar4(std::slice::from_ref(&secret), false)),
        ("rar5", rar5(std::slice::from_ref(&secret))),
        ("rar4 -hp", rar4(&[], true)),
        ("rar5 -hp", {
            let mut a = b"Rar!\x1a\x07\x01\x00".to_vec();
            a.extend(rar5_block(4, 0, &[0, 0, 15, 0x11, 0x11], &[], &[]));
            a.extend_from_slice(&[0x77; 200]);
            a
        }),
    ] {
        let r = scan(&mail_with("a.rar", RAR, &a));
        assert_eq!(
            r.category,
            Category::Unchecked,
            "{version}: {:#?}",
            r.findings
        );
        assert_eq!(reasons(&r), ["encrypted"], "{version}");
    }
}

#[test]
fn damaged_archives_are_never_clean() {
    let members = [
        RarMember::stored("a.txt", b"first member"),
        RarMember::stored("b.txt", &[b'x'; 5000]),
    ];
    for (version, a) in [("rar4", rar4(&members, false)), ("rar5", rar5(&members))] {
        // Cut inside the second member's data: the first is scanned, the second is short.
        let cut = &a[..a.len() - 3000];
        let r = scan(&mail_with("a.rar", RAR, cut));
        assert_eq!(
            r.category,
            Category::Unchecked,
            "{version}: {:#?}",
            r.findings
        );
        assert!(
            r.objects
                .iter()
                .any(|o| o.path == "2 a.rar/a.txt" && o.size == 12)
        );
        // Garbage after the signature.
        let mut g = a[..8].to_vec();
        g.extend_from_slice(&[0xff; 64]);
        let r = scan(&mail_with("a.rar", RAR, &g));
        assert_eq!(
            r.category,
            Category::Unchecked,
            "{version}: {:#?}",
            r.findings
        );
    }
}
