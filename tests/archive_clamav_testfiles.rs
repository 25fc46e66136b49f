//! Debian's `clamav-testfiles` (installed by scripts/setup.sh): every file whose container
//! mailwarden unpacks must lead to the inner `clam.exe`, byte for byte.

use mailwarden::archive::{Budget, Limits, Unpack, unpacker_for};
use mailwarden::{FileType, Object, Origin};
use std::path::Path;

const DIR: &str = "/usr/share/clamav-testfiles";

/// Unpacks `data` (named `name`) recursively with the archive API and returns every object
/// reached, and the names of the unchecked reasons recorded.
fn unpack_all(name: &str, data: Vec<u8>) -> (Vec<Object<'static>>, Vec<&'static str>) {
    let limits = Limits::default();
    let mut budget = Budget::new(&limits, data.len() as u64);
    let mut objects = vec![Object {
        depth: 1,
        name: Some(name.into()),
        ..Object::new("1", Origin::MimePart, data)
    }];
    let mut next = 0;
    while next < objects.len() {
        let id = next;
        next += 1;
        let Some(unpacker) = unpacker_for(objects[id].detected) else {
            continue;
        };
        if !budget.enter_level(objects[id].depth + 1, &objects[id].path) {
            continue;
        }
        let mut out = Unpack {
            budget: &mut budget,
            children: Vec::new(),
            findings: Vec::new(),
            unsupported_unchecked: false,
        };
        unpacker.unpack(&objects[id], &mut out);
        let children = std::mem::take(&mut out.children);
        objects.extend(children.into_iter().map(|mut c| {
            c.parent = Some(id);
            c
        }));
    }
    let reasons = budget
        .take_findings()
        .iter()
        .filter_map(|f| match f {
            mailwarden::report::Finding::Unchecked { reason, .. } => Some(reason.name()),
            _ => None,
        })
        .collect();
    (objects, reasons)
}

/// Test files mailwarden must not open, and the reason it reports instead: an imploded zip
/// entry (method 6, not supported) and ClamAV's recursion test, a tgz nested deeper than
/// `max_levels`.
const EXPECTED_UNCHECKED: &[(&str, &str)] = &[
    ("clam.impl.zip", "undecodable"),
    ("clam_cache_emax.tgz", "max_levels"),
];

/// Containers whose format mailwarden unpacks (by detected type).
fn unpacked(t: FileType) -> bool {
    matches!(
        t,
        FileType::Zip
            | FileType::Gzip
            | FileType::Bzip2
            | FileType::Tar
            | FileType::Tnef
            | FileType::SevenZip
            | FileType::Xz
            | FileType::Cab
            | FileType::Iso
    )
}

#[test]
fn every_unpacked_container_reaches_clam_exe() {
    let dir = Path::new(DIR);
    if !dir.is_dir() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{DIR} is missing; scripts/setup.sh installs clamav-testfiles"
        );
        eprintln!("skipping: {DIR} missing (install clamav-testfiles)");
        return;
    }
    let clam = std::fs::read(dir.join("clam.exe")).unwrap();
    assert!(matches!(
        mailwarden::filetype::detect(&clam),
        FileType::Pe | FileType::DosExe
    ));
    let mut checked = Vec::new();
    let mut failed = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let data = std::fs::read(entry.path()).unwrap();
        let detected = mailwarden::filetype::detect(&data);
        if !unpacked(detected) {
            continue;
        }
        let (objects, reasons) = unpack_all(&name, data);
        if let Some((_, reason)) = EXPECTED_UNCHECKED.iter().find(|(n, _)| *n == name) {
            assert!(
                reasons.contains(reason),
                "{name}: expected {reason}, got {reasons:?}"
            );
            continue;
        }
        let reached = objects
            .iter()
            .skip(1)
            .any(|o| matches!(o.detected, FileType::Pe | FileType::DosExe) && *o.data == *clam);
        if reached {
            checked.push(format!("{name} ({detected})"));
        } else {
            let seen: Vec<String> = objects
                .iter()
                .map(|o| format!("{} [{}] {}", o.path, o.detected, o.data.len()))
                .collect();
            failed.push(format!("{name} ({detected}): {seen:?}"));
        }
    }
    eprintln!("reached clam.exe in: {checked:#?}");
    assert!(failed.is_empty(), "clam.exe not reached in: {failed:#?}");
    assert!(checked.len() >= 5, "too few containers ran: {checked:?}");
    // The formats added after the first version of this test, each by name.
    for name in ["clam.7z", "clam.cab"] {
        assert!(
            checked.iter().any(|c| c.starts_with(&format!("{name} "))),
            "{name} was not checked: {checked:?}"
        );
    }
}

#[test]
fn clam_zip_through_the_engine_is_an_executable_member() {
    let dir = Path::new(DIR);
    let Ok(zip) = std::fs::read(dir.join("clam.zip")) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{DIR} missing"
        );
        return;
    };
    let clam_len = std::fs::metadata(dir.join("clam.exe")).unwrap().len() as usize;
    let mut m = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: t\r\nMIME-Version: 1.0\r\n\
Content-Type: application/zip; name=\"clam.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        .to_vec();
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for line in zip.chunks(57) {
        for c in line.chunks(3) {
            let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            m.push(T[(n >> 18) as usize & 63]);
            m.push(T[(n >> 12) as usize & 63]);
            m.push(if c.len() > 1 {
                T[(n >> 6) as usize & 63]
            } else {
                b'='
            });
            m.push(if c.len() > 2 {
                T[n as usize & 63]
            } else {
                b'='
            });
        }
        m.extend_from_slice(b"\r\n");
    }
    let r = mailwarden::Engine::with_defaults().scan(&m, &mailwarden::Envelope::default());
    assert!(
        r.objects
            .iter()
            .any(|o| matches!(o.detected, FileType::Pe | FileType::DosExe)
                && o.size == clam_len
                && o.path.contains("clam.zip/")),
        "{:#?}",
        r.objects
    );
    assert_eq!(
        r.category,
        mailwarden::report::Category::Banned,
        "{:#?}",
        r.findings
    );
}
