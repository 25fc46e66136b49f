//! Lenient transfer decoders: they decode whatever a mail client would and report, rather than
//! reject, what is malformed.

/// A Content-Transfer-Encoding, normalized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferEncoding {
    /// 7bit, 8bit, binary or absent: the bytes as they are.
    Identity,
    /// quoted-printable.
    QuotedPrintable,
    /// base64.
    Base64,
    /// x-uuencode and its aliases.
    Uuencode,
}

/// Parses a Content-Transfer-Encoding value leniently: case, surrounding space, comments and
/// trailing junk (`base64; x`, `Base64 (foo)`) are ignored. Returns the encoding and whether the
/// value was well-formed; an unknown name reads as identity.
pub fn parse_encoding(value: &[u8]) -> (TransferEncoding, bool) {
    let text = String::from_utf8_lossy(value);
    let trimmed = text.trim();
    let token: String = trimmed
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect::<String>()
        .to_ascii_lowercase();
    let clean = token.len() == trimmed.len();
    let enc = match token.as_str() {
        "7bit" | "8bit" | "binary" | "" => TransferEncoding::Identity,
        "quoted-printable" => TransferEncoding::QuotedPrintable,
        "base64" => TransferEncoding::Base64,
        "x-uuencode" | "uuencode" | "x-uue" | "uue" => TransferEncoding::Uuencode,
        _ => return (TransferEncoding::Identity, false),
    };
    (enc, clean && !token.is_empty())
}

/// Parses a Content-Transfer-Encoding value as the most lenient readers do: every byte that
/// is no letter or digit ignored (`"base64"`, `base-64`, `quoted_printable`, `x-uue`).
pub fn parse_encoding_leniently(value: &[u8]) -> TransferEncoding {
    let name: Vec<u8> = value
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(u8::to_ascii_lowercase)
        .collect();
    match &name[..] {
        b"quotedprintable" => TransferEncoding::QuotedPrintable,
        b"base64" => TransferEncoding::Base64,
        b"xuuencode" | b"uuencode" | b"xuue" | b"uue" => TransferEncoding::Uuencode,
        _ => TransferEncoding::Identity,
    }
}

const fn b64_table() -> [u8; 256] {
    let mut t = [0xffu8; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut i = 0;
    while i < 64 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    // Not the URL-safe `-` and `_`: RFC 2045's alphabet is what mail readers, ClamAV and
    // SpamAssassin decode, and the dashes of a mailing list footer appended after a base64
    // part must stay skipped garbage, not digits.
    t
}
static B64: [u8; 256] = b64_table();

/// Decodes base64 leniently: characters outside the alphabet are skipped, `=` ends a quantum
/// (so concatenated padded blocks decode), missing padding is tolerated and overlong lines do
/// not matter. Returns the bytes and whether anything other than whitespace and padding had to
/// be skipped.
pub fn base64(input: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 3);
    let mut acc: u32 = 0;
    let mut n = 0u8;
    let mut garbage = false;
    let flush = |acc: u32, n: u8, out: &mut Vec<u8>| match n {
        2 => out.push((acc >> 4) as u8),
        3 => {
            out.push((acc >> 10) as u8);
            out.push((acc >> 2) as u8);
        }
        _ => {}
    };
    for &c in input {
        let v = B64[c as usize];
        if v != 0xff {
            acc = (acc << 6) | u32::from(v);
            n += 1;
            if n == 4 {
                out.push((acc >> 16) as u8);
                out.push((acc >> 8) as u8);
                out.push(acc as u8);
                acc = 0;
                n = 0;
            }
        } else if c == b'=' {
            flush(acc, n, &mut out);
            acc = 0;
            n = 0;
        } else if !c.is_ascii_whitespace() {
            garbage = true;
        }
    }
    flush(acc, n, &mut out);
    (out, garbage)
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes quoted-printable leniently: `=XX` in either case, soft line breaks (also with
/// trailing whitespace after the `=`), trailing whitespace before a line end dropped, malformed
/// `=` sequences kept as they are. Returns the bytes and whether a malformed sequence was seen.
pub fn quoted_printable(input: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(input.len());
    let mut bad = false;
    let mut i = 0;
    while i < input.len() {
        let c = input[i];
        if c == b'=' {
            if let (Some(&h), Some(&l)) = (input.get(i + 1), input.get(i + 2))
                && let (Some(h), Some(l)) = (hex(h), hex(l))
            {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
            // Soft line break: '=' then optional whitespace then a line end (or end of input).
            let mut j = i + 1;
            while j < input.len() && (input[j] == b' ' || input[j] == b'\t') {
                j += 1;
            }
            if j >= input.len() {
                i = j;
                continue;
            }
            if input[j] == b'\n' {
                i = j + 1;
                continue;
            }
            if input[j] == b'\r' {
                i = if input.get(j + 1) == Some(&b'\n') {
                    j + 2
                } else {
                    j + 1
                };
                continue;
            }
            bad = true;
            out.push(c);
            i += 1;
        } else if c == b' ' || c == b'\t' {
            // Trailing whitespace before a line end is not part of the text.
            let mut j = i;
            while j < input.len() && (input[j] == b' ' || input[j] == b'\t') {
                j += 1;
            }
            if j < input.len() && input[j] != b'\r' && input[j] != b'\n' {
                out.extend_from_slice(&input[i..j]);
            }
            i = j;
        } else {
            out.push(c);
            i += 1;
        }
    }
    (out, bad)
}

/// Decodes the lines of a uuencoded body (without `begin`/`end`), leniently.
pub fn uudecode_lines<'a>(lines: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        let line = trim_line_end(line);
        let Some(&first) = line.first() else { continue };
        let len = usize::from(first.wrapping_sub(b' ') & 0x3f);
        if len == 0 {
            continue;
        }
        let mut produced = 0;
        for quad in line[1..].chunks(4) {
            let v = |k: usize| u32::from(quad.get(k).map_or(0, |c| c.wrapping_sub(b' ') & 0x3f));
            let acc = v(0) << 18 | v(1) << 12 | v(2) << 6 | v(3);
            for shift in [16, 8, 0] {
                if produced < len {
                    out.push((acc >> shift) as u8);
                    produced += 1;
                }
            }
        }
    }
    out
}

/// Strips a trailing `\n`, `\r\n` or `\r`.
pub fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_names() {
        assert_eq!(
            parse_encoding(b" Base64 "),
            (TransferEncoding::Base64, true)
        );
        assert_eq!(
            parse_encoding(b"base64; junk"),
            (TransferEncoding::Base64, false)
        );
        assert_eq!(
            parse_encoding(b"QUOTED-PRINTABLE"),
            (TransferEncoding::QuotedPrintable, true)
        );
        assert_eq!(
            parse_encoding(b"x-gzip"),
            (TransferEncoding::Identity, false)
        );
        // Names only a lenient reader knows: the strict parse does not.
        for (name, lenient) in [
            (&b"\"base64\""[..], TransferEncoding::Base64),
            (b"base-64", TransferEncoding::Base64),
            (b"Quoted_Printable", TransferEncoding::QuotedPrintable),
            (b"x-gzip", TransferEncoding::Identity),
        ] {
            assert_eq!(parse_encoding(name).0, TransferEncoding::Identity);
            assert_eq!(parse_encoding_leniently(name), lenient);
        }
    }

    #[test]
    fn base64_lenient() {
        assert_eq!(base64(b"aGVsbG8=").0, b"hello");
        assert_eq!(base64(b"aGVsbG8").0, b"hello", "missing padding");
        let (d, garbage) = base64(b"aGV!!sb\x00G8=");
        assert_eq!(d, b"hello");
        assert!(garbage);
        assert_eq!(base64(b"aGk=aGk=").0, b"hihi", "concatenated blocks");
        // `-` and `_` are not digits: a list footer's rule after the data shifts nothing
        // (spam-1/00313: SpamAssassin decodes it to the same bytes).
        let (d, garbage) = base64(b"aGVs\n-------\nbG8=\n___\n");
        assert_eq!(d, b"hello");
        assert!(garbage);
    }

    #[test]
    fn qp_lenient() {
        assert_eq!(quoted_printable(b"a=3Db=3db").0, b"a=b=b");
        assert_eq!(quoted_printable(b"soft=\r\nbreak").0, b"softbreak");
        assert_eq!(quoted_printable(b"soft= \nbreak").0, b"softbreak");
        assert_eq!(quoted_printable(b"trail  \r\nx").0, b"trail\r\nx");
        let (d, bad) = quoted_printable(b"50=%");
        assert_eq!(d, b"50=%");
        assert!(bad);
    }

    #[test]
    fn uudecode() {
        let lines: Vec<&[u8]> = vec![b"#0V%T\n"];
        assert_eq!(uudecode_lines(lines.into_iter()), b"Cat");
    }
}
