//! The Bayes classifier end to end: accuracy on the public corpus, engine scoring (built-in
//! BAYES_xx and SpamAssassin's check_bayes rules), the learn/bayes commands, and a learner
//! killed in the middle of writing.

use mailwarden::bayes::{BayesConfig, Class, Forgot, Learned, Learner};
use mailwarden::{EngineBuilder, Envelope, Finding};
use std::path::{Path, PathBuf};
use std::process::Command;

const SPAM_WORDS: &[&str] = &[
    "viagra",
    "cheap",
    "pills",
    "winner",
    "lottery",
    "casino",
    "bitcoin",
    "offer",
    "unsubscribe",
    "guaranteed",
    "income",
    "rolex",
];
const HAM_WORDS: &[&str] = &[
    "meeting", "agenda", "project", "review", "patch", "kernel", "release", "minutes", "budget",
    "schedule", "lunch", "deploy",
];

/// A synthetic message: distinct id, words drawn from one vocabulary by a fixed rule.
fn synthetic(i: usize, spam: bool) -> Vec<u8> {
    let words = if spam { SPAM_WORDS } else { HAM_WORDS };
    let body: Vec<&str> = (0..40)
        .map(|k| words[(i * 7 + k * 5) % words.len()])
        .collect();
    format!(
        "From: {}@{}\r\nTo: user@example.org\r\nMessage-ID: <{i}.{spam}@example.net>\r\nSubject: {}\r\n\r\n{}\r\n",
        if spam { "promo" } else { "colleague" },
        if spam { "bulk.example" } else { "example.org" },
        words[i % words.len()],
        body.join(" ")
    )
    .into_bytes()
}

fn trained_db(dir: &Path, n: usize) -> BayesConfig {
    let config = BayesConfig {
        path: Some(dir.join("bayes.db")),
        ..BayesConfig::default()
    };
    let mut learner = Learner::open(&config).unwrap();
    for i in 0..n {
        assert_eq!(
            learner.learn(&synthetic(i, true), Class::Spam).unwrap(),
            Learned::Learned
        );
        assert_eq!(
            learner.learn(&synthetic(i, false), Class::Ham).unwrap(),
            Learned::Learned
        );
    }
    learner.commit().unwrap();
    config
}

fn bayes_rules(report: &mailwarden::Report) -> Vec<(String, f64)> {
    report
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::Rule { name, score, .. } if name.starts_with("BAYES_") => {
                Some((name.clone(), *score))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn engine_scores_builtin_bayes_rules_once_active() {
    let dir = tempfile::tempdir().unwrap();
    // Below the 200/200 minimum: Bayes stays silent.
    let config = trained_db(dir.path(), 150);
    let engine = EngineBuilder::new().bayes(config.clone()).build().unwrap();
    let report = engine.scan(&synthetic(10_000, true), &Envelope::new());
    assert!(bayes_rules(&report).is_empty());
    // Learning more is picked up by the running engine (new snapshot after the commit).
    let mut learner = Learner::open(&config).unwrap();
    for i in 150..250 {
        learner.learn(&synthetic(i, true), Class::Spam).unwrap();
        learner.learn(&synthetic(i, false), Class::Ham).unwrap();
    }
    learner.commit().unwrap();
    drop(learner);
    let report = engine.scan(&synthetic(10_001, true), &Envelope::new());
    assert_eq!(
        bayes_rules(&report),
        [
            ("BAYES_99".to_string(), 3.8),
            ("BAYES_999".to_string(), 0.2)
        ]
    );
    assert!((report.score - 4.0).abs() < 1e-9, "{}", report.score);
    let report = engine.scan(&synthetic(10_002, false), &Envelope::new());
    assert_eq!(bayes_rules(&report), [("BAYES_00".to_string(), -1.5)]);
}

#[test]
fn stock_rules_score_bayes_through_check_bayes() {
    let stock = Path::new("/usr/share/spamassassin");
    if !stock.join("23_bayes.cf").exists() {
        eprintln!("SpamAssassin rules not installed; skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = trained_db(dir.path(), 220);
    let engine = EngineBuilder::new()
        .rules(stock)
        .rules("/etc/spamassassin")
        .bayes(config)
        .build()
        .unwrap();
    assert!(!engine.rules().not_run().contains_key("BAYES_99"));
    let report = engine.scan(&synthetic(20_000, true), &Envelope::new());
    let hits = bayes_rules(&report);
    assert!(hits.contains(&("BAYES_99".to_string(), 3.8)), "{hits:?}");
    assert!(hits.contains(&("BAYES_999".to_string(), 0.2)), "{hits:?}");
    assert_eq!(hits.len(), 2, "scored once, by the rules: {hits:?}");
}

#[test]
fn relearn_and_forget_by_message_id() {
    let dir = tempfile::tempdir().unwrap();
    let config = BayesConfig {
        path: Some(dir.path().join("db")),
        ..BayesConfig::default()
    };
    let mut learner = Learner::open(&config).unwrap();
    let msg = synthetic(1, true);
    assert_eq!(learner.learn(&msg, Class::Spam).unwrap(), Learned::Learned);
    let tokens = learner.stats().tokens;
    assert_eq!(
        learner.learn(&msg, Class::Spam).unwrap(),
        Learned::AlreadyLearned
    );
    assert_eq!(learner.learn(&msg, Class::Ham).unwrap(), Learned::Relearned);
    let st = learner.stats();
    assert_eq!((st.spam, st.ham, st.tokens), (0, 1, tokens));
    assert_eq!(learner.forget(&msg).unwrap(), Forgot::Forgot(Class::Ham));
    assert_eq!(learner.forget(&msg).unwrap(), Forgot::NotLearned);
    let st = learner.stats();
    assert_eq!((st.spam, st.ham, st.tokens, st.messages), (0, 0, 0, 0));
}

/// Train on error: only the message the database gets wrong is learned again, once per
/// pass; relearning as the other class and forgetting remove every copy.
#[test]
fn retrain_adds_copies_of_what_is_still_wrong_and_forget_removes_them() {
    use mailwarden::bayes::{Constants, FileStore, TokenRead, classifier};
    let k = Constants {
        min_spam: 1,
        min_ham: 1,
        ..Constants::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let reference = trained_db(&dir.path().join("ref"), 20);
    let reference = Learner::open(&reference).unwrap().stats();
    let config = trained_db(&dir.path().join("db"), 20);
    let mut learner = Learner::open(&config).unwrap();
    // A spam written in the ham vocabulary: whatever the rest says, it looks like ham.
    let odd = synthetic(100, false);
    assert_eq!(learner.learn(&odd, Class::Spam).unwrap(), Learned::Learned);
    let mut batch: Vec<(u64, Vec<mailwarden::bayes::Token>)> = (0..20)
        .flat_map(|i| [synthetic(i, true), synthetic(i, false)])
        .map(|m| learner.tokenize(&m))
        .collect();
    let (odd_id, odd_tokens) = learner.tokenize(&odd);
    batch.push((odd_id, odd_tokens.clone()));
    learner.commit().unwrap();
    let store = FileStore::new(config.path.clone().unwrap(), Default::default());
    let before = classifier::classify(&odd_tokens, &store.load().unwrap(), &k).unwrap();

    assert_eq!(
        learner.retrain(&batch, 2, 0.1, &k),
        2,
        "one copy per pass, odd only"
    );
    let st = learner.stats();
    assert_eq!((st.spam, st.ham, st.messages), (23, 20, 41));
    learner.commit().unwrap();
    let snap = store.load().unwrap();
    let after = classifier::classify(&odd_tokens, &snap, &k).unwrap();
    assert!(after > before, "{after} <= {before}");
    let odd_seen = snap.seen().iter().find(|s| s.id == odd_id).unwrap();
    assert_eq!((odd_seen.class, odd_seen.copies), (Class::Spam, 3));
    assert_eq!(snap.totals().spam, 23);

    // Relearning as ham takes out all three spam copies.
    assert_eq!(learner.learn(&odd, Class::Ham).unwrap(), Learned::Relearned);
    let st = learner.stats();
    assert_eq!((st.spam, st.ham), (20, 21));
    learner.retrain(&batch, 1, 0.1, &k);
    assert_eq!(learner.forget(&odd).unwrap(), Forgot::Forgot(Class::Ham));
    let st = learner.stats();
    assert_eq!(
        (st.spam, st.ham, st.tokens, st.messages),
        (reference.spam, reference.ham, reference.tokens, 40)
    );
}

#[test]
fn cli_learn_passes_relearn_what_is_still_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let (spam, ham) = (dir.path().join("spam"), dir.path().join("ham"));
    std::fs::create_dir_all(&spam).unwrap();
    std::fs::create_dir_all(&ham).unwrap();
    // 200 of each class: the default minimum before the database classifies anything.
    for i in 0..200 {
        std::fs::write(spam.join(format!("{i}.eml")), synthetic(i, true)).unwrap();
        std::fs::write(ham.join(format!("{i}.eml")), synthetic(i, false)).unwrap();
    }
    // A spam in the ham vocabulary.
    std::fs::write(spam.join("odd.eml"), synthetic(1000, false)).unwrap();
    let db = dir.path().join("bayes.db");
    let learn = |class: &str, extra: &[&str], path: &Path| {
        let out = mailwarden()
            .args(["learn", class, "--db"])
            .arg(&db)
            .args(extra)
            .arg(path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    learn("--ham", &[], &ham);
    let text = learn("--spam", &["--passes", "3"], &spam);
    assert!(
        text.contains("Learned from 201 message(s), 0 already learned, 3 relearned in 3 pass(es)"),
        "{text}"
    );
    // Already learned messages take part in the passes too. The odd one is judged without
    // any of its copies, so it still looks like ham: one more copy, and none of the others.
    let text = learn("--spam", &["--passes", "1", "--margin", "0.4"], &spam);
    assert!(
        text.contains("201 already learned, 1 relearned in 1 pass(es)")
            && text.contains("database: 205 spam, 200 ham"),
        "{text}"
    );
    let out = mailwarden()
        .args([
            "learn", "--spam", "--passes", "1", "--margin", "0.5", "--db",
        ])
        .arg(&db)
        .arg(&spam)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

fn corpus_files() -> Option<Vec<PathBuf>> {
    let dir = PathBuf::from(std::env::var_os("MAILWARDEN_CORPUS")?);
    let mut out = Vec::new();
    for sub in std::fs::read_dir(&dir).ok()? {
        let sub = sub.ok()?.path();
        if sub.is_dir() {
            for f in std::fs::read_dir(&sub).ok()? {
                out.push(f.ok()?.path());
            }
        }
    }
    out.sort();
    Some(out)
}

/// Accuracy on the corpus (even-numbered files train, odd-numbered test), at thresholds
/// measured with `benches/compare/bayes.sh`: the assertions leave a small margin below the
/// measured numbers so the test guards against regressions.
#[test]
fn corpus_even_odd_accuracy() {
    let Some(files) = corpus_files() else {
        eprintln!("corpus not found (set MAILWARDEN_CORPUS); skipping");
        return;
    };
    let number = |p: &Path| -> Option<u64> {
        let name = p.file_name()?.to_str()?;
        name.split('.').next()?.parse().ok()
    };
    let is_spam = |p: &Path| {
        p.parent()
            .is_some_and(|d| d.to_string_lossy().contains("spam"))
    };
    let dir = tempfile::tempdir().unwrap();
    let config = BayesConfig {
        path: Some(dir.path().join("bayes.db")),
        ..BayesConfig::default()
    };
    let mut learner = Learner::open(&config).unwrap();
    let mut test = Vec::new();
    for p in &files {
        let Some(n) = number(p) else { continue };
        let msg = std::fs::read(p).unwrap();
        if n % 2 == 0 {
            let class = if is_spam(p) { Class::Spam } else { Class::Ham };
            learner.learn(&msg, class).unwrap();
        } else {
            test.push((is_spam(p), msg));
        }
    }
    learner.commit().unwrap();
    drop(learner);
    let engine = EngineBuilder::new()
        .builtins(false)
        .bayes(config)
        .build()
        .unwrap();
    let bayes = engine.bayes().unwrap();
    let (mut ham, mut fp, mut spam, mut tp) = (0, 0, 0, 0);
    for (s, msg) in &test {
        let p = engine
            .normalize_with(msg, &Envelope::new(), |v| bayes.probability(v))
            .unwrap();
        if *s {
            spam += 1;
            tp += usize::from(p > 0.5);
        } else {
            ham += 1;
            fp += usize::from(p > 0.5);
        }
    }
    let fp_rate = fp as f64 / ham as f64;
    let recall = tp as f64 / spam as f64;
    eprintln!(
        "ham FP {:.2}% ({fp}/{ham}), recall {:.2}% ({tp}/{spam})",
        fp_rate * 100.0,
        recall * 100.0
    );
    assert!(ham > 2000 && spam > 900, "{ham} ham, {spam} spam");
    assert!(fp_rate <= 0.008, "ham false positives {fp_rate}");
    assert!(recall >= 0.97, "spam recall {recall}");
}

fn mailwarden() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mailwarden"))
}

#[test]
fn cli_learn_stats_dump_forget() {
    let dir = tempfile::tempdir().unwrap();
    let spam = dir.path().join("spam");
    std::fs::create_dir_all(spam.join("nested")).unwrap();
    for i in 0..3 {
        std::fs::write(spam.join(format!("{i}.eml")), synthetic(i, true)).unwrap();
    }
    std::fs::write(spam.join("nested/3.eml"), synthetic(3, true)).unwrap();
    let db = dir.path().join("bayes.db");
    let out = mailwarden()
        .args(["learn", "--spam", "--db"])
        .arg(&db)
        .arg(&spam)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("Learned from 4 message(s), 0 already learned"),
        "{text}"
    );
    let out = mailwarden()
        .args(["learn", "--spam", "--db"])
        .arg(&db)
        .arg(&spam)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("from 0 message(s), 4 already learned"));
    let out = mailwarden()
        .args(["bayes", "--stats", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("spam messages: 4\n") && text.contains("ham messages: 0\n"),
        "{text}"
    );
    assert!(text.contains("active: no"), "{text}");
    let out = mailwarden()
        .args(["bayes", "--dump", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let rows = text.lines().filter(|l| !l.starts_with('#')).count();
    assert!(rows > 20, "{text}");
    assert!(text.lines().nth(1).unwrap().split(' ').count() == 5);
    let out = mailwarden()
        .args(["learn", "--forget", "--db"])
        .arg(&db)
        .arg(spam.join("0.eml"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("Forgot from 1 message(s)"));
    let out = mailwarden()
        .args(["bayes", "--stats", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("spam messages: 3\n"));
    // No class and no database: usage errors.
    assert_eq!(
        mailwarden()
            .args(["learn", "--db"])
            .arg(&db)
            .arg(&spam)
            .status()
            .unwrap()
            .code(),
        Some(2)
    );
    let out = mailwarden()
        .args(["bayes", "--stats"])
        .env_remove("MAILWARDEN_BAYES_DB")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// A learner process killed at arbitrary moments (also while it writes the database) leaves
/// a database that opens, with the totals of some completed commit.
#[test]
fn learner_killed_mid_write_leaves_usable_database() {
    let dir = tempfile::tempdir().unwrap();
    let msgs = dir.path().join("msgs");
    std::fs::create_dir(&msgs).unwrap();
    // Large enough that commits (every 5,000 messages) and the final write take time.
    for i in 0..12_000 {
        std::fs::write(msgs.join(format!("{i:05}.eml")), synthetic(i, i % 2 == 0)).unwrap();
    }
    let db = dir.path().join("bayes.db");
    for delay_ms in [30u64, 150, 400, 900, 1_500] {
        let mut child = mailwarden()
            .args(["learn", "--ham", "--db"])
            .arg(&db)
            .arg(&msgs)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let st = mailwarden::bayes::stats(&BayesConfig {
            path: Some(db.clone()),
            ..BayesConfig::default()
        });
        match st {
            Ok(st) => assert!(st.ham as usize == st.messages, "{st:?}"),
            Err(e) => panic!("database unusable after kill at {delay_ms} ms: {e}"),
        }
    }
}

#[test]
fn config_section_parses_and_resolves_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mailwarden.toml");
    std::fs::write(
        &file,
        "[bayes]\npath = \"bayes.db\"\nmin_spam = 5\nunknown_word_prob = 0.5\n[bayes.expiry]\nmax_tokens = 10\n",
    )
    .unwrap();
    let config = mailwarden::Config::from_file(&file).unwrap();
    assert_eq!(config.bayes.path, Some(dir.path().join("bayes.db")));
    assert_eq!(config.bayes.min_spam, 5);
    assert_eq!(config.bayes.expiry.max_tokens, 10);
    assert_eq!(config.bayes.expiry.max_age_days, 365);
    let err = mailwarden::Config::from_toml_str("[bayes]\nmin_spams = 5\n").unwrap_err();
    assert!(err.to_string().contains("min_spams"), "{err}");
    // Out-of-range constants are refused when the engine is built.
    let bad = BayesConfig {
        path: Some(dir.path().join("x.db")),
        unknown_word_prob: 1.5,
        ..BayesConfig::default()
    };
    assert!(EngineBuilder::new().bayes(bad).build().is_err());
    // A damaged database is an error at build time, not a silent "no Bayes".
    std::fs::write(dir.path().join("bad.db"), b"garbage").unwrap();
    let damaged = BayesConfig {
        path: Some(dir.path().join("bad.db")),
        ..BayesConfig::default()
    };
    let err = EngineBuilder::new().bayes(damaged).build().unwrap_err();
    assert_eq!(err.kind(), mailwarden::ErrorKind::Bayes);
}

#[test]
fn readme_configuration_block_parses() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let block = readme
        .split("```toml")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .find(|b| b.contains("[bayes]"))
        .expect("README documents [bayes]");
    let config = mailwarden::Config::from_toml_str(block).unwrap();
    assert_eq!(config.bayes, BayesConfig::default());
}
