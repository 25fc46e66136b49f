//! `ok_locales` and the "faraway charset" evals, from Mail::SpamAssassin::Locales and the
//! MIMEEval, HeaderEval and HTMLEval plugins.
//!
//! `ok_locales` lists the languages whose charsets the site reads (`en ja`); the default,
//! `all`, turns every test here off. Unlike SpamAssassin, the process's own `LANG` is not
//! added to the list: a library's verdict must not depend on the environment of the
//! program that embeds it.

use super::eval::EvalData;
use super::parser::EvalCall;
use super::texts::Texts;

/// Charsets a locale reads beyond the universal ones (Locales.pm's `%charsets_for_locale`),
/// normalized as [`charset_ok`] compares them.
fn locale_charsets(locale: &str) -> &'static [&'static str] {
    const CYRILLIC: &[&str] = &[
        "KOI8R",
        "KOI8U",
        "KOI8T",
        "ISOIR111",
        "CP1251",
        "GEORGIANPS",
        "PT154",
        "CP866",
    ];
    match locale {
        "ja" => &[
            "EUCJP",
            "JISX020119760",
            "JISX020819830",
            "JISX020819900",
            "JISX020819970",
            "JISX021219900",
            "JISX021320001",
            "JISX021320002",
            "SHIFT_JIS",
            "SHIFTJIS",
            "ISO2022JP",
            "SJIS",
            "JIS7",
            "JISX0201",
            "JISX0208",
            "JISX0212",
        ],
        "ko" => &["EUCKR", "KSC56011987"],
        "ru" | "ka" | "tg" | "be" | "uk" | "bg" => CYRILLIC,
        "th" => &["TIS620"],
        "zh" => &[
            "GB1988",
            "GB2312",
            "GB231219800",
            "GB18030",
            "GBK",
            "BIG5HKSCS",
            "BIG5",
            "EUCTW",
            "ISO2022CN",
        ],
        _ => &[],
    }
}

/// Whether `locales` is SpamAssassin's "every charset is fine".
pub fn all(locales: &[String]) -> bool {
    locales.iter().any(|l| l == "all")
}

/// Locales.pm's `is_charset_ok_for_locales`: the universal charsets (ASCII, ISO-8859-*,
/// Unicode, Windows code pages, ...) are fine everywhere; others only for a locale that
/// reads them.
pub fn charset_ok(charset: &str, locales: &[String]) -> bool {
    let mut cs: String = charset
        .to_ascii_uppercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    // Broken by quoted-printable (`=3D`).
    while let Some(rest) = cs.strip_prefix("3D") {
        cs = rest.to_string();
    }
    let universal = ["USASCII", "ASCII", "IBM852", "XUNKNOWN", "ISO"].contains(&cs.as_str())
        || [
            "ISO8859",
            "ISO10646",
            "UTF",
            "UCS",
            "CP125",
            "WINDOWS",
            "UNICODE11UTF7",
            "UNICODE11UTF8",
        ]
        .iter()
        .any(|p| cs.starts_with(p));
    if universal {
        return true;
    }
    locales.iter().any(|locale| {
        let locale = if locale == "C" { "en" } else { locale.as_str() };
        let two: String =
            if locale.len() >= 2 && locale.as_bytes()[..2].iter().all(u8::is_ascii_lowercase) {
                locale[..2].to_string()
            } else {
                locale.to_string()
            };
        locale_charsets(&two).iter().any(|c| *c == cs)
    })
}

/// MIMEEval's `get_charset_from_ct_line`: the `charset` parameter of a Content-Type value.
fn charset_param(ct: &str) -> Option<String> {
    let lower = ct.to_ascii_lowercase();
    let p = lower.find("charset=")?;
    let rest = &ct[p + 8..];
    let value = if let Some(q) = rest.strip_prefix('"') {
        q.split('"')
            .next()
            .filter(|v| !v.is_empty() && q.contains('"'))?
    } else if let Some(q) = rest.strip_prefix('\'') {
        q.split('\'')
            .next()
            .filter(|v| !v.is_empty() && q.contains('\''))?
    } else {
        rest.split(char::is_whitespace)
            .next()
            .filter(|v| !v.is_empty())?
    };
    Some(value.to_string())
}

/// Whether `call` is one of this module's evals.
pub fn supported(call: &EvalCall) -> bool {
    matches!(
        call.function.as_str(),
        "check_for_faraway_charset"
            | "check_for_faraway_charset_in_headers"
            | "html_charset_faraway"
    ) && call.args.is_empty()
}

/// Runs the evals of this module, and `check_for_mime('mime_faraway_charset')`, which
/// needs `ok_locales`; `None` for any other call.
pub fn run(call: &EvalCall, texts: &Texts<'_>, data: &EvalData) -> Option<bool> {
    let locales = data.locales();
    let faraway_mime = call.function == "check_for_mime"
        && call
            .args
            .first()
            .is_some_and(|a| a.trim().trim_matches(['\'', '"']) == "mime_faraway_charset");
    if !supported(call) && !faraway_mime {
        return None;
    }
    if all(locales) {
        return Some(false);
    }
    Some(match call.function.as_str() {
        "check_for_mime" => texts.mime.charsets.iter().any(|c| !charset_ok(c, locales)),
        "check_for_faraway_charset" => {
            let ct = texts
                .header("Content-Type", &[])
                .and_then(|v| v.into_iter().next())
                .map(|v| String::from_utf8_lossy(&v).into_owned());
            match ct.as_deref().and_then(charset_param) {
                Some(cs) if !charset_ok(&cs, locales) => {
                    // Some of these charsets contain ASCII: only a body mostly in 8-bit
                    // characters counts (MIMEEval's are_more_high_bits_set).
                    let high: usize = texts
                        .body
                        .iter()
                        .map(|l| l.iter().filter(|b| **b >= 0x80).count())
                        .sum();
                    let total: usize = texts.body.iter().map(Vec::len).sum::<usize>()
                        + texts.body.len().saturating_sub(1);
                    total - high <= high && high > 3
                }
                _ => false,
            }
        }
        "check_for_faraway_charset_in_headers" => ["From", "Subject"].iter().any(|h| {
            texts
                .header(h, &["raw".to_string()])
                .unwrap_or_default()
                .iter()
                .any(|v| {
                    encoded_word_charsets(&String::from_utf8_lossy(v))
                        .iter()
                        .any(|cs| !charset_ok(cs, locales))
                })
        }),
        // HTMLEval reads `charsets` from the HTML parser's results, but SpamAssassin
        // 4.0.1's HTML.pm keeps the meta charsets on the parser object and never puts them
        // in its results, so the test cannot fire there (checked with `spamassassin -t`);
        // mailwarden gives the same answer.
        "html_charset_faraway" => false,
        _ => return None,
    })
}

/// The charsets of the RFC 2047 encoded words in a raw header (`=\?(.+?)\?.\?.*?\?=`).
fn encoded_word_charsets(raw: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = raw;
    while let Some(p) = rest.find("=?") {
        let after = &rest[p + 2..];
        // The charset runs to the first `?` that is followed by one character and `?`.
        let mut found = None;
        for (i, _) in after.match_indices('?') {
            let tail = &after[i + 1..];
            let mut chars = tail.chars();
            if i > 0
                && let (Some(enc), Some('?')) = (chars.next(), chars.next())
                && let Some(end) = tail[enc.len_utf8() + 1..].find("?=")
            {
                found = Some((after[..i].to_string(), i + 1 + enc.len_utf8() + 1 + end + 2));
                break;
            }
        }
        match found {
            Some((cs, consumed)) => {
                out.push(cs);
                rest = &after[consumed..];
            }
            None => rest = after,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn charsets_by_locale() {
        let en = l(&["en"]);
        for cs in ["us-ascii", "ISO-8859-1", "utf-8", "windows-1252", "3Dutf-8"] {
            assert!(charset_ok(cs, &en), "{cs}");
        }
        assert!(!charset_ok("koi8-r", &en));
        assert!(!charset_ok("Shift_JIS", &en));
        assert!(charset_ok("Shift_JIS", &l(&["ja"])));
        assert!(charset_ok("big5", &l(&["zh_TW"])));
        assert!(charset_ok("koi8-r", &l(&["en", "ru"])));
        assert!(!charset_ok("gb2312", &l(&["ja"])));
    }

    #[test]
    fn content_type_charset() {
        assert_eq!(
            charset_param("text/plain; charset=\"koi8-r\"").as_deref(),
            Some("koi8-r")
        );
        assert_eq!(
            charset_param("text/plain; CHARSET=big5 ").as_deref(),
            Some("big5")
        );
        assert_eq!(charset_param("text/plain").as_deref(), None);
    }

    #[test]
    fn encoded_words() {
        assert_eq!(
            encoded_word_charsets("=?koi8-r?B?8NLJ18XU?= and =?utf-8?Q?caf=C3=A9?="),
            ["koi8-r", "utf-8"]
        );
        assert!(encoded_word_charsets("no words =? here").is_empty());
    }
}
