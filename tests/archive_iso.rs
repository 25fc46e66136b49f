//! ISO 9660 disk images: images written by genisoimage (a real tool; scripts/setup.sh
//! installs it) are read file for file, and hand-written ones (tests/support: every field
//! free to lie) check the two trees, loops, truncation and renamed images.

mod support;
use mailwarden::report::Category;
use std::process::Command;
use support::*;

const ISO: &str = "application/x-iso9660-image";

/// Runs genisoimage with `args` over a directory holding `files`; `None` when it is not
/// installed (outside CI).
fn genisoimage(args: &[&str], files: &[(&str, &[u8])]) -> Option<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    for (name, data) in files {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
    let out = dir.path().join("a.iso");
    let status = Command::new("genisoimage")
        .args(args)
        .arg("-quiet")
        .arg("-o")
        .arg(&out)
        .arg(&root)
        .status();
    match status {
        Ok(s) => {
            assert!(s.success(), "genisoimage failed");
            Some(std::fs::read(out).unwrap())
        }
        Err(_) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "genisoimage missing: run scripts/setup.sh"
            );
            eprintln!("skipping: genisoimage missing");
            None
        }
    }
}

#[test]
fn genisoimage_images_are_read_file_for_file() {
    let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let zipped = zip(&[ZipEntry::deflated("eicar.com", &payload())], false);
    let files: [(&str, &[u8]); 4] = [
        ("readme.txt", b"hello\n"),
        ("docs/Quarterly Report 2024.pdf", &big),
        ("docs/deeper/archive.zip", &zipped),
        ("empty.txt", b""),
    ];
    // Joliet, Rock Ridge, both, neither: the same files each time.
    for args in [&["-J"][..], &["-R"], &["-J", "-R"], &[]] {
        let Some(img) = genisoimage(args, &files) else {
            return;
        };
        let r = scan(&mail_with("a.iso", ISO, &img));
        let objects: Vec<(&str, usize)> = r
            .objects
            .iter()
            .map(|o| (o.path.as_str(), o.size))
            .collect();
        // Joliet keeps the names; plain ISO 9660 has 8.3 upper-case ones.
        let joliet = args.contains(&"-J");
        for (name, data) in &files {
            let found = r.objects.iter().any(|o| {
                o.size == data.len()
                    && if joliet {
                        o.path == format!("2 a.iso/{name}")
                    } else {
                        o.path.starts_with("2 a.iso/")
                    }
            });
            assert!(found, "{args:?}: {name} not found in {objects:?}");
        }
        assert_eq!(
            viruses(&r).len(),
            1,
            "{args:?}: the zip in the image: {:#?}",
            r.findings
        );
        assert!(
            viruses(&r)[0].ends_with("archive.zip/eicar.com")
                || viruses(&r)[0].ends_with("ARCHIVE.ZIP/eicar.com"),
            "{:?}",
            viruses(&r)
        );
    }
}

#[test]
fn a_file_only_one_tree_shows_is_still_unpacked() {
    // The primary tree shows README.TXT; the Joliet tree shows readme.txt (the same data)
    // and setup.exe (data the primary tree never names).
    let readme = b"read me\n".to_vec();
    let exe = b"not really an exe\n".to_vec();
    let img = iso(
        20,
        Some(21),
        &[
            (
                20,
                iso_dir_sector(20, 20, &[(b"README.TXT;1", 30, readme.len() as u32, 0)]),
            ),
            (
                21,
                iso_dir_sector(
                    21,
                    21,
                    &[
                        (&joliet("readme.txt"), 30, readme.len() as u32, 0),
                        (&joliet("setup.exe"), 31, exe.len() as u32, 0),
                    ],
                ),
            ),
            (30, readme.clone()),
            (31, exe.clone()),
        ],
    );
    let r = scan(&mail_with("a.iso", ISO, &img));
    assert_eq!(r.category, Category::Banned, "{:#?}", r.findings);
    assert!(
        banned(&r).contains(&"2 a.iso/setup.exe".to_string()),
        "{:#?}",
        r.findings
    );
    // The shared file is one object, under its Joliet name, with the primary one beside.
    let readmes: Vec<_> = r.objects.iter().filter(|o| o.size == 8).collect();
    assert_eq!(readmes.len(), 1, "{:#?}", r.objects);
    assert_eq!(readmes[0].path, "2 a.iso/readme.txt");
    assert_eq!(readmes[0].other_names, ["README.TXT"]);
}

#[test]
fn loops_depth_and_truncation_end_unchecked_not_hung() {
    // `.iso` and `.img` names are banned by default; this image goes by another name.
    // A directory whose child is the root again, and one that is itself.
    let img = iso(
        20,
        None,
        &[
            (
                20,
                iso_dir_sector(
                    20,
                    20,
                    &[
                        (b"LOOP", 20, 2048, 2),
                        (b"SELF", 21, 2048, 2),
                        (b"A.TXT;1", 30, 5, 0),
                    ],
                ),
            ),
            (21, iso_dir_sector(21, 20, &[(b"SELF", 21, 2048, 2)])),
            (30, b"hello".to_vec()),
        ],
    );
    let r = scan(&mail_with("disk.dat", "application/octet-stream", &img));
    assert_eq!(r.category, Category::Clean, "{:#?}", r.findings);
    assert!(r.objects.iter().any(|o| o.path == "2 disk.dat/A.TXT"));
    // A file whose extent runs past the end of the image.
    let img = iso(
        20,
        None,
        &[
            (
                20,
                iso_dir_sector(20, 20, &[(b"DATA.BIN;1", 30, 1 << 20, 0)]),
            ),
            (30, b"start of data".to_vec()),
        ],
    );
    let r = scan(&mail_with("disk.dat", "application/octet-stream", &img));
    assert_eq!(r.category, Category::Unchecked, "{:#?}", r.findings);
    assert_eq!(reasons(&r), ["undecodable"]);
    // Many directories laid over the same sectors: the walk stops, UNCHECKED.
    let mut entries: Vec<(Vec<u8>, u32, u32, u8)> = Vec::new();
    for i in 0..40u32 {
        entries.push((format!("D{i}").into_bytes(), 20 + i % 2, 64 << 20, 2));
    }
    let refs: Vec<(&[u8], u32, u32, u8)> = entries
        .iter()
        .map(|(n, a, s, f)| (&n[..], *a, *s, *f))
        .collect();
    let img = iso(20, None, &[(20, iso_dir_sector(20, 20, &refs))]);
    let r = scan(&mail_with("disk.dat", "application/octet-stream", &img));
    assert_ne!(r.category, Category::Clean, "{:#?}", r.findings);
}

#[test]
fn files_laid_over_each_other_are_undecodable_and_cost_nothing() {
    // 40 files of 1 MiB, each one sector after the last: 40 MiB of copies of 1.1 MiB.
    let names: Vec<Vec<u8>> = (0..40)
        .map(|i| format!("F{i}.BIN;1").into_bytes())
        .collect();
    let entries: Vec<(&[u8], u32, u32, u8)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (&n[..], 30 + i as u32, 1 << 20, 0))
        .collect();
    let data: Vec<u8> = (0..(1u32 << 20) + 40 * 2048)
        .map(|i| (i % 253) as u8)
        .collect();
    let img = iso(
        20,
        None,
        &[(20, iso_dir_sector(20, 20, &entries)), (30, data)],
    );
    let r = scan(&mail_with("disk.dat", "application/octet-stream", &img));
    assert_eq!(r.category, Category::Unchecked, "{:#?}", r.findings);
    assert_eq!(reasons(&r), ["undecodable"; 40]);
    let members: Vec<_> = r
        .objects
        .iter()
        .filter(|o| o.path.starts_with("2 disk.dat/"))
        .collect();
    assert_eq!(members.len(), 40);
    assert!(members.iter().all(|o| o.size == 0));
    // Names for the very same extent are one file, read once, and not overlapping.
    let img = iso(
        20,
        None,
        &[
            (
                20,
                iso_dir_sector(20, 20, &[(b"A.TXT;1", 30, 5, 0), (b"B.TXT;1", 30, 5, 0)]),
            ),
            (30, b"hello".to_vec()),
        ],
    );
    let r = scan(&mail_with("disk.dat", "application/octet-stream", &img));
    assert_eq!(r.category, Category::Clean, "{:#?}", r.findings);
    let a = r
        .objects
        .iter()
        .find(|o| o.path == "2 disk.dat/A.TXT")
        .unwrap();
    assert_eq!(a.other_names, ["B.TXT"]);
}

#[test]
fn long_paths_and_self_overlapping_files_are_bounded() {
    // Six nested directories of 200-byte names: the sixth would make a path over 1,024
    // bytes (paths repeat their directory's, so a deep tree of long names would otherwise
    // cost far more memory than the image).
    let names: Vec<Vec<u8>> = (0..6).map(|i| vec![b'A' + i as u8; 200]).collect();
    let mut sectors = vec![(20, iso_dir_sector(20, 20, &[(&names[0][..], 21, 2048, 2)]))];
    for i in 1..6u32 {
        let entries = [(&names[i as usize][..], 21 + i, 2048, 2)];
        sectors.push((20 + i, iso_dir_sector(20 + i, 19 + i, &entries)));
    }
    sectors.push((26, iso_dir_sector(26, 25, &[(b"DEEP.EXE;1", 40, 5, 0)])));
    sectors.push((40, b"hello".to_vec()));
    let img = iso(20, None, &sectors);
    let r = scan(&mail_with("disk.dat", "application/octet-stream", &img));
    assert_eq!(r.category, Category::Unchecked, "{:#?}", r.findings);
    assert_eq!(reasons(&r), ["undecodable"]);
    // One file whose 40 extents (multi-extent records) are the same MiB: 40 MiB of copies.
    let records: Vec<(&[u8], u32, u32, u8)> = (0..40)
        .map(|i| {
            (
                &b"BIG.BIN;1"[..],
                30,
                1 << 20,
                if i < 39 { 0x80 } else { 0 },
            )
        })
        .collect();
    let data: Vec<u8> = (0..1u32 << 20).map(|i| (i % 251) as u8).collect();
    let img = iso(
        20,
        None,
        &[(20, iso_dir_sector(20, 20, &records)), (30, data)],
    );
    let r = scan(&mail_with("disk.dat", "application/octet-stream", &img));
    assert_eq!(r.category, Category::Unchecked, "{:#?}", r.findings);
    assert_eq!(reasons(&r), ["undecodable"]);
    let big = r
        .objects
        .iter()
        .find(|o| o.path == "2 disk.dat/BIG.BIN")
        .unwrap();
    assert_eq!(big.size, 0);
}

#[test]
fn a_zip_appended_to_an_image_is_opened_too() {
    let mut img = iso(
        20,
        None,
        &[
            (20, iso_dir_sector(20, 20, &[(b"A.TXT;1", 30, 5, 0)])),
            (30, b"hello".to_vec()),
        ],
    );
    img.extend(zip(&[ZipEntry::deflated("eicar.com", &payload())], false));
    assert_eq!(
        mailwarden::filetype::detect(&img),
        mailwarden::FileType::Iso
    );
    let r = scan(&mail_with("disk.dat", "application/octet-stream", &img));
    assert_eq!(viruses(&r), ["2 disk.dat/eicar.com"], "{:#?}", r.findings);
    assert!(r.objects.iter().any(|o| o.path == "2 disk.dat/A.TXT"));
}

#[test]
fn an_image_renamed_as_a_document_is_banned_by_type() {
    let img = iso(
        20,
        None,
        &[
            (20, iso_dir_sector(20, 20, &[(b"A.TXT;1", 30, 5, 0)])),
            (30, b"hello".to_vec()),
        ],
    );
    assert_eq!(
        mailwarden::filetype::detect(&img),
        mailwarden::FileType::Iso
    );
    let r = scan(&mail_with("invoice.pdf", "application/pdf", &img));
    assert_eq!(r.category, Category::Banned, "{:#?}", r.findings);
    // A UDF-only image is recognised as an image too.
    let mut udf = vec![0u8; 20 * 2048];
    udf[0x8001..0x8006].copy_from_slice(b"BEA01");
    udf[0x8801..0x8806].copy_from_slice(b"NSR02");
    assert_eq!(
        mailwarden::filetype::detect(&udf),
        mailwarden::FileType::Iso
    );
    let r = scan(&mail_with("invoice.pdf", "application/pdf", &udf));
    assert_eq!(r.category, Category::Banned, "{:#?}", r.findings);
}
