//! The SpamAssassin public corpus as the Bayes examples read it (`#[path]`-included by
//! `bayes_eval.rs` and `bayes_explore.rs`): files in name order, the numeric prefix of a
//! file name (`00042.*`), and the class (spam when a directory on the path says so).

use std::path::{Path, PathBuf};

/// Every file below `dir`, in name order.
pub fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

/// The numeric prefix of a file name.
pub fn number(p: &Path) -> Option<u64> {
    let name = p.file_name()?.to_str()?;
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Whether a directory on the path has `spam` in its name.
pub fn is_spam(p: &Path) -> bool {
    p.components().any(|c| {
        c.as_os_str()
            .to_str()
            .is_some_and(|s| s.to_ascii_lowercase().contains("spam"))
    })
}
