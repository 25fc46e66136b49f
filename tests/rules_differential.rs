//! Differential test against the installed SpamAssassin 4.0.1: the same stock rules over a
//! fixed sample of the public corpus (150 ham, 150 spam), comparing per message the rules
//! hit, network and Bayes rules excluded.
//!
//! Needs MAILWARDEN_CORPUS (the unpacked corpus: `bash /work/shared/tools/unpack-corpus.sh
//! DIR`) and Debian's spamassassin package. SpamAssassin's hits come from
//! tests/rules_sa/sa_hits.pl (about a minute), or from the file MAILWARDEN_SA_HITS if it
//! exists (the script's output, cached).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use mailwarden::{Engine, Envelope};

fn sample(corpus: &Path) -> Vec<PathBuf> {
    let pick = |dirs: &[&str], n: usize| -> Vec<PathBuf> {
        let mut files = Vec::new();
        for d in dirs {
            let mut f: Vec<PathBuf> = std::fs::read_dir(corpus.join(d))
                .unwrap_or_else(|e| panic!("{}: {e}", corpus.join(d).display()))
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            f.sort();
            files.extend(f);
        }
        (0..n).map(|i| files[i * files.len() / n].clone()).collect()
    };
    let mut s = pick(&["easy-ham-1", "easy-ham-2", "hard-ham-1"], 150);
    s.extend(pick(&["spam-1", "spam-2"], 150));
    s
}

fn sa_hits(files: &[PathBuf]) -> BTreeMap<String, BTreeSet<String>> {
    let text = match std::env::var("MAILWARDEN_SA_HITS") {
        Ok(p) if Path::new(&p).exists() => std::fs::read_to_string(&p).expect("read SA hits"),
        other => {
            let text = run_sa(files, false);
            if let Ok(p) = other {
                let _ = std::fs::write(p, &text);
            }
            text
        }
    };
    parse_hits(&text)
}

/// tests/rules_sa/sa_hits.pl's output for `files`; `subtests`: the `__` sub-rules too.
/// The files are split over one SpamAssassin process per core: the two tests here each run
/// one list, and the shorter would otherwise leave a core idle for a minute.
fn run_sa(files: &[PathBuf], subtests: bool) -> String {
    let procs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = files.len().div_ceil(procs).max(1);
    let runs: Vec<_> = files
        .chunks(chunk)
        .map(|part| {
            let list: String = part.iter().map(|f| format!("{}\n", f.display())).collect();
            // A thread per process reads its output, so no process waits on a full pipe.
            std::thread::spawn(move || sa_hits_pl(list, subtests))
        })
        .collect();
    runs.into_iter()
        .map(|r| r.join().expect("SpamAssassin thread"))
        .collect()
}

/// Runs sa_hits.pl over `list` (one path a line) and returns what it printed.
fn sa_hits_pl(list: String, subtests: bool) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rules_sa/sa_hits.pl");
    let mut cmd = Command::new("perl");
    cmd.arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    if subtests {
        cmd.env("SA_SUBTESTS", "1");
    }
    let mut child = cmd
        .spawn()
        .expect("run perl (Debian's spamassassin package installed?)");
    // Fed from a thread: SpamAssassin answers while it reads, and a long list would fill
    // both pipes.
    let mut stdin = child.stdin.take().expect("stdin");
    let feeder = std::thread::spawn(move || stdin.write_all(list.as_bytes()));
    let out = child.wait_with_output().expect("SpamAssassin oracle");
    feeder
        .join()
        .expect("feeder thread")
        .expect("feed file list");
    assert!(out.status.success(), "sa_hits.pl failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn parse_hits(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    text.lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(p, hits)| {
            (
                p.to_string(),
                hits.split(',')
                    .filter(|h| !h.is_empty())
                    .map(str::to_string)
                    .collect(),
            )
        })
        .collect()
}

/// The agreement the test requires (recall, precision): issue 5's 99% both ways, met since
/// body lines are built as SpamAssassin builds them (99.09% and 99.30% then). A change that
/// loses agreement fails here; one that gains some may raise the floor.
const FLOOR: (f64, f64) = (0.99, 0.99);
const TARGET: f64 = 0.99;

const HTML: &str = "body text differs: HTML rendered unlike SpamAssassin's HTML.pm (whitespace and line breaks at table cells and block tags)";
const RELAYS: &str =
    "Received lines parsed into relays differently (rdns/helo/unparseable) for this format";
const URIS: &str = "URIs extracted or normalized differently from SpamAssassin's uri list";

/// Causes of the differences that remain, traced with examples/rule_diff.rs (which prints
/// the differing `__` sub-rules of a message); printed in the why column.
const KNOWN: &[(&str, &str)] = &[
    ("FILL_THIS_FORM", HTML),
    ("FILL_THIS_FORM_LONG", HTML),
    ("FILL_THIS_FORM_LOAN", HTML),
    ("T_FILL_THIS_FORM_SHORT", HTML),
    ("T_FILL_THIS_FORM_FRAUD_PHISH", HTML),
    ("BODY_URI_ONLY", HTML),
    ("LOTS_OF_MONEY", HTML),
    ("TRACKER_ID", HTML),
    ("RDNS_NONE", RELAYS),
    ("NO_RDNS_DOTCOM_HELO", RELAYS),
    ("UNPARSEABLE_RELAY", RELAYS),
    (
        "CONTENT_AFTER_HTML",
        "__RDNS_NUMERIC_TLD: Received lines parsed into relays differently",
    ),
    (
        "TO_NO_BRKTS_PCNT",
        "__RCD_RDNS_MX: Received lines parsed into relays differently",
    ),
    ("MANY_SUBDOM", URIS),
    ("HTTP_ESCAPED_HOST", URIS),
    ("NORMAL_HTTP_TO_IP", URIS),
    ("IP_LINK_PLUS", URIS),
    (
        "MISSING_HEADERS",
        "check_for_missing_to_header() disagrees on this header block",
    ),
    ("MALFORMED_FREEMAIL", "MISSING_HEADERS differs (see there)"),
    (
        "HK_RANDOM_ENVFROM",
        "envelope sender inferred from other headers than SpamAssassin's",
    ),
];

/// The unpacked corpus, when it and SpamAssassin are installed; `None` (the test skips)
/// outside CI, a failure in CI.
fn corpus_and_spamassassin() -> Option<PathBuf> {
    let Ok(corpus) = std::env::var("MAILWARDEN_CORPUS") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "corpus missing in CI (set MAILWARDEN_CORPUS)"
        );
        eprintln!("corpus not found (set MAILWARDEN_CORPUS); skipping");
        return None;
    };
    if !Path::new("/usr/share/spamassassin").is_dir() {
        assert!(
            std::env::var_os("CI").is_none(),
            "SpamAssassin's rules missing in CI (scripts/setup.sh installs them)"
        );
        eprintln!("SpamAssassin not installed; skipping");
        return None;
    }
    Some(PathBuf::from(corpus))
}

/// An engine with SpamAssassin's stock rules and site configuration.
fn stock_engine() -> Engine {
    Engine::builder()
        .rules("/usr/share/spamassassin")
        .rules("/etc/spamassassin")
        .build()
        .expect("stock rules load")
}

#[test]
fn agreement_with_spamassassin() {
    let Some(corpus) = corpus_and_spamassassin() else {
        return;
    };
    let files = sample(&corpus);
    let sa = sa_hits(&files);
    assert_eq!(
        sa.len(),
        files.len(),
        "SpamAssassin answered for every message"
    );
    let engine = stock_engine();
    let rules = engine.rules();
    let parsed = rules.parsed().expect("loaded");
    let excluded = |name: &str| {
        name.starts_with("BAYES_")
            || parsed
                .tflags
                .get(name)
                .is_some_and(|f| f.iter().any(|t| t == "net" || t == "learn"))
    };
    // rule -> (both, SpamAssassin only, mailwarden only)
    let mut per_rule: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut examples: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut on_demand_differs = Vec::new();
    for f in &files {
        let key = f.display().to_string();
        let data = std::fs::read(f).expect("read message");
        let report = engine.scan(&data, &Envelope::new());
        // The scan evaluates on demand (Plan::run_scored): it must give the scored hits
        // the full evaluation gives.
        let (on_demand, full) = engine.normalize_with(&data, &Envelope::new(), |view| {
            let on_demand: BTreeSet<String> =
                rules.evaluate(view).into_iter().map(|h| h.name).collect();
            let full: BTreeSet<String> = rules
                .evaluate_all(view)
                .into_keys()
                .filter(|n| !n.starts_with("__"))
                .collect();
            (on_demand, full)
        });
        if on_demand != full {
            on_demand_differs.push(format!(
                "{key}: on demand only {:?}, full only {:?}",
                on_demand.difference(&full).collect::<Vec<_>>(),
                full.difference(&on_demand).collect::<Vec<_>>()
            ));
        }
        let mw: BTreeSet<String> = report
            .rules()
            .map(|(n, _, _)| n.to_string())
            .filter(|n| !excluded(n))
            .collect();
        let sa: BTreeSet<String> = sa[&key].iter().filter(|n| !excluded(n)).cloned().collect();
        for r in sa.union(&mw) {
            let e = per_rule.entry(r.clone()).or_default();
            match (sa.contains(r), mw.contains(r)) {
                (true, true) => e.0 += 1,
                (true, false) => {
                    e.1 += 1;
                    examples
                        .entry(r.clone())
                        .or_default()
                        .push(format!("missed {key}"));
                }
                _ => {
                    e.2 += 1;
                    examples
                        .entry(r.clone())
                        .or_default()
                        .push(format!("extra {key}"));
                }
            }
        }
    }
    assert!(
        on_demand_differs.is_empty(),
        "on-demand evaluation differs: {on_demand_differs:#?}"
    );
    let both: usize = per_rule.values().map(|v| v.0).sum();
    let sa_only: usize = per_rule.values().map(|v| v.1).sum();
    let mw_only: usize = per_rule.values().map(|v| v.2).sum();
    let recall = both as f64 / (both + sa_only).max(1) as f64;
    let precision = both as f64 / (both + mw_only).max(1) as f64;
    println!(
        "messages {}: (message, rule) hits: both {both}, SpamAssassin only {sa_only}, mailwarden only {mw_only}",
        files.len()
    );
    println!(
        "SpamAssassin's hits also mailwarden's: {:.2}%; mailwarden's also SpamAssassin's: {:.2}%",
        recall * 100.0,
        precision * 100.0
    );
    let mut rows: Vec<_> = per_rule.iter().filter(|(_, v)| v.1 + v.2 > 0).collect();
    rows.sort_by_key(|(_, v)| std::cmp::Reverse(v.1 + v.2));
    println!(
        "{:<30} {:>5} {:>7} {:>7}  why",
        "rule", "both", "SA-only", "MW-only"
    );
    for (name, (b, s, m)) in rows {
        let why = rules
            .not_run()
            .get(name)
            .map(String::as_str)
            .or_else(|| KNOWN.iter().find(|(r, _)| r == name).map(|(_, w)| *w))
            .unwrap_or("not traced yet (run examples/rule_diff.rs on the example)");
        println!("{name:<30} {b:>5} {s:>7} {m:>7}  {why}");
        if let Some(ex) = examples.get(name) {
            println!("    e.g. {}", ex[0]);
        }
    }
    let meets = recall >= TARGET && precision >= TARGET;
    println!(
        "target {:.0}% both ways: {}",
        TARGET * 100.0,
        if meets { "met" } else { "not met yet" }
    );
    assert!(
        recall >= FLOOR.0 && precision >= FLOOR.1,
        "agreement fell below the recorded floor {FLOOR:?}: recall {recall:.4}, precision {precision:.4}"
    );
}

/// The mutations of tests/rules_sa/mutate.py on which mailwarden and SpamAssassin agree on
/// every rule, sub-rules included; a change that breaks one fails here.
const AGREEING_MUTATIONS: &[&str] = &[
    "crlf",
    "refold",
    "dup-headers",
    "header-case",
    "no-final-boundary",
    "boundary-garbage",
    "base64-body",
    "qp-body",
    "encoding-case",
    "wrapped",
    "subject-b",
    "subject-q",
    "wrapped-base64",
    "wrapped-twice",
    "8bit-subject",
    "as-html",
    "as-alternative",
    "long-lines",
    "utf8-body",
    "ctype-odd",
    "html-entities",
    "conflicting-ctype",
    "no-separator",
    "ctype-no-semicolon",
    "header-junk-colon",
    "boundary-spaces",
];

/// Malformed and re-encoded variants of a fifth of the sample (tests/rules_sa/mutate.py:
/// CRLF line ends, folding, duplicate fields, field names in odd case without a space,
/// a missing closing delimiter, delimiters followed by junk, bodies re-encoded, encodings
/// in odd case, the message forwarded as an attachment (also base64-encoded, also twice),
/// encoded and raw 8-bit Subjects, text rewritten as HTML and as a multipart/alternative of
/// text and HTML, paragraphs as single long lines, Latin-1 text sent as UTF-8, Content-Type
/// values in odd case with comments, HTML letters as character references): every rule and
/// sub-rule hit must be the same as SpamAssassin's, also with two Content-Types that
/// disagree, also without the blank line after the header (Message.pm ends the header at a
/// delimiter or at the fourth line that is no field, and so does the engine), with
/// parameters missing their `;` (`text/html charset=x`), with a stray `Name With Blanks:`
/// line in the header, and with a boundary parameter spaced and commented. Three mutations
/// disagree, with the reasons in benches/compare/rules.md: `bare-cr` (SpamAssassin cuts a
/// multipart's body lines at 2,048 bytes, inserting newlines), `mixed-eol` and `nul-bytes`;
/// five more that agree (`no-mime-version`, `base64-one-line`, `header-junk`,
/// `ws-continuation`, `long-subject`) are left out to keep the test short.
#[test]
fn malformed_variants_agree_with_spamassassin() {
    let Some(corpus) = corpus_and_spamassassin() else {
        return;
    };
    let files: Vec<PathBuf> = sample(&corpus).into_iter().step_by(5).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let list = dir.path().join("list");
    let list_text: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
    std::fs::write(&list, list_text).expect("write list");
    let out = dir.path().join("out");
    let status = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rules_sa/mutate.py"))
        .arg(&list)
        .arg(&out)
        .args(AGREEING_MUTATIONS)
        .status()
        .expect("run python3");
    assert!(status.success(), "mutate.py failed");
    let mut variants: Vec<PathBuf> = Vec::new();
    for m in AGREEING_MUTATIONS {
        let mut v: Vec<PathBuf> = std::fs::read_dir(out.join(m))
            .expect("mutation output")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        v.sort();
        variants.extend(v);
    }
    assert!(variants.len() > 500, "{} variants", variants.len());
    let sa = parse_hits(&run_sa(&variants, true));
    assert_eq!(sa.len(), variants.len(), "SpamAssassin answered for each");
    let engine = stock_engine();
    let rules = engine.rules();
    let skip = |r: &str| r.starts_with("BAYES_") || rules.not_run().contains_key(r);
    let mut differ = Vec::new();
    for v in &variants {
        let data = std::fs::read(v).expect("read variant");
        let ours: BTreeSet<String> = engine.normalize_with(&data, &Envelope::new(), |view| {
            rules.evaluate_all(view).into_keys().collect()
        });
        let theirs = &sa[&v.display().to_string()];
        let sa_only: Vec<_> = theirs.difference(&ours).filter(|r| !skip(r)).collect();
        let mw_only: Vec<_> = ours.difference(theirs).filter(|r| !skip(r)).collect();
        if !sa_only.is_empty() || !mw_only.is_empty() {
            let rel = v.strip_prefix(&out).unwrap_or(v);
            differ.push(format!(
                "{}: SpamAssassin only {sa_only:?}, mailwarden only {mw_only:?}",
                rel.display()
            ));
        }
    }
    println!(
        "{} variants of {} messages ({} mutations): {} differ",
        variants.len(),
        files.len(),
        AGREEING_MUTATIONS.len(),
        differ.len()
    );
    assert!(differ.is_empty(), "rule hits differ: {differ:#?}");
}
