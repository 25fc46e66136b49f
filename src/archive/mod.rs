//! Containers: archives, compressed streams and embedded messages, unpacked under one
//! [`Budget`] per scan.
//!
//! Each format is one [`Unpacker`]; [`unpacker_for`] dispatches on the type detected from
//! content. Unpackers emit child objects through an [`Unpack`] context that charges the budget
//! as bytes are produced.
//!
//! | format | unpacked | notes |
//! |---|---|---|
//! | zip, OOXML, ODF | yes | stored, deflate, deflate64, bzip2; zip64; see `zip.rs` for the hostile cases |
//! | a zip at the end of other data (self-extractors, a zip appended to an image or to another archive) | yes | whatever the detected type (besides that type's own unpacking), when the end record finds its central directory |
//! | gzip | yes | every member; name from the header |
//! | bzip2 | yes | concatenated streams |
//! | tar | yes | ustar, GNU, pax, v7 |
//! | TNEF (`winmail.dat`) | yes | attachment data, named by its long file name (MAPI properties) and title |
//! | message/rfc822, `.eml` members | yes | walked by the engine as mail |
//! | 7z | yes | LZMA, LZMA2, PPMd, bzip2, BCJ filters; AES-256 entries UNCHECKED `encrypted`; see `sevenz.rs` |
//! | xz | yes | every stream; decoder memory capped |
//! | cab | yes | stored, MSZIP, LZX; Quantum and files spanning cabinets UNCHECKED `undecodable`; see `cab.rs` |
//! | ISO 9660 disk images (`.iso`, `.img`) | yes | primary and Joliet trees, both walked; UDF-only images recognised only; see `iso.rs` |
//! | rar (1.5-4, 5) | names only; stored members extracted | compression not decoded: compressed members emitted empty (their names count), UNCHECKED `unsupported_format` with the policy's `unsupported_formats_unchecked`; encrypted members and headers UNCHECKED `encrypted`; see `rar.rs` |
//!
//! Limits (see [`Limits`]) and their amavisd-new equivalents: `max_levels` ($MAXLEVELS),
//! `max_files` ($MAXFILES), the expansion quota `min_quota`/`min_factor`/`max_quota`/`max_factor`
//! ($MIN_EXPANSION_QUOTA, $MIN_EXPANSION_FACTOR, $MAX_EXPANSION_QUOTA, $MAX_EXPANSION_FACTOR);
//! `max_object_size`, `max_ratio` (charged against the compressed bytes a decoder has consumed so
//! far) and `max_time_ms` have no amavisd-new counterpart (ClamAV's MaxFileSize, the
//! compression-ratio heuristics, and MaxScanTime are the nearest).

pub mod banned;
pub mod budget;
mod bzip2;
mod cab;
mod gzip;
mod iso;
mod rar;
mod sevenz;
mod tar;
mod tnef;
mod xz;
mod zip;

pub use budget::{Budget, CountingReader, Limits, ReadOutcome};

use crate::filetype::FileType;
use crate::object::{Object, Origin};
use crate::report::Finding;
use std::borrow::Cow;

/// Where an unpacker puts what it finds.
pub struct Unpack<'b> {
    /// The scan's budget; charge every decompressed byte to it.
    pub budget: &'b mut Budget,
    /// Children found so far.
    pub children: Vec<Object<'static>>,
    /// Findings (anomalies, unchecked members) other than budget limits.
    pub findings: Vec<Finding>,
    /// Whether content in a recognised format that is not decoded (compressed RAR members,
    /// UDF-only disk images) is reported as unchecked
    /// (the policy's `unsupported_formats_unchecked`).
    pub unsupported_unchecked: bool,
}

impl Unpack<'_> {
    /// Adds a child of `parent` (the engine links `parent` when it takes the children) named `member` with decompressed `data`. Returns false when the
    /// object budget (`max_files`) is exhausted and the unpacker must stop.
    pub fn emit(&mut self, parent: &Object<'_>, member: &str, data: Vec<u8>) -> bool {
        self.emit_named(parent, member, Vec::new(), data)
    }

    /// [`Unpack::emit`] for a member that other readers extract under other names too
    /// ([`Object::other_names`]: banned-name rules test each).
    pub fn emit_named(
        &mut self,
        parent: &Object<'_>,
        member: &str,
        other_names: Vec<String>,
        data: Vec<u8>,
    ) -> bool {
        let path = parent.member_path(member);
        if !self.budget.add_object(&path) {
            return false;
        }
        let detected = crate::filetype::detect(&data);
        let origin = if detected == FileType::Mail {
            Origin::EmbeddedMessage
        } else {
            Origin::ArchiveMember
        };
        self.children.push(Object {
            path,
            parent: None,
            depth: parent.depth + 1,
            origin,
            name: Some(member.to_string()),
            other_names,
            declared_type: None,
            charset: None,
            detected,
            data: Cow::Owned(data),
            encoded: None,
        });
        true
    }
}

/// One container format.
pub trait Unpacker: Send + Sync {
    /// The format's name (`zip`, `gzip`, ...).
    fn name(&self) -> &'static str;
    /// Unpacks `object`, emitting children and findings into `out`. Never panics on hostile
    /// input: corrupt data ends the unpacking with a finding.
    fn unpack(&self, object: &Object<'_>, out: &mut Unpack<'_>);
}

/// The unpacker for a detected type, if that type is a container mailwarden opens (or
/// recognises without decoding everything: see the table above).
///
/// OOXML and ODF documents are zips and are unpacked as such, so a payload inside a document
/// is found.
pub fn unpacker_for(detected: FileType) -> Option<&'static dyn Unpacker> {
    match detected {
        FileType::Zip | FileType::Ooxml | FileType::Odf => Some(&zip::ZipUnpacker),
        FileType::Gzip => Some(&gzip::GzipUnpacker),
        FileType::Bzip2 => Some(&bzip2::Bzip2Unpacker),
        FileType::Tar => Some(&tar::TarUnpacker),
        FileType::Tnef => Some(&tnef::TnefUnpacker),
        FileType::SevenZip => Some(&sevenz::SevenZUnpacker),
        FileType::Xz => Some(&xz::XzUnpacker),
        FileType::Cab => Some(&cab::CabUnpacker),
        FileType::Iso => Some(&iso::IsoUnpacker),
        FileType::Rar => Some(&rar::RarUnpacker),
        _ => None,
    }
}

/// The unpacker for `object`: its detected type's ([`unpacker_for`]); for data that ends
/// with a zip (a self-extractor, a zip appended to an image or to another archive), the zip
/// unpacker as well, as unzip and ClamAV open such files whatever comes before.
pub fn unpacker_for_object(object: &Object<'_>) -> Option<&'static dyn Unpacker> {
    let zip_family = matches!(
        object.detected,
        FileType::Zip | FileType::Ooxml | FileType::Odf
    );
    let appended_zip =
        || !zip_family && object.detected != FileType::Mail && zip::ends_with_zip(&object.data);
    match unpacker_for(object.detected) {
        Some(_) if appended_zip() => Some(&AlsoZip),
        Some(u) => Some(u),
        None => appended_zip().then_some(&zip::ZipUnpacker as &dyn Unpacker),
    }
}

/// A container of another format with a zip at its end: both are unpacked (a polyglot that
/// each reader opens its own way).
struct AlsoZip;

impl Unpacker for AlsoZip {
    fn name(&self) -> &'static str {
        "container and appended zip"
    }

    fn unpack(&self, object: &Object<'_>, out: &mut Unpack<'_>) {
        if let Some(u) = unpacker_for(object.detected) {
            u.unpack(object, out);
        }
        if !out.budget.is_exhausted() {
            zip::ZipUnpacker.unpack(object, out);
        }
    }
}
