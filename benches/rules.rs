//! Rule scoring with SpamAssassin's stock rules (Debian's spamassassin package, loaded from
//! /usr/share/spamassassin and /etc/spamassassin).
//!
//! - `rules/load/stock`: parse + compile every stock rule (engine build time).
//! - `rules/scan/corpus`: scan the messages of MAILWARDEN_CORPUS's fixed sample (every 20th
//!   file of each folder), prebuilt engine; without MAILWARDEN_CORPUS a generated message.
//!
//! Messages per second for the README: elements/s of `rules/scan/corpus`; compare with
//! benches/compare/spamd.sh on the same files.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput};
use mailwarden::{Engine, Envelope};

fn stock_engine() -> Engine {
    Engine::builder()
        .rules("/usr/share/spamassassin")
        .rules("/etc/spamassassin")
        .build()
        .expect("stock rules load (run scripts/setup.sh)")
}

fn messages() -> Vec<Vec<u8>> {
    let Ok(dir) = std::env::var("MAILWARDEN_CORPUS") else {
        let body = "Dear friend, CLICK HERE to claim your free money today!\r\n".repeat(40);
        return vec![format!(
            "Received: from helo.example (unknown [192.0.2.7]) by mx.example.org with SMTP id A1\r\n\
             From: \"Winner\" <win@lottery.example>\r\nTo: you@example.org\r\nSubject: You won\r\n\
             Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <1@x>\r\n\r\n{body}"
        )
        .into_bytes()];
    };
    let mut out = Vec::new();
    for folder in ["easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(PathBuf::from(&dir).join(folder))
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        out.extend(
            files
                .iter()
                .step_by(20)
                .filter_map(|f| std::fs::read(f).ok()),
        );
    }
    assert!(!out.is_empty(), "no messages under {dir}");
    out
}

fn main() {
    let mut c = Criterion::default().configure_from_args().sample_size(10);
    c.bench_function("rules/load/stock", |b| {
        b.iter(|| {
            let e = stock_engine();
            assert!(e.rules().len() > 2000);
            black_box(e)
        })
    });
    let engine = stock_engine();
    let msgs = messages();
    let mut g = c.benchmark_group("rules/scan");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    // rule hits and spam verdicts over the set, counted once; every iteration must give them
    let count = |msgs: &[Vec<u8>]| {
        let (mut hits, mut spam) = (0usize, 0usize);
        for m in msgs {
            let r = engine.scan(black_box(m), &Envelope::new());
            hits += r.rules().count();
            spam += usize::from(r.score >= r.required_score);
        }
        (hits, spam)
    };
    let expected = count(&msgs);
    assert!(
        expected.0 > msgs.len() && expected.1 > 0,
        "{expected:?}: no rule hits or no spam: broken path"
    );
    g.bench_function("corpus", |b| {
        b.iter(|| {
            let got = count(&msgs);
            assert_eq!(got, expected);
            got
        })
    });
    g.finish();
    c.final_summary();
}
