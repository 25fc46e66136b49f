//! Why a message's rule hits differ from SpamAssassin's: runs the stock rules on each
//! message given, asks the installed SpamAssassin (tests/rules_sa/sa_hits.pl, network tests
//! and Bayes off) for its hits including the `__` sub-rules, and prints every rule, scored
//! or not, that only one side hit. Start from a meta rule's differing sub-rules.
//!
//! ```text
//! cargo run --release --example rule_diff -- MESSAGE...
//! ```

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};

use mailwarden::{Engine, Envelope};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: rule_diff MESSAGE...");
        std::process::exit(2);
    }
    let engine = Engine::builder()
        .rules("/usr/share/spamassassin")
        .rules("/etc/spamassassin")
        .build()?;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/rules_sa/sa_hits.pl");
    let mut sa = Command::new("perl")
        .arg(script)
        .env("SA_SUBTESTS", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = sa.stdin.take() {
        for p in &paths {
            writeln!(stdin, "{p}")?;
        }
    }
    let out = sa.wait_with_output()?;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some((path, hits)) = line.split_once('\t') else {
            continue;
        };
        let theirs: BTreeSet<&str> = hits.split(',').filter(|h| !h.is_empty()).collect();
        let data = std::fs::read(path)?;
        let ours: BTreeSet<String> = engine.normalize_with(&data, &Envelope::new(), |view| {
            engine.rules().evaluate_all(view).into_keys().collect()
        });
        let ours: BTreeSet<&str> = ours.iter().map(String::as_str).collect();
        let skip = |r: &&str| r.starts_with("BAYES_") || engine.rules().not_run().contains_key(*r);
        let sa_only: Vec<_> = theirs.difference(&ours).filter(|r| !skip(r)).collect();
        let mw_only: Vec<_> = ours.difference(&theirs).filter(|r| !skip(r)).collect();
        println!("{path}");
        println!("  SpamAssassin only: {sa_only:?}");
        println!("  mailwarden only:   {mw_only:?}");
    }
    Ok(())
}
