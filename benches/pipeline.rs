//! Criterion benchmarks of the pipeline on the SpamAssassin public corpus.
//!
//! - `mime/normalize/corpus`: parse and normalize every message (the MIME walk with decoding,
//!   no signatures, no rules);
//! - `scan/defaults/corpus`: the whole `Engine::scan` with the embedded defaults.
//!
//! Each iteration is one pass over the whole corpus; throughput is reported both in bytes and in
//! messages. The corpus is found through `MAILWARDEN_CORPUS` or unpacked from `../shared`.
//! Results are asserted inside the loop so a broken path cannot look fast.

use criterion::{Criterion, Throughput, black_box};
use mailwarden::{Budget, Category, Engine, Envelope, Limits, mime};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn corpus() -> Vec<Vec<u8>> {
    let dir = std::env::var("MAILWARDEN_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/corpus"));
    if !dir.is_dir() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/unpack-corpus.sh");
        let ok = std::process::Command::new("bash")
            .arg(script)
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "corpus not found; set MAILWARDEN_CORPUS");
    }
    let mut files = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("corpus dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "eml") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read(p).expect("read"))
        .collect()
}

fn main() {
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    let messages = corpus();
    assert_eq!(messages.len(), 6046);
    let bytes: u64 = messages.iter().map(|m| m.len() as u64).sum();
    let limits = Limits::default();
    let engine = Engine::with_defaults();
    let env = Envelope::new();

    for (unit, throughput) in [
        ("bytes", Throughput::Bytes(bytes)),
        ("messages", Throughput::Elements(messages.len() as u64)),
    ] {
        let mut g = c.benchmark_group(format!("mime-{unit}"));
        g.throughput(throughput.clone());
        g.bench_function("normalize/corpus", |b| {
            b.iter(|| {
                let mut objects = 0;
                for m in &messages {
                    let mut budget = Budget::new(&limits, m.len() as u64);
                    let w = mime::walk(black_box(m), "", 0, &mime::Reading::default(), &mut budget);
                    objects += w.objects.len();
                }
                assert!(objects >= messages.len());
                objects
            })
        });
        g.finish();

        let mut g = c.benchmark_group(format!("scan-{unit}"));
        g.throughput(throughput);
        g.bench_function("defaults/corpus", |b| {
            b.iter(|| {
                let mut flagged = 0;
                for m in &messages {
                    let r = engine.scan(black_box(m), &env);
                    if r.category > Category::BadHeader {
                        flagged += 1;
                    }
                }
                assert_eq!(flagged, 0, "the corpus has no virus and no GTUBE");
            })
        });
        g.finish();
    }
    c.final_summary();
}
