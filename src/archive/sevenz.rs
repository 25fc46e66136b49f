//! 7z, through sevenz-rust2 (pure Rust: LZMA, LZMA2, PPMd, bzip2, the BCJ and delta filters).
//!
//! - One decoder thread, whatever the machine has: the library would start one per core.
//! - Each compression block is decoded on its own; every entry is read through the budget as
//!   it is produced. When a limit stops an entry, the rest of its solid block is abandoned
//!   (not decoded to be skipped), since later entries of a solid block cost everything before
//!   them.
//! - A decoder that needs more than [`DECODER_MEMORY_KIB`] (a declared dictionary) is refused
//!   before it allocates: UNCHECKED `undecodable`.
//! - Encrypted blocks (AES-256) are UNCHECKED `encrypted`, as ClamAV's
//!   `Heuristics.Encrypted.7Zip`; an archive whose header is encrypted cannot even be listed
//!   and is UNCHECKED `encrypted` as a whole. The other blocks are still unpacked.
//! - Empty files are emitted (empty) so the banned-name rules see their names.

use super::xz::DECODER_MEMORY_KIB;
use super::{ReadOutcome, Unpack, Unpacker};
use crate::object::Object;
use crate::report::UncheckedReason;
use sevenz_rust2::{Archive, ArchiveEntry, BlockDecoder, EncoderMethod, Error, Password};
use std::io::{Cursor, Read};

/// The 7z unpacker.
pub struct SevenZUnpacker;

/// The reason and words for an error of the 7z library.
fn unchecked(e: &Error) -> (UncheckedReason, String) {
    match e {
        Error::PasswordRequired | Error::MaybeBadPassword(_) => {
            (UncheckedReason::Encrypted, "encrypted 7z".to_string())
        }
        Error::UnsupportedCompressionMethod(m) if m.contains("AES") => (
            UncheckedReason::Encrypted,
            "encrypted 7z (AES-256)".to_string(),
        ),
        Error::MaxMemLimited { .. } => (
            UncheckedReason::Undecodable,
            format!("7z decoder needs over {} MiB", DECODER_MEMORY_KIB / 1024),
        ),
        other => (UncheckedReason::Undecodable, format!("7z: {other}")),
    }
}

impl Unpacker for SevenZUnpacker {
    fn name(&self) -> &'static str {
        "7z"
    }

    fn unpack(&self, object: &Object<'_>, out: &mut Unpack<'_>) {
        let d: &[u8] = &object.data;
        let container = object.member_path("");
        let container = container.trim_end_matches('/');
        let memory = DECODER_MEMORY_KIB as usize;
        let password = Password::empty();
        let mut source = Cursor::new(d);
        let archive = match Archive::read_with_memory_limit(&mut source, &password, memory) {
            Ok(a) => a,
            Err(e) => {
                let (reason, detail) = unchecked(&e);
                out.budget.note(reason, container, detail);
                return;
            }
        };
        for block in 0..archive.blocks.len() {
            if out.budget.is_exhausted() {
                return;
            }
            let mut decoder = BlockDecoder::new_with_memory_limit(
                1,
                memory,
                block,
                &archive,
                &password,
                &mut source,
            );
            decoder.set_thread_count(1);
            let encrypted = archive.blocks[block]
                .coders
                .iter()
                .any(|c| c.encoder_method_id() == EncoderMethod::ID_AES256_SHA256);
            if encrypted {
                for entry in decoder.entries() {
                    out.budget.note(
                        UncheckedReason::Encrypted,
                        &object.member_path(&entry.name),
                        "encrypted 7z entry (AES-256)",
                    );
                }
                continue;
            }
            let mut current = String::new();
            let result =
                decoder.for_each_entries(&mut |entry: &ArchiveEntry, reader: &mut dyn Read| {
                    // Files without data are emitted once, after the blocks.
                    if entry.is_directory || !entry.has_stream {
                        return Ok(!out.budget.is_exhausted());
                    }
                    let path = object.member_path(&entry.name);
                    current.clone_from(&path);
                    // Out of time: abandon the block rather than let the library decode
                    // the rest of it to skip it.
                    if !out.budget.check_time(&path) {
                        return Ok(false);
                    }
                    let (data, outcome) = out.budget.read_to_end(reader, d.len() as u64, &path);
                    let whole = match outcome {
                        ReadOutcome::Complete => true,
                        ReadOutcome::Corrupt => {
                            out.budget.note(
                                UncheckedReason::Undecodable,
                                &path,
                                "corrupt 7z entry data",
                            );
                            false
                        }
                        ReadOutcome::Limited(_) => false,
                    };
                    let emitted = out.emit(object, &entry.name, data);
                    Ok(whole && emitted && !out.budget.is_exhausted())
                });
            if let Err(e) = result {
                let (reason, detail) = unchecked(&e);
                let at = if current.is_empty() {
                    container
                } else {
                    &current
                };
                out.budget.note(reason, at, detail);
            }
        }
        // Files without data (their names still go to the banned rules).
        for entry in &archive.files {
            if !entry.has_stream
                && !entry.is_directory
                && !entry.is_anti_item
                && (!out.emit(object, &entry.name, Vec::new()) || out.budget.is_exhausted())
            {
                return;
            }
        }
    }
}
