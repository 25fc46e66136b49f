//! The read-only view of a normalized message that the text stages (rules, Bayes) consume.

use crate::envelope::Envelope;
use crate::mime::header::HeaderField;
use crate::object::{Object, Origin};

/// A normalized message: its raw bytes, top-level header fields, every object, the envelope.
#[derive(Debug, Clone, Copy)]
pub struct MessageView<'v, 'a> {
    /// The pristine message (`full` rules).
    pub raw: &'a [u8],
    /// The top-level header fields in order.
    pub headers: &'v [HeaderField],
    /// Every object, the message itself first.
    pub objects: &'v [Object<'a>],
    /// The SMTP envelope.
    pub envelope: &'v Envelope,
    /// The Bayes spam probability, computed once per message (`None`: Bayes off or not
    /// trained enough). `check_bayes` rules read it.
    pub bayes: Option<f64>,
}

impl<'v, 'a> MessageView<'v, 'a> {
    /// Header fields named `name` (case-insensitive), in order.
    pub fn header(&self, name: &'v str) -> impl Iterator<Item = &'v HeaderField> + 'v {
        self.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
    }

    /// The text parts that make the message body: `text/*` MIME leaves (also those of attached
    /// messages), preamble and epilogue text; never archive members.
    pub fn body_objects(&self) -> impl Iterator<Item = &'v Object<'a>> + 'v {
        self.objects
            .iter()
            .filter(|o| o.is_text() && o.origin != Origin::Message)
    }
}
