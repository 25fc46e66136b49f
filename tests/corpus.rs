//! The SpamAssassin public corpus (6,046 real messages) through the whole pipeline with the
//! embedded defaults: no panic, no virus, nothing unchecked, every message below the spam
//! threshold (the corpus has no GTUBE), and the chunked scanner and eight threads sharing one
//! engine give exactly the one-shot reports.

mod common;

use mailwarden::{Category, Engine, Envelope};
use std::sync::Arc;

fn corpus() -> Option<Vec<(String, Vec<u8>)>> {
    let dir = common::corpus_dir()?;
    Some(
        common::eml_files(&dir)
            .into_iter()
            .map(|p| {
                let data = std::fs::read(&p).expect("corpus file");
                (p.display().to_string(), data)
            })
            .collect(),
    )
}

fn require_corpus() -> Option<Vec<(String, Vec<u8>)>> {
    match corpus() {
        Some(c) => Some(c),
        None if std::env::var_os("CI").is_some() => panic!("corpus missing in CI"),
        None => {
            eprintln!("corpus not found (set MAILWARDEN_CORPUS); skipping");
            None
        }
    }
}

#[test]
fn whole_corpus_with_embedded_defaults() {
    let Some(messages) = require_corpus() else {
        return;
    };
    assert_eq!(messages.len(), 6046, "the public corpus has 6,046 messages");
    let engine = Engine::with_defaults();
    let env = Envelope::new();
    let mut categories = std::collections::BTreeMap::new();
    for (name, data) in &messages {
        let report = engine.scan(data, &env);
        assert!(
            report.viruses().is_empty(),
            "{name}: virus {:?}",
            report.viruses()
        );
        assert!(
            report.unchecked().next().is_none(),
            "{name}: unchecked {:?}",
            report.unchecked().collect::<Vec<_>>()
        );
        assert!(
            report.score < report.required_score,
            "{name}: score {}",
            report.score
        );
        assert!(
            matches!(report.category, Category::Clean | Category::BadHeader),
            "{name}: {:?}",
            report.category
        );
        assert!(!report.is_flagged(), "{name} flagged");
        assert!(report.objects.len() >= 2, "{name}: body not extracted");
        *categories.entry(report.category).or_insert(0) += 1;
    }
    eprintln!("categories: {categories:?}");
}

#[test]
fn chunked_and_threaded_scans_match_one_shot() {
    let Some(messages) = require_corpus() else {
        return;
    };
    let engine = Engine::with_defaults();
    let env = Envelope::new().recipient("postmaster@example.org");
    let expected: Vec<_> = messages.iter().map(|(_, d)| engine.scan(d, &env)).collect();

    // Chunked: odd chunk sizes that split lines, boundaries and base64 quanta.
    let mut scanner = engine.scanner();
    for (i, (name, data)) in messages.iter().enumerate().step_by(7) {
        let chunk = 1 + (i * 37) % 4093;
        scanner.set_envelope(env.clone());
        for c in data.chunks(chunk) {
            scanner.write(c);
        }
        let got = scanner.finish();
        assert_eq!(got, expected[i], "{name}: chunked scan differs");
        assert!(scanner.is_empty(), "finish resets the scanner");
    }

    // Eight threads sharing one engine.
    let messages = Arc::new(messages);
    let expected = Arc::new(expected);
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let engine = engine.clone();
            let messages = Arc::clone(&messages);
            let expected = Arc::clone(&expected);
            let env = env.clone();
            std::thread::spawn(move || {
                for i in (t..messages.len()).step_by(8) {
                    let got = engine.scan(&messages[i].1, &env);
                    assert_eq!(got, expected[i], "{}: threaded scan differs", messages[i].0);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("scanner thread");
    }
}
