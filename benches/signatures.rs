//! Signature matching throughput and build time with generated ClamAV databases:
//! 1,000 / 10,000 / 100,000 `.ndb` body signatures and 100,000 `.hdb` hashes, over the public
//! corpus (`MAILWARDEN_CORPUS`, a directory of `.eml` files, as unpacked by
//! `../shared/tools/unpack-corpus.sh`) or, without it, 8 MB of generated text.
//!
//! `signatures/scan/<db>` scans every message as one object with a prebuilt set (throughput in
//! bytes); `signatures/build/<db>` loads and compiles the database from its file.
//!
//! With `MAILWARDEN_BENCH_EXPORT=DIR` the benchmark only writes the generated databases to
//! `DIR/<db>/` and the input list to `DIR/files.txt`, for `benches/compare/clamscan.sh`.

use criterion::{BenchmarkId, Criterion, Throughput, black_box};
use mailwarden::config::SignatureConfig;
use mailwarden::object::{Object, Origin};
use mailwarden::signatures::SignatureSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

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
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|c| format!("{c:02x}")).collect()
}

/// `n` body signatures: 16-byte patterns drawn from printable ASCII (the bytes mail is made
/// of), a quarter of them with a wildcard or a gap in the middle, one in a thousand taken from
/// the corpus itself so that some match (as in real databases, most never do).
fn ndb(n: usize, corpus: &[Vec<u8>]) -> String {
    let mut r = Rng(0x0123_4567_89ab_cdef ^ n as u64);
    let mut out = String::with_capacity(n * 50);
    for i in 0..n {
        let lit: Vec<u8> = if i % 1000 == 0 && !corpus.is_empty() {
            let f = &corpus[r.below(corpus.len())];
            if f.len() > 64 {
                let p = r.below(f.len() - 16);
                f[p..p + 16].to_vec()
            } else {
                (0..16).map(|_| 0x20 + r.below(95) as u8).collect()
            }
        } else {
            (0..16).map(|_| 0x20 + r.below(95) as u8).collect()
        };
        let body = match i % 8 {
            1 => format!("{}??{}", hex(&lit[..8]), hex(&lit[9..])),
            3 => format!("{}{{1-4}}{}", hex(&lit[..8]), hex(&lit[8..])),
            _ => hex(&lit),
        };
        out.push_str(&format!("Bench.Ndb.{i}:0:*:{body}\n"));
    }
    out
}

/// `n` MD5 hash signatures, one of them the hash of a real corpus message.
fn hdb(n: usize, corpus: &[Vec<u8>]) -> String {
    use md5::Digest;
    let mut r = Rng(0xfeed_face_cafe_beef);
    let mut out = String::with_capacity(n * 60);
    for i in 0..n {
        let (h, size) = if i == 0 && !corpus.is_empty() {
            (hex(&md5::Md5::digest(&corpus[0])), corpus[0].len())
        } else {
            let b: Vec<u8> = (0..16).map(|_| r.next() as u8).collect();
            (hex(&b), 1000 + r.below(20_000))
        };
        out.push_str(&format!("{h}:{size}:Bench.Hdb.{i}\n"));
    }
    out
}

fn corpus() -> (Vec<Vec<u8>>, Vec<PathBuf>, String) {
    if let Ok(dir) = std::env::var("MAILWARDEN_CORPUS") {
        let mut paths: Vec<PathBuf> = walk(Path::new(&dir));
        paths.sort();
        if !paths.is_empty() {
            let data = paths.iter().filter_map(|p| std::fs::read(p).ok()).collect();
            return (data, paths, format!("corpus {dir}"));
        }
    }
    let mut r = Rng(42);
    let words = [
        "the ",
        "mail ",
        "message ",
        "and ",
        "offer ",
        "click ",
        "here ",
        "free ",
        "to ",
        "<p>",
        "\r\n",
        "account ",
        "of ",
        "a ",
        "http://example.com/ ",
        "=20\r\n",
    ];
    let msgs = (0..1600)
        .map(|_| {
            let mut m = b"From: a@example.org\r\nSubject: generated\r\n\r\n".to_vec();
            while m.len() < 5000 {
                m.extend_from_slice(words[r.below(words.len())].as_bytes());
            }
            m
        })
        .collect();
    (
        msgs,
        Vec::new(),
        "generated text (MAILWARDEN_CORPUS unset)".into(),
    )
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "eml") {
                out.push(p);
            }
        }
    }
    out
}

fn databases(corpus: &[Vec<u8>]) -> Vec<(String, &'static str, String)> {
    vec![
        ("ndb-1000".into(), "gen.ndb", ndb(1_000, corpus)),
        ("ndb-10000".into(), "gen.ndb", ndb(10_000, corpus)),
        ("ndb-100000".into(), "gen.ndb", ndb(100_000, corpus)),
        ("hdb-100000".into(), "gen.hdb", hdb(100_000, corpus)),
    ]
}

fn load(dir: &Path) -> SignatureSet {
    SignatureSet::load(&SignatureConfig {
        builtin: true,
        databases: vec![dir.to_path_buf()],
        stop_on_first: false,
    })
    .expect("generated database loads")
}

fn main() {
    let (data, paths, source) = corpus();
    let dbs = databases(&data);
    if let Ok(export) = std::env::var("MAILWARDEN_BENCH_EXPORT") {
        let export = PathBuf::from(export);
        for (name, file, text) in &dbs {
            let d = export.join(name);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join(file), text).unwrap();
        }
        let list: String = paths.iter().map(|p| format!("{}\n", p.display())).collect();
        std::fs::write(export.join("files.txt"), list).unwrap();
        eprintln!("wrote {} databases to {}", dbs.len(), export.display());
        return;
    }
    let total: u64 = data.iter().map(|d| d.len() as u64).sum();
    eprintln!(
        "input: {source}: {} messages, {:.1} MB",
        data.len(),
        total as f64 / 1e6
    );
    let objects: Vec<Object<'_>> = data
        .iter()
        .map(|d| Object::new("", Origin::Message, &d[..]))
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let mut c = Criterion::default().configure_from_args();
    for (name, file, text) in &dbs {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(file), text).unwrap();
        let t = Instant::now();
        let set = load(&dir);
        eprintln!(
            "signatures/build/{name}: {:.3} s for {} signatures",
            t.elapsed().as_secs_f64(),
            set.len()
        );
        // the result is checked: a broken matcher cannot pass as a fast one
        let mut found = 0usize;
        let mut out = Vec::new();
        for o in &objects {
            out.clear();
            set.scan(o, &mut out);
            found += out.len();
        }
        assert!(
            found > 0,
            "{name}: nothing matched; the benchmark would measure nothing"
        );
        eprintln!("signatures/scan/{name}: {found} detections per pass");
        let mut g = c.benchmark_group("signatures/scan");
        g.throughput(Throughput::Bytes(total));
        g.sample_size(10);
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                let mut n = 0;
                let mut out = Vec::new();
                for o in &objects {
                    out.clear();
                    set.scan(black_box(o), &mut out);
                    n += out.len();
                }
                assert_eq!(n, found);
                n
            })
        });
        g.finish();
        let mut g = c.benchmark_group("signatures/build");
        g.sample_size(10);
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                let n = black_box(load(&dir)).len();
                assert_eq!(n, set.len(), "a rebuild loads the same signatures");
                n
            })
        });
        g.finish();
    }
    c.final_summary();
}
