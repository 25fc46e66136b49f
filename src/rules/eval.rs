//! Native implementations of SpamAssassin eval functions that need no network.
//!
//! [`supported`] says at load time whether a call runs; an unsupported call stays listed by
//! `check-config` as not run. Each function here reads only the message texts.

use std::collections::HashSet;

use super::parser::EvalCall;
use super::texts::Texts;

/// Data evals need from the configuration, prepared at load time.
#[derive(Debug, Clone, Default)]
pub struct EvalData {
    freemail_exact: HashSet<String>,
    freemail_wild: Option<regex::Regex>,
}

impl EvalData {
    /// Prepares `freemail_domains` (exact names in a set, wildcard ones in one regex).
    pub fn new(config: &super::parser::Config) -> EvalData {
        let mut d = EvalData::default();
        let mut wild = Vec::new();
        for dom in &config.freemail_domains {
            if dom.contains(['*', '?']) {
                let re: String = dom
                    .chars()
                    .map(|c| match c {
                        '*' => "[^.]*".to_string(),
                        '?' => "[^.]".to_string(),
                        c => regex::escape(&c.to_string()),
                    })
                    .collect();
                wild.push(re);
            } else {
                d.freemail_exact.insert(dom.clone());
            }
        }
        if !wild.is_empty() {
            d.freemail_wild = regex::Regex::new(&format!("^(?:{})$", wild.join("|"))).ok();
        }
        d
    }

    fn is_freemail_domain(&self, domain: &str) -> bool {
        self.freemail_exact.contains(domain)
            || self
                .freemail_wild
                .as_ref()
                .is_some_and(|r| r.is_match(domain))
    }
}

/// Whether `call` is implemented (function and arguments).
pub fn supported(call: &EvalCall) -> bool {
    match call.function.as_str() {
        "check_equal_from_domains"
        | "check_for_mime_html_only"
        | "check_all_trusted"
        | "check_no_relays"
        | "subject_is_all_caps"
        | "check_for_missing_to_header" => true,
        "check_freemail_from" => call.args.is_empty(),
        "html_test" => call.args.first().is_some_and(|a| a == "html"),
        "html_tag_exists" => call.args.len() == 1,
        "check_bayes" => {
            call.args.len() == 2 && call.args.iter().all(|a| a.trim().parse::<f64>().is_ok())
        }
        _ => false,
    }
}

/// Runs an implemented eval; 0 when it does not hit.
pub fn run(call: &EvalCall, texts: &Texts<'_>, data: &EvalData) -> f64 {
    let hit = match call.function.as_str() {
        "check_equal_from_domains" => equal_from_domains(texts),
        "check_for_mime_html_only" => texts.has_html && !texts.has_plain,
        "html_test" => texts.html_has_tags,
        "check_all_trusted" => {
            let r = &texts.relays;
            !r.trusted.is_empty() && r.untrusted.is_empty() && r.unparseable == 0
        }
        "check_no_relays" => {
            let r = &texts.relays;
            r.trusted.is_empty() && r.untrusted.is_empty() && r.unparseable == 0
        }
        "subject_is_all_caps" => subject_all_caps(texts),
        "check_freemail_from" => freemail_from(texts, data),
        "check_for_missing_to_header" => {
            let empty = |n: &str| {
                texts
                    .header(n, &[])
                    .is_none_or(|v| v.iter().all(|x| x.trim_ascii().is_empty()))
            };
            empty("To") && empty("Apparently-To")
        }
        "html_tag_exists" => tag_exists(&texts.html_lower, &call.args[0]),
        "check_bayes" => texts.bayes.is_some_and(|p| {
            let arg = |i: usize| call.args[i].trim().parse::<f64>().unwrap_or(f64::NAN);
            crate::bayes::classifier::in_range(p, arg(0), arg(1))
        }),
        _ => false,
    };
    f64::from(hit)
}

/// FREEMAIL_FROM: a From address at a `freemail_domains` domain. SpamAssassin also reads
/// Resent-From and envelope headers and honours freemail welcomelists; not yet here.
fn freemail_from(texts: &Texts<'_>, data: &EvalData) -> bool {
    let Some(addrs) = texts.header("From", &["addr".to_string()]) else {
        return false;
    };
    addrs.iter().any(|a| {
        let a = String::from_utf8_lossy(a).to_ascii_lowercase();
        a.rsplit_once('@')
            .is_some_and(|(_, d)| data.is_freemail_domain(d.trim()))
    })
}

/// SUBJ_ALL_CAPS: a subject of several words, at least 10 bytes after dropping reply
/// prefixes, whose letters are all upper case; not for charsets that have no case.
fn subject_all_caps(texts: &Texts<'_>) -> bool {
    let Some(v) = texts.header("Subject", &[]) else {
        return false;
    };
    let subject = String::from_utf8_lossy(&v.concat()).trim().to_string();
    let mut s = subject.as_str();
    loop {
        let lower = s.to_ascii_lowercase();
        let Some(p) = [
            "re:", "fwd:", "fw:", "aw:", "antwort:", "wg:", "sv:", "vb:", "vs:", "vl:",
        ]
        .iter()
        .find(|p| lower.starts_with(**p)) else {
            break;
        };
        s = s[p.len()..].trim_start();
    }
    if !s.contains(char::is_whitespace) || s.len() < 10 {
        return false;
    }
    if let Some(raw) = texts.header("Subject", &["raw".to_string()]) {
        let raw = String::from_utf8_lossy(&raw.concat()).to_ascii_lowercase();
        let caseless = [
            "=?iso-2022-jp",
            "=?euc-jp",
            "=?shift_jis",
            "=?gb2312",
            "=?gbk",
            "=?big5",
            "=?euc-kr",
            "=?ks_c_5601",
            "=?iso-2022-kr",
        ];
        if caseless.iter().any(|c| raw.contains(c)) {
            return false;
        }
    }
    let letters: Vec<char> = s.chars().filter(char::is_ascii_alphabetic).collect();
    !letters.is_empty() && letters.iter().all(char::is_ascii_uppercase)
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
