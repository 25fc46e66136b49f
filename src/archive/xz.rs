//! xz: every stream of a concatenated xz file, decompressed through the budget (lzma-rust2's
//! reader, pure Rust). The child is named after the container without `.xz` (`.txz` becomes
//! `.tar`), else `unxz`, as xz itself names it.
//!
//! A block whose dictionary needs more than [`DECODER_MEMORY_KIB`] is refused before anything
//! is allocated: a 1 KB file can declare a 4 GB dictionary.

use super::gzip::stripped_name;
use super::{ReadOutcome, Unpack, Unpacker};
use crate::object::Object;
use crate::report::UncheckedReason;

/// The most memory one LZMA or LZMA2 decoder (xz, 7z) may take, in KiB: 128 MiB, twice the
/// 64 MiB dictionary of `xz -9` and 7-Zip's ultra level. An archive that needs more is
/// UNCHECKED `undecodable`.
pub(crate) const DECODER_MEMORY_KIB: u32 = 128 * 1024;

/// The xz unpacker.
pub struct XzUnpacker;

impl Unpacker for XzUnpacker {
    fn name(&self) -> &'static str {
        "xz"
    }

    fn unpack(&self, object: &Object<'_>, out: &mut Unpack<'_>) {
        let d: &[u8] = &object.data;
        let name = stripped_name(
            object.name.as_deref(),
            &[(".txz", ".tar"), (".xz", "")],
            "unxz",
        );
        let path = object.member_path(&name);
        let input = super::CountingReader::new(d);
        let consumed = input.counter();
        let decoder = lzma_rust2::XzReader::new_mem_limit(input, true, DECODER_MEMORY_KIB);
        let (data, outcome) = out.budget.read_to_end_with(decoder, consumed, &path);
        if outcome == ReadOutcome::Corrupt {
            out.budget.note(
                UncheckedReason::Undecodable,
                &path,
                format!(
                    "corrupt or truncated xz stream, or one needing over {} MiB to decode",
                    DECODER_MEMORY_KIB / 1024
                ),
            );
        }
        out.emit(object, &name, data);
    }
}
