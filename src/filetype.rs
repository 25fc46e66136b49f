//! File type detection by content (magic bytes), independent of names and declared types.

use serde::Serialize;

/// A file type recognised from content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FileType {
    /// Nothing recognised.
    Unknown,
    /// Plain text (mostly printable bytes).
    Text,
    /// HTML.
    Html,
    /// An RFC 822 message.
    Mail,
    /// ZIP archive (not OOXML/ODF).
    Zip,
    /// gzip stream.
    Gzip,
    /// bzip2 stream.
    Bzip2,
    /// xz stream.
    Xz,
    /// tar archive (ustar, GNU or pax).
    Tar,
    /// 7-Zip archive.
    SevenZip,
    /// RAR archive.
    Rar,
    /// Microsoft Cabinet.
    Cab,
    /// A disk image: ISO 9660 (`CD001` at sector 16) or UDF (`BEA01`, `NSR0x`).
    Iso,
    /// TNEF (winmail.dat).
    Tnef,
    /// OLE2 compound document (MS Office 97-2003).
    Ole2,
    /// Office Open XML (docx, xlsx, pptx): zip-based.
    Ooxml,
    /// OpenDocument: zip-based.
    Odf,
    /// PDF.
    Pdf,
    /// Windows PE executable.
    Pe,
    /// DOS MZ executable without a PE header.
    DosExe,
    /// ELF executable.
    Elf,
    /// Mach-O executable.
    MachO,
    /// Script starting with `#!`.
    Script,
    /// An image (PNG, GIF, JPEG, BMP, TIFF, ICO).
    Image,
}

impl FileType {
    /// The short name used in paths, reports and banned-content rules (`zip`, `pe`, ...).
    pub fn name(self) -> &'static str {
        match self {
            FileType::Unknown => "unknown",
            FileType::Text => "text",
            FileType::Html => "html",
            FileType::Mail => "mail",
            FileType::Zip => "zip",
            FileType::Gzip => "gzip",
            FileType::Bzip2 => "bzip2",
            FileType::Xz => "xz",
            FileType::Tar => "tar",
            FileType::SevenZip => "7z",
            FileType::Rar => "rar",
            FileType::Cab => "cab",
            FileType::Iso => "iso",
            FileType::Tnef => "tnef",
            FileType::Ole2 => "ole2",
            FileType::Ooxml => "ooxml",
            FileType::Odf => "odf",
            FileType::Pdf => "pdf",
            FileType::Pe => "pe",
            FileType::DosExe => "dos-exe",
            FileType::Elf => "elf",
            FileType::MachO => "macho",
            FileType::Script => "script",
            FileType::Image => "image",
        }
    }

    /// Whether the type is a native executable.
    pub fn is_executable(self) -> bool {
        matches!(
            self,
            FileType::Pe | FileType::DosExe | FileType::Elf | FileType::MachO
        )
    }
}

impl std::fmt::Display for FileType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Detects the type of `data` from its content: magic numbers first, then structural checks
/// (a tar header's checksum, a PE header behind the DOS stub, the members of a zip), then
/// textual formats (mail header, HTML, script, text).
///
/// Never looks further than needed: zip-based formats are told apart by searching the bytes
/// for their marker members, everything else reads at most the first few KiB.
pub fn detect(data: &[u8]) -> FileType {
    let starts = |magic: &[u8]| data.starts_with(magic);
    // First: the first 32 KiB of an image are free for anything (boot code, a second
    // format's header), and Windows mounts it as an image whatever they hold.
    if is_disk_image(data) {
        return FileType::Iso;
    }
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") || starts(b"PK\x07\x08") {
        return zip_flavour(data);
    }
    if starts(b"\x1f\x8b\x08") {
        return FileType::Gzip;
    }
    if starts(b"BZh")
        && data.len() >= 10
        && (b'1'..=b'9').contains(&data[3])
        && (data[4..10] == *b"1AY&SY" || data[4..10] == *b"\x17rE8P\x90")
    {
        return FileType::Bzip2;
    }
    if starts(b"\xfd7zXZ\x00") {
        return FileType::Xz;
    }
    if starts(b"7z\xbc\xaf\x27\x1c") {
        return FileType::SevenZip;
    }
    if starts(b"Rar!\x1a\x07\x00") || starts(b"Rar!\x1a\x07\x01\x00") {
        return FileType::Rar;
    }
    if starts(b"MSCF\x00\x00\x00\x00") {
        return FileType::Cab;
    }
    if starts(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") {
        return FileType::Ole2;
    }
    if starts(b"\x78\x9f\x3e\x22") {
        return FileType::Tnef;
    }
    if starts(b"MZ") {
        return mz_flavour(data);
    }
    if starts(b"\x7fELF") {
        return FileType::Elf;
    }
    if is_macho(data) {
        return FileType::MachO;
    }
    if is_image(data) {
        return FileType::Image;
    }
    if memchr::memmem::find(&data[..data.len().min(1024)], b"%PDF-").is_some() {
        return FileType::Pdf;
    }
    if is_tar(data) {
        return FileType::Tar;
    }
    if starts(b"#!") {
        return FileType::Script;
    }
    if is_mail(data) {
        return FileType::Mail;
    }
    if is_html(data) {
        return FileType::Html;
    }
    if is_text(data) {
        return FileType::Text;
    }
    FileType::Unknown
}

/// Zip, OOXML or ODF. ODF stores an uncompressed `mimetype` member first; OOXML always has
/// `[Content_Types].xml` and a `word/`, `xl/` or `ppt/` tree (the central directory at the end
/// names them all).
fn zip_flavour(data: &[u8]) -> FileType {
    if data.len() > 38 && data[26..30] == [8, 0, 0, 0] && &data[30..38] == b"mimetype" {
        // Stored member: the content follows the name (no extra field in ODF writers, but
        // honour its length anyway).
        let extra = u16::from_le_bytes([data[28], data[29]]) as usize;
        let start = 38 + extra;
        if data.len() > start && data[start..].starts_with(b"application/vnd.oasis.opendocument") {
            return FileType::Odf;
        }
    }
    let find = |needle: &[u8]| memchr::memmem::find(data, needle).is_some();
    if find(b"[Content_Types].xml") && (find(b"word/") || find(b"xl/") || find(b"ppt/")) {
        return FileType::Ooxml;
    }
    FileType::Zip
}

/// A volume descriptor at sector 16 (byte 32,768): ISO 9660's `CD001` or the start of
/// UDF's volume recognition sequence.
fn is_disk_image(data: &[u8]) -> bool {
    matches!(
        data.get(0x8001..0x8006),
        Some(b"CD001" | b"BEA01" | b"NSR02" | b"NSR03")
    )
}

/// A PE file when `e_lfanew` (at 0x3c) points to `PE\0\0`, otherwise a DOS executable.
fn mz_flavour(data: &[u8]) -> FileType {
    if data.len() >= 0x40 {
        let e_lfanew =
            u32::from_le_bytes([data[0x3c], data[0x3d], data[0x3e], data[0x3f]]) as usize;
        if e_lfanew
            .checked_add(4)
            .is_some_and(|end| end <= data.len() && data[e_lfanew..end] == *b"PE\0\0")
        {
            return FileType::Pe;
        }
    }
    FileType::DosExe
}

/// Mach-O, 32 and 64 bit, either byte order, and universal ("fat") binaries. A fat header
/// shares `CAFEBABE` with Java class files; the architecture count (small) tells them apart
/// from a class file's version (45 or more).
fn is_macho(data: &[u8]) -> bool {
    if data.len() < 8 {
        return false;
    }
    let magic = [data[0], data[1], data[2], data[3]];
    match magic {
        [0xfe, 0xed, 0xfa, 0xce]
        | [0xfe, 0xed, 0xfa, 0xcf]
        | [0xce, 0xfa, 0xed, 0xfe]
        | [0xcf, 0xfa, 0xed, 0xfe] => true,
        [0xca, 0xfe, 0xba, 0xbe] | [0xca, 0xfe, 0xba, 0xbf] => {
            let n = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
            (1..45).contains(&n)
        }
        _ => false,
    }
}

fn is_image(data: &[u8]) -> bool {
    let starts = |magic: &[u8]| data.starts_with(magic);
    starts(b"\x89PNG\r\n\x1a\n")
        || starts(b"GIF87a")
        || starts(b"GIF89a")
        || starts(b"\xff\xd8\xff")
        || starts(b"II*\x00")
        || starts(b"MM\x00*")
        || (starts(b"RIFF") && data.len() >= 12 && &data[8..12] == b"WEBP")
        // BMP: "BM", then reserved zero words at 6..10 and a header size of 12..=124.
        || (starts(b"BM")
            && data.len() >= 18
            && data[6..10] == [0, 0, 0, 0]
            && (12..=124).contains(&u32::from_le_bytes([data[14], data[15], data[16], data[17]])))
        // ICO: reserved 0, type 1, 1..=255 images, each entry's reserved byte zero.
        || (starts(b"\x00\x00\x01\x00")
            && data.len() >= 22
            && data[4] > 0
            && data[5] == 0
            && data[9] == 0)
}

/// A tar header: `ustar` magic (POSIX ustar and pax: `ustar\0`, GNU: `ustar  \0`) or, for old
/// v7 archives without magic, a header whose checksum field matches its bytes.
fn is_tar(data: &[u8]) -> bool {
    if data.len() < 512 {
        return false;
    }
    let header = &data[..512];
    if &header[257..262] == b"ustar" {
        return true;
    }
    // v7: a non-empty name, then a valid octal checksum over the header with the checksum
    // field read as spaces.
    if header[0] == 0 {
        return false;
    }
    let Some(stored) = parse_octal(&header[148..156]) else {
        return false;
    };
    let sum: u64 = header
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    stored == sum
}

/// Parses a tar octal field (leading spaces, digits, then NUL or space).
pub(crate) fn parse_octal(field: &[u8]) -> Option<u64> {
    let s = field
        .iter()
        .skip_while(|&&b| b == b' ')
        .take_while(|&&b| b != 0 && b != b' ');
    let mut value: u64 = 0;
    let mut digits = 0;
    for &b in s {
        if !(b'0'..=b'7').contains(&b) {
            return None;
        }
        value = value.checked_mul(8)?.checked_add(u64::from(b - b'0'))?;
        digits += 1;
    }
    (digits > 0).then_some(value)
}

/// Header fields that start a mail message (as opposed to a bare MIME part header).
const MAIL_FIELDS: &[&str] = &[
    "received",
    "from",
    "return-path",
    "message-id",
    "mime-version",
    "date",
    "subject",
    "to",
    "cc",
    "delivered-to",
    "reply-to",
    "sender",
    "x-mailer",
    "dkim-signature",
    "authentication-results",
    "x-original-to",
];

/// An RFC 822 message: an mbox `From ` line, or a header block of field lines (continuations
/// allowed) of which at least one is a message field, ended by an empty line or the data.
fn is_mail(data: &[u8]) -> bool {
    let head = &data[..data.len().min(8192)];
    if head.starts_with(b"From ") && head.contains(&b'\n') {
        return true;
    }
    let mut fields = 0;
    let mut known = false;
    for line in head.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if fields == 0 {
                return false;
            }
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            // A truncated last line inside the sniffed window is fine; anything else is not
            // a header.
            return fields >= 2 && known && line.len() + 1 >= head.len();
        };
        let name = &line[..colon];
        if name.is_empty() || !name.iter().all(|&b| b.is_ascii_graphic() && b != b':') {
            return false;
        }
        fields += 1;
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        known |= MAIL_FIELDS.contains(&name.as_str());
    }
    known && fields >= 1 && (fields >= 2 || head.len() < data.len() || data.len() < 8192)
}

/// HTML: the start (after a BOM and white space) is a tag HTML documents start with, or an
/// `<html` tag appears in the first KiB.
fn is_html(data: &[u8]) -> bool {
    let head = &data[..data.len().min(1024)];
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let lower = head[start..].to_ascii_lowercase();
    const STARTS: &[&[u8]] = &[
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<body",
        b"<script",
        b"<iframe",
        b"<meta",
        b"<title",
    ];
    STARTS.iter().any(|s| lower.starts_with(s)) || memchr::memmem::find(&lower, b"<html").is_some()
}

/// Text: no NUL bytes and at most 5% control bytes in the first 4 KiB (bytes >= 0x80 count as
/// text, so UTF-8 and 8-bit charsets pass).
fn is_text(data: &[u8]) -> bool {
    let head = &data[..data.len().min(4096)];
    if head.is_empty() || head.contains(&0) {
        return false;
    }
    let control = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c | 0x1b))
        .count();
    control * 20 <= head.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_header(name: &[u8], magic: &[u8]) -> Vec<u8> {
        let mut h = vec![0u8; 1024];
        h[..name.len()].copy_from_slice(name);
        h[100..107].copy_from_slice(b"0000644");
        h[124..135].copy_from_slice(b"00000000000");
        h[156] = b'0';
        h[257..257 + magic.len()].copy_from_slice(magic);
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h[..512].iter().map(|&b| u32::from(b)).sum();
        let field = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(field.as_bytes());
        h
    }

    fn mz(pe: bool) -> Vec<u8> {
        let mut d = vec![0u8; 0x100];
        d[..2].copy_from_slice(b"MZ");
        d[0x3c] = 0x80;
        if pe {
            d[0x80..0x84].copy_from_slice(b"PE\0\0");
        }
        d
    }

    fn local_header(name: &[u8], content: &[u8]) -> Vec<u8> {
        let mut d = b"PK\x03\x04".to_vec();
        d.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        d.extend_from_slice(&(content.len() as u32).to_le_bytes());
        d.extend_from_slice(&(content.len() as u32).to_le_bytes());
        d.extend_from_slice(&(name.len() as u16).to_le_bytes());
        d.extend_from_slice(&[0, 0]);
        d.extend_from_slice(name);
        d.extend_from_slice(content);
        d
    }

    #[test]
    fn archives_and_streams() {
        assert_eq!(detect(&local_header(b"a.txt", b"hi")), FileType::Zip);
        assert_eq!(
            detect(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"),
            FileType::Zip
        );
        assert_eq!(detect(b"\x1f\x8b\x08\0\0\0\0\0\0\x03"), FileType::Gzip);
        assert_eq!(detect(b"BZh91AY&SY\0\0"), FileType::Bzip2);
        assert_eq!(detect(b"BZh9\x17rE8P\x90\0\0\0\0"), FileType::Bzip2);
        assert_eq!(detect(b"BZh9 not bzip2"), FileType::Text);
        assert_eq!(detect(b"\xfd7zXZ\0\0\x04"), FileType::Xz);
        assert_eq!(detect(b"7z\xbc\xaf\x27\x1c\0\x04"), FileType::SevenZip);
        assert_eq!(detect(b"Rar!\x1a\x07\x00\xcf"), FileType::Rar);
        assert_eq!(detect(b"Rar!\x1a\x07\x01\x00\x33"), FileType::Rar);
        assert_eq!(detect(b"MSCF\0\0\0\0\x10\0"), FileType::Cab);
        assert_eq!(detect(b"\x78\x9f\x3e\x22\x01\0"), FileType::Tnef);
    }

    #[test]
    fn tar_variants() {
        assert_eq!(detect(&tar_header(b"a.txt", b"ustar\x0000")), FileType::Tar);
        assert_eq!(detect(&tar_header(b"a.txt", b"ustar  \0")), FileType::Tar);
        // v7: no magic, only the checksum says it is tar.
        assert_eq!(detect(&tar_header(b"a.txt", b"")), FileType::Tar);
        let mut broken = tar_header(b"a.txt", b"");
        broken[0] = b'b';
        assert_ne!(detect(&broken), FileType::Tar);
        assert_eq!(parse_octal(b"  0644\0"), Some(0o644));
        assert_eq!(parse_octal(b"9"), None);
    }

    #[test]
    fn office_documents() {
        let mut ooxml = local_header(b"[Content_Types].xml", b"<Types/>");
        ooxml.extend(local_header(b"word/document.xml", b"<w/>"));
        assert_eq!(detect(&ooxml), FileType::Ooxml);
        let odf = local_header(b"mimetype", b"application/vnd.oasis.opendocument.text");
        assert_eq!(detect(&odf), FileType::Odf);
        let not_odf = local_header(b"mimetype", b"text/plain");
        assert_eq!(detect(&not_odf), FileType::Zip);
        assert_eq!(
            detect(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0"),
            FileType::Ole2
        );
        assert_eq!(detect(b"%PDF-1.7\n"), FileType::Pdf);
        assert_eq!(detect(b"\r\n\r\n%PDF-1.4\n"), FileType::Pdf);
    }

    #[test]
    fn executables() {
        assert_eq!(detect(&mz(true)), FileType::Pe);
        assert_eq!(detect(&mz(false)), FileType::DosExe);
        let mut lfanew_past_end = mz(false);
        lfanew_past_end[0x3c..0x40].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(detect(&lfanew_past_end), FileType::DosExe);
        assert_eq!(detect(b"MZ"), FileType::DosExe);
        assert_eq!(detect(b"\x7fELF\x02\x01\x01"), FileType::Elf);
        for magic in [
            b"\xfe\xed\xfa\xce",
            b"\xfe\xed\xfa\xcf",
            b"\xce\xfa\xed\xfe",
            b"\xcf\xfa\xed\xfe",
        ] {
            let mut d = magic.to_vec();
            d.extend_from_slice(&[7, 0, 0, 1]);
            assert_eq!(detect(&d), FileType::MachO);
        }
        assert_eq!(detect(b"\xca\xfe\xba\xbe\0\0\0\x02"), FileType::MachO);
        assert_eq!(detect(b"\xca\xfe\xba\xbf\0\0\0\x01"), FileType::MachO);
        // A Java class file (version 52) is not Mach-O.
        assert_ne!(detect(b"\xca\xfe\xba\xbe\0\0\0\x34"), FileType::MachO);
        assert_eq!(detect(b"#!/bin/sh\nrm -rf /\n"), FileType::Script);
        assert!(FileType::Pe.is_executable());
    }

    #[test]
    fn images() {
        assert_eq!(detect(b"\x89PNG\r\n\x1a\n\0\0"), FileType::Image);
        assert_eq!(detect(b"GIF89a\x01\0"), FileType::Image);
        assert_eq!(detect(b"\xff\xd8\xff\xe0\0\x10JFIF"), FileType::Image);
        assert_eq!(detect(b"II*\0\x08\0\0\0"), FileType::Image);
        assert_eq!(detect(b"RIFF\0\0\0\0WEBPVP8 "), FileType::Image);
        let mut bmp = b"BM\x46\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0".to_vec();
        bmp.extend_from_slice(&[0; 8]);
        assert_eq!(detect(&bmp), FileType::Image);
        let ico = b"\0\0\x01\0\x01\0\x10\x10\0\0\x01\0\x20\0\0\0\0\0\0\0\0\0";
        assert_eq!(detect(ico), FileType::Image);
    }

    #[test]
    fn text_formats() {
        assert_eq!(
            detect(b"Received: from x\r\n\tby y\r\nSubject: hi\r\n\r\nbody"),
            FileType::Mail
        );
        assert_eq!(
            detect(b"Return-Path: <a@b>\nFrom: a@b\n\nx"),
            FileType::Mail
        );
        assert_eq!(
            detect(b"From a@b Sat Jan  1 00:00:00 2000\nX: y\n"),
            FileType::Mail
        );
        // A MIME part header alone is not a message.
        assert_eq!(detect(b"Content-Type: text/plain\n\nhello"), FileType::Text);
        assert_eq!(detect(b"Dear Sir: hello\nthis is text\n"), FileType::Text);
        assert_eq!(detect(b"\xef\xbb\xbf  <!DOCTYPE html><p>x"), FileType::Html);
        assert_eq!(detect(b"<HTML><body>x</body></HTML>"), FileType::Html);
        assert_eq!(detect(b"hello world\n"), FileType::Text);
        assert_eq!(detect("gr\u{fc}\u{df}e\n".as_bytes()), FileType::Text);
        assert_eq!(detect(b"\0\x01\x02\x03"), FileType::Unknown);
        assert_eq!(detect(b""), FileType::Unknown);
    }
}
