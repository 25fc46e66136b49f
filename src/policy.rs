//! Policy: categories, destinies, spam levels, verdicts, SMTP replies and header edits.
//!
//! The vocabulary is amavisd-new's. Findings are sorted into categories (virus > banned >
//! unchecked > spam > spammy > bad-header > oversized > clean); the highest decides. Each
//! category has a [`Destiny`]; the verdict carries the action, the SMTP reply and the header
//! edits (X-Spam-* as SpamAssassin, amavisd-new and MIMEDefang write them).

use crate::envelope::Envelope;
use crate::report::{
    Action, BadHeaderKind, Category, Finding, HeaderEdit, HeaderOp, RecipientVerdict, SmtpReply,
    UncheckedReason, Verdict,
};
use serde::{Deserialize, Serialize};

/// What happens to a message of a category (amavisd-new's `D_*` destinies, plus quarantine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Destiny {
    /// Deliver (tagged where the policy says so). `D_PASS`.
    Pass,
    /// Accept and drop. `D_DISCARD`.
    Discard,
    /// amavisd-new sends a non-delivery notice; a filter inside the SMTP conversation rejects
    /// instead, since the sender of such mail is usually forged. `D_BOUNCE`.
    Bounce,
    /// Reject in the SMTP conversation. `D_REJECT`.
    Reject,
    /// Temporary failure. `D_TEMPFAIL`.
    Tempfail,
    /// Hold in quarantine.
    Quarantine,
}

/// The destiny of each category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Destinies {
    /// Virus found (default reject).
    pub virus: Destiny,
    /// Banned content (default reject).
    pub banned: Destiny,
    /// Content that could not be checked (default pass, tagged `***UNCHECKED***`).
    pub unchecked: Destiny,
    /// Score at or above the kill level (default reject).
    pub spam: Destiny,
    /// Score at or above tag2 but below kill (default pass, tagged `***SPAM***`).
    pub spammy: Destiny,
    /// Header anomalies (default pass).
    pub bad_header: Destiny,
    /// Larger than `max_message_size` (default reject).
    pub oversized: Destiny,
}

impl Default for Destinies {
    fn default() -> Self {
        Destinies {
            virus: Destiny::Reject,
            banned: Destiny::Reject,
            unchecked: Destiny::Pass,
            spam: Destiny::Reject,
            spammy: Destiny::Pass,
            bad_header: Destiny::Pass,
            oversized: Destiny::Reject,
        }
    }
}

impl Destinies {
    /// The destiny of `category`.
    pub fn of(&self, category: Category) -> Destiny {
        match category {
            Category::Virus => self.virus,
            Category::Banned => self.banned,
            Category::Unchecked => self.unchecked,
            Category::Spam => self.spam,
            Category::Spammy => self.spammy,
            Category::BadHeader => self.bad_header,
            Category::Oversized => self.oversized,
            Category::Clean => Destiny::Pass,
        }
    }
}

/// Settings that may differ per recipient (amavisd-new's per-recipient lookups).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipientPolicy {
    /// Which recipients: a full address (`bob@example.org`), a domain with a leading `@`
    /// (`@example.org`), or `*`.
    pub recipient: String,
    /// Overrides the tag2 level.
    #[serde(default)]
    pub tag2_level: Option<f64>,
    /// Overrides the kill level.
    #[serde(default)]
    pub kill_level: Option<f64>,
    /// Spam is delivered to this recipient (amavisd-new's spam lover).
    #[serde(default)]
    pub spam_lover: bool,
    /// Bad headers are delivered to this recipient.
    #[serde(default)]
    pub bad_header_lover: bool,
}

impl RecipientPolicy {
    fn matches(&self, rcpt: &str) -> bool {
        let rcpt = rcpt
            .trim_matches(|c| c == '<' || c == '>')
            .to_ascii_lowercase();
        let pat = self.recipient.to_ascii_lowercase();
        if pat == "*" {
            true
        } else if let Some(domain) = pat.strip_prefix('@') {
            rcpt.rsplit_once('@').is_some_and(|(_, d)| d == domain)
        } else {
            rcpt == pat
        }
    }
}

/// The policy: spam levels, destinies, tags and headers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Spam headers are added at or above this score; `None` adds them to every message
    /// (as SpamAssassin and MIMEDefang do).
    pub tag_level: Option<f64>,
    /// At or above this score the message is spam: `X-Spam-Flag: YES` and the subject tag
    /// (amavisd-new tag2; SpamAssassin's `required_score`). A rule file's `required_score`
    /// sets it unless the configuration does.
    pub tag2_level: f64,
    /// At or above this score the spam destiny applies (amavisd-new kill level).
    pub kill_level: f64,
    /// Destiny per category.
    pub destinies: Destinies,
    /// Subject prefix for spam (amavisd-new `$sa_spam_subject_tag`); `_SCORE_` and `_REQD_`
    /// in it become the score and the required score. A rule file's
    /// `rewrite_header Subject TEXT` sets it to `TEXT ` unless the configuration changed it.
    pub spam_subject_tag: String,
    /// Subject prefix for unchecked mail (amavisd-new `$undecipherable_subject_tag`).
    pub unchecked_subject_tag: String,
    /// Add X-Spam-* headers.
    pub spam_headers: bool,
    /// Remove X-Spam-* headers that arrived with the message (amavisd-new does), so a sender
    /// cannot forge a verdict.
    pub remove_incoming_spam_headers: bool,
    /// Content in a recognised format that is not decoded (compressed RAR members, UDF-only
    /// disk images) makes the message unchecked.
    pub unsupported_formats_unchecked: bool,
    /// Per-recipient settings; the first matching entry applies.
    pub recipients: Vec<RecipientPolicy>,
    /// Extra `X-Spam-NAME` headers (SpamAssassin's `add_header`; rule files add theirs).
    pub add_headers: Vec<AddHeader>,
}

/// An extra spam header, as SpamAssassin's `add_header spam|ham|all NAME TEXT` writes it:
/// `X-Spam-NAME: TEXT` with the template tags `_YESNO_`, `_YESNOCAPS_`, `_SCORE_`,
/// `_REQD_`, `_TESTS_`, `_TESTSSCORES_`, `_STARS_`, `_STARS(c)_`, `_AUTOLEARN_` and
/// `_VERSION_` filled in (other tags stay as written). Flag, Status, Level, Score and
/// Checker-Version are mailwarden's own headers and are not added twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddHeader {
    /// `spam`, `ham` or `all`.
    pub when: String,
    /// The name after `X-Spam-`.
    pub name: String,
    /// The value template.
    pub template: String,
}

impl AddHeader {
    /// Whether mailwarden writes this header itself.
    fn is_builtin(&self) -> bool {
        ["Flag", "Status", "Level", "Score", "Checker-Version"]
            .iter()
            .any(|n| n.eq_ignore_ascii_case(&self.name))
    }
}

/// What the template tags of an [`AddHeader`] read.
struct TagValues<'a> {
    is_spam: bool,
    score: f64,
    required: f64,
    tests: &'a [(&'a str, f64)],
    version: &'a str,
}

fn fill_template(template: &str, v: &TagValues<'_>) -> String {
    let names = || {
        if v.tests.is_empty() {
            "none".to_string()
        } else {
            v.tests.iter().map(|t| t.0).collect::<Vec<_>>().join(",")
        }
    };
    let stars = |c: &str| c.repeat((v.score.max(0.0) as usize).min(50));
    let mut out = template.to_string();
    // `_STARS(c)_` with any character c; scanning on after each replacement, so text a
    // replacement inserts is never expanded again.
    let mut from = 0;
    while let Some(start) = out[from..].find("_STARS(").map(|p| p + from) {
        let Some(len) = out[start..].find(")_") else {
            break;
        };
        let expanded = stars(&out[start + 7..start + len]);
        out.replace_range(start..start + len + 2, &expanded);
        from = start + expanded.len();
    }
    out.replace("_YESNOCAPS_", if v.is_spam { "YES" } else { "NO" })
        .replace("_YESNO_", if v.is_spam { "Yes" } else { "No" })
        .replace("_SCORE_", &format!("{:.1}", v.score))
        .replace("_REQD_", &format!("{:.1}", v.required))
        .replace("_TESTSSCORES_", &{
            let s: Vec<String> = v.tests.iter().map(|(n, s)| format!("{n}={s:.3}")).collect();
            if s.is_empty() {
                "none".into()
            } else {
                s.join(",")
            }
        })
        .replace("_TESTS_", &names())
        .replace("_STARS_", &stars("*"))
        .replace("_AUTOLEARN_", "disabled")
        .replace("_VERSION_", v.version)
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            tag_level: None,
            tag2_level: 5.0,
            kill_level: 10.0,
            destinies: Destinies::default(),
            spam_subject_tag: "***SPAM*** ".into(),
            unchecked_subject_tag: "***UNCHECKED*** ".into(),
            spam_headers: true,
            remove_incoming_spam_headers: true,
            unsupported_formats_unchecked: false,
            recipients: Vec::new(),
            add_headers: Vec::new(),
        }
    }
}

/// What the policy needs to know about the message besides its findings.
#[derive(Debug, Clone, Default)]
pub struct MessageFacts<'a> {
    /// The decoded Subject, if any.
    pub subject: Option<&'a str>,
    /// Whether the message arrived with X-Spam-* headers.
    pub has_spam_headers: bool,
    /// Version string for X-Spam-Status.
    pub version: &'a str,
}

/// The outcome of applying the policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The deciding category.
    pub category: Category,
    /// The overall verdict.
    pub verdict: Verdict,
    /// Per-recipient verdicts.
    pub recipients: Vec<RecipientVerdict>,
    /// Header edits.
    pub header_edits: Vec<HeaderEdit>,
}

impl Policy {
    /// Checks the values for consistency.
    pub fn validate(&self) -> crate::Result<()> {
        if !(self.tag2_level.is_finite() && self.kill_level.is_finite()) {
            return Err(crate::Error::new(
                crate::ErrorKind::InvalidSetting,
                "policy.tag2_level and policy.kill_level must be numbers",
            ));
        }
        Ok(())
    }

    /// The spam category for a score at the given levels.
    fn spam_category(score: f64, tag2: f64, kill: f64) -> Option<Category> {
        if score >= kill {
            Some(Category::Spam)
        } else if score >= tag2 {
            Some(Category::Spammy)
        } else {
            None
        }
    }

    /// The highest category among the findings and the score.
    fn categorize(findings: &[Finding], score: f64, tag2: f64, kill: f64) -> Category {
        let mut cat = Category::Clean;
        for f in findings {
            let c = match f {
                Finding::Virus { .. } => Category::Virus,
                Finding::Banned { .. } => Category::Banned,
                Finding::Unchecked { .. } => Category::Unchecked,
                Finding::BadHeader { .. } => Category::BadHeader,
                Finding::Oversized { .. } => Category::Oversized,
                Finding::Anomaly { .. } | Finding::Rule { .. } => Category::Clean,
            };
            cat = cat.max(c);
        }
        if let Some(c) = Self::spam_category(score, tag2, kill) {
            cat = cat.max(c);
        }
        cat
    }

    /// Applies the policy to a scan's findings and score.
    pub fn decide(
        &self,
        findings: &[Finding],
        score: f64,
        envelope: &Envelope,
        facts: &MessageFacts<'_>,
    ) -> Decision {
        let category = Self::categorize(findings, score, self.tag2_level, self.kill_level);
        let verdict = self.verdict(category, findings, self.destinies.of(category));
        let recipients = envelope
            .recipients
            .iter()
            .map(|rcpt| {
                let over = self.recipients.iter().find(|r| r.matches(rcpt));
                let tag2 = over.and_then(|o| o.tag2_level).unwrap_or(self.tag2_level);
                let kill = over.and_then(|o| o.kill_level).unwrap_or(self.kill_level);
                let cat = Self::categorize(findings, score, tag2, kill);
                let mut destiny = self.destinies.of(cat);
                if let Some(o) = over {
                    let lover = match cat {
                        Category::Spam | Category::Spammy => o.spam_lover,
                        Category::BadHeader => o.bad_header_lover,
                        _ => false,
                    };
                    if lover {
                        destiny = Destiny::Pass;
                    }
                }
                RecipientVerdict {
                    recipient: rcpt.clone(),
                    verdict: self.verdict(cat, findings, destiny),
                }
            })
            .collect();
        let header_edits = self.header_edits(category, findings, score, facts);
        let mut verdict = verdict;
        if verdict.action == Action::Accept && !header_edits.is_empty() {
            verdict.action = Action::Tag;
        }
        Decision {
            category,
            verdict,
            recipients,
            header_edits,
        }
    }

    fn verdict(&self, category: Category, findings: &[Finding], destiny: Destiny) -> Verdict {
        let (action, reply) = match destiny {
            Destiny::Pass => (Action::Accept, reply(250, "2.0.0", "Ok".into())),
            Destiny::Quarantine => (
                Action::Quarantine,
                reply(250, "2.0.0", "Ok, quarantined".into()),
            ),
            Destiny::Discard => (Action::Discard, reply(250, "2.7.0", "Ok, discarded".into())),
            Destiny::Tempfail => (
                Action::Tempfail,
                reply(
                    451,
                    "4.3.0",
                    "Temporary failure, please try again later".into(),
                ),
            ),
            Destiny::Reject | Destiny::Bounce => (Action::Reject, reject_reply(category, findings)),
        };
        Verdict {
            category,
            action,
            reply,
        }
    }

    fn header_edits(
        &self,
        category: Category,
        findings: &[Finding],
        score: f64,
        facts: &MessageFacts<'_>,
    ) -> Vec<HeaderEdit> {
        let mut edits = Vec::new();
        let mut edit = |op, name: &str, value: String| {
            edits.push(HeaderEdit {
                op,
                name: name.to_string(),
                value,
            })
        };
        if self.remove_incoming_spam_headers && facts.has_spam_headers {
            for name in [
                "X-Spam-Flag",
                "X-Spam-Status",
                "X-Spam-Level",
                "X-Spam-Score",
            ] {
                edit(HeaderOp::Delete, name, String::new());
            }
        }
        if let Some(name) = findings.iter().find_map(|f| match f {
            Finding::Virus { name, .. } => Some(name),
            _ => None,
        }) {
            edit(
                HeaderOp::Add,
                "X-Mailwarden-Alert",
                format!("INFECTED, message contains virus: {name}"),
            );
        }
        if let Some(detail) = findings.iter().find_map(|f| match f {
            Finding::Banned { detail, .. } => Some(detail),
            _ => None,
        }) {
            edit(
                HeaderOp::Add,
                "X-Mailwarden-Alert",
                format!("BANNED, message contains {detail}"),
            );
        }
        if let Some((kind, detail)) = findings.iter().find_map(|f| match f {
            Finding::BadHeader { kind, detail, .. } => Some((kind, detail)),
            _ => None,
        }) {
            edit(
                HeaderOp::Add,
                "X-Mailwarden-Alert",
                format!("BAD HEADER SECTION, {}: {detail}", kind.name()),
            );
        }
        let mut subject_tag = String::new();
        let unchecked: Vec<&str> = findings
            .iter()
            .filter_map(|f| match f {
                Finding::Unchecked { detail, .. } => Some(detail.as_str()),
                _ => None,
            })
            .collect();
        if !unchecked.is_empty() {
            let mut reasons: Vec<&str> = Vec::new();
            for d in unchecked {
                if !reasons.contains(&d) {
                    reasons.push(d);
                }
            }
            edit(HeaderOp::Add, "X-Mailwarden-Hold", reasons.join("; "));
            if category == Category::Unchecked {
                subject_tag.push_str(&self.unchecked_subject_tag);
            }
        }
        let is_spam = score >= self.tag2_level;
        if self.spam_headers && self.tag_level.is_none_or(|t| score >= t) {
            let mut tests: Vec<(&str, f64)> = findings
                .iter()
                .filter_map(|f| match f {
                    Finding::Rule { name, score, .. } if !name.starts_with("__") => {
                        Some((name.as_str(), *score))
                    }
                    _ => None,
                })
                .collect();
            tests.sort_by(|a, b| a.0.cmp(b.0));
            let names: Vec<&str> = tests.iter().map(|t| t.0).collect();
            if is_spam {
                edit(HeaderOp::Add, "X-Spam-Flag", "YES".into());
            }
            let stars = "*".repeat((score.max(0.0) as usize).min(50));
            edit(HeaderOp::Add, "X-Spam-Level", stars);
            let mimedefang_stars = "*".repeat((score.max(0.0) as usize).min(40));
            edit(
                HeaderOp::Add,
                "X-Spam-Score",
                format!(
                    "{score:.1} ({mimedefang_stars}) {}",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(",")
                    }
                ),
            );
            edit(
                HeaderOp::Add,
                "X-Spam-Status",
                format!(
                    "{}, score={score:.1} required={:.1} tests={} autolearn=disabled version={}",
                    if is_spam { "Yes" } else { "No" },
                    self.tag2_level,
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(",")
                    },
                    facts.version
                ),
            );
            let values = TagValues {
                is_spam,
                score,
                required: self.tag2_level,
                tests: &tests,
                version: facts.version,
            };
            for h in &self.add_headers {
                let applies = match h.when.as_str() {
                    "spam" => is_spam,
                    "ham" => !is_spam,
                    _ => true,
                };
                if applies && !h.is_builtin() {
                    let value = fill_template(h.template.trim_matches('"'), &values);
                    edit(HeaderOp::Add, &format!("X-Spam-{}", h.name), value);
                }
            }
        }
        if is_spam {
            // SpamAssassin's template tags in `rewrite_header Subject` text.
            subject_tag.push_str(
                &self
                    .spam_subject_tag
                    .replace("_SCORE_", &format!("{score:.1}"))
                    .replace("_REQD_", &format!("{:.1}", self.tag2_level)),
            );
        }
        if !subject_tag.is_empty() {
            let subject = facts.subject.unwrap_or("");
            if !subject.starts_with(subject_tag.as_str()) {
                edit(
                    HeaderOp::Change,
                    "Subject",
                    format!("{subject_tag}{subject}"),
                );
            }
        }
        edits
    }
}

fn reply(code: u16, enhanced: &str, text: String) -> SmtpReply {
    SmtpReply {
        code,
        enhanced: enhanced.to_string(),
        text,
    }
}

/// The reject reply for a category, naming the first virus, banned item or limit.
fn reject_reply(category: Category, findings: &[Finding]) -> SmtpReply {
    match category {
        Category::Virus => {
            let name = findings
                .iter()
                .find_map(|f| match f {
                    Finding::Virus { name, .. } => Some(name.as_str()),
                    _ => None,
                })
                .unwrap_or("unknown");
            reply(
                554,
                "5.7.1",
                format!("Message contains {name} virus, rejected"),
            )
        }
        Category::Banned => {
            let detail = findings
                .iter()
                .find_map(|f| match f {
                    Finding::Banned { detail, .. } => Some(detail.as_str()),
                    _ => None,
                })
                .unwrap_or("content");
            reply(
                554,
                "5.7.1",
                format!("Message contains banned content ({detail}), rejected"),
            )
        }
        Category::Unchecked => {
            let reason = findings
                .iter()
                .find_map(|f| match f {
                    Finding::Unchecked { reason, .. } => Some(*reason),
                    _ => None,
                })
                .unwrap_or(UncheckedReason::Undecodable);
            reply(
                554,
                "5.7.1",
                format!("Message could not be checked ({reason}), rejected"),
            )
        }
        Category::Spam | Category::Spammy => {
            reply(554, "5.7.1", "Message seems to be spam, rejected".into())
        }
        Category::BadHeader => {
            let eight_bit = findings.iter().any(|f| {
                matches!(
                    f,
                    Finding::BadHeader {
                        kind: BadHeaderKind::EightBit,
                        ..
                    }
                )
            });
            let enhanced = if eight_bit { "5.6.3" } else { "5.6.0" };
            reply(
                554,
                enhanced,
                "Message has a bad header section, rejected".into(),
            )
        }
        Category::Oversized => reply(
            552,
            "5.3.4",
            "Message size exceeds fixed limit, rejected".into(),
        ),
        Category::Clean => reply(554, "5.7.1", "Message rejected by policy".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_tags_expand_once() {
        let v = TagValues {
            is_spam: true,
            score: 3.2,
            required: 5.0,
            tests: &[],
            version: "1",
        };
        assert_eq!(fill_template("_STARS(+)_ _STARS_", &v), "+++ ***");
        // A template whose expansion spells the tag again terminates.
        assert_eq!(
            fill_template("_STARS(_STARS(x)_", &v),
            "_STARS(x_STARS(x_STARS(x"
        );
    }

    fn virus() -> Finding {
        Finding::Virus {
            name: "Eicar-Test-Signature".into(),
            path: "2".into(),
        }
    }

    #[test]
    fn virus_beats_spam_and_names_the_signature() {
        let p = Policy::default();
        let d = p.decide(
            &[virus()],
            1000.0,
            &Envelope::default(),
            &MessageFacts::default(),
        );
        assert_eq!(d.category, Category::Virus);
        assert_eq!(d.verdict.action, Action::Reject);
        assert_eq!(
            d.verdict.reply.to_string(),
            "554 5.7.1 Message contains Eicar-Test-Signature virus, rejected"
        );
    }

    #[test]
    fn spam_levels() {
        let p = Policy::default();
        let env = Envelope::default();
        let facts = MessageFacts {
            subject: Some("hello"),
            ..Default::default()
        };
        let spam = p.decide(&[], 1000.0, &env, &facts);
        assert_eq!(spam.category, Category::Spam);
        assert_eq!(
            spam.verdict.reply.to_string(),
            "554 5.7.1 Message seems to be spam, rejected"
        );
        let spammy = p.decide(&[], 7.0, &env, &facts);
        assert_eq!(spammy.category, Category::Spammy);
        assert_eq!(spammy.verdict.action, Action::Tag);
        assert!(spammy.header_edits.iter().any(|e| e.name == "Subject"
            && e.op == HeaderOp::Change
            && e.value == "***SPAM*** hello"));
        let clean = p.decide(&[], 1.0, &env, &facts);
        assert_eq!(clean.category, Category::Clean);
        assert!(!clean.header_edits.iter().any(|e| e.name == "X-Spam-Flag"));
        assert!(clean.header_edits.iter().any(|e| e.name == "X-Spam-Status"
            && e.value.starts_with("No, score=1.0 required=5.0 tests=none")));
    }

    #[test]
    fn spam_lover_recipient_passes() {
        let p = Policy {
            recipients: vec![RecipientPolicy {
                recipient: "@lovers.example".into(),
                tag2_level: None,
                kill_level: None,
                spam_lover: true,
                bad_header_lover: false,
            }],
            ..Policy::default()
        };
        let env = Envelope::new()
            .recipient("a@lovers.example")
            .recipient("b@other.example");
        let d = p.decide(&[], 50.0, &env, &MessageFacts::default());
        assert_eq!(d.recipients[0].verdict.action, Action::Accept);
        assert_eq!(d.recipients[1].verdict.action, Action::Reject);
    }
}
