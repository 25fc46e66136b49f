//! tar (ustar, GNU, pax, v7) through the `tar` crate: each regular member is read through the
//! budget. Other entries (directories, links, devices) produce no object, but are counted so a
//! tar of millions of empty directory entries still ends at `max_files`.

use super::{ReadOutcome, Unpack, Unpacker};
use crate::object::Object;
use crate::report::UncheckedReason;

/// The tar unpacker.
pub struct TarUnpacker;

impl Unpacker for TarUnpacker {
    fn name(&self) -> &'static str {
        "tar"
    }

    fn unpack(&self, object: &Object<'_>, out: &mut Unpack<'_>) {
        let d: &[u8] = &object.data;
        let container = object.member_path("");
        let container = container.trim_end_matches('/').to_string();
        let mut archive = tar::Archive::new(d);
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => {
                out.budget.note(
                    UncheckedReason::Undecodable,
                    &container,
                    format!("unreadable tar: {e}"),
                );
                return;
            }
        };
        let max_other = out.budget.limits().max_files;
        let mut other = 0u32;
        for entry in entries {
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    out.budget.note(
                        UncheckedReason::Undecodable,
                        &container,
                        format!("corrupt tar entry: {e}"),
                    );
                    return;
                }
            };
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let path = object.member_path(&name);
            if !out.budget.check_time(&path) {
                return;
            }
            if !entry.header().entry_type().is_file() {
                other += 1;
                if other > max_other {
                    out.budget.stop(
                        UncheckedReason::MaxFiles,
                        &path,
                        format!("More than {max_other} non-file tar entries"),
                    );
                    return;
                }
                continue;
            }
            let declared = entry.size();
            let (data, outcome) = out.budget.read_to_end(&mut entry, 0, &path);
            match outcome {
                ReadOutcome::Corrupt => {
                    out.budget
                        .note(UncheckedReason::Undecodable, &path, "tar member truncated")
                }
                ReadOutcome::Complete if (data.len() as u64) < declared => out.budget.note(
                    UncheckedReason::Undecodable,
                    &path,
                    format!("tar member declares {declared} bytes, holds {}", data.len()),
                ),
                _ => {}
            }
            // A member cut short by a limit is skipped over by the iterator, so the members
            // after it are still read.
            if !out.emit(object, &name, data) || out.budget.is_exhausted() {
                return;
            }
        }
    }
}
