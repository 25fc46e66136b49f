//! Objects: the things a scan looks at.
//!
//! Every piece of content the pipeline produces (the message itself, each MIME part, a uuencoded
//! block, a `data:` URI, an archive member) is one [`Object`]: its decoded bytes, where it came
//! from, what it claims to be and what it really is. Objects live in one flat list per scan
//! ([`ObjectId`] indexes it); the tree is kept through `parent`.

use crate::filetype::FileType;
use serde::Serialize;
use std::borrow::Cow;

/// Index of an object in a scan's object list.
pub type ObjectId = usize;

/// How an object was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Origin {
    /// The whole message (always object 0).
    Message,
    /// A MIME leaf part, body decoded from its transfer encoding.
    MimePart,
    /// Text before the first boundary of a multipart.
    Preamble,
    /// Text after the closing boundary of a multipart.
    Epilogue,
    /// A part seen only under an alternative reading of an ambiguous message.
    AlternateReading,
    /// A `begin 644 name` block inside a text part.
    Uuencode,
    /// A `=ybegin` block inside a text part.
    Yenc,
    /// A BinHex 4.0 block inside a text part.
    BinHex,
    /// A `data:` URI inside an HTML part.
    DataUri,
    /// A member of an archive or compressed stream.
    ArchiveMember,
    /// A message embedded in another (message/rfc822, a `.eml` member).
    EmbeddedMessage,
}

/// One thing that was scanned.
#[derive(Debug, Clone)]
pub struct Object<'a> {
    /// Path from the message root, e.g. `2/1 invoice.zip/docs/readme.exe`: MIME part numbers as
    /// IMAP numbers them, then a space, then archive member names joined by `/`.
    pub path: String,
    /// The object this one was found in (`None` for the message itself).
    pub parent: Option<ObjectId>,
    /// Nesting depth: 0 for the message; each MIME level or container adds one.
    pub depth: u32,
    /// How the object was found.
    pub origin: Origin,
    /// The declared file name (decoded from RFC 2047/2231, or the archive member name).
    pub name: Option<String>,
    /// Other names a reader may show for the object: a Content-Type `name` beside the
    /// Content-Disposition `filename`, a repeated parameter, a name cut at its first NUL or
    /// with its blanks removed (`a.\r\n exe`). Banned-name rules test each.
    pub other_names: Vec<String>,
    /// The declared MIME type, lowercase (`application/zip`).
    pub declared_type: Option<String>,
    /// The declared charset of a text part, lowercase.
    pub charset: Option<String>,
    /// The type detected from the content.
    pub detected: FileType,
    /// The decoded bytes: borrowed from the message where no decoding changed them.
    pub data: Cow<'a, [u8]>,
    /// A MIME part's body as the message holds it, when a base64 or quoted-printable
    /// Content-Transfer-Encoding was undone to make `data`; `None` otherwise, and for the
    /// parts of a message that was itself decoded.
    pub encoded: Option<Encoded<'a>>,
}

/// A MIME part's body before its Content-Transfer-Encoding was undone.
#[derive(Debug, Clone, Copy)]
pub struct Encoded<'a> {
    /// The encoding.
    pub encoding: crate::mime::decode::TransferEncoding,
    /// The body lines as they stand in the message.
    pub body: &'a [u8],
}

impl<'a> Object<'a> {
    /// An object holding `data`, found as `origin` at `path`: no parent, depth 0, no
    /// declared name, type or charset, no encoded form, its type detected from the content.
    /// Set the rest with struct update syntax, which keeps compiling when fields are added:
    ///
    /// ```
    /// use mailwarden::object::{Object, Origin};
    /// let o = Object {
    ///     depth: 1,
    ///     name: Some("invoice.zip".into()),
    ///     ..Object::new("2", Origin::MimePart, &b"PK\x03\x04"[..])
    /// };
    /// assert_eq!(o.detected, mailwarden::filetype::FileType::Zip);
    /// ```
    pub fn new(path: impl Into<String>, origin: Origin, data: impl Into<Cow<'a, [u8]>>) -> Self {
        let data = data.into();
        Object {
            path: path.into(),
            parent: None,
            depth: 0,
            origin,
            name: None,
            other_names: Vec::new(),
            declared_type: None,
            charset: None,
            detected: crate::filetype::detect(&data),
            data,
            encoded: None,
        }
    }

    /// Whether this is a `text/*` MIME part (or preamble/epilogue text).
    pub fn is_text(&self) -> bool {
        match self.origin {
            Origin::Preamble | Origin::Epilogue => true,
            Origin::MimePart | Origin::AlternateReading => self
                .declared_type
                .as_deref()
                .is_none_or(|t| t.starts_with("text/")),
            _ => false,
        }
    }

    /// Whether this is an HTML part.
    pub fn is_html(&self) -> bool {
        self.declared_type.as_deref() == Some("text/html")
    }

    /// The path a child of this object gets: MIME children are numbered below their parent
    /// (`2` -> `2/1`); members of a container are named after it
    /// (`2/1` named `invoice.zip` -> `2/1 invoice.zip/docs/readme.exe`).
    pub fn member_path(&self, member: &str) -> String {
        let member = member.trim_start_matches('/');
        if self.path.contains(' ') {
            format!("{}/{member}", self.path)
        } else {
            let container = self.name.as_deref().unwrap_or_else(|| self.detected.name());
            if self.path.is_empty() {
                format!("{container}/{member}")
            } else {
                format!("{} {container}/{member}", self.path)
            }
        }
    }

    /// The path of MIME part number `n` (1-based) below this object.
    pub fn part_path(&self, n: usize) -> String {
        if self.path.is_empty() {
            n.to_string()
        } else {
            format!("{}/{n}", self.path)
        }
    }

    /// The object's text converted to UTF-8 using its declared charset (lossy for bytes the
    /// charset cannot map).
    pub fn text(&self) -> String {
        crate::mime::charset::to_utf8(&self.data, self.charset.as_deref())
    }
}

/// What a report tells about an object: everything but its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectInfo {
    /// Path from the message root.
    pub path: String,
    /// How it was found.
    pub origin: Origin,
    /// Declared name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Other names readers may show for it ([`Object::other_names`]), each checked by the
    /// banned rules too.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_names: Vec<String>,
    /// Declared MIME type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_type: Option<String>,
    /// Detected type.
    pub detected: FileType,
    /// Decoded size in bytes.
    pub size: usize,
    /// Nesting depth.
    pub depth: u32,
}

impl From<&Object<'_>> for ObjectInfo {
    fn from(o: &Object<'_>) -> Self {
        ObjectInfo {
            path: o.path.clone(),
            origin: o.origin,
            name: o.name.clone(),
            other_names: o.other_names.clone(),
            declared_type: o.declared_type.clone(),
            detected: o.detected,
            size: o.data.len(),
            depth: o.depth,
        }
    }
}
