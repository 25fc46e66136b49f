//! Differential test against real ClamAV: a few hundred generated signatures (literals with
//! wildcards, gaps, offsets, alternations, logical expressions) over generated files; mailwarden
//! and `clamscan --allmatch -d DIR` must report the same detections for every file.
//!
//! Also: the MD5 hash signature of clamav-testfiles' `clam.exe`, computed here, finds the file.
//!
//! Needs Debian's `clamav` and `clamav-testfiles` (scripts/setup.sh installs them).

use mailwarden::config::SignatureConfig;
use mailwarden::object::{Object, Origin};
use mailwarden::signatures::SignatureSet;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

const CLAMSCAN: &str = "/usr/bin/clamscan";

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn letter(&mut self) -> u8 {
        b"abcdefgh"[self.below(8)]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// A pattern element, able to print itself as ClamAV hex and to produce matching bytes.
#[derive(Clone, Debug)]
enum G {
    Lit(Vec<u8>),
    Any,
    High(u8),
    Low(u8),
    Gap(usize, Option<usize>),
    Alt(Vec<Vec<u8>>),
    Not(Vec<u8>),
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|c| format!("{c:02x}")).collect()
}

impl G {
    fn text(&self) -> String {
        match self {
            G::Lit(b) => hex(b),
            G::Any => "??".into(),
            G::High(h) => format!("{h:x}?"),
            G::Low(l) => format!("?{l:x}"),
            G::Gap(0, None) => "*".into(),
            G::Gap(n, Some(m)) if n == m => format!("{{{n}}}"),
            G::Gap(0, Some(m)) => format!("{{-{m}}}"),
            G::Gap(n, None) => format!("{{{n}-}}"),
            G::Gap(n, Some(m)) => format!("{{{n}-{m}}}"),
            G::Alt(o) => format!(
                "({})",
                o.iter().map(|x| hex(x)).collect::<Vec<_>>().join("|")
            ),
            G::Not(o) => format!(
                "!({})",
                o.iter().map(|x| hex(&[*x])).collect::<Vec<_>>().join("|")
            ),
        }
    }

    fn instance(&self, r: &mut Rng, out: &mut Vec<u8>) {
        match self {
            G::Lit(b) => out.extend_from_slice(b),
            G::Any => out.push(r.letter()),
            G::High(h) => out.push((h << 4) | (1 + r.below(7)) as u8),
            G::Low(l) => out.push(0x60 | l),
            G::Gap(n, m) => {
                let hi = m.unwrap_or(n + 12);
                let k = n + r.below(hi - n + 1);
                for _ in 0..k {
                    out.push(r.letter());
                }
            }
            G::Alt(o) => out.extend_from_slice(&o[r.below(o.len())]),
            G::Not(o) => loop {
                let c = r.letter();
                if !o.contains(&c) {
                    out.push(c);
                    break;
                }
            },
        }
    }
}

fn lit(r: &mut Rng, min: usize, max: usize) -> Vec<u8> {
    let n = min + r.below(max - min + 1);
    (0..n).map(|_| r.letter()).collect()
}

/// A random pattern: literal runs of 3+ bytes joined by random connectors.
fn pattern(r: &mut Rng) -> Vec<G> {
    let mut p = vec![G::Lit(lit(r, 3, 6))];
    for _ in 0..r.below(3) {
        match r.below(9) {
            0 => p.push(G::Any),
            1 => p.push(G::High(6)),
            2 => p.push(G::Low(1 + r.below(8) as u8)),
            3 => p.push(G::Gap(0, None)),
            4 => {
                let n = r.below(4);
                let m = n + r.below(4);
                p.push(match r.below(4) {
                    0 => G::Gap(n, Some(n)),
                    1 => G::Gap(0, Some(m.max(1))),
                    2 => G::Gap(n.max(1), None),
                    _ => G::Gap(n, Some(m + 1)),
                });
            }
            5 | 6 => {
                let k = 2 + r.below(2);
                let len = 1 + r.below(2);
                p.push(G::Alt((0..k).map(|_| lit(r, len, len)).collect()));
            }
            7 => {
                let mut o: Vec<u8> = (0..1 + r.below(3)).map(|_| r.letter()).collect();
                o.dedup();
                p.push(G::Not(o));
            }
            _ => {}
        }
        p.push(G::Lit(lit(r, 3, 5)));
    }
    p
}

fn text(p: &[G]) -> String {
    p.iter().map(G::text).collect()
}

fn instance(p: &[G], r: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for g in p {
        g.instance(r, &mut out);
    }
    out
}

struct Case {
    files: Vec<Vec<u8>>,
    ndb: String,
    ldb: String,
}

fn generate(seed: u64, nsigs: usize, nfiles: usize) -> Case {
    let mut r = Rng(seed);
    let mut files: Vec<Vec<u8>> = (0..nfiles)
        .map(|_| {
            let n = 200 + r.below(2000);
            (0..n).map(|_| r.letter()).collect()
        })
        .collect();
    let plant = |r: &mut Rng, files: &mut Vec<Vec<u8>>, bytes: Vec<u8>, at: Option<usize>| {
        let f = r.below(files.len());
        let file = &mut files[f];
        let pos = at.unwrap_or_else(|| r.below(file.len().saturating_sub(bytes.len()).max(1)));
        let end = (pos + bytes.len()).min(file.len());
        file.splice(pos..end, bytes);
    };
    let mut ndb = String::new();
    for i in 0..nsigs {
        let p = pattern(&mut r);
        let (offset, at) = match r.below(8) {
            0 => {
                let n = r.below(100);
                (n.to_string(), Some(n))
            }
            1 => {
                let n = r.below(100);
                let s = 1 + r.below(20);
                (format!("{n},{s}"), Some(n + r.below(s + 1)))
            }
            2 => (format!("EOF-{}", 40 + r.below(40)), None),
            _ => ("*".to_string(), None),
        };
        ndb.push_str(&format!("N{i}:0:{offset}:{}\n", text(&p)));
        for _ in 0..r.below(3) {
            let mut inst = instance(&p, &mut r);
            if r.chance(30) {
                // a near miss: one byte of the instance changed
                let k = r.below(inst.len());
                inst[k] = b"ijk"[r.below(3)];
            }
            if let Some(n) = offset.strip_prefix("EOF-") {
                let n: usize = n.parse().unwrap();
                let f = r.below(files.len());
                let file = &mut files[f];
                if file.len() >= n && inst.len() <= n {
                    let pos = file.len() - n;
                    file.splice(pos..pos + inst.len(), inst);
                }
            } else {
                plant(&mut r, &mut files, inst, at);
            }
        }
    }
    let mut ldb = String::new();
    for i in 0..nsigs / 3 {
        let nsub = 2 + r.below(2);
        let subs: Vec<Vec<G>> = (0..nsub).map(|_| vec![G::Lit(lit(&mut r, 4, 5))]).collect();
        let expr = match (nsub, r.below(4)) {
            (2, 0) => "0&1",
            (2, 1) => "0|1",
            (2, 2) => "(0|1)>1,2",
            (2, _) => "0=0&1",
            (_, 0) => "(0&1)|2",
            (_, 1) => "(0|1)&2",
            (_, 2) => "0&1&2",
            _ => "(0|1|2)>2",
        };
        let mods = if r.chance(20) { "::i" } else { "" };
        let subtext: Vec<String> = subs
            .iter()
            .map(|s| {
                let t = text(s);
                if mods.is_empty() {
                    t
                } else {
                    t.to_ascii_uppercase().replace("6", "4") + mods
                }
            })
            .collect();
        ldb.push_str(&format!("L{i};Target:0;{expr};{}\n", subtext.join(";")));
        for s in &subs {
            for _ in 0..r.below(3) {
                let inst = instance(s, &mut r);
                plant(&mut r, &mut files, inst, None);
            }
        }
    }
    Case { files, ndb, ldb }
}

fn clamscan(db: &Path, files: &[std::path::PathBuf]) -> BTreeMap<String, BTreeSet<String>> {
    let out = Command::new(CLAMSCAN)
        .arg("--no-summary")
        .arg("--allmatch=yes")
        .arg("-d")
        .arg(db)
        .args(files)
        .output()
        .expect("running clamscan");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "clamscan failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in stdout.lines() {
        if let Some(rest) = line.strip_suffix(" FOUND") {
            let (file, name) = rest.rsplit_once(": ").unwrap();
            let name = name.trim_end_matches(".UNOFFICIAL");
            found
                .entry(file.to_string())
                .or_default()
                .insert(name.to_string());
        }
    }
    found
}

fn mailwarden(set: &SignatureSet, data: &[u8]) -> BTreeSet<String> {
    let o = Object {
        depth: 1,
        ..Object::new("1 f", Origin::ArchiveMember, data)
    };
    let mut out = Vec::new();
    set.scan(&o, &mut out);
    out.into_iter().map(|m| m.name).collect()
}

fn require_clamscan() {
    assert!(
        Path::new(CLAMSCAN).exists(),
        "{CLAMSCAN} is missing: run scripts/setup.sh (Debian packages clamav, clamav-testfiles)"
    );
}

fn load(dir: &Path) -> SignatureSet {
    SignatureSet::load(&SignatureConfig {
        builtin: false,
        databases: vec![dir.to_path_buf()],
        stop_on_first: false,
    })
    .unwrap()
}

#[test]
fn same_detections_as_clamscan() {
    require_clamscan();
    let mut total_hits = 0;
    let mut hit_names = BTreeSet::new();
    let mut mismatches = Vec::new();
    for seed in (1..=12u64).map(|s| 0x5eed_0000 + s) {
        let case = generate(seed, 120, 40);
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        std::fs::create_dir(&db).unwrap();
        std::fs::write(db.join("gen.ndb"), &case.ndb).unwrap();
        std::fs::write(db.join("gen.ldb"), &case.ldb).unwrap();
        let set = load(&db);
        let desc = set.describe().join("\n");
        assert!(
            !desc.contains("malformed, ") || desc.contains(" 0 malformed"),
            "{desc}"
        );
        let mut paths = Vec::new();
        for (i, f) in case.files.iter().enumerate() {
            let p = dir.path().join(format!("f{i:03}.txt"));
            std::fs::write(&p, f).unwrap();
            paths.push(p);
        }
        let clam = clamscan(&db, &paths);
        for (p, data) in paths.iter().zip(&case.files) {
            let ours = mailwarden(&set, data);
            let theirs = clam
                .get(&p.display().to_string())
                .cloned()
                .unwrap_or_default();
            total_hits += theirs.len();
            hit_names.extend(theirs.iter().cloned());
            if ours != theirs {
                let sig_lines: Vec<&str> = case
                    .ndb
                    .lines()
                    .chain(case.ldb.lines())
                    .filter(|l| {
                        let name = l.split([':', ';']).next().unwrap_or("");
                        ours.contains(name) != theirs.contains(name)
                    })
                    .collect();
                mismatches.push(format!(
                    "seed {seed:#x} file {} ({} bytes): mailwarden {ours:?}, clamscan {theirs:?}; differing signatures: {sig_lines:?}",
                    p.display(),
                    data.len()
                ));
            }
        }
        if !mismatches.is_empty() {
            // keep the files for inspection
            let keep = dir.keep();
            mismatches.push(format!("files kept in {}", keep.display()));
            break;
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    let ldb_hits = hit_names.iter().filter(|n| n.starts_with('L')).count();
    eprintln!(
        "{total_hits} detections agreed, {} distinct signatures ({ldb_hits} logical)",
        hit_names.len()
    );
    assert!(ldb_hits > 10, "too few logical signatures hit ({ldb_hits})");
    assert!(
        total_hits > 50,
        "too few detections ({total_hits}) to compare anything"
    );
}

#[test]
fn clam_exe_found_by_its_md5() {
    use md5::Digest;
    require_clamscan();
    let path = Path::new("/usr/share/clamav-testfiles/clam.exe");
    assert!(
        path.exists(),
        "{} is missing: install clamav-testfiles",
        path.display()
    );
    let data = std::fs::read(path).unwrap();
    let md5: String = md5::Md5::digest(&data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("clam.hdb"),
        format!("{md5}:{}:Test.ClamExe.Md5\n", data.len()),
    )
    .unwrap();
    let set = load(dir.path());
    assert_eq!(
        mailwarden(&set, &data),
        BTreeSet::from(["Test.ClamExe.Md5".to_string()])
    );
    let mut changed = data.clone();
    changed.push(0);
    assert!(mailwarden(&set, &changed).is_empty());
    // ClamAV agrees on the plain file
    let clam = clamscan(dir.path(), &[path.to_path_buf()]);
    assert!(
        clam.values().any(|v| v.contains("Test.ClamExe.Md5")),
        "{clam:?}"
    );
}

/// clam.exe's hash signature through the whole engine: the file as a base64 MIME attachment,
/// and inside every container format an unpacker on this build handles.
#[test]
fn clam_exe_found_through_the_engine() {
    use base64_free::encode;
    use mailwarden::filetype::FileType;
    use mailwarden::report::Finding;
    use mailwarden::{EngineBuilder, Envelope};
    use md5::Digest;
    let path = Path::new("/usr/share/clamav-testfiles/clam.exe");
    assert!(
        path.exists(),
        "{} is missing: install clamav-testfiles",
        path.display()
    );
    let exe = std::fs::read(path).unwrap();
    let md5: String = md5::Md5::digest(&exe)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("clam.hdb"),
        format!("{md5}:{}:Test.ClamExe.Md5\n", exe.len()),
    )
    .unwrap();
    let engine = EngineBuilder::new().signatures(dir.path()).build().unwrap();
    let message = |name: &str, ctype: &str, body: &[u8]| -> Vec<u8> {
        format!(
            "From: a@example.org\r\nTo: b@example.org\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\
             Subject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n\
             --b\r\nContent-Type: {ctype}; name=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\
             Content-Disposition: attachment; filename=\"{name}\"\r\n\r\n{}\r\n--b--\r\n",
            encode(body)
        )
        .into_bytes()
    };
    let virus_paths = |msg: &[u8]| -> Vec<String> {
        engine
            .scan(msg, &Envelope::new())
            .findings
            .iter()
            .filter_map(|f| match f {
                Finding::Virus { name, path } if name == "Test.ClamExe.Md5" => Some(path.clone()),
                _ => None,
            })
            .collect()
    };
    let found = virus_paths(&message("clam.exe", "application/octet-stream", &exe));
    assert_eq!(found, ["2"], "plain attachment");

    // containers: covered where this build has the unpacker (the archive work lands separately)
    let mut zip = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut zip);
        w.start_file("clam.exe", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut w, &exe).unwrap();
        w.finish().unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &exe).unwrap();
    let containers = [
        (
            FileType::Zip,
            "clam.zip",
            "application/zip",
            zip.into_inner(),
        ),
        (
            FileType::Gzip,
            "clam.exe.gz",
            "application/gzip",
            gz.finish().unwrap(),
        ),
    ];
    for (ty, name, ctype, bytes) in containers {
        let found = virus_paths(&message(name, ctype, &bytes));
        if mailwarden::archive::unpacker_for(ty).is_some() {
            assert_eq!(found.len(), 1, "{name}: {found:?}");
            assert!(found[0].starts_with("2 "), "{name}: {found:?}");
        } else {
            eprintln!("{name}: no {ty} unpacker in this build; container not covered");
            assert!(
                found.is_empty(),
                "{name}: the packed bytes cannot hash-match: {found:?}"
            );
        }
    }
}

/// A small base64 encoder for building test messages (no dependency needed).
mod base64_free {
    pub fn encode(data: &[u8]) -> String {
        const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for (i, c) in data.chunks(3).enumerate() {
            if i > 0 && i % 19 == 0 {
                out.push_str("\r\n");
            }
            let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for k in 0..4 {
                if k <= c.len() {
                    out.push(T[(n >> (18 - 6 * k)) as usize & 63] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}
