//! Compiling parsed rules: each regex goes to `regex::bytes` when its translation allows,
//! otherwise to PCRE2 (non-UTF, JIT when available). Rules that cannot run are kept with the
//! reason, for `check-config`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::parser::{Config, HeaderTest, Pattern, RuleTest};
use super::perl::{Dialect, Translation, translate};

/// Size limit for one compiled `regex` (ReplaceTags output is large).
pub(crate) const REGEX_SIZE_LIMIT: usize = 64 << 20;

/// PCRE2's match limit for rule patterns (its default is 10,000,000): a backtracking
/// pattern on a hostile line gives up after this many internal calls and counts as not
/// matching, instead of holding the scan for seconds.
const PCRE2_MATCH_LIMIT: u32 = 1_000_000;

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

    /// The first capture group of the first match (`None` without a match or a group).
    pub fn first_group(&self, hay: &[u8]) -> Option<Vec<u8>> {
        match self {
            Matcher::Regex(r) => r.captures(hay)?.get(1).map(|m| m.as_bytes().to_vec()),
            Matcher::Pcre2(r) => r
                .captures(hay)
                .ok()
                .flatten()?
                .get(1)
                .map(|m| m.as_bytes().to_vec()),
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

/// A rule's filter, compiled for the one question it answers (does it match anywhere in
/// a text?) with the prefix-literal prefilter only. `regex`'s own choice for a pattern
/// without a fast prefix literal is often a search from an inner literal backwards, and
/// when that turns quadratic on a long text (an inner "literal" like `\s` occurs
/// everywhere) it gives the whole text to the PikeVM, a hundred times slower than the
/// forward lazy DFA this always uses.
#[derive(Clone, Debug)]
pub struct Filter {
    re: regex_automata::meta::Regex,
    pattern: Arc<str>,
}

impl Filter {
    /// Compiles `pattern` with the same syntax and limits as `regex::bytes::Regex`.
    pub fn new(pattern: &str) -> Option<Filter> {
        Self::with_hir(pattern, &parse(pattern)?)
    }

    fn with_hir(pattern: &str, hir: &regex_syntax::hir::Hir) -> Option<Filter> {
        use regex_automata::{MatchKind, meta, util::prefilter::Prefilter, util::syntax};
        let syntax = syntax::Config::new().utf8(false);
        let config = meta::Config::new()
            .match_kind(MatchKind::LeftmostFirst)
            .utf8_empty(false)
            .nfa_size_limit(Some(REGEX_SIZE_LIMIT))
            .hybrid_cache_capacity(REGEX_SIZE_LIMIT)
            .auto_prefilter(false)
            .prefilter(Prefilter::from_hir_prefix(MatchKind::LeftmostFirst, hir));
        let re = meta::Builder::new()
            .configure(config)
            .syntax(syntax)
            .build(pattern)
            .ok()?;
        Some(Filter {
            re,
            pattern: pattern.into(),
        })
    }

    /// One filter matching wherever any of `filters` does (their alternation), when it
    /// compiles.
    pub fn union(filters: &[&Filter]) -> Option<Filter> {
        Filter::new(&Filter::union_pattern(filters.iter().copied()))
    }

    /// The pattern of [`Filter::union`].
    pub fn union_pattern<'a>(filters: impl IntoIterator<Item = &'a Filter>) -> String {
        filters
            .into_iter()
            .map(|f| format!("(?:{})", f.pattern))
            .collect::<Vec<_>>()
            .join("|")
    }

    /// Whether it matches anywhere in `hay`.
    pub fn is_match(&self, hay: &[u8]) -> bool {
        self.re.is_match(hay)
    }

    /// Where the first match to end, among those starting at or after `at`, ends
    /// (assertions such as `^` and `\b` see the bytes before `at`): a forward search only,
    /// stopped at the first match state.
    pub fn earliest_end(&self, hay: &[u8], at: usize) -> Option<usize> {
        let input = regex_automata::Input::new(hay).range(at..).earliest(true);
        self.re.search_half(&input).map(|m| m.offset())
    }

    /// The pattern.
    pub fn as_str(&self) -> &str {
        &self.pattern
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
            .build(&format!("(*LIMIT_MATCH={PCRE2_MATCH_LIMIT}){s}"))
            .map(|r| Matcher::Pcre2(Arc::new(r)))
            .map_err(|e| format!("{regex_err}; pcre2: {e}")),
        Translation::NeedsBacktracking(what) => Err(format!("unsupported: {what}")),
        Translation::Unsupported(why) => Err(why),
    }
}

/// Most literals one rule may gate on (after case folding); a bigger set gates on nothing.
const MAX_GATE_LITERALS: usize = 256;

/// Lower-cased literals one of which occurs (ASCII case-insensitively) in every match of
/// `filter`, found anywhere in the pattern (not only at its start): the best set of prefix
/// literals of any suffix of a concatenation, recursing into groups, mandatory repetitions
/// and alternations. `None` means the rule must always run.
pub fn required_literals(filter: &regex::bytes::Regex) -> Option<Vec<Vec<u8>>> {
    literals_of(&parse(filter.as_str())?)
}

fn literals_of(hir: &regex_syntax::hir::Hir) -> Option<Vec<Vec<u8>>> {
    let set = required(&fold_case(hir), 0)?;
    Some(set.into_iter().collect())
}

fn parse(pattern: &str) -> Option<regex_syntax::hir::Hir> {
    regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()
}

/// Most NFA positions (counted repetitions expanded) a filter may have to be worth running
/// before the rule: bigger ones (`[^>]{0,2048}` and the like) make the lazy DFA give up,
/// and the filter costs more than the rule.
const MAX_FILTER_COST: u64 = 4_000;

/// Whether running `filter` is cheap enough to be worth it before its rule.
pub fn filter_is_cheap(filter: &regex::bytes::Regex) -> bool {
    parse(filter.as_str()).is_some_and(|h| cost(&h) <= MAX_FILTER_COST)
}

/// Size of `hir` with counted repetitions expanded (saturating).
fn cost(hir: &regex_syntax::hir::Hir) -> u64 {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => 0,
        HirKind::Literal(l) => l.0.len() as u64,
        HirKind::Class(_) => 1,
        HirKind::Repetition(r) => {
            let n = u64::from(r.max.unwrap_or(r.min.max(1)));
            cost(&r.sub).saturating_mul(n.max(1))
        }
        HirKind::Capture(c) => cost(&c.sub),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            subs.iter().fold(0u64, |a, h| a.saturating_add(cost(h)))
        }
    }
}

/// `hir` with every ASCII case pair class (`[Aa]`, what `(?i)` makes of a letter) turned
/// into the lower-case literal, so literal extraction sees words, not their case variants
/// (the gate matches ASCII case-insensitively).
fn fold_case(hir: &regex_syntax::hir::Hir) -> regex_syntax::hir::Hir {
    use regex_syntax::hir::{Class, Hir, HirKind, Repetition};
    match hir.kind() {
        HirKind::Class(Class::Bytes(c)) => {
            let bytes: Vec<u8> = c.iter().flat_map(|r| r.start()..=r.end()).take(3).collect();
            match bytes.as_slice() {
                [a, b] if a.is_ascii_uppercase() && *b == a.to_ascii_lowercase() => {
                    Hir::literal([*b])
                }
                _ => hir.clone(),
            }
        }
        HirKind::Concat(subs) => Hir::concat(subs.iter().map(fold_case).collect()),
        HirKind::Alternation(subs) => Hir::alternation(subs.iter().map(fold_case).collect()),
        HirKind::Capture(c) => Hir::capture(regex_syntax::hir::Capture {
            index: c.index,
            name: c.name.clone(),
            sub: Box::new(fold_case(&c.sub)),
        }),
        HirKind::Repetition(r) => Hir::repetition(Repetition {
            min: r.min,
            max: r.max,
            greedy: r.greedy,
            sub: Box::new(fold_case(&r.sub)),
        }),
        _ => hir.clone(),
    }
}

type LitSet = std::collections::BTreeSet<Vec<u8>>;

/// How useful a gate is: longer shortest literal first, then fewer literals.
fn quality(set: &LitSet) -> (usize, std::cmp::Reverse<usize>) {
    let shortest = set.iter().map(Vec::len).min().unwrap_or(0);
    (shortest.min(8), std::cmp::Reverse(set.len()))
}

fn better(a: Option<LitSet>, b: Option<LitSet>) -> Option<LitSet> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if quality(&b) > quality(&a) { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// Shortest literal worth gating on: shorter ones occur nearly everywhere, and every
/// occurrence costs a report from the automaton.
const MIN_GATE_LITERAL: usize = 3;

/// Prefix literals of `hir` as a usable gate: finite, lower-cased, bounded, none shorter
/// than [`MIN_GATE_LITERAL`].
fn prefixes(hir: &regex_syntax::hir::Hir) -> Option<LitSet> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let seq = Extractor::new()
        .kind(ExtractKind::Prefix)
        .limit_class(1)
        .extract(hir);
    let lits = seq.literals()?;
    let set: LitSet = lits
        .iter()
        .map(|l| l.as_bytes().to_ascii_lowercase())
        .collect();
    (!set.is_empty()
        && set.len() <= MAX_GATE_LITERALS
        && set.iter().all(|l| l.len() >= MIN_GATE_LITERAL))
    .then_some(set)
}

fn required(hir: &regex_syntax::hir::Hir, depth: usize) -> Option<LitSet> {
    use regex_syntax::hir::{Hir, HirKind};
    if depth > 16 {
        return prefixes(hir);
    }
    match hir.kind() {
        HirKind::Concat(subs) => {
            let mut best = None;
            // Every suffix starts where some match position must pass: its prefixes are
            // required, and so is whatever a mandatory element requires.
            for i in 0..subs.len().min(32) {
                best = better(best, prefixes(&Hir::concat(subs[i..].to_vec())));
                best = better(best, required(&subs[i], depth + 1));
            }
            best
        }
        HirKind::Capture(c) => required(&c.sub, depth + 1),
        HirKind::Repetition(r) if r.min >= 1 => required(&r.sub, depth + 1),
        HirKind::Alternation(alts) => {
            let mut union = LitSet::new();
            for a in alts {
                union.extend(required(a, depth + 1)?);
            }
            (union.len() <= MAX_GATE_LITERALS).then_some(union)
        }
        _ => prefixes(hir),
    }
}

/// Most further literal sets ([`Compiled::also`]) one rule is gated on.
const MAX_ALSO: usize = 3;

/// Shortest literal of a further set: a common short word in a second set would be reported
/// by the automaton all the time and rule little out.
const MIN_ALSO_LITERAL: usize = 4;

/// Literal sets besides `primary` (the gate, [`required`]) one of which every match of
/// `folded` (a pattern through [`fold_case`]) also contains: each mandatory element of a top-level concatenation needs its own (the
/// header-order rules need ten field names, the first of which every message has). At most
/// [`MAX_ALSO`], the best first ([`quality`]), none with a literal inside or around one of
/// the gate's or of another chosen set ([`overlaps`]), each literal at least
/// [`MIN_ALSO_LITERAL`] bytes.
fn also_required(folded: &regex_syntax::hir::Hir, primary: &LitSet) -> Vec<LitSet> {
    fn positions(hir: &regex_syntax::hir::Hir, out: &mut Vec<LitSet>) {
        use regex_syntax::hir::{Hir, HirKind};
        match hir.kind() {
            HirKind::Concat(subs) => {
                for i in 0..subs.len().min(32) {
                    let here = better(
                        prefixes(&Hir::concat(subs[i..].to_vec())),
                        required(&subs[i], 1),
                    );
                    out.extend(here);
                    if matches!(subs[i].kind(), HirKind::Capture(_) | HirKind::Repetition(_)) {
                        positions(&subs[i], out);
                    }
                }
            }
            HirKind::Capture(c) => positions(&c.sub, out),
            HirKind::Repetition(r) if r.min >= 1 => positions(&r.sub, out),
            _ => {}
        }
    }
    let mut sets = Vec::new();
    positions(folded, &mut sets);
    sets.retain(|s| s.iter().all(|l| l.len() >= MIN_ALSO_LITERAL));
    sets.sort_by_key(|s| std::cmp::Reverse(quality(s)));
    let mut chosen: Vec<LitSet> = Vec::new();
    for set in sets {
        if chosen.len() == MAX_ALSO {
            break;
        }
        if !overlaps(&set, primary) && chosen.iter().all(|c| !overlaps(c, &set)) {
            chosen.push(set);
        }
    }
    chosen
}

/// Whether a literal of `a` is part of one of `b` or the other way round: one set then says
/// little the other does not (`pills` once the gate is `cheap pills`).
fn overlaps(a: &LitSet, b: &LitSet) -> bool {
    let inside = |x: &[u8], y: &[u8]| memchr::memmem::find(y, x).is_some();
    a.iter()
        .any(|x| b.iter().any(|y| inside(x, y) || inside(y, x)))
}

/// The compiled regex of every pattern rule, and why the others cannot run.
#[derive(Debug, Clone, Default)]
pub struct Compiled {
    /// Rule name -> matcher, for rules with a regex.
    pub matchers: BTreeMap<String, Matcher>,
    /// Rule name -> why it does not run.
    pub skipped: BTreeMap<String, String>,
    /// Rule name -> its filter ([`Dialect::Filter`]), when that translates, compiles and
    /// is cheap to run.
    pub filters: BTreeMap<String, Filter>,
    /// Rule name -> literals one of which every match contains (lower case, see
    /// [`required_literals`]).
    pub gates: BTreeMap<String, Vec<Vec<u8>>>,
    /// Header rule name -> further literal sets, each of which every match also needs one
    /// literal of besides its gate's: one per mandatory part of the pattern's top-level
    /// sequence, at most three, none under four bytes. The header-order rules need
    /// ten field names, the first of which every message has: on the stock rules' sample
    /// this runs 20% fewer header regexes.
    pub also: BTreeMap<String, Vec<Vec<Vec<u8>>>>,
}

/// The filter of pattern `p` (see [`Dialect::Filter`]); reuses `m` when the translations
/// are the same.
pub fn compile_filter(p: &Pattern, m: &Matcher) -> Option<regex::bytes::Regex> {
    let Translation::Ok(s) = translate(&p.source, &p.flags, Dialect::Filter) else {
        return None;
    };
    if let Matcher::Regex(r) = m
        && r.as_str() == s
    {
        return Some(r.clone());
    }
    regex::bytes::RegexBuilder::new(&s)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .ok()
}

/// A gate's literals.
type Literals = Vec<Vec<u8>>;

/// A gate's literals and the further sets every match also needs one literal of.
type Gates = (Literals, Vec<Literals>);

/// What [`compile`] keeps of pattern `p`'s filter, when it translates and compiles: the
/// filter itself when it is cheap ([`filter_is_cheap`]), and its gate
/// ([`required_literals`]). A filter that is not run is compiled only to check that it
/// compiles (or not at all when it is `m`).
fn filter_and_gate(
    p: &Pattern,
    m: &Matcher,
    also: bool,
) -> Option<(Option<Filter>, Option<Gates>)> {
    let Translation::Ok(s) = translate(&p.source, &p.flags, Dialect::Filter) else {
        return None;
    };
    let hir = parse(&s)?;
    if cost(&hir) <= MAX_FILTER_COST {
        let f = Filter::with_hir(&s, &hir)?;
        return Some((Some(f), gates_of(&hir, also)));
    }
    let compiles = matches!(m, Matcher::Regex(r) if r.as_str() == s)
        || regex::bytes::RegexBuilder::new(&s)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .build()
            .is_ok();
    compiles.then(|| (None, gates_of(&hir, also)))
}

/// A rule's gate and, when `also`, its further literal sets ([`also_required`]).
fn gates_of(hir: &regex_syntax::hir::Hir, also: bool) -> Option<Gates> {
    let folded = fold_case(hir);
    let primary = required(&folded, 0)?;
    let more = if also {
        also_required(&folded, &primary)
            .into_iter()
            .map(|s| s.into_iter().collect())
            .collect()
    } else {
        Vec::new()
    };
    Some((primary.into_iter().collect(), more))
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
                    // Only header rules gate on further sets (see `Compiled::also`).
                    let header = matches!(rule.test, RuleTest::Header(_));
                    if let Some((filter, lits)) = filter_and_gate(p, &m, header) {
                        if let Some((lits, also)) = lits {
                            out.gates.insert(name.clone(), lits);
                            if !also.is_empty() {
                                out.also.insert(name.clone(), also);
                            }
                        }
                        if let Some(f) = filter {
                            out.filters.insert(name.clone(), f);
                        }
                    }
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
        let m = compile_pattern(&p).expect("compiles");
        required_literals(&compile_filter(&p, &m).expect("filter compiles"))
    }

    fn filter(src: &str) -> regex::bytes::Regex {
        let p = Pattern {
            source: src.into(),
            flags: String::new(),
            delimiter: '/',
        };
        compile_filter(&p, &compile_pattern(&p).expect("compiles")).expect("filter")
    }

    #[test]
    fn catastrophic_backtracking_is_cut_short() {
        // Nested quantifiers with a backreference (so PCRE2): exponential on a near miss.
        let p = Pattern {
            source: r"^(\w+\s?)+\1$".into(),
            flags: String::new(),
            delimiter: '/',
        };
        let m = compile_pattern(&p).expect("compiles");
        assert_eq!(m.engine(), "pcre2");
        let hostile = format!("{}!", "ab ".repeat(40));
        let start = std::time::Instant::now();
        assert!(!m.is_match(hostile.as_bytes()));
        // Generous bound: without the limit this takes minutes.
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        assert!(m.is_match(b"ab ab "));
    }

    fn also(src: &str, flags: &str) -> Vec<Vec<String>> {
        let p = Pattern {
            source: src.into(),
            flags: flags.into(),
            delimiter: '/',
        };
        let Translation::Ok(s) = translate(&p.source, &p.flags, Dialect::Filter) else {
            panic!("translates")
        };
        let (_, also) = gates_of(&parse(&s).expect("parses"), true).expect("gated");
        also.iter()
            .map(|set| {
                set.iter()
                    .map(|l| String::from_utf8_lossy(l).into())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn further_literal_sets() {
        // Each mandatory element of the concatenation needs its own; the gate (here
        // "\nfrom: ") is not repeated, and at most three are kept.
        let sets = also(
            r"\nFrom: .{1,80}?\nTo: .{1,80}?\nSubject: .{1,80}?\nX-Mailer: .{1,80}?\nX-Priority:",
            "s",
        );
        assert_eq!(sets.len(), 3, "{sets:?}");
        assert!(
            sets.iter().all(|s| s.len() == 1 && s[0].starts_with('\n')),
            "{sets:?}"
        );
        // Inside a mandatory group too (the gate is the longer word); case folded as the
        // gate is.
        assert_eq!(also(r"(?:Cheap.{0,20}watches)+", "i"), [["cheap"]]);
        // An alternation needs one of its branches' sets (the gate is the other one here);
        // none that the gate (the four phrases in the second) holds already.
        assert_eq!(
            also(r"(?:cheap|free)\s(?:watches|pills)", ""),
            [["cheap", "free"]]
        );
        assert!(also(r"(?:cheap|free) (?:watches|pills)", "").is_empty());
        // Nothing from an optional part, nor short words.
        assert!(also(r"cheap(?: watches)?", "").is_empty());
        assert!(also(r"cheap.*the", "").is_empty());
    }

    #[test]
    fn prefilter_literals() {
        let l = lits(r"cash (?:now|today)", "").expect("literals");
        assert!(l.iter().all(|x| x.starts_with(b"cash ")), "{l:?}");
        assert_eq!(lits(r"\bfree\b", "i"), Some(vec![b"free".to_vec()]));
        assert_eq!(
            lits(r"(?:your|our)\s+(?:name|address)", "i"),
            Some(vec![b"address".to_vec(), b"name".to_vec()])
        );
        // Anything may start a match, and nothing is required: the rule always runs.
        assert_eq!(lits(r".*", ""), None);
        assert_eq!(lits(r"a?", ""), None);
        // Inner literals gate too, and PCRE2 rules through their filter.
        assert_eq!(lits(r"[a-z]+\s+money", ""), Some(vec![b"money".to_vec()]));
        assert_eq!(lits(r"(?<=a)bcd", ""), Some(vec![b"bcd".to_vec()]));
        // Too short to be worth a gate.
        assert_eq!(lits(r"x\d+y", ""), None);
        assert_eq!(
            lits(r"(\w+) \1 winner", "i"),
            Some(vec![b" winner".to_vec()])
        );
    }

    #[test]
    fn filter_engine_agrees_with_regex() {
        let mut text = b"Dear friend,\nplease SEND ME YOUR ACCOUNTNUMBERS now\n".repeat(200);
        text.extend_from_slice(b"caf\xe9 mill\xc3\xb3n \xff\x00 end");
        for src in [
            r"(?i-u)\b[A-Za-z][a-z]{0,20}[,;)]?\s[A-Z]{16,}[a-z]?\s[A-Za-z][a-z]{1,15}\b",
            r"(?i-u)(?:\b|\s)_{0,3}[i1!|l]m[i1!|l]tr[e3]x",
            r"(?m-u)^please",
            r"(?-u)\xff\x00",
            r"(?-u)end$",
            r"nothing here",
            r"(?-u)caf\xe9",
        ] {
            let r = regex::bytes::Regex::new(src).expect("regex");
            let f = Filter::new(src).expect("filter");
            assert_eq!(f.as_str(), src);
            for hay in [&text[..], b"", b"x", &text[text.len() - 30..]] {
                assert_eq!(f.is_match(hay), r.is_match(hay), "{src}");
            }
        }
    }

    #[test]
    fn filters_match_every_line_match_in_joined_text() {
        let joined = b"first line\nsecond: free money\nlast";
        for src in [
            r"^second",
            r"money$",
            r"\Asecond",
            r"money\z",
            r"(?<!x)free(?= )",
            r"(?>fr)ee",
            r"fre++",
            r"(e)\1",
        ] {
            assert!(filter(src).is_match(joined), "{src}");
        }
        // A lookaround followed by a quantifier does not swallow the atom before it.
        assert!(filter(r"second(?=:){2}").is_match(joined));
        assert!(!filter(r"^money").is_match(joined));
    }
}
