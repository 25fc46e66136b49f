//! Native implementations of SpamAssassin eval functions that need no network.
//!
//! [`supported`] says at load time whether a call runs; an unsupported call stays listed by
//! `check-config` as not run. Each function here reads only the message texts.

use super::parser::EvalCall;
use super::texts::Texts;

/// Whether `call` is implemented (function and arguments).
pub fn supported(call: &EvalCall) -> bool {
    match call.function.as_str() {
        "check_equal_from_domains" | "check_for_mime_html_only" => true,
        "html_test" => call.args.first().is_some_and(|a| a == "html"),
        "html_tag_exists" => call.args.len() == 1,
        _ => false,
    }
}

/// Runs an implemented eval; 0 when it does not hit.
pub fn run(call: &EvalCall, texts: &Texts<'_>) -> f64 {
    let hit = match call.function.as_str() {
        "check_equal_from_domains" => equal_from_domains(texts),
        "check_for_mime_html_only" => texts.has_html && !texts.has_plain,
        "html_test" => texts.html_has_tags,
        "html_tag_exists" => tag_exists(&texts.html_lower, &call.args[0]),
        _ => false,
    };
    f64::from(hit)
}

/// Whether `<tag` followed by a non-name byte occurs in lowercased HTML.
fn tag_exists(html_lower: &[u8], tag: &str) -> bool {
    let needle = format!("<{}", tag.to_ascii_lowercase());
    memchr::memmem::find_iter(html_lower, needle.as_bytes()).any(|p| {
        html_lower
            .get(p + needle.len())
            .is_none_or(|b| !b.is_ascii_alphanumeric())
    })
}

/// The last two labels of the domain after the last `@` (SpamAssassin's own approximation
/// of the registrable domain for this test), lowercased.
fn two_level_domain(addr: &[u8]) -> Option<Vec<u8>> {
    let at = memchr::memrchr(b'@', addr)?;
    let domain = addr[at + 1..].trim_ascii();
    if domain.is_empty() {
        return None;
    }
    let labels: Vec<&[u8]> = domain.split(|&b| b == b'.').collect();
    let d = if labels.len() > 2 {
        labels[labels.len() - 2..].join(&b'.')
    } else {
        domain.to_vec()
    };
    Some(d.to_ascii_lowercase())
}

/// HEADER_FROM_DIFFERENT_DOMAINS: the From address and the envelope sender have different
/// two-level domains.
fn equal_from_domains(texts: &Texts<'_>) -> bool {
    let addr = [String::from("addr")];
    let first = |name: &str| {
        texts
            .header(name, &addr)
            .and_then(|v| v.into_iter().next())
            .filter(|v| !v.is_empty())
    };
    let (Some(from), Some(env)) = (first("From"), first("EnvelopeFrom")) else {
        return false;
    };
    match (two_level_domain(&from), two_level_domain(&env)) {
        (Some(a), Some(b)) => a != b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert!(tag_exists(b"<html><body>", "html"));
        assert!(!tag_exists(b"<htmlx>", "html"));
    }

    #[test]
    fn two_levels() {
        assert_eq!(
            two_level_domain(b"a@mail.example.com"),
            Some(b"example.com".to_vec())
        );
        assert_eq!(
            two_level_domain(b"a@Example.COM"),
            Some(b"example.com".to_vec())
        );
        assert_eq!(two_level_domain(b"nobody"), None);
    }
}
