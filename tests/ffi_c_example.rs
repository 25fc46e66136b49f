//! Builds examples/c with `-Wall -Wextra -Werror` against the library Cargo just built, runs
//! it on generated messages, and runs it again under valgrind: no leaks, no memory errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const EICAR: &str = concat!(
    r"X5O!P%@AP[4\PZX54(P^)7CC)7}$",
    "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
);
const GTUBE: &str = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

/// target/<profile>, found from this test binary's path (target/<profile>/deps/...).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

fn build_example(out: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let libdir = profile_dir();
    // `cargo test` links the tests against the rlib and does not refresh the cdylib: build it
    // (a no-op when it is up to date) so the C program runs against the code under test.
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .current_dir(root)
        .args(["build", "--lib", "--quiet"])
        .env("CARGO_TARGET_DIR", libdir.parent().unwrap());
    if libdir.file_name().is_some_and(|p| p == "release") {
        cargo.arg("--release");
    }
    assert!(
        cargo.status().unwrap().success(),
        "cargo build --lib failed"
    );
    assert!(
        libdir.join("libmailwarden.so").exists(),
        "{} has no libmailwarden.so",
        libdir.display()
    );
    let status = Command::new("make")
        .arg("-C")
        .arg(root.join("examples/c"))
        .arg(format!("LIBDIR={}", libdir.display()))
        .arg(format!("OUT={}", out.display()))
        .arg("CFLAGS=-g -O0")
        .status()
        .expect("make runs");
    assert!(status.success(), "examples/c failed to build");
    out.join("scan")
}

fn write_messages(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let msg = |body: &str| {
        format!(
            "From: a@example.org\r\nTo: b@example.net\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\
             Subject: test\r\nMessage-ID: <1@example.org>\r\n\r\n{body}\r\n"
        )
    };
    let files = (
        dir.join("eicar.eml"),
        dir.join("gtube.eml"),
        dir.join("clean.eml"),
    );
    std::fs::write(&files.0, msg(EICAR)).unwrap();
    std::fs::write(&files.1, msg(GTUBE)).unwrap();
    std::fs::write(&files.2, msg("Lunch at noon?")).unwrap();
    files
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn c_example_builds_warning_free_and_scans() {
    let dir = tempfile::tempdir().unwrap();
    let scan = build_example(&dir.path().join("build"));
    let (eicar, gtube, clean) = write_messages(dir.path());
    let out = Command::new(&scan)
        .arg(&eicar)
        .arg(&gtube)
        .arg(&clean)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "flagged files give 1: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert_eq!(
        lines[0],
        format!(
            "{}: virus reject score=0.0 virus=Eicar-Test-Signature \
             reply=\"554 5.7.1 Message contains Eicar-Test-Signature virus, rejected\"",
            eicar.display()
        )
    );
    assert!(lines[1].starts_with(&format!("{}: spam reject score=1000", gtube.display())));
    assert!(lines[1].ends_with("reply=\"554 5.7.1 Message seems to be spam, rejected\""));
    assert!(
        lines[2].starts_with(&format!("{}: clean ", clean.display())),
        "{}",
        lines[2]
    );

    let out = Command::new(&scan).arg("-j").arg(&clean).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["category"], "clean");

    let out = Command::new(&scan)
        .arg(dir.path().join("missing.eml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn c_example_is_clean_under_valgrind() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        panic!("valgrind is not installed (scripts/setup.sh installs it)");
    }
    let dir = tempfile::tempdir().unwrap();
    let scan = build_example(&dir.path().join("build"));
    let (eicar, gtube, clean) = write_messages(dir.path());
    // The three runs at once: each spends ~15 s starting the engine under valgrind.
    let valgrind = |exit_code: &str, args: &[&Path]| {
        Command::new("valgrind")
            .args(["-q", "--leak-check=full"])
            .arg(format!("--error-exitcode={exit_code}"))
            .arg(&scan)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Clean input: the program exits 0, so any valgrind error shows as exit status 1.
    let clean_run = valgrind("1", &[&clean]);
    // Every path (virus, spam, JSON, a missing file) with a distinct error code.
    let flagged_runs = [
        valgrind("99", &[Path::new("-j"), &eicar, &gtube, &clean]),
        valgrind("99", &[Path::new("-j"), &gtube]),
    ];
    let out = clean_run.wait_with_output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "valgrind: {stderr}");
    assert!(stdout.contains(": clean "), "{stdout}");
    for run in flagged_runs {
        let out = run.wait_with_output().unwrap();
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "valgrind: {stderr}");
        assert!(!stderr.contains("=="), "valgrind reported: {stderr}");
    }
}

#[test]
fn milter_builds_warning_free() {
    assert!(
        Path::new("/usr/include/libmilter/mfapi.h").exists(),
        "libmilter-dev is not installed (scripts/setup.sh installs it)"
    );
    let dir = tempfile::tempdir().unwrap();
    // Builds the library and the scan example first, which checks the header's freshness.
    build_example(&dir.path().join("c"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = dir.path().join("milter");
    let status = Command::new("make")
        .arg("-C")
        .arg(root.join("examples/milter"))
        .arg(format!("LIBDIR={}", profile_dir().display()))
        .arg(format!("OUT={}", out.display()))
        .status()
        .unwrap();
    assert!(status.success(), "examples/milter failed to build");
    // Without a socket it prints its usage and exits 64 (EX_USAGE), having linked and loaded.
    let run = Command::new(out.join("mailwarden-milter"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&run.stderr).contains("usage:"));
}

#[test]
fn header_compiles_and_links_as_cpp() {
    let dir = tempfile::tempdir().unwrap();
    // Builds the library (and its soname link in `build`) through the C example.
    let build = dir.path().join("build");
    build_example(&build);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = dir.path().join("t.cpp");
    std::fs::write(
        &src,
        "#include \"mailwarden.h\"\n\
         int main() {\n  const mw_engine *e = nullptr;\n\
           mw_result r = mw_engine_new_default(&e);\n  mw_engine_free(e);\n\
           return r == MW_RESULT_OK ? 0 : 1;\n}\n",
    )
    .unwrap();
    let exe = dir.path().join("t");
    let status = Command::new("c++")
        .args([
            "-std=c++11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-I",
        ])
        .arg(root.join("include"))
        .arg(&src)
        .arg(format!("-L{}", profile_dir().display()))
        .arg("-lmailwarden")
        .arg(format!("-Wl,-rpath,{}", build.display()))
        .arg("-o")
        .arg(&exe)
        .status()
        .expect("c++ is installed (build-essential)");
    assert!(status.success(), "the header does not compile as C++");
    assert!(Command::new(&exe).status().unwrap().success());
}
