//! scripts/install.sh with a private PREFIX, then a C program built only with
//! `pkg-config --cflags --libs mailwarden`, linked against the installed soname, run.

use std::path::{Path, PathBuf};
use std::process::Command;

fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

#[test]
fn installed_library_is_usable_through_pkg_config() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let profile = profile_dir();
    let prefix = tempfile::tempdir().unwrap();
    let status = Command::new("bash")
        .arg(root.join("scripts/install.sh"))
        .env("PREFIX", prefix.path())
        .env("PROFILE", profile.file_name().unwrap())
        .env("CARGO_TARGET_DIR", profile.parent().unwrap())
        .env("NO_MILTER", "1")
        .status()
        .unwrap();
    assert!(status.success(), "install.sh failed");
    let lib = prefix.path().join("lib");
    for f in [
        "libmailwarden.so",
        "libmailwarden.so.0",
        "libmailwarden.a",
        "pkgconfig/mailwarden.pc",
    ] {
        assert!(lib.join(f).exists(), "{f} not installed");
    }
    assert!(prefix.path().join("include/mailwarden.h").exists());

    let flags = Command::new("pkg-config")
        .args(["--cflags", "--libs", "mailwarden"])
        .env("PKG_CONFIG_PATH", lib.join("pkgconfig"))
        .output()
        .expect("pkg-config is installed (scripts/setup.sh installs it)");
    assert!(flags.status.success());
    let flags = String::from_utf8(flags.stdout).unwrap();
    assert!(flags.contains("-lmailwarden"), "{flags}");

    let src = prefix.path().join("v.c");
    std::fs::write(
        &src,
        "#include <mailwarden.h>\n#include <stdio.h>\n\
         int main(void) {\n  const mw_engine *e = NULL;\n\
           if (mw_engine_new_default(&e) != MW_RESULT_OK) return 1;\n\
           printf(\"%s\\n\", mw_version());\n  mw_engine_free(e);\n  return 0;\n}\n",
    )
    .unwrap();
    let exe = prefix.path().join("v");
    let mut cc = Command::new("cc");
    cc.args(["-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&exe)
        .arg(&src);
    cc.args(flags.split_whitespace());
    assert!(
        cc.status().unwrap().success(),
        "cc with pkg-config flags failed"
    );

    // The program records the soname, and runs against the installed library.
    let dynamic = Command::new("readelf")
        .arg("-d")
        .arg(&exe)
        .output()
        .unwrap();
    let dynamic = String::from_utf8_lossy(&dynamic.stdout);
    assert!(dynamic.contains("[libmailwarden.so.0]"), "{dynamic}");
    let run = Command::new(&exe)
        .env("LD_LIBRARY_PATH", &lib)
        .output()
        .unwrap();
    assert!(run.status.success());
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        env!("CARGO_PKG_VERSION")
    );
}
