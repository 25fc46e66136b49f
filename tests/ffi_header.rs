//! The committed C header must be exactly what cbindgen generates from the sources today.

use std::path::Path;
use std::process::Command;

#[test]
fn committed_header_is_what_cbindgen_generates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let committed = std::fs::read_to_string(root.join("include/mailwarden.h"))
        .expect("include/mailwarden.h is committed");
    let dir = tempfile::tempdir().unwrap();
    let fresh_path = dir.path().join("mailwarden.h");
    let status = Command::new("cbindgen")
        .current_dir(root)
        .args(["--config", "cbindgen.toml", "--quiet", "--output"])
        .arg(&fresh_path)
        .arg(".")
        .status()
        .expect("cbindgen is installed (scripts/setup.sh installs it)");
    assert!(status.success(), "cbindgen failed");
    let fresh = std::fs::read_to_string(&fresh_path).unwrap();
    assert!(
        committed == fresh,
        "include/mailwarden.h is stale: run `cbindgen --config cbindgen.toml --output include/mailwarden.h .` and commit it"
    );
}

#[test]
fn header_declares_every_exported_function() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let header = std::fs::read_to_string(root.join("include/mailwarden.h")).unwrap();
    let source = std::fs::read_to_string(root.join("src/ffi/mod.rs")).unwrap();
    let mut exported = 0;
    for line in source.lines() {
        let line = line.trim();
        if let Some(rest) = line
            .strip_prefix("pub unsafe extern \"C\" fn ")
            .or_else(|| line.strip_prefix("pub extern \"C\" fn "))
        {
            let name = rest.split('(').next().unwrap();
            exported += 1;
            assert!(
                header.contains(&format!("{name}(")),
                "{name} missing from header"
            );
        }
    }
    assert!(exported >= 30, "found only {exported} exported functions");
}
