//! The evaluation plan built at load time, and running it over one message's texts.
//!
//! Values follow SpamAssassin: an unhit rule is 0, a hit pattern rule 1 (or its match count
//! with `tflags multiple`, capped by `maxhits=N`), a meta rule the value of its expression.
//! Rules that cannot run yet (evals not implemented, headers not built) keep the reason and
//! count as not hit.

use std::collections::{BTreeMap, HashMap};

use super::compile::{Compiled, Filter, Matcher};
use super::literals::Literals;
use super::lockstep::Lockstep;
use super::meta::{Expr, Program};
use super::parser::{Area, Config, HeaderTest, RuleTest, tokenize_meta};
use super::texts::Texts;

/// How many matches `multiple` counts at most when no `maxhits` is given.
const MULTIPLE_CAP: usize = 1_000;
/// Meta nesting bound (meta rules referring to meta rules).
const META_DEPTH: usize = 64;

/// What one rule does.
#[derive(Debug, Clone)]
enum Kind {
    Lines {
        area: Area,
        matcher: Matcher,
        /// Rules the rule out with one search over the joined lines.
        filter: Option<Filter>,
    },
    Full {
        matcher: Matcher,
        filter: Option<Filter>,
    },
    Header {
        name: String,
        modifiers: Vec<String>,
        /// The text's number for the per-message cache ([`Texts::header_in_slot`]): one
        /// per `name:modifier:...`.
        slot: u32,
        negate: bool,
        matcher: Matcher,
        if_unset: Option<Vec<u8>>,
    },
    Exists {
        name: String,
        /// As in [`Kind::Header`].
        slot: u32,
    },
    MimeHeader {
        name: String,
        raw: bool,
        negate: bool,
        matcher: Matcher,
    },
    /// An eval, with the area of its rule (`body` and `rawbody` evals read that text).
    Eval(super::parser::EvalCall, Area),
    /// A meta rule: its program is in [`Plan::programs`].
    Meta,
}

/// One runnable rule.
#[derive(Debug, Clone)]
struct Step {
    name: String,
    kind: Kind,
    /// Count matches (`tflags multiple`), at most this many.
    multiple: Option<usize>,
    /// A body rule that does not see the Subject (`tflags nosubject`).
    nosubject: bool,
}

/// `trusted_networks` and `internal_networks` from the rule files.
#[derive(Debug, Clone, Default)]
pub struct TrustNetworks {
    /// `trusted_networks`.
    pub trusted: super::relays::Networks,
    /// `internal_networks`.
    pub internal: super::relays::Networks,
    /// Registry boundaries for `:host` and `:domain`.
    pub registry: std::sync::Arc<super::texts::Registry>,
    /// `redirector_pattern`s, compiled (ones that do not compile are left out).
    pub redirectors: super::uris::Redirectors,
    /// `normalize_charset`: body text parts recoded to UTF-8 as SpamAssassin 4 does.
    pub normalize_charset: bool,
    /// `originating_ip_headers`, in order.
    pub originating_ip_headers: Vec<String>,
}

/// A rule's score and description.
#[derive(Debug, Clone)]
pub struct Scored {
    /// Score in the active set.
    pub score: f64,
    /// `describe` text.
    pub description: String,
}

/// The plan.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    steps: Vec<Step>,
    index: HashMap<String, usize>,
    /// Scores of every rule that would be listed (not `__`, score not 0).
    pub scored: BTreeMap<String, Scored>,
    /// Rules that do not run, with the reason.
    pub not_run: BTreeMap<String, String>,
    /// The networks that decide which relays are trusted and internal.
    pub networks: TrustNetworks,
    eval_data: super::eval::EvalData,
    /// Per text (body, rawbody, uri, full): the required literals of the rules over it.
    gates: Vec<Gate>,
    /// Header rules' literals, per header text some gated rule reads.
    header_gates: Vec<HeaderGate>,
    /// Per step: runs only when one of its literals occurs in its text.
    prefiltered: Vec<bool>,
    /// Per gated step: the bits of the literal sets it needs (bit 0 its gate, one bit per
    /// further set of a header rule, [`Compiled::also`](super::compile::Compiled::also)); it
    /// can match only when every bit was found.
    need: Vec<u8>,
    /// Per step: the steps a meta expression reads (resolved once at build).
    meta_deps: Vec<Vec<usize>>,
    /// Per step: its index in `programs` when it is a meta rule, else [`LEAF`]. The
    /// evaluation reads these compact arrays rather than the steps themselves, which
    /// are large and mostly out of cache.
    program_of: Vec<u32>,
    /// The meta rules' programs (a meta rule whose expression did not resolve has none and
    /// reads 0).
    programs: Vec<Program>,
    /// Per step: a `!~` header test (it holds when its gate rules it out).
    negated: Vec<bool>,
    /// The meta steps in evaluation order (see [`Plan::order_metas`]).
    meta_order: Vec<MetaOp>,
    /// Filters of ungated line rules searched together (see [`Plan::group_filters`]).
    filter_groups: Vec<FilterGroup>,
    /// Per step: its filter group.
    group_of: Vec<Option<u32>>,
    /// Per area: the unions of its filter groups, searched together ([`Lockstep`]).
    lockstep: Vec<AreaUnions>,
    /// Gated line rules run together on their lines ([`LineBatch`]).
    batches: Vec<LineBatch>,
    /// Per step: its batch and its place in it.
    batch_of: Vec<Option<(u32, u32)>>,
    /// The scored steps, which [`Plan::run_scored`] runs first.
    roots: Vec<usize>,
    /// Per step: whether it is one of `roots`.
    is_root: Vec<bool>,
    /// Whether meta rules can be evaluated on demand (no cycle, nesting within
    /// [`META_DEPTH`]): see [`Plan::run_scored`].
    lazy: bool,
    /// The arguments of the `check_freemail_replyto` evals that run: SpamAssassin's FreeMail
    /// plugin may rewrite the body text the body rules see (see [`Plan::prepare`]).
    freemail_reply_checks: Vec<String>,
}

/// The filters of several ungated line rules over one text, as one alternation: when it
/// does not match, none of them does, and one search has ruled them all out.
#[derive(Debug, Clone)]
struct FilterGroup {
    area: Area,
    union: Filter,
}

/// The unions of the filter groups over one text, searched side by side: every message
/// needs nearly all of them (on the stock rules' sample all 17 are searched for each
/// message), so the first member to ask has every union of its text searched.
#[derive(Debug, Clone)]
struct AreaUnions {
    area: Area,
    /// The filter groups, in the order of `unions`' patterns.
    groups: Vec<usize>,
    unions: Lockstep,
}

/// Gated line rules with the same literals over the same text, which therefore run on the
/// same lines, matched against each line together ([`Lockstep`]): the first to run has
/// them all run. Only rules that answer whether a line matches (not `multiple`), with the
/// `regex` engine, outside filter groups, and all with a filter or all without one. On the
/// stock rules, the five `__FILL_THIS_FORM_*` body rules (ReplaceTags patterns of ~3 KB,
/// gated on words like `name` and `age` that most lines hold: a third of all line matches
/// a message makes) form one batch, the URI rules gated on `http` another.
#[derive(Debug, Clone)]
struct LineBatch {
    area: Area,
    /// Whether the rules see the Subject (they all do, or none does).
    nosubject: bool,
    steps: Vec<usize>,
    patterns: Lockstep,
}

/// Most rules one [`LineBatch`] holds.
const LINE_BATCH: usize = 8;

/// How many filters one [`FilterGroup`] holds at most. A union searches a text about four
/// times faster than its members one after another (2026-12-06, stock rules): bigger unions
/// make the lazy DFA's states bigger.
const FILTER_GROUP: usize = 8;

/// How much more lazy-DFA state ([`dfa_growth`]) a union may build than its group and the
/// filter joining it build apart. Unions of filters in step order, eight at a time, put
/// counting patterns together whose union cost more than its members searched one by one;
/// grouping by this measure made the stock rules' scan 3.5% faster (2026-12-06, 1.3 and 2
/// within the noise of 1.5, 1.0 slower: too many small unions).
const UNION_GROWTH: f64 = 1.5;

/// Ordinary mail text, a letter and a newsletter's footer. A filter that matches here matches
/// most messages, and would make every union it joined match: it is searched on its own.
/// The footer's lines keep the one-word-line, 8-bit, money and click-here filters out of
/// the unions (on the stock rules' sample the union holding `__SINGLE_WORD_LINE` matched
/// 146 of 303 messages, and every member then searched the text again): about 5% faster.
const ORDINARY_TEXT: &[u8] = b"Re: meeting notes for Tuesday\n\
Hi Anna,\n\
Thanks for sending the agenda. I've attached the revised budget (v2, 14 pages) and the\n\
minutes from last week's call. Could you check the numbers on page 3 before Friday?\n\
> Should we move the review to 10:30 on the 12th?\n\
Yes, that works for me. The slides are at https://intranet.example.com/docs/review.html\n\
and questions can go to team@example.com.\n\
Best regards,\n\
John Smith - Project Manager\n\
Tel. +1 (555) 010-2030\n\
Thanks!\n\
-- \n\
Our spring catalogue \xe2\x80\x94 caf\xc3\xa9 chairs from $49.99 (US dollars), 20% off until May.\n\
To unsubscribe, click here.\n";

/// [`Plan::program_of`] of a step that is not a meta rule.
const LEAF: u32 = u32::MAX;

/// Bytes of lazy-DFA states a search of [`ORDINARY_TEXT`] builds for `pattern` (a filter or
/// a union of filters): what [`Plan::group_filters`] weighs a union by. The states a text
/// needs are what make a search slow once they no longer fit in the cache, and counted
/// repetitions of broad classes multiply them in a union (`__LONGWORDS_*`'s
/// `(?:[a-z]{6,}[\s.]+){9}` beside the money patterns): measured, not timed, so the plan
/// is the same on every run. `None` when no DFA can be built.
fn dfa_growth(pattern: &str) -> Option<usize> {
    use regex_automata::{Input, hybrid::dfa::DFA, nfa::thompson, util::syntax};
    let dfa = DFA::builder()
        .syntax(syntax::Config::new().utf8(false))
        .thompson(
            thompson::Config::new()
                .utf8(false)
                .nfa_size_limit(Some(super::compile::REGEX_SIZE_LIMIT)),
        )
        .configure(DFA::config().cache_capacity(super::compile::REGEX_SIZE_LIMIT))
        .build(pattern)
        .ok()?;
    let mut cache = dfa.create_cache();
    dfa.try_search_fwd(&mut cache, &Input::new(ORDINARY_TEXT))
        .ok()?;
    Some(cache.memory_usage())
}

/// One step of the meta evaluation order.
#[derive(Debug, Clone, Copy)]
enum MetaOp {
    /// The meta rule is being evaluated: a cycle back to it reads 0.
    Enter(usize),
    /// Its dependencies are done: evaluate its program.
    Exit(usize),
}

/// A gated line rule with more candidate lines than this finds its lines with its filter
/// instead ([`FilterLines`]: one search up to each line that can match, instead of a
/// regex run on every line holding a literal).
const FILTER_ABOVE_LINES: usize = 16;

/// What the literal gates found in one message.
struct Candidates {
    /// Per step: one of its literals occurs in its text.
    hit: Vec<bool>,
    /// Line indexes, grouped by step (see `ranges`).
    lines: Vec<u32>,
    /// Per step: its range in `lines`.
    ranges: Vec<(u32, u32)>,
}

impl Candidates {
    /// The lines of a gated line rule that hold one of its literals, in order.
    fn lines_of(&self, step: usize) -> &[u32] {
        let (a, b) = self.ranges[step];
        &self.lines[a as usize..b as usize]
    }
}

/// Rule name -> further literal sets ([`Compiled::also`](super::compile::Compiled::also)).
type Also = BTreeMap<String, Vec<Vec<Vec<u8>>>>;

/// The literal prefilter of the rules over one text: an ASCII case-insensitive search
/// for the literals one of which each rule needs.
#[derive(Debug, Clone)]
struct Gate {
    area: Area,
    literals: Literals,
    /// Pattern id -> the steps that need that literal, with the bit of its set.
    owner: Vec<Vec<(usize, u8)>>,
}

/// The literal prefilter of the header rules reading one header text (`name:modifiers`):
/// a search for their literals only, in that text once.
#[derive(Debug, Clone)]
struct HeaderGate {
    /// The header text: cache slot ([`Kind::Header`]), name, modifiers.
    slot: u32,
    name: String,
    modifiers: Vec<String>,
    literals: Literals,
    /// Pattern id -> the steps that need that literal, with the bit of its set.
    owner: Vec<Vec<(usize, u8)>>,
}

/// A gate's literals, each once (many rules share one, and the search would report
/// every occurrence once per copy), with the steps that need each.
#[derive(Default)]
struct GateLiterals {
    patterns: Vec<Vec<u8>>,
    owner: Vec<Vec<(usize, u8)>>,
    index: HashMap<Vec<u8>, usize>,
}

impl GateLiterals {
    fn add(&mut self, literal: &[u8], step: usize, bit: u8) {
        let id = *self.index.entry(literal.to_vec()).or_insert_with(|| {
            self.patterns.push(literal.to_vec());
            self.owner.push(Vec::new());
            self.patterns.len() - 1
        });
        self.owner[id].push((step, bit));
    }

    /// Adds step `step`'s gate and its further sets; returns the bits it needs.
    fn add_step(&mut self, gate: &[Vec<u8>], also: &[Vec<Vec<u8>>], step: usize) -> u8 {
        let mut need = 1u8;
        for l in gate {
            self.add(l, step, 1);
        }
        for (k, set) in also.iter().enumerate().take(7) {
            let bit = 2u8 << k;
            need |= bit;
            for l in set {
                self.add(l, step, bit);
            }
        }
        need
    }
}

/// Header names mailwarden does not build yet.
fn unbuilt_header(name: &str) -> Option<&'static str> {
    match name {
        "ALL-TRUSTED" | "ALL-INTERNAL" | "ALL-UNTRUSTED" | "ALL-EXTERNAL" => None,
        _ if name.starts_with("ALL-") => Some("ALL-* pseudo-header not known"),
        _ => None,
    }
}

impl Plan {
    /// Builds the plan for score set `set` (0: no network, no Bayes).
    pub fn build(config: &Config, compiled: &Compiled, set: usize) -> Plan {
        let mut plan = Plan {
            eval_data: super::eval::EvalData::new(config),
            networks: TrustNetworks {
                trusted: config.trusted_networks.clone(),
                internal: config.internal_networks.clone(),
                registry: config.registry.clone(),
                redirectors: super::uris::Redirectors::new(
                    config
                        .redirector_patterns
                        .iter()
                        .filter_map(|p| super::compile::compile_pattern(p).ok())
                        .collect(),
                ),
                normalize_charset: config.normalize_charset.unwrap_or(true),
                originating_ip_headers: config.originating_ip_headers.clone(),
            },
            ..Plan::default()
        };
        // Meta expressions by step, compiled once every step has its slot.
        let mut metas: Vec<(usize, Expr)> = Vec::new();
        // Each header text's cache slot, by its key (`name:modifier:...`).
        let mut slots: HashMap<String, u32> = HashMap::new();
        let mut slot_of = |key: String| {
            let next = slots.len() as u32;
            *slots.entry(key).or_insert(next)
        };
        for (name, rule) in &config.rules {
            let tflags = config.tflags.get(name).map(Vec::as_slice).unwrap_or(&[]);
            let score = match config.scores.get(name) {
                Some(s) => s[set.min(3)],
                None if name.starts_with("T_") => 0.01,
                None => 1.0,
            };
            let nice = tflags.iter().any(|f| f == "nice");
            let score = if nice && !config.scores.contains_key(name) {
                -score
            } else {
                score
            };
            // As SpamAssassin: `net` and `learn` skip only eval rules in a score set without
            // network or Bayes (a meta rule so flagged still runs over the local rules), and
            // a rule whose score is 0 in this set does not run at all.
            let is_eval = matches!(
                rule.test,
                RuleTest::Eval(_) | RuleTest::Header(HeaderTest::Eval(_))
            );
            if is_eval && tflags.iter().any(|f| f == "net") && set & 1 == 0 {
                plan.not_run
                    .insert(name.clone(), "network test (network off)".into());
                continue;
            }
            if is_eval && tflags.iter().any(|f| f == "learn") && set & 2 == 0 {
                plan.not_run
                    .insert(name.clone(), "Bayes test (Bayes off)".into());
                continue;
            }
            if score == 0.0 {
                plan.not_run
                    .insert(name.clone(), "score 0 in this score set".into());
                continue;
            }
            let multiple = tflags.iter().any(|f| f == "multiple").then(|| {
                tflags
                    .iter()
                    .find_map(|f| f.strip_prefix("maxhits=")?.parse::<usize>().ok())
                    .unwrap_or(MULTIPLE_CAP)
            });
            let matcher = || compiled.matchers.get(name).cloned();
            let filter = compiled.filters.get(name).cloned();
            let kind = match (&rule.test, rule.area) {
                (RuleTest::Meta(expr), _) => {
                    match tokenize_meta(expr).and_then(|t| Expr::parse(&t)) {
                        Ok(e) => {
                            metas.push((plan.steps.len(), e));
                            Some(Kind::Meta)
                        }
                        Err(e) => {
                            plan.not_run.insert(name.clone(), e);
                            None
                        }
                    }
                }
                (RuleTest::Pattern(_), Area::Full) => {
                    matcher().map(|matcher| Kind::Full { matcher, filter })
                }
                (RuleTest::Pattern(_), area) => matcher().map(|matcher| Kind::Lines {
                    area,
                    matcher,
                    filter,
                }),
                (RuleTest::Header(HeaderTest::Exists(h)), _) => Some(Kind::Exists {
                    name: h.clone(),
                    slot: slot_of(h.clone()),
                }),
                (
                    RuleTest::Header(HeaderTest::Regex {
                        header,
                        negate,
                        if_unset,
                        ..
                    }),
                    _,
                ) => {
                    if let Some(why) = unbuilt_header(&header.name) {
                        plan.not_run.insert(name.clone(), why.into());
                        None
                    } else {
                        let key = std::iter::once(header.name.as_str())
                            .chain(header.modifiers.iter().map(String::as_str))
                            .collect::<Vec<_>>()
                            .join(":");
                        matcher().map(|m| Kind::Header {
                            name: header.name.clone(),
                            modifiers: header.modifiers.clone(),
                            slot: slot_of(key),
                            negate: *negate,
                            matcher: m,
                            if_unset: if_unset.as_ref().map(|s| {
                                let mut v: Vec<u8> = s.chars().map(|c| c as u32 as u8).collect();
                                v.push(b'\n');
                                v
                            }),
                        })
                    }
                }
                (RuleTest::Header(HeaderTest::Eval(call)), area) | (RuleTest::Eval(call), area)
                    if super::eval::supported(call) =>
                {
                    Some(Kind::Eval(call.clone(), area))
                }
                (RuleTest::Header(HeaderTest::Eval(call)), _) | (RuleTest::Eval(call), _) => {
                    plan.not_run.insert(
                        name.clone(),
                        format!("eval {}() not implemented yet", call.function),
                    );
                    None
                }
                (RuleTest::MimeHeader { header, negate, .. }, _) => {
                    matcher().map(|m| Kind::MimeHeader {
                        name: header.name.clone(),
                        raw: header.modifiers.iter().any(|x| x == "raw"),
                        negate: *negate,
                        matcher: m,
                    })
                }
            };
            let Some(kind) = kind else {
                plan.not_run
                    .entry(name.clone())
                    .or_insert_with(|| "regex did not compile".into());
                continue;
            };
            if !name.starts_with("__") && score != 0.0 {
                plan.scored.insert(
                    name.clone(),
                    Scored {
                        score,
                        description: config.describes.get(name).cloned().unwrap_or_default(),
                    },
                );
            }
            plan.index.insert(name.clone(), plan.steps.len());
            plan.steps.push(Step {
                name: name.clone(),
                kind,
                multiple,
                nosubject: rule.area == Area::Body && tflags.iter().any(|f| f == "nosubject"),
            });
        }
        plan.build_prefilter(&compiled.gates, &compiled.also);
        plan.meta_deps = vec![Vec::new(); plan.steps.len()];
        plan.program_of = vec![LEAF; plan.steps.len()];
        for (i, mut e) in metas {
            let mut names = Vec::new();
            e.rules(&mut names);
            plan.meta_deps[i] = names
                .iter()
                .filter_map(|n| plan.index.get(n).copied())
                .collect();
            e.resolve(&|n| plan.index.get(n).copied());
            plan.program_of[i] = plan.programs.len() as u32;
            plan.programs.push(e.compile());
        }
        plan.negated = plan
            .steps
            .iter()
            .map(|s| matches!(s.kind, Kind::Header { negate: true, .. }))
            .collect();
        plan.order_metas();
        plan.group_filters();
        plan.batch_lines(&compiled.gates);
        plan.roots = (0..plan.steps.len())
            .filter(|&i| plan.scored.contains_key(&plan.steps[i].name))
            .collect();
        plan.is_root = vec![false; plan.steps.len()];
        for &i in &plan.roots {
            plan.is_root[i] = true;
        }
        plan.lazy = plan.metas_acyclic();
        for step in &plan.steps {
            if let Kind::Eval(call, _) = &step.kind
                && call.function == "check_freemail_replyto"
            {
                let what = call.args.first().map_or("replyto", String::as_str);
                if !plan.freemail_reply_checks.iter().any(|w| w == what) {
                    plan.freemail_reply_checks.push(what.to_string());
                }
            }
        }
        plan
    }

    /// What the texts go through between being built and the rules running, as in
    /// SpamAssassin: when a `check_freemail_replyto` eval reads the body (its header
    /// evals run before the body rules of the same priority), FreeMail strips URLs with an
    /// `@` and quoted addresses from the body lines in place, and every body rule and body
    /// eval after it sees them so (`__HAS_ANY_EMAIL` misses `list@example.com  https:`
    /// then). The URI list keeps the original text's.
    pub fn prepare(&self, texts: &mut Texts<'_>) {
        if self
            .freemail_reply_checks
            .iter()
            .any(|what| super::header_evals::freemail_reads_body(texts, &self.eval_data, what))
        {
            texts.rewrite_body(super::header_evals::strip_quoted_addresses);
        }
    }

    /// Whether no meta rule reaches itself and no chain of meta rules is longer than
    /// [`META_DEPTH`]: then evaluating on demand gives every rule the value the fixed
    /// order of [`Plan::order_metas`] gives it.
    fn metas_acyclic(&self) -> bool {
        // Per step: 0 unvisited, 1 on the path, 2 done; with the longest chain below.
        fn depth(
            plan: &Plan,
            i: usize,
            level: usize,
            state: &mut [u8],
            below: &mut [usize],
        ) -> Option<usize> {
            if state[i] == 0 && plan.meta_deps[i].is_empty() {
                return Some(0);
            }
            if level > META_DEPTH {
                return None;
            }
            match state[i] {
                1 => return None,
                2 => return Some(below[i]),
                _ => {}
            }
            state[i] = 1;
            let mut d = 0;
            for &j in &plan.meta_deps[i] {
                d = d.max(depth(plan, j, level + 1, state, below)? + 1);
                if d >= META_DEPTH {
                    return None;
                }
            }
            state[i] = 2;
            below[i] = d;
            Some(d)
        }
        let mut state = vec![0u8; self.steps.len()];
        let mut below = vec![0usize; self.steps.len()];
        (0..self.steps.len()).all(|i| depth(self, i, 0, &mut state, &mut below).is_some())
    }

    /// Puts the filters of ungated line rules into [`FilterGroup`]s, [`FILTER_GROUP`] at a
    /// time per text, in step order. Filters that match [`ORDINARY_TEXT`] stay alone, and
    /// so do the members of a union that does not compile.
    fn group_filters(&mut self) {
        self.group_of = vec![None; self.steps.len()];
        for area in [Area::Body, Area::Rawbody, Area::Uri] {
            let members: Vec<(usize, &Filter)> = (0..self.steps.len())
                .filter(|&i| !self.prefiltered[i])
                .filter_map(|i| match &self.steps[i].kind {
                    Kind::Lines {
                        area: a,
                        filter: Some(f),
                        ..
                    } if *a == area && !f.is_match(ORDINARY_TEXT) => Some((i, f)),
                    _ => None,
                })
                .collect();
            // In step order; a filter joins the group before it while the union's lazy DFA
            // stays within UNION_GROWTH of what the group and the filter build apart.
            let mut chunks: Vec<Vec<(usize, &Filter)>> = Vec::new();
            let mut group: Vec<(usize, &Filter)> = Vec::new();
            let mut group_cost: Option<usize> = None;
            for &(i, f) in &members {
                let alone = dfa_growth(f.as_str());
                let joint = match (group_cost, alone) {
                    (Some(g), Some(a)) if (1..FILTER_GROUP).contains(&group.len()) => {
                        let mut pattern = Filter::union_pattern(group.iter().map(|(_, f)| *f));
                        pattern.push_str(&format!("|(?:{})", f.as_str()));
                        dfa_growth(&pattern).filter(|&j| j as f64 <= (g + a) as f64 * UNION_GROWTH)
                    }
                    _ => None,
                };
                if let Some(j) = joint {
                    group.push((i, f));
                    group_cost = Some(j);
                } else {
                    chunks.push(std::mem::replace(&mut group, vec![(i, f)]));
                    group_cost = alone;
                }
            }
            chunks.push(group);
            for chunk in chunks.iter().filter(|c| c.len() > 1) {
                let filters: Vec<&Filter> = chunk.iter().map(|(_, f)| *f).collect();
                if let Some(union) = Filter::union(&filters) {
                    for (i, _) in chunk {
                        self.group_of[*i] = Some(self.filter_groups.len() as u32);
                    }
                    self.filter_groups.push(FilterGroup { area, union });
                }
            }
            let groups: Vec<usize> = (0..self.filter_groups.len())
                .filter(|&g| self.filter_groups[g].area == area)
                .collect();
            let patterns: Vec<&str> = groups
                .iter()
                .map(|&g| self.filter_groups[g].union.as_str())
                .collect();
            // One union alone is searched as fast by `Filter` (its own unrolled loop).
            if let Some(unions) = Lockstep::new(&patterns).filter(|u| u.len() > 1) {
                self.lockstep.push(AreaUnions {
                    area,
                    groups,
                    unions,
                });
            }
        }
    }

    /// Forms the [`LineBatch`]es: gated line rules keyed by area, Subject flag, filter or
    /// none, and literal set, in step order, at most [`LINE_BATCH`] each.
    fn batch_lines(&mut self, gates: &BTreeMap<String, Vec<Vec<u8>>>) {
        self.batch_of = vec![None; self.steps.len()];
        type Key<'g> = (Area, bool, bool, &'g [Vec<u8>]);
        let mut keyed: Vec<(Key<'_>, Vec<usize>)> = Vec::new();
        let mut index: HashMap<Key<'_>, usize> = HashMap::new();
        for (i, step) in self.steps.iter().enumerate() {
            let Kind::Lines {
                area,
                matcher: Matcher::Regex(_),
                filter,
            } = &step.kind
            else {
                continue;
            };
            let Some(literals) = gates.get(&step.name) else {
                continue;
            };
            if !self.prefiltered[i] || step.multiple.is_some() || self.group_of[i].is_some() {
                continue;
            }
            let key = (*area, step.nosubject, filter.is_some(), literals.as_slice());
            let k = *index.entry(key).or_insert_with(|| {
                keyed.push((key, Vec::new()));
                keyed.len() - 1
            });
            keyed[k].1.push(i);
        }
        for ((area, nosubject, _, _), members) in keyed {
            for chunk in members.chunks(LINE_BATCH).filter(|c| c.len() > 1) {
                let patterns: Vec<&str> = chunk
                    .iter()
                    .filter_map(|&i| match &self.steps[i].kind {
                        Kind::Lines {
                            matcher: Matcher::Regex(r),
                            ..
                        } => Some(r.as_str()),
                        _ => None,
                    })
                    .collect();
                let Some(patterns) = Lockstep::new(&patterns) else {
                    continue;
                };
                let b = self.batches.len() as u32;
                for (k, &i) in chunk.iter().enumerate() {
                    self.batch_of[i] = Some((b, k as u32));
                }
                self.batches.push(LineBatch {
                    area,
                    nosubject,
                    steps: chunk.to_vec(),
                    patterns,
                });
            }
        }
    }

    /// Fixes the order meta rules are evaluated in, once: a depth-first walk from each
    /// meta rule in step order through its dependencies, as a recursive evaluation per
    /// message would take it (every other step has its value before the metas run, so the
    /// walk does not depend on the message). A rule is entered before its dependencies
    /// (a cycle back to it reads 0) and evaluated after them; past [`META_DEPTH`] a
    /// dependency is left for later and reads 0 meanwhile.
    fn order_metas(&mut self) {
        fn walk(plan: &Plan, i: usize, depth: usize, done: &mut [bool], ops: &mut Vec<MetaOp>) {
            if done[i] || depth > META_DEPTH {
                return;
            }
            done[i] = true;
            ops.push(MetaOp::Enter(i));
            for &j in &plan.meta_deps[i] {
                walk(plan, j, depth + 1, done, ops);
            }
            ops.push(MetaOp::Exit(i));
        }
        let mut done: Vec<bool> = self
            .steps
            .iter()
            .map(|s| !matches!(s.kind, Kind::Meta))
            .collect();
        let mut ops = Vec::new();
        for i in 0..self.steps.len() {
            walk(self, i, 0, &mut done, &mut ops);
        }
        self.meta_order = ops;
    }

    fn build_prefilter(&mut self, gates: &BTreeMap<String, Vec<Vec<u8>>>, also: &Also) {
        self.prefiltered = vec![false; self.steps.len()];
        self.need = vec![0; self.steps.len()];
        for area in [Area::Body, Area::Rawbody, Area::Uri, Area::Full] {
            let mut lits = GateLiterals::default();
            let mut gated = Vec::new();
            for (i, step) in self.steps.iter().enumerate() {
                match &step.kind {
                    Kind::Lines { area: a, .. } if *a == area => {}
                    Kind::Full { .. } if area == Area::Full => {}
                    _ => continue,
                }
                // Text rules gate on one set: further sets for them (485 stock rules)
                // made the automata report more than they ruled out (2026-12-06).
                if let Some(step_lits) = gates.get(&step.name) {
                    self.need[i] = lits.add_step(step_lits, &[], i);
                    gated.push(i);
                }
            }
            if let Some(literals) = Literals::new(&lits.patterns) {
                for i in gated {
                    self.prefiltered[i] = true;
                }
                self.gates.push(Gate {
                    area,
                    literals,
                    owner: lits.owner,
                });
            }
        }
        self.build_header_gates(gates, also);
    }

    /// Gates header rules without `[if-unset: ...]` (an unset header then reads as a
    /// text the literals need not be in): one search per header text, so that it
    /// reports only literals of rules reading that text, and each stays small.
    fn build_header_gates(&mut self, gates: &BTreeMap<String, Vec<Vec<u8>>>, also: &Also) {
        // Text -> (slot, name, modifiers, literals), in the order the texts first appear.
        let mut by_key: Vec<(u32, String, Vec<String>, GateLiterals)> = Vec::new();
        let mut key_index: HashMap<u32, usize> = HashMap::new();
        for (i, step) in self.steps.iter().enumerate() {
            let Kind::Header {
                name,
                modifiers,
                slot,
                if_unset: None,
                ..
            } = &step.kind
            else {
                continue;
            };
            let Some(lits) = gates.get(&step.name) else {
                continue;
            };
            let k = *key_index.entry(*slot).or_insert_with(|| {
                by_key.push((
                    *slot,
                    name.clone(),
                    modifiers.clone(),
                    GateLiterals::default(),
                ));
                by_key.len() - 1
            });
            let more = also.get(&step.name).map_or(&[][..], Vec::as_slice);
            self.need[i] = by_key[k].3.add_step(lits, more, i);
        }
        for (slot, name, modifiers, lits) in by_key {
            let Some(literals) = Literals::new(&lits.patterns) else {
                continue;
            };
            for owners in &lits.owner {
                for &(i, _) in owners {
                    self.prefiltered[i] = true;
                }
            }
            self.header_gates.push(HeaderGate {
                slot,
                name,
                modifiers,
                literals,
                owner: lits.owner,
            });
        }
    }

    /// Number of rules gated by the literal prefilter.
    pub fn prefiltered(&self) -> usize {
        self.prefiltered.iter().filter(|p| **p).count()
    }

    /// Steps whose required literals occur in their text, and for line rules the lines
    /// they occur in.
    fn candidates(&self, texts: &Texts<'_>, full: &[u8]) -> Candidates {
        // Per step: the bits of its literal sets found so far.
        let mut found = vec![0u8; self.steps.len()];
        // (step, line), each step's lines in increasing order (the search reports
        // matches left to right), without repeats.
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        let mut last_line = vec![u32::MAX; self.steps.len()];
        for gate in &self.gates {
            #[cfg(feature = "rule-timing")]
            let start = std::time::Instant::now();
            #[cfg(feature = "rule-timing")]
            let _timer = StageTimer(format!("[gate {:?}]", gate.area), start);
            // A literal's owners are visited once per text (the `full` text) or per line:
            // a common literal (`\nreceived:` has dozens of owners) occurs many times.
            let mut last_seen = vec![u32::MAX; gate.owner.len()];
            if gate.area == Area::Full {
                gate.literals.for_each_match(full, |id, _| {
                    if std::mem::replace(&mut last_seen[id], 0) != 0 {
                        for &(step, bit) in &gate.owner[id] {
                            found[step] |= bit;
                        }
                    }
                });
                continue;
            }

            gate.literals
                .for_each_match(texts.joined(gate.area), |id, start| {
                    let line = texts.line_at(gate.area, start) as u32;
                    if std::mem::replace(&mut last_seen[id], line) == line {
                        return;
                    }
                    for &(step, bit) in &gate.owner[id] {
                        found[step] |= bit;
                        // The lines come from the gate's own set only.
                        if bit == 1 && last_line[step] != line {
                            last_line[step] = line;
                            pairs.push((step as u32, line));
                        }
                    }
                });
        }
        // Group by step (a counting sort keeps each step's lines in order).
        let mut ranges = vec![(0u32, 0u32); self.steps.len()];
        for &(step, _) in &pairs {
            ranges[step as usize].1 += 1;
        }
        let mut at = 0u32;
        for r in &mut ranges {
            let n = r.1;
            *r = (at, at);
            at += n;
        }
        let mut lines = vec![0u32; pairs.len()];
        for &(step, line) in &pairs {
            let r = &mut ranges[step as usize];
            lines[r.1 as usize] = line;
            r.1 += 1;
        }
        #[cfg(feature = "rule-timing")]
        let _timer = StageTimer("[gate headers]".into(), std::time::Instant::now());
        let mut seen = Vec::new();
        for g in &self.header_gates {
            let Some(text) = texts.header_in_slot(g.slot as usize, &g.name, &g.modifiers) else {
                continue;
            };
            seen.clear();
            seen.resize(g.owner.len(), false);
            g.literals.for_each_match(text.as_slice(), |id, _| {
                if !std::mem::replace(&mut seen[id], true) {
                    for &(step, bit) in &g.owner[id] {
                        found[step] |= bit;
                    }
                }
            });
        }
        let hit = found
            .iter()
            .zip(&self.need)
            .map(|(f, n)| *n != 0 && f == n)
            .collect();
        Candidates { hit, lines, ranges }
    }

    /// Number of runnable rules.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether no rule runs.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Whether a rule named `name` runs.
    pub fn has(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// Runs every rule; returns the value of every rule that hit (value != 0), `__`
    /// sub-rules included.
    pub fn run(&self, texts: &Texts<'_>, full: &[u8]) -> BTreeMap<String, f64> {
        let mut run = Run::new(self, texts, full);
        for i in 0..self.steps.len() {
            if !matches!(self.steps[i].kind, Kind::Meta) {
                let v = run.leaf(i);
                run.values[i] = Some(v);
            }
        }
        let mut stack = Vec::with_capacity(64);
        for op in &self.meta_order {
            match *op {
                MetaOp::Enter(i) => run.values[i] = Some(0.0),
                MetaOp::Exit(i) => {
                    if let Some(program) = self.programs.get(self.program_of[i] as usize) {
                        let vals = &run.values;
                        run.values[i] = Some(program.eval(|j| vals[j].unwrap_or(0.0), &mut stack));
                    }
                }
            }
        }
        self.hits(run.values, |_| true)
    }

    /// The value of every scored rule that hit: what [`Plan::run`] gives for them, but a
    /// sub-rule runs only when a meta rule reads it, and meta rules read their operands
    /// left to right with `&&` and `||` short-circuited (`A && B` does not run `B` when `A`
    /// is 0). About a third of the rules of a stock message then never run. Rule sets
    /// whose meta rules form a cycle or nest deeper than 64 (`META_DEPTH`) run as
    /// [`Plan::run`] runs them, where the order of evaluation decides those values.
    pub fn run_scored(&self, texts: &Texts<'_>, full: &[u8]) -> BTreeMap<String, f64> {
        if !self.lazy {
            return self
                .run(texts, full)
                .into_iter()
                .filter(|(name, _)| self.scored.contains_key(name))
                .collect();
        }
        let mut run = Run::new(self, texts, full);
        for &i in &self.roots {
            run.value(i);
        }
        self.hits(run.values, |i| self.is_root[i])
    }

    fn hits(
        &self,
        values: Vec<Option<f64>>,
        keep: impl Fn(usize) -> bool,
    ) -> BTreeMap<String, f64> {
        self.steps
            .iter()
            .zip(values)
            .enumerate()
            .filter(|(i, _)| keep(*i))
            .filter_map(|(_, (s, v))| v.filter(|v| *v != 0.0).map(|v| (s.name.clone(), v)))
            .collect()
    }
}

/// Records a stage's time when dropped (the `rule-timing` feature).
#[cfg(feature = "rule-timing")]
struct StageTimer(String, std::time::Instant);

#[cfg(feature = "rule-timing")]
impl Drop for StageTimer {
    fn drop(&mut self) {
        super::timing::record(&self.0, self.1, false);
    }
}

/// One message's evaluation: the gates' findings, the filter groups searched so far and
/// the values known so far.
struct Run<'a, 't> {
    plan: &'a Plan,
    texts: &'a Texts<'t>,
    full: &'a [u8],
    candidates: Candidates,
    /// Per filter group, once searched: the lines where its union matched
    /// ([`Run::search_group`]).
    groups: Vec<Option<Vec<u32>>>,
    /// Per [`Plan::lockstep`] entry: whether its unions were searched (one that failed is
    /// then searched on its own).
    unions_searched: Vec<bool>,
    /// Per [`Plan::batches`] entry, once run: whether each of its rules matched a line.
    batch_hits: Vec<Option<Vec<bool>>>,
    values: Vec<Option<f64>>,
    /// Scratch stacks for meta programs (one per nesting level in use).
    stacks: Vec<Vec<f64>>,
}

impl<'a, 't> Run<'a, 't> {
    fn new(plan: &'a Plan, texts: &'a Texts<'t>, full: &'a [u8]) -> Self {
        Run {
            plan,
            texts,
            full,
            candidates: {
                #[cfg(feature = "rule-timing")]
                let start = std::time::Instant::now();
                let candidates = plan.candidates(texts, full);
                #[cfg(feature = "rule-timing")]
                super::timing::record("[gates]", start, false);
                candidates
            },
            groups: vec![None; plan.filter_groups.len()],
            unions_searched: vec![false; plan.lockstep.len()],
            batch_hits: vec![None; plan.batches.len()],
            values: vec![None; plan.steps.len()],
            stacks: Vec::new(),
        }
    }

    /// The value of step `i`, running it (and for a meta rule, what it reads) the first
    /// time. Only for rule sets without meta cycles ([`Plan::lazy`]).
    fn value(&mut self, i: usize) -> f64 {
        if let Some(v) = self.values[i] {
            return v;
        }
        let plan = self.plan;
        let v = match plan.program_of[i] {
            LEAF => self.leaf(i),
            p => {
                let mut stack = self.stacks.pop().unwrap_or_default();
                let v = plan.programs[p as usize].eval(|j| self.value(j), &mut stack);
                self.stacks.push(stack);
                v
            }
        };
        self.values[i] = Some(v);
        v
    }

    /// Finds the lines of the filter group `g`'s text where its union matches
    /// ([`FilterLines`]), the first time a member asks, together with every other union
    /// over that text ([`AreaUnions`]). A member can match only on these lines: a line
    /// where it matches holds a match of its filter, so of the union.
    fn search_group(&mut self, g: usize) {
        if self.groups[g].is_some() {
            return;
        }
        let (plan, texts) = (self.plan, self.texts);
        let area = plan.filter_groups[g].area;
        if let Some(u) = plan.lockstep.iter().position(|s| s.area == area)
            && !std::mem::replace(&mut self.unions_searched[u], true)
        {
            let set = &plan.lockstep[u];
            #[cfg(feature = "rule-timing")]
            let start = std::time::Instant::now();
            // What `FilterLines` does after each match: report the line of its last byte,
            // search on from the next line.
            let found = set.unions.search(texts.joined(area), |start, end| {
                let line = texts.line_at(area, end.saturating_sub(1).max(start));
                (line as u32, texts.line_start(area, line + 1))
            });
            #[cfg(feature = "rule-timing")]
            super::timing::record(&format!("[unions {area:?}]"), start, false);
            for (&group, lines) in set.groups.iter().zip(found) {
                if lines.is_some() {
                    self.groups[group] = lines;
                }
            }
        }
        self.groups[g].get_or_insert_with(|| {
            let group = &plan.filter_groups[g];
            #[cfg(feature = "rule-timing")]
            let start = std::time::Instant::now();
            let lines: Vec<u32> = FilterLines {
                filter: &group.union,
                texts,
                area: group.area,
                at: Some(0),
            }
            .map(|l| l as u32)
            .collect();
            #[cfg(feature = "rule-timing")]
            super::timing::record(&format!("[union {g}]"), start, !lines.is_empty());
            lines
        });
    }

    /// Whether each rule of line batch `b` matches one of its lines, the first time one of
    /// them asks. The rules share their lines (they share their literals), and a line holds
    /// a match of a rule when the rule's lazy DFA reaches a match state on it.
    fn run_batch(&mut self, b: usize) -> &[bool] {
        let (plan, texts) = (self.plan, self.texts);
        let candidates = &self.candidates;
        self.batch_hits[b].get_or_insert_with(|| {
            let batch = &plan.batches[b];
            #[cfg(feature = "rule-timing")]
            let start = std::time::Instant::now();
            let all = texts.lines(batch.area);
            let first = if batch.nosubject {
                texts.subject_lines
            } else {
                0
            };
            let mut hit = vec![false; batch.steps.len()];
            let lines = candidates.lines_of(batch.steps[0]);
            for line in lines
                .iter()
                .map(|&l| l as usize)
                .filter(|&l| l >= first)
                .filter_map(|l| all.get(l))
            {
                let found = batch.patterns.search(line, |_, end| (end as u32, None));
                for ((h, found), &step) in hit.iter_mut().zip(found).zip(&batch.steps) {
                    *h = *h
                        || match found {
                            Some(ends) => !ends.is_empty(),
                            // Its lazy DFA failed: the rule's own regex decides.
                            None => match &plan.steps[step].kind {
                                Kind::Lines { matcher, .. } => matcher.is_match(line),
                                _ => false,
                            },
                        };
                }
                if hit.iter().all(|&h| h) {
                    break;
                }
            }
            #[cfg(feature = "rule-timing")]
            super::timing::record(&format!("[batch {b}]"), start, hit.iter().any(|&h| h));
            hit
        })
    }

    /// Runs step `i`, which is not a meta rule (timed with the `rule-timing` feature).
    fn leaf(&mut self, i: usize) -> f64 {
        #[cfg(feature = "rule-timing")]
        let start = std::time::Instant::now();
        let value = self.run_leaf(i);
        #[cfg(feature = "rule-timing")]
        super::timing::record(&self.plan.steps[i].name, start, value != 0.0);
        value
    }

    fn run_leaf(&mut self, i: usize) -> f64 {
        let plan = self.plan;
        let (texts, full) = (self.texts, self.full);
        let gated = plan.prefiltered.get(i).copied().unwrap_or(false);
        if gated && !self.candidates.hit[i] {
            // No literal it needs: the pattern does not match (a `!~` header test
            // then holds).
            return f64::from(plan.negated[i]);
        }
        let step = &plan.steps[i];
        // A line rule in a filter group (only line rules are): the lines where its
        // group's union matched.
        if let Some(g) = plan.group_of[i] {
            self.search_group(g as usize);
        }
        let grouped: Option<&[u32]> =
            plan.group_of[i].and_then(|g| self.groups[g as usize].as_deref());
        let candidates = &self.candidates;
        match &step.kind {
            Kind::Meta => 0.0,
            Kind::Full {
                filter: Some(f), ..
            } if !f.is_match(full) => 0.0,
            Kind::Full { matcher, .. } => count(matcher, full, step.multiple),
            Kind::Lines { filter, .. }
                if plan.batch_of[i].is_some()
                    && (filter.is_none() || candidates.lines_of(i).len() <= FILTER_ABOVE_LINES) =>
            {
                // A batch's rules run on their candidate lines, as below (`Lines::Listed`).
                let Some((b, k)) = plan.batch_of[i] else {
                    return 0.0;
                };
                f64::from(self.run_batch(b as usize)[k as usize])
            }
            Kind::Lines {
                area,
                matcher,
                filter,
            } => {
                let all = texts.lines(*area);
                let first = if step.nosubject {
                    texts.subject_lines
                } else {
                    0
                };
                // The lines the rule can match on: where its group's union matched; a gated
                // rule's lines holding one of its literals, when there are few; else the
                // lines where its filter matches, searched one at a time, so that a rule
                // without `multiple` stops at its first hit.
                let lines = match (grouped, filter) {
                    (Some(lines), _) => Lines::Listed(lines.iter()),
                    (None, _) if gated && candidates.lines_of(i).len() <= FILTER_ABOVE_LINES => {
                        Lines::Listed(candidates.lines_of(i).iter())
                    }
                    (None, Some(f)) => Lines::Filtered(FilterLines {
                        filter: f,
                        texts,
                        area: *area,
                        at: texts.line_start(*area, first),
                    }),
                    (None, None) if gated => Lines::Listed(candidates.lines_of(i).iter()),
                    (None, None) => Lines::All(0..all.len()),
                };
                let mut total = 0.0;
                for line in lines.filter(|&l| l >= first).filter_map(|l| all.get(l)) {
                    total += count(matcher, line, step.multiple);
                    if total > 0.0 && step.multiple.is_none() {
                        break;
                    }
                    if let Some(max) = step.multiple
                        && total >= max as f64
                    {
                        total = max as f64;
                        break;
                    }
                }
                total
            }
            Kind::Exists { name, slot } => {
                f64::from(texts.header_in_slot(*slot as usize, name, &[]).is_some())
            }
            Kind::Eval(call, area) => super::eval::run(call, *area, texts, &plan.eval_data),
            Kind::MimeHeader {
                name,
                raw,
                negate,
                matcher,
            } => {
                // Each part's value, or the empty text for a part without the field (Perl's
                // undef in MIMEHeader's match). A `!~` rule hits when no part matches;
                // SpamAssassin 4.0.1's `_check` stops at a match without counting it, so
                // its `!~` rules hit always, which no stock rule relies on: not copied.
                let values = texts.part_header_cached(name, *raw);
                let any = values
                    .iter()
                    .any(|v| matcher.is_match(v.as_deref().unwrap_or_default()));
                f64::from(any != *negate)
            }
            Kind::Header {
                name,
                modifiers,
                slot,
                negate,
                matcher,
                if_unset,
            } => {
                let text = texts.header_in_slot(*slot as usize, name, modifiers);
                let text = text
                    .as_deref()
                    .map_or(if_unset.as_deref().unwrap_or_default(), Vec::as_slice);
                match step.multiple {
                    // `tflags multiple`: SpamAssassin counts the matches of `=~`.
                    Some(_) if !*negate => count(matcher, text, step.multiple),
                    _ => f64::from(matcher.is_match(text) != *negate),
                }
            }
        }
    }
}

/// The lines a line rule runs on (see [`Run::run_leaf`]): listed by its group's union or
/// its gate, found by its filter, or all of them.
enum Lines<'a, 't> {
    Listed(std::slice::Iter<'a, u32>),
    Filtered(FilterLines<'a, 't>),
    All(std::ops::Range<usize>),
}

impl Iterator for Lines<'_, '_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        match self {
            Lines::Listed(lines) => lines.next().map(|&l| l as usize),
            Lines::Filtered(lines) => lines.next(),
            Lines::All(lines) => lines.next(),
        }
    }
}

/// Lines of `area` where `filter` matches, in order, each once: every line on which a
/// match lies is among them (a line where a rule matches holds a match of its filter).
/// Each search starts at the line after the last one reported and stops at the first match
/// to end, whose last byte's line it reports: a match that lies on line `X` ends there, so
/// a search starting at or before `X` reports `X` or an earlier line, and the next search
/// starts at or before `X` again.
struct FilterLines<'a, 't> {
    filter: &'a Filter,
    texts: &'a Texts<'t>,
    area: Area,
    /// Where the next search starts, `None` once the text is done.
    at: Option<usize>,
}

impl Iterator for FilterLines<'_, '_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let at = self.at?;
        let end = self.filter.earliest_end(self.texts.joined(self.area), at)?;
        // The last byte of the match (an empty match: where it is).
        let line = self.texts.line_at(self.area, end.saturating_sub(1).max(at));
        self.at = self.texts.line_start(self.area, line + 1);
        Some(line)
    }
}

fn count(m: &Matcher, hay: &[u8], multiple: Option<usize>) -> f64 {
    match multiple {
        None => f64::from(m.is_match(hay)),
        Some(max) => m.count(hay, max) as f64,
    }
}
