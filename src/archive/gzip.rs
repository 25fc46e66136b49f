//! gzip: every member of a multi-member stream, decompressed through the budget. The child is
//! named from the first member's header (`FNAME`), else from the container's name without its
//! `.gz` suffix (`.tgz` becomes `.tar`), else `gunzip`; when both exist and differ, the
//! container-derived name (gunzip's choice) is one of the child's other names.

use super::{ReadOutcome, Unpack, Unpacker};
use crate::object::Object;
use crate::report::UncheckedReason;

/// The gzip unpacker.
pub struct GzipUnpacker;

/// The original file name from a gzip header, if it has one.
fn header_name(d: &[u8]) -> Option<String> {
    let flags = *d.get(3)?;
    let mut pos = 10usize;
    if flags & 0x04 != 0 {
        let xlen = u16::from_le_bytes([*d.get(10)?, *d.get(11)?]) as usize;
        pos = pos.checked_add(2 + xlen)?;
    }
    if flags & 0x08 == 0 {
        return None;
    }
    let rest = d.get(pos..)?;
    let end = rest.iter().take(1024).position(|&b| b == 0)?;
    let name = String::from_utf8_lossy(&rest[..end]);
    // Only the last path component: a header name must not climb out of its container.
    let base = name.rsplit(['/', '\\']).next().unwrap_or("").to_string();
    (!base.is_empty()).then_some(base)
}

/// The name a decompressed stream gets when its header does not carry one.
pub(crate) fn stripped_name(
    container: Option<&str>,
    suffixes: &[(&str, &str)],
    fallback: &str,
) -> String {
    if let Some(name) = container {
        let lower = name.to_ascii_lowercase();
        for (suffix, replacement) in suffixes {
            if lower.ends_with(suffix) && name.len() > suffix.len() {
                return format!("{}{replacement}", &name[..name.len() - suffix.len()]);
            }
        }
    }
    fallback.to_string()
}

impl Unpacker for GzipUnpacker {
    fn name(&self) -> &'static str {
        "gzip"
    }

    fn unpack(&self, object: &Object<'_>, out: &mut Unpack<'_>) {
        let d: &[u8] = &object.data;
        let stripped = stripped_name(
            object.name.as_deref(),
            &[(".tgz", ".tar"), (".gz", ""), (".z", "")],
            "gunzip",
        );
        // gunzip names the file after the container unless told otherwise (`-N`), 7-Zip
        // after the header: both names go to the banned rules.
        let (name, other_names) = match header_name(d) {
            Some(h) if h != stripped && object.name.is_some() => (h, vec![stripped]),
            Some(h) => (h, Vec::new()),
            None => (stripped, Vec::new()),
        };
        let path = object.member_path(&name);
        let input = super::CountingReader::new(d);
        let consumed = input.counter();
        let decoder = flate2::bufread::MultiGzDecoder::new(input);
        let (data, outcome) = out.budget.read_to_end_with(decoder, consumed, &path);
        if outcome == ReadOutcome::Corrupt {
            out.budget.note(
                UncheckedReason::Undecodable,
                &path,
                "corrupt or truncated gzip stream",
            );
        }
        out.emit_named(object, &name, other_names, data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let mut h = vec![0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3];
        h.extend_from_slice(b"../../evil.exe\0");
        assert_eq!(header_name(&h).as_deref(), Some("evil.exe"));
        assert_eq!(header_name(&h[..10]), None);
        let mut x = vec![0x1f, 0x8b, 8, 0x0c, 0, 0, 0, 0, 0, 3, 0xff, 0xff];
        x.extend_from_slice(b"short");
        assert_eq!(header_name(&x), None);
        let s = [(".tgz", ".tar"), (".gz", "")];
        assert_eq!(stripped_name(Some("a.TGZ"), &s, "g"), "a.tar");
        assert_eq!(stripped_name(Some("a.gz"), &s, "g"), "a");
        assert_eq!(stripped_name(Some(".gz"), &s, "g"), "g");
        assert_eq!(stripped_name(None, &s, "g"), "g");
    }
}
