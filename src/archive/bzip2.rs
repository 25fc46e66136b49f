//! bzip2: every stream of a concatenated bzip2 file, decompressed through the budget. The child
//! is named after the container without `.bz2` (`.tbz`/`.tbz2` become `.tar`), else `bunzip2`.

use super::gzip::stripped_name;
use super::{ReadOutcome, Unpack, Unpacker};
use crate::object::Object;
use crate::report::UncheckedReason;

/// The bzip2 unpacker.
pub struct Bzip2Unpacker;

impl Unpacker for Bzip2Unpacker {
    fn name(&self) -> &'static str {
        "bzip2"
    }

    fn unpack(&self, object: &Object<'_>, out: &mut Unpack<'_>) {
        let d: &[u8] = &object.data;
        let name = stripped_name(
            object.name.as_deref(),
            &[
                (".tbz2", ".tar"),
                (".tbz", ".tar"),
                (".bz2", ""),
                (".bz", ""),
            ],
            "bunzip2",
        );
        let path = object.member_path(&name);
        let input = super::CountingReader::new(d);
        let consumed = input.counter();
        let decoder = bzip2::read::MultiBzDecoder::new(input);
        let (data, outcome) = out.budget.read_to_end_with(decoder, consumed, &path);
        if outcome == ReadOutcome::Corrupt {
            out.budget.note(
                UncheckedReason::Undecodable,
                &path,
                "corrupt or truncated bzip2 stream",
            );
        }
        out.emit(object, &name, data);
    }
}
