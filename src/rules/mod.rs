//! Rule scoring.
//!
//! A [`RuleSet`] is compiled once when the engine is built and evaluated over each message's
//! texts. Built in, with no files at all: GTUBE, an ordinary case-sensitive body rule scored
//! 1000 as in SpamAssassin, so GTUBE inside an encoded or HTML part still hits.
//!
//! Loading SpamAssassin files: [`parser`] reads the `.cf` language (conditionals, includes,
//! ReplaceTags via [`tags`]), [`perl`] translates each Perl regex for `regex::bytes` or
//! PCRE2, [`compile`] compiles them, [`run`] builds the evaluation plan (score set 0) and
//! runs it over the [`texts`] of a message, with [`meta`] expressions, native [`eval`]
//! functions and the Received chain parsed by [`relays`].
//!
//! Native evals: [`header_evals`] (dates, Outlook Message-IDs, FreeMail, Received-chain
//! tests), [`html_evals`] (SpamAssassin's HTML statistics: tag balance, font contrast and
//! size, image ratios), [`mime_evals`] (the MIME tree walk: encodings, parser flags) and
//! the small ones in [`eval`], [`list_evals`] (welcomelist/blocklist and the
//! other address lists). Every non-network eval of SpamAssassin 4.0.1's stock set runs except
//! `check_dkim_dependable`; [`RuleSet::not_run`] lists, per rule, what does not run and why
//! (network tests, Bayes rules, a score of 0 in the active score set). The X-Spam-* headers
//! and the report text are written by the policy ([`crate::policy`], [`crate::report`]).

use crate::view::MessageView;

pub mod compile;
pub mod dates;
pub mod eval;
pub mod header_evals;
pub mod html_evals;
pub mod list_evals;
pub mod literals;
pub mod locales;
pub mod lockstep;
pub mod meta;
pub mod mime_evals;
pub mod parser;
pub mod perl;
pub mod relays;
pub mod run;
pub mod tags;
pub mod text_uris;
pub mod texts;
#[cfg(feature = "rule-timing")]
pub mod timing;
pub mod uris;

pub use parser::{Area, Config as ParsedConfig, ParseError};

/// The GTUBE test string.
pub const GTUBE: &[u8] = b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

/// One rule that hit.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleHit {
    /// Rule name.
    pub name: String,
    /// Score it contributes.
    pub score: f64,
    /// Its description.
    pub description: String,
}

/// A compiled rule set.
#[derive(Debug, Clone)]
pub struct RuleSet {
    gtube: bool,
    required_score: Option<f64>,
    parsed: Option<Box<ParsedConfig>>,
    compiled: compile::Compiled,
    plan: run::Plan,
}

impl RuleSet {
    /// Only the built-in rules.
    pub fn builtin() -> Self {
        RuleSet {
            gtube: true,
            required_score: None,
            parsed: None,
            compiled: compile::Compiled::default(),
            plan: run::Plan::default(),
        }
    }

    /// Loads the rule files a configuration names (files or directories, in SpamAssassin's
    /// load order: every directory's `.pre` files, then `.cf` files by name), plus the
    /// built-in rules when it asks for them.
    ///
    /// A path that cannot be read is an `Err`. Malformed lines are not: they are counted,
    /// named by file and line, and listed by [`RuleSet::describe`].
    pub fn load(config: &crate::config::RuleConfig) -> crate::Result<Self> {
        Self::load_scored(config, false)
    }

    /// [`RuleSet::load`], scoring with SpamAssassin's Bayes score set (set 2) when `bayes`.
    pub fn load_scored(config: &crate::config::RuleConfig, bayes: bool) -> crate::Result<Self> {
        let mut set = if config.builtin {
            Self::builtin()
        } else {
            Self::empty()
        };
        if config.paths.is_empty() {
            return Ok(set);
        }
        let mut parser = parser::Parser::new();
        parser.load_paths(&config.paths).map_err(|e| {
            crate::Error::new(
                crate::ErrorKind::Rules,
                format!("loading rules from {:?}: {e}", config.paths),
            )
        })?;
        let parsed = parser.finish();
        set.required_score = parsed.required_score;
        set.compiled = compile::compile(&parsed);
        // Score set 0: no network tests, no Bayes (mailwarden's Bayes is scored apart).
        set.plan = run::Plan::build(&parsed, &set.compiled, if bayes { 2 } else { 0 });
        set.parsed = Some(Box::new(parsed));
        Ok(set)
    }

    /// Whether a loaded rule that runs calls eval `function`.
    pub fn runs_eval(&self, function: &str) -> bool {
        self.parsed.as_ref().is_some_and(|p| {
            p.rules.iter().any(|(name, r)| {
                matches!(&r.test, parser::RuleTest::Eval(c) if c.function == function)
                    && !self.plan.not_run.contains_key(name)
            })
        })
    }

    /// What the rule files said, when files were loaded.
    pub fn parsed(&self) -> Option<&ParsedConfig> {
        self.parsed.as_deref()
    }

    /// Rules that do not run, with the reason (network, Bayes, not implemented yet).
    pub fn not_run(&self) -> &std::collections::BTreeMap<String, String> {
        &self.plan.not_run
    }

    /// The compiled regexes and the rules that could not be compiled.
    pub fn compiled(&self) -> &compile::Compiled {
        &self.compiled
    }

    /// What was loaded, for `mailwarden check-config`: one line per item.
    pub fn describe(&self) -> Vec<String> {
        let mut out = vec![format!(
            "rules: {} loaded{}",
            self.len(),
            if self.gtube {
                " (with built-in GTUBE)"
            } else {
                ""
            }
        )];
        if let Some(p) = &self.parsed {
            out.push(format!(
                "rules: {} files, {} lines read, {} lines in false conditionals, {} plugins loaded",
                p.files.len(),
                p.lines,
                p.skipped_lines,
                p.plugins.iter().filter(|n| !n.contains("::")).count()
            ));
            let mut by_area: std::collections::BTreeMap<&str, usize> = Default::default();
            for r in p.rules.values() {
                *by_area.entry(r.area.name()).or_insert(0) += 1;
            }
            for (area, n) in by_area {
                out.push(format!("rules: {area}: {n}"));
            }
            let mut by_engine: std::collections::BTreeMap<&str, usize> = Default::default();
            for m in self.compiled.matchers.values() {
                *by_engine.entry(m.engine()).or_insert(0) += 1;
            }
            for (engine, n) in by_engine {
                out.push(format!("rules: regexes compiled with {engine}: {n}"));
            }
            out.push(format!(
                "rules: {} regex rules skipped (regex cannot be compiled)",
                self.compiled.skipped.len()
            ));
            for (name, why) in &self.compiled.skipped {
                out.push(format!("rules: skipped {name}: {why}"));
            }
            let unknown: usize = p.unknown.values().sum();
            let ignored: usize = p.ignored.values().sum();
            out.push(format!(
                "rules: {ignored} directives recognised and not used, {unknown} unknown directives{}",
                if p.unknown.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({})",
                        p.unknown
                            .iter()
                            .map(|(k, v)| format!("{k} x{v}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ));
            out.push(format!(
                "rules: {} rules run (score set 0), {} do not run yet",
                self.plan.len(),
                self.plan.not_run.len()
            ));
            out.push(format!(
                "rules: {} body/rawbody/uri/full rules gated by the literal prefilter",
                self.plan.prefiltered()
            ));
            let mut reasons: std::collections::BTreeMap<&str, usize> = Default::default();
            for why in self.plan.not_run.values() {
                let key = why.split(" not implemented").next().unwrap_or(why);
                *reasons.entry(key).or_insert(0) += 1;
            }
            let mut reasons: Vec<_> = reasons.into_iter().collect();
            reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
            for (why, n) in reasons {
                out.push(format!("rules: not run: {n} x {why}"));
            }
            out.push(format!("rules: {} parse errors", p.errors.len()));
            for e in &p.errors {
                out.push(format!("rules: error: {e}"));
            }
        }
        out
    }

    /// No rules at all.
    pub fn empty() -> Self {
        RuleSet {
            gtube: false,
            required_score: None,
            parsed: None,
            compiled: compile::Compiled::default(),
            plan: run::Plan::default(),
        }
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        usize::from(self.gtube) + self.parsed.as_ref().map_or(0, |p| p.rules.len())
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `required_score` from the loaded rule files, if any set it.
    pub fn required_score(&self) -> Option<f64> {
        self.required_score
    }

    /// The `add_header` lines of the rule files: (spam|ham|all, name, text).
    pub fn add_headers(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.parsed()
            .into_iter()
            .flat_map(|p| &p.add_header)
            .map(|(w, n, t)| (w.as_str(), n.as_str(), t.as_str()))
    }

    /// The text of the last `rewrite_header Subject TEXT` in the rule files, if any.
    pub fn subject_rewrite(&self) -> Option<&str> {
        self.parsed()?
            .rewrite_header
            .iter()
            .rev()
            .find(|(h, _)| h.eq_ignore_ascii_case("Subject"))
            .map(|(_, t)| t.as_str())
            .filter(|t| !t.is_empty())
    }

    /// Evaluates every rule over the message.
    pub fn evaluate(&self, message: &MessageView<'_, '_>) -> Vec<RuleHit> {
        let mut hits = Vec::new();
        if self.gtube
            && !self.plan.has("GTUBE")
            && message
                .body_objects()
                .any(|o| memchr::memmem::find(&o.data, GTUBE).is_some())
        {
            hits.push(RuleHit {
                name: "GTUBE".into(),
                score: 1000.0,
                description: "Generic Test for Unsolicited Bulk Email".into(),
            });
        }
        if self.plan.is_empty() {
            return hits;
        }
        #[cfg(feature = "rule-timing")]
        let start = std::time::Instant::now();
        let mut texts = texts::Texts::build(message, &self.plan.networks);
        self.plan.prepare(&mut texts);
        #[cfg(feature = "rule-timing")]
        timing::record("[texts]", start, false);
        for (name, _value) in self.plan.run_scored(&texts, message.raw) {
            if let Some(s) = self.plan.scored.get(&name) {
                hits.push(RuleHit {
                    name,
                    score: s.score,
                    description: s.description.clone(),
                });
            }
        }
        hits
    }

    /// Every rule that hit with its value, `__` sub-rules and zero-scored rules included
    /// (for differential tests against SpamAssassin).
    pub fn evaluate_all(
        &self,
        message: &MessageView<'_, '_>,
    ) -> std::collections::BTreeMap<String, f64> {
        let mut texts = texts::Texts::build(message, &self.plan.networks);
        self.plan.prepare(&mut texts);
        self.plan.run(&texts, message.raw)
    }
}
