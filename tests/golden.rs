//! The golden corpus: hand-written messages under `tests/golden/{rfc,legacy,malformed}`, each
//! beside the summary its scan must give. Every message runs with LF and with CRLF line ends.
//! On a mismatch the actual summary is written to `<name>.<ending>.failed`. Set
//! `MAILWARDEN_BLESS=1` to (re)write the expected files after a deliberate change.

mod common;

use mailwarden::{Engine, Envelope, Finding, Report};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;

/// What the golden files pin down: independent of line ends and sizes.
fn summary(report: &Report) -> Value {
    let mut anomalies = BTreeSet::new();
    let mut bad_headers = BTreeSet::new();
    let mut unchecked = BTreeSet::new();
    let mut viruses = BTreeSet::new();
    for f in &report.findings {
        match f {
            Finding::Anomaly { kind, path, .. } => {
                anomalies.insert(format!("{}@{path}", kind.name()));
            }
            Finding::BadHeader { kind, .. } => {
                bad_headers.insert(kind.name().to_string());
            }
            Finding::Unchecked { reason, path, .. } => {
                unchecked.insert(format!("{}@{path}", reason.name()));
            }
            Finding::Virus { name, path } => {
                viruses.insert(format!("{name}@{path}"));
            }
            _ => {}
        }
    }
    let objects: Vec<Value> = report
        .objects
        .iter()
        .map(|o| {
            json!({
                "path": o.path,
                "origin": o.origin,
                "name": o.name,
                "type": o.declared_type,
            })
        })
        .collect();
    json!({
        "category": report.category,
        "action": report.verdict.action,
        "reply": report.verdict.reply.to_string(),
        "rules": report.rules().map(|r| r.0).collect::<Vec<_>>(),
        "viruses": viruses,
        "unchecked": unchecked,
        "anomalies": anomalies,
        "bad_headers": bad_headers,
        "objects": objects,
    })
}

#[test]
fn golden_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let bless = std::env::var_os("MAILWARDEN_BLESS").is_some();
    let engine = Engine::with_defaults();
    let mut ran = 0;
    let mut failures = Vec::new();
    for dir in ["rfc", "legacy", "malformed"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .expect("golden dir")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        for file in files {
            let raw = common::substitute(&std::fs::read(&file).expect("fixture"));
            let expected_path = file.with_extension("json");
            for (ending, data) in [("lf", raw.clone()), ("crlf", common::to_crlf(&raw))] {
                let report = engine.scan(&data, &Envelope::new());
                let actual = summary(&report);
                let pretty = serde_json::to_string_pretty(&actual).expect("json") + "\n";
                let failed = file.with_extension(format!("{ending}.failed"));
                if bless && ending == "lf" {
                    std::fs::write(&expected_path, &pretty).expect("write golden");
                }
                let expected: Value =
                    serde_json::from_str(&std::fs::read_to_string(&expected_path).unwrap_or_else(
                        |_| panic!("{} missing: bless it", expected_path.display()),
                    ))
                    .expect("golden json");
                if expected == actual {
                    let _ = std::fs::remove_file(&failed);
                } else {
                    std::fs::write(&failed, &pretty).expect("write .failed");
                    failures.push(format!("{} ({ending})", file.display()));
                }
                ran += 1;
            }
        }
    }
    assert!(ran >= 40, "only {ran} golden runs");
    assert!(failures.is_empty(), "golden mismatches: {failures:#?}");
}
