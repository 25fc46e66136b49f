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

/// Detects the type of `data` from its first bytes.
pub fn detect(data: &[u8]) -> FileType {
    let starts = |magic: &[u8]| data.starts_with(magic);
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        return FileType::Zip;
    }
    if starts(b"\x1f\x8b") {
        return FileType::Gzip;
    }
    if starts(b"BZh") && data.len() > 3 && (b'1'..=b'9').contains(&data[3]) {
        return FileType::Bzip2;
    }
    if starts(b"MZ") {
        return FileType::DosExe;
    }
    if starts(b"\x7fELF") {
        return FileType::Elf;
    }
    if starts(b"%PDF-") {
        return FileType::Pdf;
    }
    if data.len() >= 262 && &data[257..262] == b"ustar" {
        return FileType::Tar;
    }
    if starts(b"#!") {
        return FileType::Script;
    }
    FileType::Unknown
}
