//! Shared code of the fuzz targets: the engines they scan with, the oracles they check, and the
//! small MIME grammar of the structured target. Each target in `fuzz_targets/` is a one-liner
//! into this crate, so a crash reproduces from a test as easily as from libFuzzer.
//!
//! Oracles beyond "did not crash":
//! - the same input scanned twice gives the same report;
//! - the input fed to a [`mailwarden::Scanner`] in chunks cut at input-derived boundaries gives
//!   the report of the one-shot scan;
//! - no object in the report exceeds the configured limits (count, depth, size, quota);
//! - the structured target: a message that carries the EICAR test file along a well-formed
//!   path is never reported clean (it is a virus, or unchecked when a limit cut the scan short).

pub mod structured;

use mailwarden::archive::{Unpack, unpacker_for};
use mailwarden::object::{Object, Origin};
use mailwarden::{Budget, Category, Engine, EngineBuilder, Envelope, FileType, Limits, Report};
use std::borrow::Cow;
use std::sync::OnceLock;

/// Limits small enough that fuzz inputs of a few KiB reach them: the oracles then check that
/// they hold, not just that they exist.
pub fn fuzz_limits() -> Limits {
    Limits {
        max_levels: 6,
        max_files: 64,
        min_quota: 256 * 1024,
        min_factor: 5,
        max_quota: 4 * 1024 * 1024,
        max_factor: 500,
        max_object_size: 1024 * 1024,
        max_ratio: 250,
        // Generous: a report cut by the clock would differ between two runs.
        max_time_ms: 60_000,
        max_headers: 200,
        max_message_size: 0,
    }
}

/// The engine of the whole-scan targets: built-in signatures and rules, [`fuzz_limits`].
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        EngineBuilder::new()
            .limits(fuzz_limits())
            .build()
            .expect("fuzz engine builds")
    })
}

fn envelope() -> Envelope {
    Envelope::new()
        .sender("fuzz@example.org")
        .recipient("a@example.net")
        .recipient("b@example.com")
}

/// Chunk boundaries derived from the input (a fuzzer-controlled but reproducible cut).
fn chunks(data: &[u8]) -> Vec<&[u8]> {
    let mut seed = data
        .iter()
        .take(64)
        .fold(0x9e37_79b9_7f4a_7c15u64 ^ data.len() as u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
        | 1;
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // mostly small chunks (milter body callbacks), sometimes 0-length, sometimes large
        let n = match seed % 8 {
            0 => 0,
            1 => (seed >> 8) as usize % 4096,
            _ => (seed >> 8) as usize % 64,
        }
        .min(rest.len());
        out.push(&rest[..n]);
        rest = &rest[n..];
    }
    out
}

/// Checks that nothing in `report` exceeds `limits`.
pub fn check_limits(report: &Report, limits: &Limits) {
    // object 0 is the message itself; the budget counts every object below it
    let below = report.objects.len().saturating_sub(1);
    assert!(
        below as u64 <= u64::from(limits.max_files),
        "{below} objects > max_files {}",
        limits.max_files
    );
    let quota = limits.quota(report.size);
    let mut total = 0u64;
    for o in report.objects.iter().skip(1) {
        assert!(
            o.depth <= limits.max_levels,
            "{}: depth {} > max_levels {}",
            o.path,
            o.depth,
            limits.max_levels
        );
        assert!(
            o.size as u64 <= limits.max_object_size,
            "{}: {} bytes > max_object_size {}",
            o.path,
            o.size,
            limits.max_object_size
        );
        total += o.size as u64;
    }
    assert!(total <= quota, "{total} decoded bytes > quota {quota}");
}

/// Whole scan: repeatable, chunking-independent, within the limits.
pub fn scan_oracles(engine: &Engine, data: &[u8]) -> Report {
    let env = envelope();
    let one = engine.scan(data, &env);
    let two = engine.scan(data, &env);
    assert_eq!(one, two, "the same input gave two different reports");
    let mut scanner = engine.scanner();
    scanner.set_envelope(env);
    for c in chunks(data) {
        scanner.write(c);
    }
    let chunked = scanner.finish();
    assert_eq!(one, chunked, "chunked scan differs from the one-shot scan");
    check_limits(&one, engine.limits());
    assert!(one.score.is_finite(), "score {} is not finite", one.score);
    one
}

/// Whole scan of arbitrary bytes.
pub fn scan(data: &[u8]) {
    scan_oracles(engine(), data);
}

/// Where Debian's `spamassassin` package installs the stock rules (scripts/setup.sh).
const STOCK_RULES: [&str; 2] = ["/usr/share/spamassassin", "/etc/spamassassin"];

/// The engine of the `scan_stock` target: [`engine`] with SpamAssassin's stock rules loaded
/// (about 1,700 runnable rules, every eval mailwarden has), when they are installed; the
/// built-in rules only otherwise.
pub fn stock_engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut b = EngineBuilder::new().limits(fuzz_limits());
        for p in STOCK_RULES {
            if std::path::Path::new(p).is_dir() {
                b = b.rules(p);
            }
        }
        b.build().expect("stock-rules fuzz engine builds")
    })
}

/// Whole scan with the stock rules: [`scan_oracles`], plus the scan's on-demand rule
/// evaluation gives the scored hits the full evaluation gives.
pub fn scan_stock(data: &[u8]) {
    let engine = stock_engine();
    scan_oracles(engine, data);
    let rules = engine.rules();
    let (on_demand, full) = engine.normalize_with(data, &envelope(), |view| {
        // GTUBE is built in: `evaluate` adds it when no rule file defines it.
        let mut on_demand: Vec<String> = rules
            .evaluate(view)
            .into_iter()
            .map(|h| h.name)
            .filter(|n| n != "GTUBE")
            .collect();
        on_demand.sort();
        let full: Vec<String> = rules
            .evaluate_all(view)
            .into_keys()
            .filter(|n| !n.starts_with("__") && n != "GTUBE")
            .collect();
        (on_demand, full)
    });
    assert_eq!(
        on_demand, full,
        "on-demand rule evaluation differs from the full one"
    );
}

/// Remaps bytes onto a small alphabet of MIME structure (mail-parser's trick), so the fuzzer
/// reaches boundaries, headers and encodings quickly.
pub fn remap(data: &[u8]) -> Vec<u8> {
    const TOKENS: &[&[u8]] = &[
        b"\r\n",
        b"\n",
        b"--b",
        b"--b--",
        b"Content-Type: multipart/mixed; boundary=b\r\n",
        b"Content-Type: multipart/alternative; boundary=\"b\"\r\n",
        b"Content-Type: message/rfc822\r\n",
        b"Content-Type: text/html\r\n",
        b"Content-Transfer-Encoding: base64\r\n",
        b"Content-Transfer-Encoding: quoted-printable\r\n",
        b"Content-Disposition: attachment; filename=\"a.zip\"\r\n",
        b"Content-Disposition: attachment; filename*=utf-8''%41.exe\r\n",
        b"Subject: =?utf-8?B?w6k=?= =?iso-8859-1?Q?=E9?=\r\n",
        b"From: a@b\r\n",
        b"begin 644 x.bin\n",
        b"end\n",
        b"=ybegin line=128 size=3 name=y\r\n",
        b"=yend\r\n",
        b"<a href=\"http://x/\">",
        b"<img src=\"data:application/zip;base64,UEsDBA==\">",
        b"UEsDBBQAAAAIAA",
        b"H4sIAAAAAAAA",
        b"=3D",
        b"=\r\n",
        b": ",
        b" ",
        b"\t",
        b";",
        b"\"",
        b"=",
        b"A",
        b"\0",
    ];
    // tokens are up to 50 bytes: cap the input so the output stays a plausible message size
    let data = &data[..data.len().min(16 * 1024)];
    let mut out = Vec::with_capacity(data.len() * 4);
    for &b in data {
        if b >= 0xe0 {
            out.push(b & 0x7f);
        } else {
            out.extend_from_slice(TOKENS[usize::from(b) % TOKENS.len()]);
        }
    }
    out
}

/// The MIME layer alone: the walk over a message, raw and remapped onto the MIME alphabet.
pub fn mime(data: &[u8]) {
    let limits = fuzz_limits();
    for input in [Cow::Borrowed(data), Cow::Owned(remap(data))] {
        let walk = |d: &[u8]| {
            let mut budget = Budget::new(&limits, d.len() as u64);
            let w = mailwarden::mime::walk(d, "", 0, &Default::default(), &mut budget);
            let n = w.objects.len();
            let used = budget.used();
            assert!(used <= budget.quota(), "charged {used} > quota");
            assert!(budget.files() <= limits.max_files);
            for o in &w.objects {
                assert!(o.data.len() as u64 <= limits.max_object_size);
                assert!(o.depth <= limits.max_levels);
            }
            (n, used, w.findings.len())
        };
        let a = walk(&input);
        let b = walk(&input);
        assert_eq!(a, b, "the MIME walk is not repeatable");
        scan_oracles(engine(), &input);
    }
}

/// One unpacker over arbitrary bytes, as if they were a top-level attachment of type `ft`.
pub fn unpack(ft: FileType, data: &[u8]) {
    let limits = fuzz_limits();
    let unpacker = unpacker_for(ft).expect("an unpacker for this type");
    let run = || {
        let object = Object {
            depth: 1,
            name: Some("fuzz".into()),
            detected: ft,
            ..Object::new("1", Origin::MimePart, data)
        };
        let mut budget = Budget::new(&limits, data.len() as u64);
        let mut out = Unpack {
            budget: &mut budget,
            children: Vec::new(),
            findings: Vec::new(),
            unsupported_unchecked: true,
        };
        unpacker.unpack(&object, &mut out);
        let children: Vec<(String, usize)> = out
            .children
            .iter()
            .map(|c| (c.path.clone(), c.data.len()))
            .collect();
        let findings = out.findings.len();
        for c in &out.children {
            assert!(c.data.len() as u64 <= limits.max_object_size, "{}", c.path);
            assert_eq!(c.depth, 2);
        }
        assert!(children.len() as u64 <= u64::from(limits.max_files));
        let total: u64 = children.iter().map(|c| c.1 as u64).sum();
        assert!(
            total <= budget.quota(),
            "{total} bytes unpacked > quota {}",
            budget.quota()
        );
        (
            children,
            findings,
            budget.used(),
            budget.take_findings().len(),
        )
    };
    let a = run();
    let b = run();
    assert_eq!(a, b, "unpacking is not repeatable");
}

/// A small message every loader target scans after loading, so that what was loaded also runs.
const PROBE: &[u8] = b"From: a@example.org\r\nTo: b@example.net\r\nSubject: probe\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\
Content-Type: text/plain\r\n\r\nhello world, click http://example.com/ now\r\n--x\r\n\
Content-Type: application/octet-stream; name=a.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n\
TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgAAAAA==\r\n\
--x--\r\n";

/// A ClamAV database of format `ext` (`hdb`, `ndb`, `ldb`, `cvd`) from arbitrary bytes; what
/// loads is then scanned over a probe message and the input itself.
pub fn signatures(ext: &str, data: &[u8]) {
    use mailwarden::signatures::SignatureSet;
    let Ok(set) = SignatureSet::from_database_bytes(&format!("fuzz.{ext}"), data) else {
        return;
    };
    let _ = set.describe();
    let mut out = Vec::new();
    for bytes in [PROBE, data] {
        let object = Object::new("", Origin::Message, bytes);
        out.clear();
        set.scan(&object, &mut out);
        let first = out.len();
        out.clear();
        set.scan(&object, &mut out);
        assert_eq!(first, out.len(), "signature matching is not repeatable");
    }
}

/// A SpamAssassin `.cf` file from arbitrary text, loaded through the engine builder (as a user's
/// rule file is) and run over the probe message.
pub fn rules(data: &[u8]) {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"));
    let path = dir.path().join("fuzz.cf");
    std::fs::write(&path, data).expect("write rule file");
    let Ok(engine) = EngineBuilder::new()
        .limits(fuzz_limits())
        .rules(&path)
        .build()
    else {
        return;
    };
    let _ = engine.rules().describe();
    let report = scan_oracles(&engine, PROBE);
    assert!(report.category != Category::Virus);
}

/// The TOML configuration: parse; when it is valid and names no files, build and scan.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = mailwarden::Config::from_toml_str(text) else {
        return;
    };
    if !config.signatures.databases.is_empty() || !config.rules.paths.is_empty() {
        return; // the fuzzer must not make the engine read arbitrary files
    }
    let limits = config.limits.clone();
    let Ok(engine) = EngineBuilder::from_config(config).build() else {
        return;
    };
    // a configuration that validated must also be one the engine can scan under
    if limits.max_time_ms >= 10_000 {
        let r = scan_oracles(&engine, PROBE);
        check_limits(&r, &limits);
    }
}
