//! Containers mailwarden recognises but does not open: rar.
//!
//! With the policy's `unsupported_formats_unchecked` set, each one is UNCHECKED
//! `unsupported_format` (amavisd-new holds what it cannot decode the same way). Otherwise nothing
//! is reported beyond the object itself: the report's object list names the detected type
//! (`rar`) so an administrator still sees it, and banned-content rules can match it.

use super::{Unpack, Unpacker};
use crate::object::Object;
use crate::report::UncheckedReason;

/// The unpacker for recognised-but-unsupported container formats.
pub struct Unsupported;

impl Unpacker for Unsupported {
    fn name(&self) -> &'static str {
        "unsupported"
    }

    fn unpack(&self, object: &Object<'_>, out: &mut Unpack<'_>) {
        if out.unsupported_unchecked {
            let path = if object.path.is_empty() {
                object.detected.name().to_string()
            } else {
                object.path.clone()
            };
            out.budget.note(
                UncheckedReason::UnsupportedFormat,
                &path,
                format!("{} archives are not unpacked", object.detected.name()),
            );
        }
    }
}
