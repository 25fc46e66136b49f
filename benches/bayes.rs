//! The Bayes classifier's speed on the SpamAssassin public corpus (MAILWARDEN_CORPUS): the
//! even-numbered messages train, the odd-numbered ones are classified. Without the corpus,
//! generated messages stand in.
//!
//! - `bayes/learn/message`: MIME normalization + tokenizing + updating the in-memory
//!   database, per message (the commit is measured by `bayes/learn/commit`).
//! - `bayes/classify/message`: normalization + tokenizing + lookup + Fisher combining: what a
//!   scan adds for Bayes when it normalizes on its own (the engine normalizes once for all
//!   stages, so a scan's extra cost is `bayes/classify/tokens` plus tokenizing).
//! - `bayes/classify/tokens`: lookup + combining of a pre-tokenized message.
//!
//! Each iteration asserts its result, so a broken path cannot look fast.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput};
use mailwarden::bayes::{BayesConfig, Class, Learner, Tokenizer, classifier};
use mailwarden::{EngineBuilder, Envelope};

fn corpus() -> Vec<(bool, bool, Vec<u8>)> {
    let Ok(dir) = std::env::var("MAILWARDEN_CORPUS") else {
        return (0..800)
            .map(|i| {
                let spam = i % 2 == 0;
                let words = if spam { "cheap pills winner casino offer" } else { "meeting patch kernel review agenda" };
                let msg = format!(
                    "From: x{i}@example.org\r\nMessage-ID: <{i}@example.org>\r\nSubject: {words}\r\n\r\n{}\r\n",
                    format!("{words} {i} ").repeat(30)
                );
                (i % 4 < 2, spam, msg.into_bytes())
            })
            .collect();
    };
    let mut out = Vec::new();
    for folder in ["easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new(&dir).join(folder))
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        for f in files {
            let n: Option<u64> = f
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.split('.').next())
                .and_then(|n| n.parse().ok());
            let Some(n) = n else { continue };
            if let Ok(bytes) = std::fs::read(&f) {
                out.push((n % 2 == 0, folder.starts_with("spam"), bytes));
            }
        }
    }
    assert!(out.len() > 1000, "too few messages under {dir}");
    out
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let messages = corpus();
    let (train, test): (Vec<_>, Vec<_>) = messages.iter().partition(|m| m.0);
    let dir = tempfile::tempdir().expect("temp dir");
    let config = BayesConfig {
        path: Some(dir.path().join("bayes.db")),
        ..BayesConfig::default()
    };

    let mut group = c.benchmark_group("bayes/learn");
    group.throughput(Throughput::Elements(1));
    let mut learner = Learner::open(&config).expect("open");
    let mut i = 0usize;
    group.bench_function("message", |b| {
        b.iter(|| {
            let (_, spam, msg) = train[i % train.len()];
            i += 1;
            let class = if *spam { Class::Spam } else { Class::Ham };
            let r = learner.learn(black_box(msg), class).expect("learn");
            // Learned the first time round the corpus, recognised as learned after.
            assert!(
                i > train.len() || r == mailwarden::bayes::Learned::Learned,
                "{r:?}"
            );
        })
    });
    for (_, spam, msg) in &train {
        let class = if *spam { Class::Spam } else { Class::Ham };
        learner.learn(msg, class).expect("learn");
    }
    group.throughput(Throughput::Elements(train.len() as u64));
    group.sample_size(10);
    group.bench_function("commit", |b| {
        b.iter(|| learner.commit().expect("commit"));
    });
    group.finish();
    let st = learner.stats();
    drop(learner);
    assert!(st.spam >= 200 && st.ham >= 200, "{st:?}");

    let engine = EngineBuilder::new()
        .builtins(false)
        .build()
        .expect("engine");
    let bayes = mailwarden::bayes::Bayes::open(&config).expect("open");
    let tokenizer = Tokenizer::new();
    let envelope = Envelope::new();
    let tokens: Vec<(bool, Vec<u64>)> = test
        .iter()
        .map(|(_, spam, msg)| {
            (
                *spam,
                engine.normalize_with(msg, &envelope, |v| tokenizer.tokens(v)),
            )
        })
        .collect();

    let mut group = c.benchmark_group("bayes/classify");
    group.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    group.bench_function("message", |b| {
        b.iter(|| {
            let (_, _, msg) = test[i % test.len()];
            i += 1;
            let p = engine.normalize_with(black_box(msg), &envelope, |v| bayes.probability(v));
            assert!(p.is_some_and(|p| (0.0..=1.0).contains(&p)), "{p:?}");
        })
    });
    let snap = bayes.snapshot();
    let k = bayes.constants().clone();
    let mut i = 0usize;
    group.bench_function("tokens", |b| {
        b.iter(|| {
            let (_, t) = &tokens[i % tokens.len()];
            i += 1;
            let p = classifier::classify(black_box(t), &*snap, &k);
            assert!(p.is_some_and(|p| (0.0..=1.0).contains(&p)), "{p:?}");
        })
    });
    group.finish();
    c.final_summary();
}
