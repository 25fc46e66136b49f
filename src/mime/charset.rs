//! Charset conversion to UTF-8, on mail-parser's decoders.

/// Converts `data` in `charset` to UTF-8. Unknown charsets fall back to UTF-8 when the bytes are
/// valid UTF-8 and to Windows-1252 otherwise (what mail clients do with undeclared 8-bit text).
pub fn to_utf8(data: &[u8], charset: Option<&str>) -> String {
    if let Some(cs) = charset {
        let cs = cs.trim().to_ascii_lowercase();
        if cs != "utf-8"
            && cs != "utf8"
            && cs != "us-ascii"
            && cs != "ascii"
            && let Some(decode) =
                mail_parser::decoders::charsets::map::charset_decoder(cs.as_bytes())
        {
            return decode(data);
        }
    }
    match std::str::from_utf8(data) {
        Ok(s) => s.to_string(),
        Err(_) => match mail_parser::decoders::charsets::map::charset_decoder(b"windows-1252") {
            Some(decode) => decode(data),
            None => String::from_utf8_lossy(data).into_owned(),
        },
    }
}

/// Bytes Windows-1252 leaves undefined (Perl's Encode refuses them when decoding strictly).
const CP1252_UNDEFINED: [u8; 5] = [0x81, 0x8d, 0x8f, 0x90, 0x9d];

/// Whether every 8-bit byte of `data` is one SpamAssassin takes as a sign of Windows-1252:
/// NBSP, SHY, (c), some punctuation, and the Latin-1 letters (its bug 7656).
fn looks_cp1252(data: &[u8]) -> bool {
    data.iter().all(|&b| {
        b < 0x80
            || matches!(
                b,
                0xa0 | 0xa9 | 0xad | 0x82 | 0x84 | 0x85 | 0x91..=0x97 | 0x99
            )
            || (0xc0..=0xd6).contains(&b)
            || (0xd8..=0xde).contains(&b)
            || (0xe0..=0xf6).contains(&b)
            || (0xf8..=0xfe).contains(&b)
    })
}

/// Whether `data` is EUC-CN as Perl's Encode decodes it strictly: ASCII, and pairs of
/// bytes in GB2312's assigned rows (the symbol rows 0xA1-0xA9 have gaps, 0xAA-0xAF and
/// 0xF8-0xFE are empty, row 0xD7 ends at 0xF9).
fn gb2312_only(data: &[u8]) -> bool {
    let mut i = 0;
    while i < data.len() {
        let lead = data[i];
        if lead < 0x80 {
            i += 1;
            continue;
        }
        let Some(&trail) = data.get(i + 1) else {
            return false;
        };
        let rows: &[(u8, u8)] = match lead {
            0xa1 | 0xa3 | 0xb0..=0xd6 | 0xd8..=0xf7 => &[(0xa1, 0xfe)],
            0xa2 => &[(0xb1, 0xe2), (0xe5, 0xee), (0xf1, 0xfc)],
            0xa4 => &[(0xa1, 0xf3)],
            0xa5 => &[(0xa1, 0xf6)],
            0xa6 => &[(0xa1, 0xb8), (0xc1, 0xd8)],
            0xa7 => &[(0xa1, 0xc1), (0xd1, 0xf1)],
            0xa8 => &[(0xa1, 0xba), (0xc5, 0xe9)],
            0xa9 => &[(0xa4, 0xef)],
            0xd7 => &[(0xa1, 0xf9)],
            _ => &[],
        };
        if !rows.iter().any(|&(lo, hi)| (lo..=hi).contains(&trail)) {
            return false;
        }
        i += 2;
    }
    true
}

/// Windows-1252 to UTF-8; `None` when `strict` and a byte is undefined in it.
fn cp1252(data: &[u8], strict: bool) -> Option<Vec<u8>> {
    if strict && data.iter().any(|b| CP1252_UNDEFINED.contains(b)) {
        return None;
    }
    let mut out = String::with_capacity(data.len() + data.len() / 2);
    // Runs without an undefined byte decode as a whole (encoding_rs maps those five to C1
    // controls, where this gives U+FFFD for each).
    for (k, run) in data.split(|b| CP1252_UNDEFINED.contains(b)).enumerate() {
        if k > 0 {
            out.push(char::REPLACEMENT_CHARACTER);
        }
        let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(run);
        out.push_str(&text);
    }
    Some(out.into_bytes())
}

/// A UTF-16 decoder for text declared UTF-16 without saying which order: the byte order
/// mark, else the order whose high bytes are mostly zero (SpamAssassin's `detect_utf16`
/// looks at the same thing).
fn utf16_order(data: &[u8]) -> &'static encoding_rs::Encoding {
    match data {
        [0xff, 0xfe, ..] => encoding_rs::UTF_16LE,
        [0xfe, 0xff, ..] => encoding_rs::UTF_16BE,
        _ => {
            let zeros = |start: usize| {
                data.iter()
                    .skip(start)
                    .step_by(2)
                    .filter(|&&b| b == 0)
                    .count()
            };
            if zeros(0) > zeros(1) {
                encoding_rs::UTF_16BE
            } else {
                encoding_rs::UTF_16LE
            }
        }
    }
}

/// A text part's bytes as SpamAssassin 4's rules see them with `normalize_charset` on (its
/// default): UTF-8. As `Message::Node::_normalize` decides: 7-bit text in an ASCII-compatible
/// charset stays as it is; 8-bit text that is valid UTF-8 is taken as UTF-8 whatever the
/// declaration; otherwise the declared charset strictly (ISO-8859-1 read as Windows-1252, a
/// missing declaration as US-ASCII), then Windows-1252 when the 8-bit bytes look like it,
/// then Windows-1252 with replacement characters. (SpamAssassin also asks
/// Encode::Detect::Detector when that module is installed; Debian does not install it.)
pub fn spamassassin_normalize<'a>(
    data: &'a [u8],
    declared: Option<&str>,
) -> std::borrow::Cow<'a, [u8]> {
    use std::borrow::Cow;
    let declared =
        declared.map_or_else(|| "us-ascii".to_string(), |c| c.trim().to_ascii_lowercase());
    let eight_bit = data.iter().any(|&b| b >= 0x80);
    let ascii_compatible = |c: &str| {
        matches!(
            c,
            "us-ascii" | "ascii" | "ansi_x3.4-1968" | "ansi_x3.4-1986" | "iso646-us"
        ) || c.starts_with("iso-8859")
            || c.starts_with("iso8859")
            || c.starts_with("iso 8859")
            || c.starts_with("windows-")
            || matches!(c, "utf-8" | "utf8" | "big5" | "gbk" | "gb18030" | "gb2312")
            || c.starts_with("koi8-")
            || c.starts_with("euc-")
    };
    if !eight_bit && ascii_compatible(&declared) {
        return Cow::Borrowed(data);
    }
    if eight_bit && std::str::from_utf8(data).is_ok() {
        return Cow::Borrowed(data);
    }
    let strict = |enc: &'static encoding_rs::Encoding| {
        enc.decode_without_bom_handling_and_without_replacement(data)
            .map(|s| s.into_owned().into_bytes())
    };
    let decoded = match declared.as_str() {
        "us-ascii" | "ascii" | "utf-8" | "utf8" => None,
        "iso-8859-1" | "iso8859-1" | "windows-1252" | "cp1252" => cp1252(data, true),
        c if c.starts_with("utf-16") || c.starts_with("utf16") => {
            let enc = match c {
                "utf-16le" | "utf16le" => encoding_rs::UTF_16LE,
                "utf-16be" | "utf16be" => encoding_rs::UTF_16BE,
                _ => utf16_order(data),
            };
            // Strict: a malformed sequence (an unpaired surrogate) fails the decoding.
            let (text, malformed) = enc.decode_with_bom_removal(data);
            (!malformed).then(|| text.into_owned().into_bytes())
        }
        // Perl's Encode reads these labels as EUC-CN: GB2312 only, where encoding_rs reads
        // them as GBK and so accepts text SpamAssassin cannot decode (spam-1/00500: GBK
        // text declared GB2312, which SpamAssassin ends up reading as Windows-1252).
        "gb2312" | "euc-cn" | "euccn" | "gb_2312-80" => gb2312_only(data)
            .then(|| strict(encoding_rs::GBK))
            .flatten(),
        // Labels encoding_rs knows and Encode (without Encode::HanExtra) does not.
        "csgb2312" | "x-gbk" | "chinese" | "iso-ir-58" => None,
        c => encoding_rs::Encoding::for_label(c.as_bytes()).and_then(strict),
    };
    if let Some(d) = decoded {
        return Cow::Owned(d);
    }
    if !eight_bit {
        return Cow::Borrowed(data);
    }
    if looks_cp1252(data)
        && let Some(d) = cp1252(data, true)
    {
        return Cow::Owned(d);
    }
    Cow::Owned(cp1252(data, false).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::spamassassin_normalize as norm;

    #[test]
    fn normalized_as_spamassassin_does() {
        // 7-bit text in an ASCII-compatible charset, and valid UTF-8, stay as they are.
        assert_eq!(&*norm(b"plain", Some("iso-8859-2")), b"plain");
        assert_eq!(
            &*norm("caf\u{e9}".as_bytes(), Some("iso-8859-1")),
            "caf\u{e9}".as_bytes()
        );
        // Latin-1 declared, undeclared or misdeclared becomes UTF-8 (read as Windows-1252).
        assert_eq!(
            &*norm(b"caf\xe9 \x93q\x94", Some("ISO-8859-1")),
            "caf\u{e9} \u{201c}q\u{201d}".as_bytes()
        );
        assert_eq!(
            &*norm(b"pystytt\xe4\xe4", None),
            "pystytt\u{e4}\u{e4}".as_bytes()
        );
        assert_eq!(&*norm(b"caf\xe9", Some("utf-8")), "caf\u{e9}".as_bytes());
        // Other declared charsets decode strictly.
        assert_eq!(
            &*norm(b"\xa1\xa2", Some("iso-8859-2")),
            "\u{104}\u{2d8}".as_bytes()
        );
        assert_eq!(
            &*norm(b"\xc1\xc2", Some("koi8-r")),
            "\u{430}\u{431}".as_bytes()
        );
        // 7-bit ISO-2022-JP is decoded too.
        assert_eq!(
            &*norm(b"\x1b$B$3\x1b(B", Some("iso-2022-jp")),
            "\u{3053}".as_bytes()
        );
        assert_eq!(&*norm(b"h\0i\0", Some("utf-16")), b"hi");
        // GB2312 is EUC-CN as Perl reads it: GBK-only pairs fail it, and the text is
        // then read as Windows-1252.
        assert_eq!(
            &*norm(b"\xc4\xe3\xba\xc3", Some("GB2312")),
            "\u{4f60}\u{597d}".as_bytes()
        );
        assert_eq!(&*norm(b"\x95r", Some("gb2312")), "\u{2022}r".as_bytes());
        assert_eq!(&*norm(b"\x95r", Some("gbk")), "\u{6642}".as_bytes());
        // What fails everywhere ends as Windows-1252 with replacement characters.
        assert_eq!(
            &*norm(b"a\x81b\xff", Some("x-unknown")),
            "a\u{fffd}b\u{ff}".as_bytes()
        );
    }

    #[test]
    fn windows_1252_byte_by_byte() {
        let all: Vec<u8> = (0..=255).collect();
        let text = String::from_utf8(super::cp1252(&all, false).unwrap()).unwrap();
        let chars: Vec<char> = text.chars().collect();
        assert_eq!(chars.len(), 256);
        assert_eq!(&chars[..3], &['\0', '\u{1}', '\u{2}']);
        assert_eq!(chars[0x80], '\u{20ac}');
        assert_eq!(chars[0x81], char::REPLACEMENT_CHARACTER);
        assert_eq!(chars[0x9d], char::REPLACEMENT_CHARACTER);
        assert_eq!(chars[0x9f], '\u{178}');
        assert_eq!(chars[0xe9], '\u{e9}');
        assert_eq!(super::cp1252(b"a\x81b", true), None);
        assert_eq!(super::cp1252(b"", false), Some(Vec::new()));
        assert_eq!(
            super::cp1252(b"\x81\x81", false),
            Some("\u{fffd}\u{fffd}".as_bytes().to_vec())
        );
    }

    #[test]
    fn latin1_and_fallbacks() {
        assert_eq!(super::to_utf8(b"caf\xe9", Some("ISO-8859-1")), "café");
        assert_eq!(super::to_utf8("café".as_bytes(), Some("x-unknown")), "café");
        assert_eq!(super::to_utf8(b"caf\xe9", None), "café");
    }
}
