//! The `mailwarden` command line: output formats, exit codes, inputs.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

fn mailwarden() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mailwarden"))
}

fn message(body: &str) -> String {
    format!(
        "From: a@example.org\nTo: b@example.net\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: t\n\n{body}\n"
    )
}

#[test]
fn clamscan_style_lines_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let eicar = String::from_utf8(mailwarden::signatures::EICAR.to_vec()).unwrap();
    std::fs::write(dir.path().join("clean.eml"), message("hello")).unwrap();
    std::fs::write(dir.path().join("virus.eml"), message(&eicar)).unwrap();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(
        sub.join("spam.eml"),
        message("XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"),
    )
    .unwrap();

    let out = mailwarden().arg("scan").arg(dir.path()).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("clean.eml: OK"), "{text}");
    assert!(
        text.contains("virus.eml: Eicar-Test-Signature FOUND"),
        "{text}"
    );
    assert!(text.contains("spam.eml: SPAM score=1000.0"), "{text}");
    assert!(text.contains("Scanned messages: 3"), "{text}");

    let clean = mailwarden()
        .arg("scan")
        .arg(dir.path().join("clean.eml"))
        .output()
        .unwrap();
    assert_eq!(clean.status.code(), Some(0));

    let missing = mailwarden()
        .args(["scan", "/nonexistent/message.eml"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn json_objects_have_the_documented_fields() {
    let dir = tempfile::tempdir().unwrap();
    let eicar = String::from_utf8(mailwarden::signatures::EICAR.to_vec()).unwrap();
    let path = dir.path().join("virus.eml");
    std::fs::write(&path, message(&eicar)).unwrap();
    let out = mailwarden()
        .args(["scan", "--json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "no summary in --json mode: {text}");
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    for key in [
        "path",
        "category",
        "action",
        "score",
        "viruses",
        "unchecked",
        "rules",
        "anomalies",
        "smtp_reply",
        "headers",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["category"], "virus");
    assert_eq!(v["action"], "reject");
    assert_eq!(
        v["smtp_reply"],
        "554 5.7.1 Message contains Eicar-Test-Signature virus, rejected"
    );
}

#[test]
fn stdin_and_mbox() {
    let mut child = mailwarden()
        .args(["scan", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(message("hi").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("stdin: OK"));
    assert_eq!(out.status.code(), Some(0));

    let dir = tempfile::tempdir().unwrap();
    let mbox = dir.path().join("box");
    let gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
    let text = format!(
        "From a@example.org Mon Jan  1 00:00:00 2024\n{}\nFrom b@example.org Mon Jan  1 00:00:00 2024\n{}\n>From quoted line\n",
        message("one"),
        message(gtube)
    );
    std::fs::write(&mbox, text).unwrap();
    let out = mailwarden()
        .args(["scan", "--json", "--mbox"])
        .arg(&mbox)
        .output()
        .unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let spam = lines
        .iter()
        .find(|v| v["category"] == "spam")
        .expect("spam message");
    assert!(spam["path"].as_str().unwrap().ends_with("box[2]"));
}

#[test]
fn check_config_reports_and_fails_on_bad_config() {
    let out = mailwarden().arg("check-config").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("max_levels=14"), "{text}");
    assert!(text.contains("configuration OK"));

    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[limits]\nmax_levles = 3\n").unwrap();
    let out = mailwarden()
        .arg("check-config")
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("max_levles"));
}

#[test]
fn json_objects_carry_every_name_a_reader_may_show() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("names.eml");
    std::fs::write(
        &path,
        "From: a@example.org\nTo: b@example.net\nSubject: t\nMIME-Version: 1.0\n\
         Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\n\
         --b\nContent-Type: application/octet-stream; name=\"report.exe\"\n\
         Content-Disposition: attachment; filename=\"report.txt\"\n\nhello\n--b--\n",
    )
    .unwrap();
    let out = mailwarden()
        .args(["scan", "--json"])
        .arg(&path)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["category"], "banned", "{v}");
    let part = v["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "report.txt")
        .expect("the attachment");
    assert_eq!(
        part["other_names"],
        serde_json::json!(["report.exe"]),
        "{part}"
    );
    assert_eq!(part["declared_type"], "application/octet-stream");
}
