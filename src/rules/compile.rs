//! Compiling parsed rules: each regex goes to `regex::bytes` when its translation allows,
//! otherwise to PCRE2 (non-UTF, JIT when available). Rules that cannot run are kept with the
//! reason, for `check-config`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::parser::{Config, HeaderTest, Pattern, RuleTest};
use super::perl::{Dialect, Translation, translate};

/// Size limit for one compiled `regex` (ReplaceTags output is large).
const REGEX_SIZE_LIMIT: usize = 64 << 20;

/// A compiled regex in one of the two engines.
#[derive(Clone)]
pub enum Matcher {
    /// `regex::bytes`, Unicode off.
    Regex(regex::bytes::Regex),
    /// PCRE2, non-UTF mode.
    Pcre2(Arc<pcre2::bytes::Regex>),
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Matcher::Regex(r) => write!(f, "Regex({})", r.as_str()),
            Matcher::Pcre2(r) => write!(f, "Pcre2({})", r.as_str()),
        }
    }
}

impl Matcher {
    /// Whether it matches anywhere in `hay`. A PCRE2 error (match limit reached on a
    /// hostile text) counts as no match.
    pub fn is_match(&self, hay: &[u8]) -> bool {
        match self {
            Matcher::Regex(r) => r.is_match(hay),
            Matcher::Pcre2(r) => r.is_match(hay).unwrap_or(false),
        }
    }

    /// Number of non-overlapping matches, at most `max`.
    pub fn count(&self, hay: &[u8], max: usize) -> usize {
        match self {
            Matcher::Regex(r) => r.find_iter(hay).take(max).count(),
            Matcher::Pcre2(r) => r.find_iter(hay).take(max).take_while(Result::is_ok).count(),
        }
    }

    /// Engine name for reports.
    pub fn engine(&self) -> &'static str {
        match self {
            Matcher::Regex(_) => "regex",
            Matcher::Pcre2(_) => "pcre2",
        }
    }
}

/// Compiles one Perl pattern: `regex` first, PCRE2 when the pattern needs backtracking or
/// `regex` rejects the translation.
pub fn compile_pattern(p: &Pattern) -> Result<Matcher, String> {
    let regex_err = match translate(&p.source, &p.flags, Dialect::Regex) {
        Translation::Ok(s) => match regex::bytes::RegexBuilder::new(&s)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .build()
        {
            Ok(r) => return Ok(Matcher::Regex(r)),
            Err(e) => format!("regex: {e}"),
        },
        Translation::NeedsBacktracking(what) => format!("needs backtracking ({what})"),
        Translation::Unsupported(why) => return Err(why),
    };
    match translate(&p.source, &p.flags, Dialect::Pcre2) {
        Translation::Ok(s) => pcre2::bytes::RegexBuilder::new()
            .jit_if_available(true)
            .build(&s)
            .map(|r| Matcher::Pcre2(Arc::new(r)))
            .map_err(|e| format!("{regex_err}; pcre2: {e}")),
        Translation::NeedsBacktracking(what) => Err(format!("unsupported: {what}")),
        Translation::Unsupported(why) => Err(why),
    }
}

/// Literals one of which every match of `m` must start with, when `regex-syntax` can tell
/// (a finite set without the empty string); `None` means the rule must always run.
pub fn required_literals(m: &Matcher) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let Matcher::Regex(r) = m else {
        return None;
    };
    let hir = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(r.as_str())
        .ok()?;
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let lits = seq.literals()?;
    if lits.is_empty() || lits.iter().any(|l| l.as_bytes().is_empty()) {
        return None;
    }
    Some(lits.iter().map(|l| l.as_bytes().to_vec()).collect())
}

/// The compiled regex of every pattern rule, and why the others cannot run.
#[derive(Debug, Clone, Default)]
pub struct Compiled {
    /// Rule name -> matcher, for rules with a regex.
    pub matchers: BTreeMap<String, Matcher>,
    /// Rule name -> why it does not run.
    pub skipped: BTreeMap<String, String>,
}

/// The pattern a rule carries, if any.
pub fn rule_pattern(test: &RuleTest) -> Option<&Pattern> {
    match test {
        RuleTest::Pattern(p) => Some(p),
        RuleTest::MimeHeader { pattern, .. } => Some(pattern),
        RuleTest::Header(HeaderTest::Regex { pattern, .. }) => Some(pattern),
        _ => None,
    }
}

/// Compiles every regex rule of `config`.
pub fn compile(config: &Config) -> Compiled {
    let mut out = Compiled::default();
    for (name, rule) in &config.rules {
        if let Some(p) = rule_pattern(&rule.test) {
            match compile_pattern(p) {
                Ok(m) => {
                    out.matchers.insert(name.clone(), m);
                }
                Err(e) => {
                    out.skipped
                        .insert(name.clone(), format!("{}: {e}", rule.source));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(src: &str, flags: &str) -> Option<Vec<Vec<u8>>> {
        let p = Pattern {
            source: src.into(),
            flags: flags.into(),
            delimiter: '/',
        };
        required_literals(&compile_pattern(&p).expect("compiles"))
    }

    #[test]
    fn prefilter_literals() {
        let l = lits(r"cash (?:now|today)", "").expect("literals");
        assert!(l.iter().all(|x| x.starts_with(b"cash ")), "{l:?}");
        assert!(lits(r"\bfree\b", "i").is_some_and(|l| l.contains(&b"FrEe".to_vec())));
        // Anything may start a match: the rule always runs.
        assert_eq!(lits(r".*x", ""), None);
        assert_eq!(lits(r"a?", ""), None);
        // PCRE2 rules are never gated.
        assert_eq!(lits(r"(?<=a)b", ""), None);
    }
}
