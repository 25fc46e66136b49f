//! MIME normalization: walk every part of every nesting level and produce decoded objects,
//! reporting every anomaly, and read ambiguous messages every way a mail client might.
//!
//! Field values (Content-Type and Content-Disposition parameters, RFC 2231 continuations,
//! RFC 2047 words, charsets) are parsed by mail-parser. The structure (where headers end, which
//! lines are boundaries, what lies in preamble and epilogue) is walked here, because that is
//! where readers disagree: a [`Reading`] fixes each choice, and the engine walks the message
//! once per reading that its anomalies make relevant, keeping every object that any reading
//! produces.

pub mod blocks;
pub mod charset;
pub mod decode;
pub mod entities;
pub mod header;
pub mod html;
pub mod walk;

pub use walk::{Reading, walk};

/// The one mail-parser configuration used for field values (building it allocates a table,
/// so it is built once).
pub(crate) fn field_parser() -> &'static mail_parser::MessageParser {
    static PARSER: std::sync::OnceLock<mail_parser::MessageParser> = std::sync::OnceLock::new();
    PARSER.get_or_init(mail_parser::MessageParser::new)
}
