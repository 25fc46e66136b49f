//! Gives the shared library its soname (`libmailwarden.so.0`) so C programs linked against it
//! record the ABI major version, not the unversioned development symlink.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" || os == "freebsd" || os == "netbsd" || os == "openbsd" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libmailwarden.so.0");
    }
}
