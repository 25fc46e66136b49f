//! Where messages come from: files, directories, mboxes, standard input.

use std::io::Read;
use std::path::{Path, PathBuf};

/// One thing to read: a file or standard input.
pub enum Source {
    Stdin,
    File(PathBuf),
}

/// Expands `path` into sources: a directory recursively (sorted, symlinks not followed), `-`
/// as standard input.
pub fn collect(path: &Path, out: &mut Vec<Source>) -> Result<(), String> {
    if path == Path::new("-") {
        out.push(Source::Stdin);
        return Ok(());
    }
    let meta = std::fs::symlink_metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_dir() {
        let mut stack = vec![path.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map_err(|e| format!("{}: {e}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            entries.sort();
            let mut subdirs = Vec::new();
            for p in entries {
                match std::fs::symlink_metadata(&p) {
                    Ok(m) if m.is_dir() => subdirs.push(p),
                    Ok(m) if m.is_file() => out.push(Source::File(p)),
                    _ => {}
                }
            }
            stack.extend(subdirs.into_iter().rev());
        }
    } else {
        out.push(Source::File(path.to_path_buf()));
    }
    Ok(())
}

/// Reads a source into (label, message) pairs: one message, or every message of an mbox.
pub fn read(source: &Source, mbox: bool) -> Result<Vec<(String, Vec<u8>)>, String> {
    let (label, data) = match source {
        Source::Stdin => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| format!("stdin: {e}"))?;
            ("stdin".to_string(), buf)
        }
        Source::File(p) => {
            let data = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
            (p.display().to_string(), data)
        }
    };
    if !mbox {
        return Ok(vec![(label, data)]);
    }
    Ok(split_mbox(&data)
        .into_iter()
        .enumerate()
        .map(|(i, m)| (format!("{label}[{}]", i + 1), unescape_from(m)))
        .collect())
}

/// Splits an mbox at lines starting with `From ` (after a blank line, or at the start).
pub fn split_mbox(data: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    if data.starts_with(b"From ") {
        starts.push(0);
    }
    for pos in memchr::memmem::find_iter(data, b"\nFrom ") {
        let blank_before =
            pos == 0 || data[..pos].ends_with(b"\n") || data[..pos].ends_with(b"\r\n\r");
        if blank_before || starts.is_empty() {
            starts.push(pos + 1);
        }
    }
    if starts.is_empty() {
        return if data.is_empty() {
            Vec::new()
        } else {
            vec![data]
        };
    }
    let mut out = Vec::with_capacity(starts.len());
    for (i, &s) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(data.len());
        // Drop the "From " separator line itself.
        let body = &data[s..end];
        let after = memchr::memchr(b'\n', body).map_or(body.len(), |n| n + 1);
        out.push(&body[after..]);
    }
    out
}

/// Undoes mboxrd quoting: `>From ` (with any number of `>`) loses one `>`.
fn unescape_from(msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len());
    for line in msg.split_inclusive(|&c| c == b'\n') {
        let quoted = line.iter().take_while(|&&c| c == b'>').count();
        if quoted > 0 && line[quoted..].starts_with(b"From ") {
            out.extend_from_slice(&line[1..]);
        } else {
            out.extend_from_slice(line);
        }
    }
    out
}
