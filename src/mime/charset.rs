//! Charset conversion to UTF-8, on mail-parser's decoders.

/// Converts `data` in `charset` to UTF-8. Unknown charsets fall back to UTF-8 when the bytes are
/// valid UTF-8 and to Windows-1252 otherwise (what mail clients do with undeclared 8-bit text).
pub fn to_utf8(data: &[u8], charset: Option<&str>) -> String {
    if let Some(cs) = charset {
        let cs = cs.trim().to_ascii_lowercase();
        if cs != "utf-8" && cs != "utf8" && cs != "us-ascii" && cs != "ascii" {
            if let Some(decode) =
                mail_parser::decoders::charsets::map::charset_decoder(cs.as_bytes())
            {
                return decode(data);
            }
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

#[cfg(test)]
mod tests {
    #[test]
    fn latin1_and_fallbacks() {
        assert_eq!(super::to_utf8(b"caf\xe9", Some("ISO-8859-1")), "café");
        assert_eq!(super::to_utf8("café".as_bytes(), Some("x-unknown")), "café");
        assert_eq!(super::to_utf8(b"caf\xe9", None), "café");
    }
}
