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
    /// Patterns evals take as arguments (`check_freemail_header('Reply-To', '\d@')`).
    patterns: std::collections::HashMap<String, regex::bytes::Regex>,
    /// Perl patterns evals take (`html_text_match('comment', '<!(?!-)')`).
    matchers: std::collections::HashMap<String, super::compile::Matcher>,
    /// Address, URI host and subject lists (WLBLEval, WelcomeListSubject).
    pub(crate) lists: super::list_evals::Lists,
    /// `ok_locales` (`all` when unset).
    locales: Vec<String>,
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
        for rule in config.rules.values() {
            let call = match &rule.test {
                super::parser::RuleTest::Eval(c)
                | super::parser::RuleTest::Header(super::parser::HeaderTest::Eval(c)) => c,
                _ => continue,
            };
            if let Some(p) = super::header_evals::argument_pattern(call)
                && let Ok(re) = regex::bytes::RegexBuilder::new(p).unicode(false).build()
            {
                d.patterns.insert(p.to_string(), re);
            }
            if let Some(p) = super::html_evals::argument_pattern(call) {
                let pattern = super::parser::Pattern {
                    source: p.to_string(),
                    flags: String::new(),
                    delimiter: '/',
                };
                if let Ok(m) = super::compile::compile_pattern(&pattern) {
                    d.matchers.insert(p.to_string(), m);
                }
            }
        }
        d.lists = super::list_evals::Lists::new(config);
        d.locales = if config.ok_locales.is_empty() {
            vec!["all".to_string()]
        } else {
            config.ok_locales.clone()
        };
        if !wild.is_empty() {
            d.freemail_wild = regex::Regex::new(&format!("^(?:{})$", wild.join("|"))).ok();
        }
        d
    }

    /// `ok_locales`.
    pub(crate) fn locales(&self) -> &[String] {
        &self.locales
    }

    /// A pattern argument compiled at load time (`None` when it did not compile).
    pub(crate) fn pattern(&self, p: &str) -> Option<&regex::bytes::Regex> {
        self.patterns.get(p)
    }

    /// A Perl pattern argument compiled at load time.
    pub(crate) fn matcher(&self, p: &str) -> Option<&super::compile::Matcher> {
        self.matchers.get(p)
    }

    pub(crate) fn is_freemail_domain(&self, domain: &str) -> bool {
        self.freemail_exact.contains(domain)
            || self
                .freemail_wild
                .as_ref()
                .is_some_and(|r| r.is_match(domain))
    }
}

/// A header as SpamAssassin's `get` returns it in scalar context: with `addr`, the first
/// address without its newline; "" when absent.
fn first_value(texts: &Texts<'_>, name: &str, addr: bool) -> String {
    let modifiers = if addr {
        vec!["addr".to_string()]
    } else {
        Vec::new()
    };
    texts
        .header(name, &modifiers)
        .and_then(|v| v.into_iter().next())
        .map(|v| {
            String::from_utf8_lossy(&v)
                .trim_end_matches('\n')
                .to_string()
        })
        .unwrap_or_default()
}

/// HeaderEval's `check_for_to_in_subject`: the To address (`address`) or its local part
/// (`user`, in the positions a personalised spam subject puts it) in the Subject.
fn to_in_subject(texts: &Texts<'_>, test: &str) -> bool {
    let full_to = first_value(texts, "To", true);
    if full_to.is_empty() {
        return false;
    }
    let subject: String = texts
        .header("Subject", &[])
        .map(|v| String::from_utf8_lossy(&v.concat()).into_owned())
        .unwrap_or_default();
    // Perl's `$` without /m: the end, or before a final newline.
    let subject = subject.strip_suffix('\n').unwrap_or(&subject);
    let needle = match test {
        "address" => full_to.as_str(),
        _ => full_to.split('@').next().unwrap_or_default(),
    };
    // Every form of the pattern holds `needle`. For an ASCII needle, `(?i)` is ASCII case
    // folding except that `k` also matches the Kelvin sign and `s` the long s (Unicode
    // simple case folding has no other non-ASCII variant of an ASCII letter). On a Subject
    // without those two, the pattern's forms are checked by hand, without compiling a
    // regex per message; otherwise (and for an address found in the Subject) the regex
    // decides.
    if needle.is_ascii() && !needle.is_empty() && !subject.contains(['\u{212A}', '\u{17F}']) {
        if !contains_ascii_ci(subject.as_bytes(), needle.as_bytes()) {
            return false;
        }
        if test != "address" {
            return local_part_in_subject(subject, needle);
        }
    }
    let pattern = match test {
        "address" => format!(r"(?i)\b{}\b", regex::escape(&full_to)),
        _ => {
            let to = regex::escape(needle);
            format!(
                r"(?i)^(?:(?:re|fw):\s*(?:\w+\s+)?{to}\z|(?-i:{to})\s*[,:;!?-](?:\z|\s)|{to}\z|,\s*{to}[,:;!?-]\z)"
            )
        }
    };
    regex::Regex::new(&pattern).is_ok_and(|re| re.is_match(subject))
}

/// HeaderEval's `check_ratware_name_id`: a Message-ID of 28 capitals, a dot and an address
/// that the From header repeats after a quoted name.
fn ratware_name_id(texts: &Texts<'_>) -> bool {
    static MID: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"<[A-Z]{28}\.([^>]+?)>").expect("static regex")
    });
    let joined = |name: &str| {
        texts
            .header(name, &[])
            .map(|v| String::from_utf8_lossy(&v.concat()).into_owned())
            .unwrap_or_default()
    };
    let Some(addr) = MID.captures(&joined("MESSAGEID")).map(|c| c[1].to_string()) else {
        return false;
    };
    // The pattern needs `<addr>` as it is: without it in From, no regex is compiled.
    let from = joined("From");
    if !from.contains(&format!("<{addr}>")) {
        return false;
    }
    regex::Regex::new(&format!(r#""[^"]+"\s*<{}>"#, regex::escape(&addr)))
        .is_ok_and(|re| re.is_match(&from))
}

/// `(?i)^(?:(?:re|fw):\s*(?:\w+\s+)?TO\z|(?-i:TO)\s*[,:;!?-](?:\z|\s)|TO\z|,\s*TO[,:;!?-]\z)`
/// on `subject`, for an ASCII `to` matched ASCII case-insensitively (see
/// [`to_in_subject`]); the parts around `to` go through patterns compiled once.
fn local_part_in_subject(subject: &str, to: &str) -> bool {
    static REPLY: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)^(?:re|fw):\s*(?:\w+\s+)?\z").expect("static regex")
    });
    static PUNCT_AFTER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^\s*[,:;!?-](?:\z|\s)").expect("static regex")
    });
    static COMMA: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"^,\s*\z").expect("static regex"));
    let (s, t) = (subject.as_bytes(), to.as_bytes());
    // `to` ending the Subject: the first and third forms.
    if s.len() >= t.len() && s[s.len() - t.len()..].eq_ignore_ascii_case(t) {
        let head = &s[..s.len() - t.len()];
        // `to` is ASCII, so `head` ends on a character boundary.
        if head.is_empty() || std::str::from_utf8(head).is_ok_and(|h| REPLY.is_match(h)) {
            return true;
        }
    }
    // Second form: `to` exactly as it is, at the start.
    if let Some(rest) = subject.strip_prefix(to)
        && PUNCT_AFTER.is_match(rest)
    {
        return true;
    }
    // Fourth form: `, to` and one punctuation mark ending the Subject.
    if let [head @ .., b',' | b':' | b';' | b'!' | b'?' | b'-'] = s
        && head.len() >= t.len()
        && head[head.len() - t.len()..].eq_ignore_ascii_case(t)
    {
        let lead = &head[..head.len() - t.len()];
        return std::str::from_utf8(lead).is_ok_and(|l| COMMA.is_match(l));
    }
    false
}

/// Whether `needle` occurs in `hay`, ASCII letters compared case-insensitively.
fn contains_ascii_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// BodyEval's `tvd_vertical_words`: the highest percentage of spaces to other bytes over the
/// body lines longer than 5 bytes (100 when spaces outnumber the rest), -1 when there is no
/// such line. High values mean words written one letter per line or spaced out.
fn vertical_words(texts: &Texts<'_>) -> f64 {
    let mut best: i64 = -1;
    for line in texts.body.iter().filter(|l| l.len() > 5) {
        let spaces = line.iter().filter(|&&b| b == b' ').count();
        let other = line.len() - spaces;
        let pct = if spaces > other || other == 0 {
            100
        } else {
            (100 * spaces / other) as i64
        };
        best = best.max(pct);
    }
    best as f64
}

/// Whether `call` is implemented (function and arguments).
// A match, not `matches!`, so each eval is one arm that merges on its own.
#[allow(clippy::match_like_matches_macro)]
pub fn supported(call: &EvalCall) -> bool {
    if super::header_evals::supported(call)
        || super::list_evals::supported(call)
        || super::locales::supported(call)
        || super::html_evals::supported(call)
        || super::mime_evals::supported(call)
    {
        return true;
    }
    match call.function.as_str() {
        "check_for_matching_env_and_hdr_from"
        | "gated_through_received_hdr_remover"
        | "check_relays_unparseable"
        | "check_uri_truncated"
        | "check_ratware_name_id" => call.args.is_empty(),
        "check_for_to_in_subject" => {
            matches!(
                call.args.first().map(|a| a.trim()),
                Some("address" | "user")
            )
        }
        "tvd_vertical_words" => {
            call.args.len() == 2 && call.args.iter().all(|a| a.trim().parse::<f64>().is_ok())
        }
        "check_equal_from_domains"
        | "check_for_mime_html_only"
        | "check_all_trusted"
        | "check_no_relays"
        | "subject_is_all_caps"
        | "check_for_missing_to_header" => true,
        "check_bayes" => {
            call.args.len() == 2 && call.args.iter().all(|a| a.trim().parse::<f64>().is_ok())
        }
        _ => false,
    }
}

/// Runs an implemented eval of a rule in `area`; 0 when it does not hit.
pub fn run(call: &EvalCall, area: super::parser::Area, texts: &Texts<'_>, data: &EvalData) -> f64 {
    if call.function == "image_to_text_ratio" {
        // The text is the rule's own: rendered body lines, or rawbody for rawbody rules.
        let lines = if area == super::parser::Area::Rawbody {
            &texts.rawbody
        } else {
            &texts.body
        };
        return f64::from(super::mime_evals::image_to_text_ratio(call, texts, lines));
    }
    if let Some(hit) = super::header_evals::run(call, texts, data)
        .or_else(|| super::list_evals::run(call, texts, data))
        .or_else(|| super::locales::run(call, texts, data))
        .or_else(|| super::html_evals::run(call, texts, data))
        .or_else(|| super::mime_evals::run(call, texts))
    {
        return f64::from(hit);
    }
    let hit = match call.function.as_str() {
        "check_equal_from_domains" => equal_from_domains(texts),
        "check_for_mime_html_only" => mime_html_only(texts),
        "check_all_trusted" => {
            let r = &texts.relays;
            !r.trusted.is_empty() && r.untrusted.is_empty() && r.unparseable == 0
        }
        "check_no_relays" => {
            let r = &texts.relays;
            r.trusted.is_empty() && r.untrusted.is_empty() && r.unparseable == 0
        }
        "subject_is_all_caps" => subject_all_caps(texts),
        "check_for_matching_env_and_hdr_from" => {
            first_value(texts, "EnvelopeFrom", true).to_lowercase()
                == first_value(texts, "From", true).to_lowercase()
        }
        "check_for_to_in_subject" => to_in_subject(texts, call.args[0].trim()),
        "gated_through_received_hdr_remover" => {
            super::header_evals::gated_through_received_remover(texts)
        }
        "check_relays_unparseable" => texts.relays.unparseable > 0,
        // SpamAssassin cuts URIs at 8,192 bytes and flags the message when it had to.
        "check_uri_truncated" => texts.uris.iter().any(|u| u.len() > 8192),
        "check_ratware_name_id" => ratware_name_id(texts),
        "tvd_vertical_words" => {
            let arg = |i: usize| call.args[i].trim().parse::<f64>().unwrap_or(0.0);
            let (min, max) = (arg(0), arg(1));
            // SpamAssassin's "klugy" widening, so 100% counts below a max of 100.
            let max = if max >= 100.0 { 101.0 } else { max };
            let v = vertical_words(texts);
            v >= min && v < max
        }
        "check_for_missing_to_header" => {
            // SpamAssassin's get() returns a present header with its newline, so an empty
            // `To:` line is not a missing one.
            let absent = |n: &str| texts.header(n, &[]).is_none_or(|v| v.is_empty());
            absent("To") && absent("Apparently-To")
        }
        "check_bayes" => texts.bayes.is_some_and(|p| {
            let arg = |i: usize| call.args[i].trim().parse::<f64>().unwrap_or(f64::NAN);
            crate::bayes::classifier::in_range(p, arg(0), arg(1))
        }),
        _ => false,
    };
    f64::from(hit)
}

/// MIME_HTML_ONLY: a text/html top-level type, or text/html parts and no other text part.
fn mime_html_only(texts: &Texts<'_>) -> bool {
    let top_html = texts.header("Content-Type", &[]).is_some_and(|v| {
        v.first()
            .is_some_and(|c| c.len() >= 9 && c[..9].eq_ignore_ascii_case(b"text/html"))
    });
    let count = |k: &str| texts.mime.value(k).unwrap_or(0.0);
    top_html || (count("mime_body_html_count") > 0.0 && count("mime_body_text_count") == 0.0)
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
    fn local_part_in_subject_is_the_regex() {
        let subjects = [
            "jane",
            "JANE",
            "Re: jane",
            "re:jane",
            "FW:  dear jane",
            "Re: dear  old jane",
            "Re: d\u{e9}j\u{e0} jane",
            "Re:\u{a0}jane",
            "re: jane!",
            "jane, your invoice",
            "Jane, your invoice",
            "jane ,x",
            "jane\u{2003}; ",
            "jane -",
            "janet, hi",
            "janex",
            ", jane!",
            ",  JANE?",
            ",jane",
            ", jane!!",
            "hello jane",
            "[jane] list",
            "xjane",
            "",
        ];
        for to in ["jane", "j.a+ne", "jan"] {
            let re = regex::Regex::new(&format!(
                r"(?i)^(?:(?:re|fw):\s*(?:\w+\s+)?{to}\z|(?-i:{to})\s*[,:;!?-](?:\z|\s)|{to}\z|,\s*{to}[,:;!?-]\z)",
                to = regex::escape(to)
            ))
            .expect("regex");
            for s in subjects {
                let s = s.replace("jane", to);
                assert_eq!(
                    local_part_in_subject(&s, to),
                    re.is_match(&s),
                    "{to:?} in {s:?}"
                );
            }
        }
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
