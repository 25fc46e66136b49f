//! Loads SpamAssassin 4.0.1's stock rules from where Debian's `spamassassin` package installs
//! them (scripts/setup.sh installs it) and checks that every line parses.

use std::path::PathBuf;

use mailwarden::config::RuleConfig;
use mailwarden::rules::{Area, RuleSet};

const STOCK: &str = "/usr/share/spamassassin";
const SITE: &str = "/etc/spamassassin";

fn stock() -> Option<RuleSet> {
    if !PathBuf::from(STOCK).join("10_default_prefs.cf").exists() {
        return None;
    }
    let config = RuleConfig {
        builtin: true,
        paths: vec![PathBuf::from(STOCK), PathBuf::from(SITE)],
    };
    Some(RuleSet::load(&config).expect("stock rules load"))
}

#[test]
fn stock_rules_parse_without_errors() {
    let Some(set) = stock() else {
        panic!("{STOCK} is missing: run scripts/setup.sh (installs Debian's spamassassin)");
    };
    for line in set.describe() {
        println!("{line}");
    }
    let parsed = set.parsed().expect("files were loaded");
    assert!(
        parsed.errors.is_empty(),
        "parse errors: {:#?}",
        parsed.errors
    );
    if let Ok(path) = std::env::var("MAILWARDEN_DUMP_RULES") {
        let names: Vec<String> = parsed
            .rules
            .values()
            .map(|r| format!("{} {}", r.name, r.area.name()))
            .collect();
        std::fs::write(path, names.join("\n") + "\n").expect("write rule dump");
    }
    let count = |a: Area| parsed.rules.values().filter(|r| r.area == a).count();
    // SpamAssassin 4.0.1 with these files (FACTS.md, and `Mail::SpamAssassin->init` dumped
    // on this machine): 2,946 tests = 921 meta, header 939, body 828 (SpamAssassin files the
    // 61 `mimeheader` rules under body), uri 144, rawbody 65, full 17, plus 32 tests that only
    // exist as `askdns` or `reuse` lines (network-only, no definition mailwarden can run).
    assert_eq!(parsed.rules.len(), 2946 - 32);
    assert_eq!(count(Area::Meta), 921);
    assert_eq!(count(Area::Header), 939);
    assert_eq!(count(Area::Body) + count(Area::MimeHeader), 828);
    assert_eq!(count(Area::MimeHeader), 61);
    assert_eq!(count(Area::Uri), 144);
    assert_eq!(count(Area::Rawbody), 65);
    assert_eq!(count(Area::Full), 17);
    assert_eq!(parsed.required_score, Some(5.0));
    let compiled = set.compiled();
    let engine = |e: &str| {
        compiled
            .matchers
            .values()
            .filter(|m| m.engine() == e)
            .count()
    };
    println!(
        "regex {} pcre2 {} skipped {}",
        engine("regex"),
        engine("pcre2"),
        compiled.skipped.len()
    );
    assert!(
        compiled.skipped.is_empty(),
        "skipped: {:#?}",
        compiled.skipped
    );
    // 1,521 regex rules (FACTS.md) + 61 mimeheader regexes; measured here: 1,336 run in
    // `regex`, 246 need PCRE2 (lookaround, backreferences, possessive, `\h`-style escapes).
    assert_eq!(engine("regex") + engine("pcre2"), 1582);
    assert!(engine("regex") >= 1300, "regex engine share dropped");
    assert!(parsed.unknown.is_empty(), "unknown: {:?}", parsed.unknown);
}

/// The stock rules that do not run, by reason: anything new here is a regression (an eval
/// that stopped being recognised) or an eval still to write.
#[test]
fn stock_rules_not_run_are_only_network_bayes_and_known_evals() {
    let Some(set) = stock() else {
        panic!("{STOCK} is missing: run scripts/setup.sh (installs Debian's spamassassin)");
    };
    let mut evals: Vec<&str> = set
        .not_run()
        .values()
        .filter_map(|why| why.strip_suffix(" not implemented yet"))
        .filter(|why| why.starts_with("eval "))
        .collect();
    evals.sort_unstable();
    evals.dedup();
    // DKIM needs DNS lookups (a network test SpamAssassin's DKIM plugin runs).
    assert_eq!(evals, ["eval check_dkim_dependable()"], "evals not run");
}

/// Message shapes that made one rule step quadratic or recursive, scanned with the stock
/// rules: each scan returns (no stack overflow, no minutes-long loop) and the rules ran
/// (a rule that reads the shape hits: the HTML rules, the alternatives' word difference).
/// Each was found by generating it, not by the fuzzer: the shapes are megabytes of repeats.
#[test]
fn hostile_shapes_scan_with_the_stock_rules() {
    if !PathBuf::from(STOCK).join("10_default_prefs.cf").exists() {
        panic!("{STOCK} is missing: run scripts/setup.sh (installs Debian's spamassassin)");
    }
    let engine = mailwarden::Engine::builder()
        .rules(STOCK)
        .rules(SITE)
        .build()
        .expect("engine");
    let head = "From: a@x.example\r\nSubject: s\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\
                Message-ID: <a@x.example>\r\nMIME-Version: 1.0\r\n";
    let mut shapes: Vec<(&str, String, &str)> = Vec::new();
    // 100,000 message/rfc822 parts nested in each other (mail-parser's drop recursed).
    let mut m = format!("{head}To: b@y.example\r\nContent-Type: message/rfc822\r\n\r\n");
    for i in 0..100_000 {
        m += &format!("Subject: level {i}\r\nContent-Type: message/rfc822\r\n\r\n");
    }
    m += "Content-Type: text/plain\r\n\r\nhello\r\n";
    shapes.push(("nested messages", m, "NO_RELAYS"));
    // 100,000 multipart/alternative parts nested (each one's subtree was walked). The part
    // tree stops at SpamAssassin's 20 levels, so the HTML leaf is never seen: SpamAssassin
    // 4.0.1 hits EMPTY_MESSAGE, MIME_NO_TEXT, MSGID_SHORT, NO_RECEIVED and NO_RELAYS on
    // the same shape 1,000 levels deep, as mailwarden does.
    let mut m = format!(
        "{head}To: b@y.example\r\nContent-Type: multipart/alternative; boundary=b0\r\n\r\n"
    );
    for i in 1..100_000 {
        m += &format!(
            "--b{}\r\nContent-Type: multipart/alternative; boundary=b{i}\r\n\r\n",
            i - 1
        );
    }
    m += "--b99999\r\nContent-Type: text/html\r\n\r\n<p>hello</p>\r\n";
    shapes.push(("nested alternatives", m, "MIME_NO_TEXT"));
    // One tag with 300,000 attributes (duplicate names were looked up in a list).
    let attrs: Vec<String> = (0..300_000).map(|i| format!("a{i}=\"v\"")).collect();
    let m = format!(
        "{head}To: b@y.example\r\nContent-Type: text/html\r\n\r\n<p {}>hello</p>\r\n",
        attrs.join(" ")
    );
    shapes.push(("attributes", m, "HTML_MESSAGE"));
    // A To header of 200,000 addresses (the recipient list was deduplicated in a list).
    let to: Vec<String> = (0..200_000).map(|i| format!("u{i}@d{i}.example")).collect();
    let m = format!("To: {}\r\n{head}\r\nhello\r\n", to.join(", "));
    shapes.push(("recipients", m, "NO_RELAYS"));
    // A part's Content-Type and Content-Disposition in 100,000 RFC 2231 sections each
    // (mail-parser's joining copied the value so far per section).
    let sections = |name: &str| -> String {
        (0..100_000)
            .map(|n| format!(";\r\n {name}*{n}*=ab%41"))
            .collect()
    };
    let m = format!(
        "{head}To: b@y.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
         Content-Type: application/octet-stream{}\r\nContent-Disposition: attachment{}\r\n\r\n\
         AAAA\r\n--b--\r\n",
        sections("name"),
        sections("filename")
    );
    shapes.push(("RFC 2231 sections", m, "NO_RELAYS"));
    // Four million blank lines between two words (Message.pm's cut of blank-line runs to
    // 20 must neither hold them all nor go quadratic).
    let m = format!(
        "{head}To: b@y.example\r\n\r\nhello\r\n{}world\r\n",
        "\r\n".repeat(4_000_000)
    );
    shapes.push(("blank lines", m, "NO_RELAYS"));
    // 12 MB of base64 text after a padded block (the rule texts decode it again as
    // Util::base64_decode does: linear, without a copy of the whole body).
    let m = format!(
        "{head}To: b@y.example\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n\
         aGk=\r\n{}",
        "QUJDREVGR0g=\r\n".repeat(800_000)
    );
    shapes.push(("base64 after padding", m, "NO_RELAYS"));
    for (what, message, expected) in &shapes {
        let t = std::time::Instant::now();
        let report = engine.scan(message.as_bytes(), &mailwarden::Envelope::new());
        let hits: Vec<&str> = report.rules().map(|(name, _, _)| name).collect();
        println!(
            "{what}: {} bytes, {:.2} s, {hits:?}",
            message.len(),
            t.elapsed().as_secs_f64()
        );
        assert!(hits.contains(expected), "{what}: {expected} missing");
    }
}
